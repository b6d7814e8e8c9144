"""Evaluate a fitted model on held-out interactions (raw ids matched to the model's codes).

One code path serves the validation inside ``fit`` and the final test
evaluation, so a figure is never computed two ways.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import scipy.sparse as sp
import torch

from .data.interactions import Interactions
from .exceptions import DataError
from .metrics import FAMILIES, ranking_metrics, rating_metrics

DEFAULT_KS = (10, 50, 100)


def _csr(model, users: np.ndarray, items: np.ndarray) -> sp.csr_matrix:
    keep = (users >= 0) & (items >= 0)
    n_u, n_i = len(model.user_vocab_), len(model.item_vocab_)
    m = sp.csr_matrix((np.ones(int(keep.sum()), np.float32), (users[keep], items[keep])), shape=(n_u, n_i))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


class Evaluator:
    """Precomputes the mapping of ``data`` into a fitted model's codes; call it with the model.

    ``task="rating"`` gives RMSE/MAE/``rmse_std``; ``task="ranking"`` gives the
    ``lambdaopt`` and ``topk`` families (``families`` selects), ranking against
    all of the model's items except its training interactions and those in
    ``exclude``.  Users or items unknown to the model are counted in
    ``"skipped_rows"``: rating predictions for them use the model's fallback,
    ranking drops them (a model cannot rank an item it has never seen).
    ``metrics`` names the only metrics the caller needs (validation inside ``fit``
    asks for the monitored one), which lets costly ones be skipped.
    """

    def __init__(
        self,
        model,
        data: Interactions,
        *,
        task: str,
        exclude: Sequence[Interactions] = (),
        ks: Sequence[int] = DEFAULT_KS,
        families: Sequence[str] = FAMILIES,
        per_user: bool = False,
        metrics: Sequence[str] | None = None,
    ):
        if task not in ("rating", "ranking"):
            raise DataError(f"The 'task' must be 'rating' or 'ranking'; got {task!r}.")
        self.task, self.ks, self.families, self.per_user = task, tuple(ks), tuple(families), per_user
        self.metrics = None if metrics is None else tuple(metrics)
        self._cache: dict = {}  # per-batch index structures, built on the first call
        users, items = data.recode(model.user_vocab_, model.item_vocab_)
        self.skipped = int(((users < 0) | (items < 0)).sum())
        if task == "rating":
            if data.ratings is None:
                raise DataError("Rating evaluation needs a rating column in the evaluation data; it has none.")
            self.users, self.items, self.true = users, items, data.ratings
        else:
            self.truth = _csr(model, users, items)
            excl = model.seen_.copy()
            for other in exclude:
                excl = excl + _csr(model, *other.recode(model.user_vocab_, model.item_vocab_))
            self.exclude = (excl > 0).astype(np.float32)

    def __call__(self, model) -> dict:
        if self.task == "rating":
            with torch.no_grad():
                pred = model._predict_codes(self.users, self.items)
            out = rating_metrics(pred, self.true, train_std=model.train_std_)
            out["rows"] = int(len(self.true))
        else:
            out = ranking_metrics(model._score_codes, self.truth, self.exclude, ks=self.ks, families=self.families,
                                  per_user=self.per_user, metrics=self.metrics, cache=self._cache)
        out["skipped_rows"] = self.skipped
        return out


#: Test ratings further than this many training standard deviations from the training mean are
#: "far outside the scale" (1-5 stars: below -2.1 or above 9.1), most likely a wrong column or file.
OFF_SCALE_STDS = 5.0


def _warn_off_scale(model, ratings: np.ndarray) -> None:
    lo = model.train_mean_ - OFF_SCALE_STDS * model.train_std_
    hi = model.train_mean_ + OFF_SCALE_STDS * model.train_std_
    off = (ratings < lo) | (ratings > hi)
    if off.any():
        example = ratings[off][np.argmax(np.abs(ratings[off] - model.train_mean_))]
        warnings.warn(f"{int(off.sum())} of {len(ratings)} test ratings lie far outside the training scale (mean "
                      f"{model.train_mean_:.2f}, std {model.train_std_:.2f}; e.g. {float(example):g}); check the rating column "
                      "and the file: the error figures will be dominated by these rows.", stacklevel=3)


def evaluate(
    model,
    test: Interactions,
    *,
    task: str | None = None,
    exclude: Sequence[Interactions] = (),
    ks: Sequence[int] = DEFAULT_KS,
    families: Sequence[str] = FAMILIES,
    per_user: bool = False,
) -> dict:
    """Metrics of a fitted ``model`` on ``test`` (task defaults to the model's).

    Ranking with ``per_user=True`` adds ``"per_user"`` (user codes and each user's metrics;
    see :func:`autorecs.metrics.ranking_metrics`).
    """
    model._check_fitted()
    if (task or model.task) == "rating" and test.ratings is not None and len(test):
        _warn_off_scale(model, test.ratings)
    ev = Evaluator(model, test, task=task or model.task, exclude=exclude, ks=ks, families=families, per_user=per_user)
    if len(test) and ev.skipped == len(test):
        raise DataError(f"None of the {len(test)} evaluation rows has a user and an item that the model saw in training, so "
                        "there is nothing to score; evaluate on data that shares users and items with the training data.")
    _warn_trained_pairs(model, ev)
    return ev(model)


#: Share of the evaluation's (user, item) pairs that may also be training pairs before :func:`evaluate`
#: warns (a few repeat interactions are real; a test set drawn from the training data is a mistake).
TRAINED_PAIRS_WARN = 0.01


def _warn_trained_pairs(model, ev: Evaluator) -> None:
    """Warn where many of the evaluated pairs are pairs the model was trained on (e.g. the training file
    given again as the test file): rating errors are then optimistic, and in a ranking those items are
    excluded as seen, so they can never be hit."""
    seen = getattr(model, "seen_", None)
    if seen is None:
        return
    truth = ev.truth if ev.task == "ranking" else _csr(model, ev.users, ev.items)
    n_pairs = int(truth.nnz)
    n_trained = int(truth.multiply(seen).count_nonzero()) if n_pairs else 0
    if n_pairs and n_trained > TRAINED_PAIRS_WARN * n_pairs:
        effect = ("its error figures are optimistic" if ev.task == "rating"
                  else "a ranking excludes items seen in training, so these can never be hit and the figures are too low")
        warnings.warn(f"{n_trained} of the {n_pairs} (user, item) pairs evaluated ({n_trained / n_pairs:.0%}) are pairs the model "
                      f"was trained on: {effect}; evaluate on held-out rows (autorecs.split).", stacklevel=3)
