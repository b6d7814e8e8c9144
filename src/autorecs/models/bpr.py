"""BPR-MF: matrix factorization for implicit feedback with the BPR loss.

    x_ui = p_u · q_i + b_i,     loss = −Σ log σ(x_ui − x_uj) + per-occurrence L2

One uniformly sampled negative ``j`` per training positive per epoch, never an
item the user has in training.  The penalty covers p_u, q_i, q_j (and biases)
of each triple; see :mod:`autorecs.regularization`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..exceptions import check_float, check_int, check_param
from ..regularization import Regularizer
from ._optim import OPTIMIZERS, make_optimizer
from .base import FitConfig, Recommender

#: Resampling rounds before giving up on users who have (almost) every item.
_MAX_RESAMPLE = 50


@dataclass
class BPRMFConfig(FitConfig):
    """Hyperparameters of :class:`BPRMF`."""

    factors: int = 64
    """Latent dimension K."""
    optimizer: str = "adam"
    """One of ``sgd``, ``adam``, ``adagrad``."""
    learning_rate: float = 0.002
    reg: float = 0.01
    """λ for user and item factors (per occurrence in a triple).  Defaults (K, learning
    rate, λ) chosen on the validation split of ml-100k temporal-60-20-20 (benchmarks/README.md)."""
    item_bias: bool = True
    """Learn an item bias b_i."""
    batch_size: int = 1024
    init_std: float = 0.1
    epochs: int = 200
    patience: int = 10
    monitor: str = "topk.ndcg@50"

    def validate(self) -> None:
        super().validate()
        check_int("BPRMF", "factors", self.factors)
        check_int("BPRMF", "batch_size", self.batch_size)
        check_param(self.optimizer in OPTIMIZERS, "BPRMF", "optimizer", self.optimizer, f"one of {tuple(OPTIMIZERS)}")
        check_float("BPRMF", "reg", self.reg, fix="Use 0 for no regularization.")
        check_float("BPRMF", "learning_rate", self.learning_rate, low_open=True)
        check_float("BPRMF", "init_std", self.init_std, low_open=True)


class BPRMF(Recommender):
    """Bayesian personalised ranking matrix factorization (see module docs)."""

    name = "bpr-mf"
    task = "ranking"
    Config = BPRMFConfig
    default_monitor = "topk.ndcg@50"
    step_hint_fields = ("optimizer", "learning_rate")

    def __init__(self, *, regularizer: Regularizer | None = None, **params):
        super().__init__(**params)
        self.regularizer = regularizer

    def _prepare(self, train) -> None:
        self._reg = (self.regularizer or Regularizer(self.config.reg, self.config.reg)).bind(
            np.bincount(train.users, minlength=train.n_users), np.bincount(train.items, minlength=train.n_items)
        )
        self._u = torch.from_numpy(train.users.astype(np.int64))
        self._i = torch.from_numpy(train.items.astype(np.int64))
        self._n_items = train.n_items
        self._keys = torch.sort(self._u * self._n_items + self._i).values

    def _init_params(self, rng) -> None:
        c = self.config
        g = self._tgen
        self.P = torch.nn.Parameter(torch.randn(len(self.user_vocab_), c.factors, generator=g) * c.init_std)
        self.Q = torch.nn.Parameter(torch.randn(len(self.item_vocab_), c.factors, generator=g) * c.init_std)
        self.bi = torch.nn.Parameter(torch.zeros(len(self.item_vocab_)))
        params = [self.P, self.Q] + ([self.bi] if c.item_bias else [])
        self._opt = make_optimizer(c.optimizer, params, lr=c.learning_rate)

    def sample_negatives(self, users: torch.Tensor) -> torch.Tensor:
        """Uniform items that each user has not interacted with in training."""
        neg = torch.randint(self._n_items, users.shape, generator=self._tgen)
        todo = torch.arange(len(users))
        for _ in range(_MAX_RESAMPLE):
            keys = users[todo] * self._n_items + neg[todo]
            pos = torch.searchsorted(self._keys, keys).clamp(max=len(self._keys) - 1)
            clash = self._keys[pos] == keys
            if not clash.any():
                break
            todo = todo[clash]
            neg[todo] = torch.randint(self._n_items, todo.shape, generator=self._tgen)
        return neg

    def _train_epoch(self) -> dict[str, float]:
        n, bs = len(self._u), self.config.batch_size
        perm = torch.randperm(n, generator=self._tgen)
        users, pos = self._u[perm], self._i[perm]
        neg = self.sample_negatives(users)
        total = torch.zeros((), dtype=torch.float64)
        reg, use_bias = self._reg, self.config.item_bias
        for s in range(0, n, bs):
            u, i, j = users[s : s + bs], pos[s : s + bs], neg[s : s + bs]
            pu, qi, qj = self.P[u], self.Q[i], self.Q[j]
            x = (pu * (qi - qj)).sum(1)
            if use_bias:
                bi, bj = self.bi[i], self.bi[j]
                x = x + bi - bj
            loss = -F.logsigmoid(x).sum() + reg.penalty("user", u, pu) + reg.penalty("item", i, qi, bi if use_bias else None) + reg.penalty("item", j, qj, bj if use_bias else None)
            self._opt.zero_grad(set_to_none=True)
            (loss / len(u)).backward()
            self._opt.step()
            total += loss.detach()
        return {"loss": float(total) / n}

    def _get_state(self) -> dict[str, torch.Tensor]:
        return {k: getattr(self, k).detach().clone() for k in ("P", "Q", "bi")}

    def _set_state(self, state) -> None:
        for k, v in state.items():
            setattr(self, k, torch.nn.Parameter(v.clone()))

    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        u = torch.from_numpy(np.asarray(users, np.int64))
        return self.P[u] @ self.Q.T + self.bi[None, :]
