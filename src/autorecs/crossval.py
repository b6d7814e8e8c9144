"""k-fold cross-validation of one model configuration (Surprise's ``cross_validate``, by protocol).

Folds come from :func:`autorecs.data.splits.kfold`: rows at random for ratings, each user's
rows dealt across folds for ranking.  In every split the model trains on ``k-2`` folds, stops
early on the validation fold and is scored once on the test fold; the report gives every fold's
metrics and their mean and standard deviation.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .data.interactions import Interactions
from .data.splits import kfold
from .evaluation import DEFAULT_KS, evaluate
from .exceptions import DataError


@dataclass
class CVReport:
    """Per-fold metrics (flat names such as ``rmse`` or ``topk.ndcg@50``) and their summary."""

    model: str
    task: str
    folds: list[dict[str, float]]
    fit_seconds: list[float]
    params: dict = field(default_factory=dict)

    @property
    def mean(self) -> dict[str, float]:
        return {k: float(np.mean([f[k] for f in self.folds])) for k in self.folds[0]}

    @property
    def std(self) -> dict[str, float]:
        """Sample standard deviation over folds (ddof=1)."""
        return {k: float(np.std([f[k] for f in self.folds], ddof=1)) for k in self.folds[0]}

    def to_dict(self) -> dict:
        return {"model": self.model, "task": self.task, "params": self.params, "n_folds": len(self.folds), "mean": self.mean,
                "std": self.std, "folds": self.folds, "fit_seconds": self.fit_seconds}


def _flat(metrics: dict, task: str) -> dict[str, float]:
    if task == "rating":
        return {k: float(metrics[k]) for k in ("rmse", "mae", "rmse_std")}
    return {f"{fam}.{k}": float(v) for fam in ("topk", "lambdaopt") for k, v in metrics.get(fam, {}).items()}


def cross_validate(make_model: Callable[[], object], data: Interactions, *, folds: int = 5, seed: int = 0,
                   ks: Sequence[int] = DEFAULT_KS, progress: bool = False) -> CVReport:
    """Fit ``make_model()`` on each of ``folds`` splits of ``data`` and score it on the held-out fold."""
    probe = make_model()
    task = probe.task
    rows, times = [], []
    with warnings.catch_warnings(record=True) as caught:  # shown below unless this function refuses the folds itself
        warnings.simplefilter("always")
        try:
            splits = kfold(data, folds, by="rows" if task == "rating" else "user", seed=seed)
        except DataError as exc:
            raise DataError(f"{len(data)} row(s) are too few for {folds}-fold cross-validation (a fold's training part is "
                            "empty); give more data.") from exc
    for f, part in enumerate(splits):
        if len(part.test) == 0:  # every test row was cold: its user or item in none of the training folds
            raise DataError(f"Fold {f + 1} of {folds} leaves its test part empty ({len(data)} rows: their users or items are in "
                            "none of the training folds); give more data, or more folds (--folds) so that more of it trains.")
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for f, part in enumerate(splits):
        t0 = time.perf_counter()
        model = make_model().fit(part.train, part.valid, seed=seed + f, progress=progress)
        times.append(time.perf_counter() - t0)
        exclude = [part.valid] if task == "ranking" else []
        rows.append(_flat(evaluate(model, part.test, exclude=exclude, ks=ks), task))
    return CVReport(probe.name, task, rows, times, probe.get_params())
