"""Weighted matrix factorization for implicit feedback (Hu, Koren & Volinsky 2008).

Every (user, item) cell is a target: preference 1 where observed, else 0, with
confidence ``c_ui = 1 + α r_ui`` (``r_ui`` = 1, or the interaction value with
``use_values``).  Objective:

    Σ_u,i c_ui (p_ui − p_u · q_i)² + λ (Σ_u ||p_u||² + Σ_i ||q_i||²)

solved by alternating least squares with the ``QᵀQ`` trick.  The default
solver (``solver="cg"``) runs a few conjugate-gradient steps per sweep, warm-started
from the previous factors, in float32 on PyTorch's sparse kernels: a sweep costs
O(cg_steps · (nnz · K + (users + items) · K²)), as in the ``implicit`` library.
``solver="cholesky"`` solves every row exactly in float64 (O(nnz · K² + (users + items) · K³)
a sweep): slower, the reference the CG solver is tested against.  By default λ is plain
(``reg_exponent=0``, the convention of the ``implicit`` library); with
``reg_exponent=β`` a row is charged ``n^β λ`` (Rendle et al. 2022 scale iALS'
regularization with the row's frequency), through the shared
:class:`~autorecs.regularization.Regularizer`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..exceptions import check_float, check_int, check_param
from ..regularization import Regularizer
from ._als import cg_solve, pair_dots, ridge_solve, torch_csr, with_values
from ._history import RecencyOptions, recency_weights
from .base import FitConfig, Recommender


@dataclass
class ImplicitALSConfig(FitConfig, RecencyOptions):
    """Hyperparameters of :class:`ImplicitALS`."""

    factors: int = 96
    """Latent dimension K of the user and item factors."""
    alpha: float = 1.0
    """Confidence scaling: c = 1 + α r (with ``recency``: c = 1 + α w r, w the history item's recency
    weight, so that a user's factors follow what they did last)."""
    reg: float = 15.0
    """λ on user and item factors.  Defaults (K, α, λ) chosen on the validation split of
    ml-100k temporal-60-20-20 (benchmarks/README.md)."""
    reg_exponent: float = 0.0
    """β: a row with n training interactions is charged n^β λ."""
    use_values: bool = False
    """Use the interaction values (e.g. ratings) as r instead of 1."""
    solver: str = "cg"
    """``"cg"``: ``cg_steps`` warm-started conjugate-gradient steps a sweep, float32 (fast);
    ``"cholesky"``: the exact row solves in float64."""
    cg_steps: int = 3
    """Conjugate-gradient steps per row and sweep (``solver="cg"``)."""
    init_std: float = 0.01
    """Standard deviation of the normal initialisation of the factors."""
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
        check_param(self.solver in SOLVERS, "ImplicitALS", "solver", self.solver, f"one of {SOLVERS}")
        check_int("ImplicitALS", "cg_steps", self.cg_steps)
        self.validate_recency("ImplicitALS")


SOLVERS = ("cg", "cholesky")


class ImplicitALS(Recommender):
    """Implicit-feedback ALS (see module docs)."""

    name = "implicit-als"
    task = "ranking"
    Config = ImplicitALSConfig
    default_monitor = "topk.ndcg@50"
    step_hint_fields = ("alpha", "reg")
    supports_device = True

    @property
    def _dtype(self) -> torch.dtype:
        return torch.float32 if self.config.solver == "cg" else torch.float64

    def _prepare(self, train) -> None:
        c = self.config
        r = train.csr("ratings" if c.use_values else "ones").astype(np.float64)
        r.sort_indices()
        conf = r.copy()
        conf.data = c.alpha * r.data  # c − 1
        weights = recency_weights(train, c.recency, "ImplicitALS")  # aligned with r's (canonical) entries
        if weights is not None:
            conf.data *= weights
        target = conf.copy()
        target.data = 1.0 + conf.data  # c · p with p = 1
        self._reg = Regularizer(c.reg, c.reg, exponent=c.reg_exponent).bind(np.diff(r.indptr), np.diff(r.tocsc().indptr))
        dt, dev = self._dtype, self.device_
        K = c.factors
        self._diag_u = self._reg.ridge("user", K)[0].to(dev, dt)
        self._diag_i = self._reg.ridge("item", K)[0].to(dev, dt)
        # the sparse matrices in both orientations, on the device, in the solver's precision
        self._conf, self._conf_t = torch_csr(conf, dt, dev), torch_csr(conf.T, dt, dev)
        # c · p = 1 + (c − 1) on the same pattern: the index arrays are shared, not copied
        self._target, self._target_t = (with_values(m, 1.0 + m.values()) for m in (self._conf, self._conf_t))
        if c.solver == "cholesky":
            self._sp = (conf, target, conf.T.tocsr(), target.T.tocsr())

    def _init_params(self, rng) -> None:
        g, c = self._tgen, self.config
        self.P = (torch.randn(len(self.user_vocab_), c.factors, generator=g, dtype=torch.float64) * c.init_std).to(self.device_, self._dtype)
        self.Q = (torch.randn(len(self.item_vocab_), c.factors, generator=g, dtype=torch.float64) * c.init_std).to(self.device_, self._dtype)

    @torch.no_grad()
    def _train_epoch(self) -> dict[str, float]:
        c = self.config
        if c.solver == "cg":
            self.P = cg_solve(self._conf, self._target, self.P, self.Q, self._diag_u, c.cg_steps, base=self.Q.T @ self.Q)
            self.Q = cg_solve(self._conf_t, self._target_t, self.Q, self.P, self._diag_i, c.cg_steps, base=self.P.T @ self.P)
        else:
            conf, target, conf_t, target_t = self._sp
            self.P = ridge_solve(conf, target, self.Q, self._diag_u, base=self.Q.T @ self.Q)
            self.Q = ridge_solve(conf_t, target_t, self.P, self._diag_i, base=self.P.T @ self.P)
        # loss over all cells: Σ x̂² + Σ_obs [c (1 − x̂)² − x̂²], with c − 1 = conf
        xhat = pair_dots(self._conf, self.P, self.Q).double()
        conf1 = self._conf.values().double()
        P, Q = self.P.double(), self.Q.double()
        loss = torch.trace((P.T @ P) @ (Q.T @ Q)) + ((1.0 + conf1) * (1 - xhat) ** 2 - xhat**2).sum()
        loss += (self._diag_u.double() * P.pow(2)).sum() + (self._diag_i.double() * Q.pow(2)).sum()
        return {"loss": float(loss) / max(len(xhat), 1)}

    def _get_state(self) -> dict[str, torch.Tensor]:
        return {"P": self.P.clone(), "Q": self.Q.clone()}

    def _set_state(self, state) -> None:
        dev = getattr(self, "device_", "cpu")
        self.P, self.Q = (state[k].to(dev, self._dtype).clone() for k in ("P", "Q"))

    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        u = torch.from_numpy(np.asarray(users, np.int64)).to(self.P.device)
        return (self.P[u] @ self.Q.T).float().cpu()
