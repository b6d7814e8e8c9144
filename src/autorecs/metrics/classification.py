"""Binary click-through metrics: AUC and log loss."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from ..exceptions import DataError


def auc(scores, labels) -> float | np.ndarray:
    """Area under the ROC curve (Mann-Whitney; tied scores count one half).

    ``scores`` may be 2-D (candidates x rows): one AUC per row, computed in one call.
    """
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, np.float64)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise DataError(f"AUC needs both classes among the labels; got {n_pos} positives and {n_neg} negatives.")
    ranks = rankdata(s, axis=-1)
    value = (ranks[..., y].sum(axis=-1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(value) if s.ndim == 1 else value


def log_loss(probabilities, labels, eps: float = 1e-12) -> float:
    """Mean negative log-likelihood of the labels (natural log)."""
    p = np.clip(np.asarray(probabilities, np.float64), eps, 1 - eps)
    y = np.asarray(labels, np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def classification_metrics(probabilities, labels) -> dict[str, float]:
    """``{"auc": ..., "logloss": ...}``."""
    return {"auc": auc(probabilities, labels), "logloss": log_loss(probabilities, labels)}
