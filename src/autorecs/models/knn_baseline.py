"""Item-based kNN on baseline-corrected ratings (Koren 2010, Section 2.2; Surprise's ``KNNBaseline``):

    r̂_ui = b_ui + Σ_{j ∈ N^k_i(u)} s_ij (r_uj − b_uj) / Σ_{j ∈ N^k_i(u)} s_ij

where b_ui = μ + b_u + b_i is the ALS baseline (:mod:`autorecs.models.baseline`), N^k_i(u) the
``k`` items rated by u most similar to i (only positive similarities contribute), and s_ij the
shrunk Pearson-baseline similarity: the correlation of the baseline residuals over the users who
rated both, times ``(n_ij − 1) / (n_ij − 1 + shrink)``.  With fewer than ``min_k`` positive
neighbours the prediction is the baseline.  The items x items similarity is dense
(4 bytes x items²)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from ..exceptions import check_float, check_int
from ._als import check_dense_items
from .base import FitConfig, Recommender
from .baseline import als_biases, bias_predictions, clipped, rating_range



@dataclass
class KNNBaselineConfig(FitConfig):
    """Hyperparameters of :class:`KNNBaseline` (defaults: Surprise's)."""

    k: int = 40
    """Neighbours per prediction: the k items the user rated that are most similar to the target."""
    min_k: int = 1
    """Fewer positive neighbours than this: predict the baseline alone."""
    shrink: float = 100.0
    """Shrinkage of the similarity toward 0 for pairs rated by few common users."""
    reg_user: float = 15.0
    """λ_u of the baseline, shrinking user biases toward 0 (as Baseline)."""
    reg_item: float = 10.0
    """λ_i of the baseline, shrinking item biases toward 0."""
    baseline_epochs: int = 10
    """ALS sweeps of the baseline."""
    epochs: int = 1
    """One step: baseline and similarities; an "epoch" is that step."""
    patience: int = 1
    monitor: str = "rmse"
    clip: bool = True
    """Clip predicted ratings to the training ratings' range (as Surprise does)."""

    def validate(self) -> None:
        super().validate()
        owner = "KNNBaseline"
        check_int(owner, "k", self.k)
        check_int(owner, "min_k", self.min_k)
        check_int(owner, "baseline_epochs", self.baseline_epochs)
        for name in ("shrink", "reg_user", "reg_item"):
            check_float(owner, name, getattr(self, name))


class KNNBaseline(Recommender):
    """Item-kNN on baseline residuals with shrunk Pearson-baseline similarities (see module docs)."""

    name = "knn-baseline"
    task = "rating"
    Config = KNNBaselineConfig
    default_monitor = "rmse"
    step_hint_fields = ("k", "shrink")
    deterministic = True
    one_step = True

    def _prepare(self, train) -> None:
        check_dense_items("KNNBaseline", train.n_items, "keeps an items x items similarity", "biased-mf")
        self._r = train.csr("ratings")
        self._mu = float(train.ratings.mean())
        self.rating_range = rating_range(train.ratings)

    def _init_params(self, rng) -> None:
        n_u, n_i = self._r.shape
        self.mu = torch.tensor(self._mu, dtype=torch.float64)
        self.bu, self.bi = torch.zeros(n_u, dtype=torch.float64), torch.zeros(n_i, dtype=torch.float64)
        self.S = torch.zeros(n_i, n_i)

    @torch.no_grad()
    def _train_epoch(self) -> dict[str, float]:
        c, r = self.config, self._r
        bu, bi = np.zeros(r.shape[0]), np.zeros(r.shape[1])
        for _ in range(c.baseline_epochs):
            bu, bi = als_biases(r, self._mu, c.reg_user, c.reg_item, bu, bi)
        self.bu, self.bi = torch.from_numpy(bu), torch.from_numpy(bi)
        rows = np.repeat(np.arange(r.shape[0]), np.diff(r.indptr))
        e = sp.csr_matrix((r.data - self._mu - bu[rows] - bi[r.indices], r.indices, r.indptr), shape=r.shape)
        ones = sp.csr_matrix((np.ones(r.nnz), r.indices, r.indptr), shape=r.shape)
        num = (e.T @ e).toarray()
        sq = (e.multiply(e)).T @ ones  # sq[i, j] = Σ over users who rated i and j of e_ui²
        sq = sq.toarray()
        both = (ones.T @ ones).toarray()
        den = np.sqrt(sq * sq.T)
        sim = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        sim *= np.maximum(both - 1, 0) / (np.maximum(both - 1, 0) + c.shrink + 1e-12)
        np.fill_diagonal(sim, 0.0)
        self.S = torch.from_numpy(sim.astype(np.float32))
        return {"loss": float(np.mean(e.data**2))}

    def _similarity_rows(self, side: str, codes: torch.Tensor) -> torch.Tensor | None:
        return self.S[codes] if side == "item" else None

    def _get_state(self) -> dict[str, torch.Tensor]:
        """Biases, similarities, and the training ratings the neighbourhoods read (in the order of ``seen_``)."""
        return {"mu": self.mu.clone(), "bu": self.bu.clone(), "bi": self.bi.clone(), "S": self.S.clone(),
                "ratings": torch.from_numpy(self._r.data.astype(np.float32)), "rating_range": self.rating_range.clone()}

    def _set_state(self, state) -> None:
        self.mu, self.bu, self.bi = (state[k].clone().double() for k in ("mu", "bu", "bi"))
        self.S = state["S"].clone().float()
        self.rating_range = state.get("rating_range")
        seen = self.seen_
        self._r = sp.csr_matrix((state["ratings"].numpy().astype(np.float64), seen.indices, seen.indptr), shape=seen.shape)

    def _residual_rows(self, users: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Dense baseline residuals r_uj − b_uj of some users (0 where unrated) and the rated mask."""
        rows = self._r[users]
        dense = torch.zeros(len(users), self.S.shape[0], dtype=torch.float32)
        mask = torch.zeros(len(users), self.S.shape[0], dtype=torch.bool)
        r = np.repeat(np.arange(len(users)), np.diff(rows.indptr))
        base = float(self.mu) + self.bu.numpy()[np.asarray(users)[r]] + self.bi.numpy()[rows.indices]
        ri, ci = torch.from_numpy(r), torch.from_numpy(rows.indices.astype(np.int64))
        dense[ri, ci] = torch.from_numpy((rows.data - base).astype(np.float32))
        mask[ri, ci] = True
        return dense, mask

    def _neighbourhood(self, sims: torch.Tensor, resid: torch.Tensor, rated: torch.Tensor) -> torch.Tensor:
        """Σ s (r − b) / Σ s over the top-k positive neighbours; NaN where fewer than min_k."""
        c = self.config
        sims = sims.masked_fill(~rated, float("-inf"))
        k = min(c.k, sims.shape[-1])
        top = sims.topk(k, dim=-1)
        w = top.values.clamp_min(0.0).nan_to_num(neginf=0.0)
        num = (w * resid.gather(-1, top.indices)).sum(-1)
        den = w.sum(-1)
        enough = (w > 0).sum(-1) >= c.min_k
        return torch.where(enough & (den > 0), num / den.clamp_min(1e-12), torch.zeros_like(num))

    @torch.no_grad()
    def _predict_codes(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        out = bias_predictions(self.mu, self.bu, self.bi, users, items)
        known = np.flatnonzero((users >= 0) & (items >= 0))
        for s in range(0, len(known), 512):
            rows = known[s : s + 512]
            resid, rated = self._residual_rows(users[rows])
            sims = self.S[torch.from_numpy(items[rows].astype(np.int64))]
            out[rows] += self._neighbourhood(sims, resid, rated).double().numpy()
        return clipped(out, self.config.clip, self.rating_range).astype(np.float32)

    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        users = np.asarray(users, np.int64)
        out = float(self.mu) + self.bu[torch.from_numpy(users), None] + self.bi[None, :]
        out = out.float()
        for n, u in enumerate(users):
            resid, rated = self._residual_rows(np.array([u]))
            cols = torch.nonzero(rated[0])[:, 0]
            if len(cols):
                adj = self._neighbourhood(self.S[:, cols], resid[0, cols][None, :].expand(self.S.shape[0], -1),
                                          torch.ones(self.S.shape[0], len(cols), dtype=torch.bool))
                out[n] += adj
        return out
