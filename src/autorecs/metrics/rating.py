"""Rating-prediction metrics, in rating units unless the name says otherwise."""

from __future__ import annotations

import numpy as np


def rmse(pred, true) -> float:
    """Root mean squared error."""
    d = np.asarray(pred, np.float64) - np.asarray(true, np.float64)
    return float(np.sqrt(np.mean(d * d)))


def mae(pred, true) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(pred, np.float64) - np.asarray(true, np.float64))))


def rating_metrics(pred, true, *, train_std: float) -> dict[str, float]:
    """RMSE, MAE and ``rmse_std`` (RMSE divided by the training ratings' standard deviation,
    the standardised unit of the SIF paper's tables; NaN when every training rating is the same)."""
    r = rmse(pred, true)
    return {"rmse": r, "mae": mae(pred, true), "rmse_std": r / train_std if train_std > 0 else float("nan")}
