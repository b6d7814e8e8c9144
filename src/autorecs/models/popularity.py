"""Most-popular items: every user gets the items with the most training interactions.

The floor every personalised ranking model must beat; it is also what the other models fall back
to for users they never saw."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .base import FitConfig, Recommender


@dataclass
class PopularityConfig(FitConfig):
    """Popularity has no hyperparameters; one "epoch" counts the interactions."""

    epochs: int = 1
    patience: int = 1
    monitor: str = "topk.ndcg@50"


class Popularity(Recommender):
    """Items ranked by their number of training interactions, the same list for every user."""

    name = "popularity"
    task = "ranking"
    Config = PopularityConfig
    default_monitor = "topk.ndcg@50"
    step_hint_fields = ()
    deterministic = True
    one_step = True

    def _prepare(self, train) -> None:
        self._counts = torch.from_numpy(np.bincount(train.items, minlength=train.n_items).astype(np.float32))

    def _init_params(self, rng) -> None:
        self.counts = torch.zeros_like(self._counts)

    def _train_epoch(self) -> dict[str, float]:
        self.counts = self._counts.clone()
        return {"loss": 0.0}

    def _factors(self, side: str) -> None:
        return None

    def _get_state(self) -> dict[str, torch.Tensor]:
        return {"counts": self.counts.clone()}

    def _set_state(self, state) -> None:
        self.counts = state["counts"].clone().float()

    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        return self.counts[None, :].expand(len(users), -1).clone()
