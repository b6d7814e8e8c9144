"""Item-based k-nearest-neighbours for implicit feedback (Deshpande & Karypis 2004; Sarwar et al. 2001).

Item-item cosine similarity of the columns of the binary users x items matrix, with a shrinkage
term that discounts pairs seen by few users, ``s_ij = |U_i ∩ U_j| / (sqrt(|U_i| |U_j|) + shrink)``;
each item keeps its ``neighbors`` most similar items.  A user's score for item j is the sum of the
similarities between j and the items the user has: ``X_u S``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..exceptions import check_float, check_int
from ._als import check_dense_items
from ._history import RecencyOptions, history_scores, recency_weights
from .base import FitConfig, Recommender


@dataclass
class ItemKNNConfig(FitConfig, RecencyOptions):
    """Hyperparameters of :class:`ItemKNN`."""

    neighbors: int = 100
    """Neighbours kept per item (the largest similarities)."""
    shrink: float = 10.0
    """Added to the cosine's denominator: pairs of rarely seen items count less."""
    epochs: int = 1
    """Similarities are computed in one step; an "epoch" is that step."""
    patience: int = 1
    monitor: str = "topk.ndcg@50"

    def validate(self) -> None:
        super().validate()
        self.validate_recency("ItemKNN")
        check_int("ItemKNN", "neighbors", self.neighbors)
        check_float("ItemKNN", "shrink", self.shrink)


class ItemKNN(Recommender):
    """Item-based kNN with cosine similarity (see module docs)."""

    name = "item-knn"
    task = "ranking"
    Config = ItemKNNConfig
    default_monitor = "topk.ndcg@50"
    step_hint_fields = ("neighbors", "shrink")
    deterministic = True
    one_step = True

    def _prepare(self, train) -> None:
        self.recency_weights_ = recency_weights(train, self.config.recency, "ItemKNN")
        check_dense_items("ItemKNN", train.n_items, "keeps an items x items similarity", "implicit-als or bpr-mf")
        x = train.csr("ones")
        x.data[:] = 1.0
        self._co = torch.from_numpy((x.T @ x).toarray().astype(np.float32))  # co-occurrence counts

    def _init_params(self, rng) -> None:
        self.S = torch.zeros_like(self._co)

    @torch.no_grad()
    def _train_epoch(self) -> dict[str, float]:
        co = self._co
        norm = co.diagonal().clamp_min(0).sqrt()
        sim = co / (norm[:, None] * norm[None, :] + self.config.shrink).clamp_min(1e-12)
        sim.diagonal().zero_()
        k = min(self.config.neighbors, sim.shape[1] - 1) if sim.shape[1] > 1 else 0
        kept = torch.zeros_like(sim)
        if k > 0:
            top = sim.topk(k, dim=0)  # for every item j, the k items i most similar to it (scores are Σ_i x_ui s_ij)
            kept.scatter_(0, top.indices, top.values)
        self.S = kept
        del self._co  # the items x items training matrix is not needed any more (one step)
        return {"loss": 0.0}

    def _similarity_rows(self, side: str, codes: torch.Tensor) -> torch.Tensor | None:
        """Items: column j of S holds j's neighbours, so the similarities of j are S[:, j]."""
        return self.S[:, codes].T if side == "item" else None

    def _get_state(self) -> dict[str, torch.Tensor]:
        recency = {} if self.recency_weights_ is None else {"recency_weights": torch.from_numpy(self.recency_weights_.copy())}
        return {"S": self.S.clone(), **recency}

    def _set_state(self, state) -> None:
        self.S = state["S"].clone().float()
        self.recency_weights_ = state["recency_weights"].numpy().copy() if "recency_weights" in state else None

    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        return history_scores(self.seen_, users, self.S, self.recency_weights_)
