"""The baseline predictor for ratings: global mean plus user and item biases,

    r̂_ui = μ + b_u + b_i,

fitted by alternating least squares on the regularised squared error (Koren 2010, Section 2.1;
Surprise's ``BaselineOnly`` with its ALS defaults)::

    b_i = Σ_{u ∈ U_i} (r_ui − μ − b_u) / (λ_i + #U_i),   b_u = Σ_{i ∈ I_u} (r_ui − μ − b_i) / (λ_u + #I_u)

Also the baseline that :class:`~autorecs.models.knn_baseline.KNNBaseline` corrects with neighbours."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from ..exceptions import check_float
from .base import FitConfig, Recommender


def als_biases(r: sp.csr_matrix, mu: float, reg_user: float, reg_item: float, bu: np.ndarray, bi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One ALS sweep of the biases on the ratings ``r`` (users x items, stored cells only): items, then users."""
    rc = r.tocsc()
    n_i = np.diff(rc.indptr)
    resid_i = rc.data - mu - bu[rc.indices]
    bi = np.bincount(np.repeat(np.arange(r.shape[1]), n_i), weights=resid_i, minlength=r.shape[1]) / (reg_item + n_i)
    n_u = np.diff(r.indptr)
    resid_u = r.data - mu - bi[r.indices]
    bu = np.bincount(np.repeat(np.arange(r.shape[0]), n_u), weights=resid_u, minlength=r.shape[0]) / (reg_user + n_u)
    return bu, bi


def rating_range(ratings: np.ndarray) -> torch.Tensor:
    """The training ratings' lowest and highest value, the range predictions are clipped to (saved with the weights)."""
    return torch.tensor([float(ratings.min()), float(ratings.max())], dtype=torch.float64)


def clipped(pred: np.ndarray, clip: bool, bounds: torch.Tensor | None) -> np.ndarray:
    """``pred`` clipped to ``bounds`` where ``clip`` is set; models saved before the range was kept have none."""
    if not clip or bounds is None:
        return pred
    return np.clip(pred, float(bounds[0]), float(bounds[1]))


def bias_predictions(mu, bu: torch.Tensor, bi: torch.Tensor, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """μ + b_u + b_i for code pairs (float64); an unknown user or item (code -1) contributes no bias."""
    ku, ki = users >= 0, items >= 0
    u_bias = np.where(ku, bu.numpy()[np.where(ku, users, 0)], 0.0)
    i_bias = np.where(ki, bi.numpy()[np.where(ki, items, 0)], 0.0)
    return float(mu) + u_bias + i_bias


@dataclass
class BaselineConfig(FitConfig):
    """Hyperparameters of :class:`Baseline` (defaults: Surprise's ALS baseline)."""

    reg_user: float = 15.0
    """λ_u, shrinking user biases toward 0."""
    reg_item: float = 10.0
    """λ_i, shrinking item biases toward 0."""
    epochs: int = 10
    """ALS sweeps."""
    patience: int = 3
    monitor: str = "rmse"
    clip: bool = True
    """Clip predicted ratings to the training ratings' range (as Surprise does)."""

    def validate(self) -> None:
        super().validate()
        check_float("Baseline", "reg_user", self.reg_user)
        check_float("Baseline", "reg_item", self.reg_item)


class Baseline(Recommender):
    """Global mean plus user and item biases (see module docs)."""

    name = "baseline"
    task = "rating"
    Config = BaselineConfig
    default_monitor = "rmse"
    step_hint_fields = ("reg_user", "reg_item")
    deterministic = True

    def _prepare(self, train) -> None:
        self._r = train.csr("ratings")
        self._mu = float(train.ratings.mean())
        self.rating_range = rating_range(train.ratings)

    def _init_params(self, rng) -> None:
        self._bu, self._bi = np.zeros(self._r.shape[0]), np.zeros(self._r.shape[1])
        self._publish()

    def _train_epoch(self) -> dict[str, float]:
        c = self.config
        self._bu, self._bi = als_biases(self._r, self._mu, c.reg_user, c.reg_item, self._bu, self._bi)
        self._publish()
        rows = np.repeat(np.arange(self._r.shape[0]), np.diff(self._r.indptr))
        err = self._r.data - self._mu - self._bu[rows] - self._bi[self._r.indices]
        return {"loss": float(np.mean(err**2))}

    def _publish(self) -> None:
        self.mu = torch.tensor(self._mu, dtype=torch.float64)
        self.bu, self.bi = torch.from_numpy(self._bu.copy()), torch.from_numpy(self._bi.copy())

    def _factors(self, side: str) -> None:
        return None

    def _get_state(self) -> dict[str, torch.Tensor]:
        return {"mu": self.mu.clone(), "bu": self.bu.clone(), "bi": self.bi.clone(), "rating_range": self.rating_range.clone()}

    def _set_state(self, state) -> None:
        self.mu, self.bu, self.bi = (state[k].clone().double() for k in ("mu", "bu", "bi"))
        self.rating_range = state.get("rating_range")

    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        u = torch.from_numpy(np.asarray(users, np.int64))
        return (self.mu + self.bu[u, None] + self.bi[None, :]).float()

    @torch.no_grad()
    def _predict_codes(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        pred = bias_predictions(self.mu, self.bu, self.bi, users, items)
        return clipped(pred, self.config.clip, self.rating_range).astype(np.float32)
