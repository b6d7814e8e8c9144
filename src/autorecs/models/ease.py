"""EASE: an item-item linear model in closed form (Steck, "Embarrassingly Shallow Autoencoders
for Sparse Data", WWW 2019).

With X the users x items matrix of training interactions, EASE solves

    min_B ||X − X B||²_F + λ ||B||²_F   subject to diag(B) = 0

in closed form: P = (XᵀX + λ I)⁻¹, B_ij = −P_ij / P_jj (i ≠ j), B_jj = 0.  A user's scores are
X_u B.  One linear solve of size items x items (O(items³) time, O(items²) memory): a strong
baseline for top-K ranking at catalogue sizes up to a few tens of thousands of items."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..exceptions import check_float
from ._als import check_dense_items
from ._history import RecencyOptions, history_scores, recency_weights
from .base import FitConfig, Recommender



@dataclass
class EASEConfig(FitConfig, RecencyOptions):
    """Hyperparameters of :class:`EASE`."""

    reg: float = 300.0
    """λ, the L2 penalty on B (added to the diagonal of the Gram matrix XᵀX)."""
    epochs: int = 1
    """EASE is solved in one step; an "epoch" is that step."""
    patience: int = 1
    monitor: str = "topk.ndcg@50"

    def validate(self) -> None:
        super().validate()
        self.validate_recency("EASE")
        check_float("EASE", "reg", self.reg, low_open=True, fix="EASE needs λ > 0 for the solve to exist.")


class EASE(Recommender):
    """Embarrassingly shallow autoencoder (see module docs)."""

    name = "ease"
    task = "ranking"
    Config = EASEConfig
    default_monitor = "topk.ndcg@50"
    step_hint_fields = ("reg",)
    deterministic = True
    one_step = True

    def _prepare(self, train) -> None:
        self.recency_weights_ = recency_weights(train, self.config.recency, "EASE")
        check_dense_items("EASE", train.n_items, "solves an items x items system", "implicit-als or bpr-mf")
        x = train.csr("ones")
        x.data[:] = 1.0
        self._gram = torch.from_numpy((x.T @ x).toarray().astype(np.float64))

    def _init_params(self, rng) -> None:
        self.B = torch.zeros(self._gram.shape, dtype=torch.float32)

    @torch.no_grad()
    def _train_epoch(self) -> dict[str, float]:
        g = self._gram  # solved in place: the Gram matrix is not needed after this step
        g.diagonal().add_(self.config.reg)
        p = torch.linalg.inv(g)
        b = -p / p.diagonal()[None, :]
        b.diagonal().zero_()
        self.B = b.float()
        del self._gram  # the items x items training matrix is not needed any more (one step)
        return {"loss": 0.0}

    def _similarity_rows(self, side: str, codes: torch.Tensor) -> torch.Tensor | None:
        """Items: the weights with which an item predicts the others (column j of B predicts j)."""
        return self.B[codes] if side == "item" else None

    def _get_state(self) -> dict[str, torch.Tensor]:
        recency = {} if self.recency_weights_ is None else {"recency_weights": torch.from_numpy(self.recency_weights_.copy())}
        return {"B": self.B.clone(), **recency}

    def _set_state(self, state) -> None:
        self.B = state["B"].clone().float()
        self.recency_weights_ = state["recency_weights"].numpy().copy() if "recency_weights" in state else None

    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        return history_scores(self.seen_, users, self.B, self.recency_weights_)
