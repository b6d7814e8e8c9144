"""A weighted blend of fitted models (what ``autorecs.auto`` builds by greedy ensemble selection,
Caruana et al., ICML 2004).

Rating models blend their predicted ratings: ``r̂ = Σ_m w_m r̂_m``.  Ranking models blend their
scores after a per-user standardisation (each member's scores of one user over all items to mean 0
and standard deviation 1), since members score on different scales.  The members must share the
users and items they were trained on (they are refit on the same data); an ensemble is built from
fitted models, not trained itself.  It saves each member in a sub-directory and loads like any
model (``Recommender.load``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..exceptions import ConfigError, DataError
from .base import FitConfig, Recommender


@dataclass
class EnsembleConfig(FitConfig):
    """What an ensemble is: the members' weights (in the order of its ``members``)."""

    weights: list = field(default_factory=list)
    task: str = "rating"
    """The members' task: ratings are averaged, ranking scores standardised per user first."""


class Ensemble(Recommender):
    """A weighted blend of fitted models on the same data (see module docs)."""

    name = "ensemble"
    Config = EnsembleConfig
    deterministic = True

    def __init__(self, members=(), **params):
        members = list(members)
        if params.get("weights") is not None:  # an array, a tuple: stored (and saved) as a list of floats
            try:
                params["weights"] = [float(w) for w in np.asarray(params["weights"], np.float64).ravel()]
            except (TypeError, ValueError):
                raise ConfigError(f"The 'weights' of an Ensemble must be numbers, one per member; got {params['weights']!r}.") from None
        if members:  # by default the members' task and equal weights
            params.setdefault("task", members[0].task)
            if params.get("weights") is None:
                params["weights"] = [1.0] * len(members)
        self.config = self.Config.from_dict(params)  # the task (a parameter here) is needed by the checks
        super().__init__(**params)
        self.members = list(members)
        if self.members:
            self._adopt(self.members)

    @property
    def task(self) -> str:  # type: ignore[override]
        return self.config.task

    @property
    def default_monitor(self) -> str:  # type: ignore[override]
        return "rmse" if self.config.task == "rating" else "topk.ndcg@50"

    def _adopt(self, members) -> None:
        w = self.config.weights
        if len(w) != len(members) or not members or any(not np.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
            raise ConfigError(f"An Ensemble needs one non-negative weight per member (some positive); got {len(w)} weights "
                              f"for {len(members)} members.")
        first = members[0]
        for m in members:
            m._check_fitted()
            if m.task != self.config.task:
                raise ConfigError(f"Every member of an Ensemble must be a {self.config.task} model; {type(m).__name__} is for {m.task}.")
            if not (m.user_vocab_ == first.user_vocab_ and m.item_vocab_ == first.item_vocab_):
                raise DataError("The members of an Ensemble must be trained on the same users and items; refit them on one data set.")
        self.user_vocab_, self.item_vocab_, self.seen_ = first.user_vocab_, first.item_vocab_, first.seen_
        self.train_mean_, self.train_std_ = first.train_mean_, first.train_std_
        self.history_ = None
        self.fitted_ = True

    def fit(self, *args, **kwargs):
        raise ConfigError("An Ensemble is built from fitted models (autorecs.auto builds one); fit its members instead.")

    def _weights(self) -> np.ndarray:
        w = np.asarray(self.config.weights, np.float64)
        return w / w.sum()

    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        out = None
        for w, m in zip(self._weights(), self.members):
            s = m._score_codes(users).float()
            if self.config.task == "ranking":
                s = (s - s.mean(1, keepdim=True)) / s.std(1, keepdim=True).clamp_min(1e-8)
            out = w * s if out is None else out + w * s
        return out

    @torch.no_grad()
    def _predict_codes(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        if self.config.task == "ranking":
            return super()._predict_codes(users, items)
        return sum(w * m._predict_codes(users, items).astype(np.float64) for w, m in zip(self._weights(), self.members)).astype(np.float32)

    def _factors(self, side: str) -> None:
        return None

    # persistence: the members in sub-directories, the blend in model.json
    def _get_state(self) -> dict[str, torch.Tensor]:
        return {}

    def _set_state(self, state) -> None:
        pass

    def _write(self, path: Path) -> None:
        super()._write(path)
        for k, m in enumerate(self.members):
            m.save(path / f"member-{k}")

    def _read_state(self, path: Path, meta: dict) -> None:
        members = [Recommender.load(path / f"member-{k}") for k in range(len(self.config.weights))]
        self.members = members
        self._adopt(members)
