"""Evaluate a fitted model on held-out interactions (raw ids matched to the model's codes).

One code path serves the validation inside ``fit`` and the final test
evaluation, so a figure is never computed two ways.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp
import torch

from ._progress import warn
from .data.interactions import Interactions, check_interactions
from .exceptions import ConfigError, DataError
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
        warn(f"{int(off.sum())} of {len(ratings)} test ratings lie far outside the training scale (mean "
                      f"{model.train_mean_:.2f}, std {model.train_std_:.2f}; e.g. {float(example):g}); check the rating column "
                      "and the file: the error figures will be dominated by these rows.")


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
    model, test, exclude, ks, families = _checked_arguments(model, test, task, exclude, ks, families)
    model._check_fitted()
    if (task or model.task) == "rating" and test.ratings is not None and len(test):
        _warn_off_scale(model, test.ratings)
    ev = Evaluator(model, test, task=task or model.task, exclude=exclude, ks=ks, families=families, per_user=per_user)
    if len(test) and ev.skipped == len(test):
        raise DataError(f"None of the {len(test)} evaluation rows has a user and an item that the model saw in training "
                        f"({_id_examples(model, test)}), so there is nothing to score; evaluate on data that shares users and items "
                        "with the training data, read with ids of the same type (ids='text' / --ids text keeps ids such as 007).")
    _warn_trained_pairs(model, ev)
    if len(test) and ev.skipped > SKIPPED_WARN * len(test):
        fate = ("are scored by the model's fallback for unknown ids (biases or the mean), which dominates the figures"
                if ev.task == "rating" else f"are left out: the figures cover the other {len(test) - ev.skipped} rows only")
        warn(f"{ev.skipped} of the {len(test)} evaluation rows ({ev.skipped / len(test):.1%}) have a user or an item the "
                      f"model never saw in training and {fate} (are the ids of the same type and data set?).")
    return ev(model)


def _id_examples(model, data: Interactions) -> str:
    """A few ids of the model and of ``data`` on the side(s) that share none, to show a type or format mismatch."""
    def shown(vocab) -> str:
        return ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in vocab.index[:3])
    parts = []
    for side, mine, theirs in (("users", model.user_vocab_, data.user_vocab), ("items", model.item_vocab_, data.item_vocab)):
        if not (mine.codes(theirs.index) >= 0).any():
            parts.append(f"the model's {side} are e.g. {shown(mine)}; these are e.g. {shown(theirs)}")
    return "; ".join(parts) or "no row has both a known user and a known item"


#: Share of an evaluation's rows with unknown users or items above which :func:`evaluate` warns.
SKIPPED_WARN = 0.5


def _checked_arguments(model, test, task, exclude, ks, families):
    """evaluate()'s arguments as it takes them, or one sentence naming the one that is wrong."""
    if not (hasattr(model, "_check_fitted") and hasattr(model, "_score_codes")):  # a Recommender (models/ sit above this layer)
        swapped = " (the order is evaluate(model, test))" if isinstance(model, Interactions) else ""
        raise DataError(f"evaluate() takes a fitted autorecs model as 'model'; got {type(model).__name__}{swapped}.")
    check_interactions(test, "evaluate()", "test")
    if len(test) == 0:
        raise DataError("The evaluation data 'test' is empty; give at least one interaction.")
    if task not in (None, "rating", "ranking"):
        raise ConfigError(f"The 'task' parameter of evaluate must be 'rating', 'ranking' or None (the model's); got {task!r}.",
                          param="task", owner="evaluate")
    if task == "rating" and getattr(model, "task", None) == "ranking":
        raise ConfigError(f"{type(model).__name__} ranks items and predicts no ratings, so it has no rating error; evaluate it with "
                          "task='ranking' (or None, the model's).", param="task", owner="evaluate")
    exclude = [exclude] if isinstance(exclude, Interactions) else list(exclude or ())
    for part in exclude:
        check_interactions(part, "evaluate()", "exclude")
    ks = DEFAULT_KS if ks is None else [ks] if isinstance(ks, (int, np.integer)) else list(ks) if hasattr(ks, "__iter__") else [ks]
    if not ks or any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in ks):
        raise ConfigError(f"The 'ks' parameter of evaluate must be positive whole cutoffs such as (10, 50); got {ks!r}.",
                          param="ks", owner="evaluate")
    families = FAMILIES if families is None else [families] if isinstance(families, str) else (
        list(families) if hasattr(families, "__iter__") else [families])
    unknown = [f for f in families if f not in FAMILIES]
    if not families or unknown:
        raise ConfigError(f"The 'families' parameter of evaluate must name some of {list(FAMILIES)}; got {families!r}.",
                          param="families", owner="evaluate")
    return model, test, exclude, tuple(int(k) for k in ks), tuple(families)


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
        warn(f"{n_trained} of the {n_pairs} (user, item) pairs evaluated ({n_trained / n_pairs:.0%}) are pairs the model "
                      f"was trained on: {effect}; evaluate on held-out rows (`autorecs split`, or autorecs.split in Python).")
