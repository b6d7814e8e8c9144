"""Weighted matrix factorization for implicit feedback (Hu, Koren & Volinsky 2008).

Every (user, item) cell is a target: preference 1 where observed, else 0, with
confidence ``c_ui = 1 + α r_ui`` (``r_ui`` = 1, or the interaction value with
``use_values``).  Objective:

    Σ_u,i c_ui (p_ui − p_u · q_i)² + λ (Σ_u ||p_u||² + Σ_i ||q_i||²)

solved exactly by alternating least squares with the ``QᵀQ`` trick, so a sweep
costs O(nnz · K² + (users + items) · K³).  By default λ is plain
(``reg_exponent=0``, the convention of the ``implicit`` library); with
``reg_exponent=β`` a row is charged ``n^β λ`` (Rendle et al. 2022 scale iALS'
regularization with the row's frequency), through the shared
:class:`~autorecs.regularization.Regularizer`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..exceptions import check_float, check_int
from ..regularization import Regularizer
from ._als import ridge_solve
from .base import FitConfig, Recommender


@dataclass
class ImplicitALSConfig(FitConfig):
    """Hyperparameters of :class:`ImplicitALS`."""

    factors: int = 96
    alpha: float = 1.0
    """Confidence scaling: c = 1 + α r."""
    reg: float = 15.0
    """λ on user and item factors.  Defaults (K, α, λ) chosen on the validation split of
    ml-100k temporal-60-20-20 (benchmarks/README.md)."""
    reg_exponent: float = 0.0
    """β: a row with n training interactions is charged n^β λ."""
    use_values: bool = False
    """Use the interaction values (e.g. ratings) as r instead of 1."""
    init_std: float = 0.01
    epochs: int = 30
    patience: int = 3
    monitor: str = "topk.ndcg@50"

    def validate(self) -> None:
        super().validate()
        check_int("ImplicitALS", "factors", self.factors)
        check_float("ImplicitALS", "alpha", self.alpha)
        check_float("ImplicitALS", "reg", self.reg, fix="Use 0 for no regularization.")
        check_float("ImplicitALS", "reg_exponent", self.reg_exponent, 0.0, 1.0)
        check_float("ImplicitALS", "init_std", self.init_std, low_open=True)


class ImplicitALS(Recommender):
    """Implicit-feedback ALS (see module docs)."""

    name = "implicit-als"
    task = "ranking"
    Config = ImplicitALSConfig
    default_monitor = "topk.ndcg@50"
    step_hint_fields = ("alpha", "reg")

    def _prepare(self, train) -> None:
        r = train.csr("ratings" if self.config.use_values else "ones").astype(np.float64)
        conf = r.copy()
        conf.data = self.config.alpha * r.data  # c − 1
        target = conf.copy()
        target.data = 1.0 + conf.data  # c · p with p = 1
        self._conf, self._target = conf, target
        self._conf_t, self._target_t = conf.T.tocsr(), target.T.tocsr()
        c = self.config
        self._reg = Regularizer(c.reg, c.reg, exponent=c.reg_exponent).bind(np.diff(r.indptr), np.diff(self._conf_t.indptr))

    def _init_params(self, rng) -> None:
        g, c = self._tgen, self.config
        self.P = torch.randn(len(self.user_vocab_), c.factors, generator=g, dtype=torch.float64) * c.init_std
        self.Q = torch.randn(len(self.item_vocab_), c.factors, generator=g, dtype=torch.float64) * c.init_std

    @torch.no_grad()
    def _train_epoch(self) -> dict[str, float]:
        K = self.config.factors
        diag_u, diag_i = self._reg.ridge("user", K)[0], self._reg.ridge("item", K)[0]
        self.P = ridge_solve(self._conf, self._target, self.Q, diag_u, base=self.Q.T @ self.Q)
        self.Q = ridge_solve(self._conf_t, self._target_t, self.P, diag_i, base=self.P.T @ self.P)
        # loss over all cells: Σ x̂² + Σ_obs [c (1 − x̂)² − x̂²]
        coo = self._conf.tocoo()
        u, i = torch.from_numpy(coo.row.astype(np.int64)), torch.from_numpy(coo.col.astype(np.int64))
        xhat = (self.P[u] * self.Q[i]).sum(1)
        c = 1.0 + torch.from_numpy(coo.data)
        loss = torch.trace((self.P.T @ self.P) @ (self.Q.T @ self.Q)) + (c * (1 - xhat) ** 2 - xhat**2).sum()
        loss += (diag_u * self.P.pow(2)).sum() + (diag_i * self.Q.pow(2)).sum()
        return {"loss": float(loss) / max(len(u), 1)}

    def _get_state(self) -> dict[str, torch.Tensor]:
        return {"P": self.P.clone(), "Q": self.Q.clone()}

    def _set_state(self, state) -> None:
        self.P, self.Q = state["P"].double().clone(), state["Q"].double().clone()

    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        return (self.P[torch.from_numpy(np.asarray(users, np.int64))] @ self.Q.T).float()
