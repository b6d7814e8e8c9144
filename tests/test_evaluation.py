"""autorecs.evaluation: the checks evaluate() makes of its input (the metrics themselves: tests/metrics)."""

import warnings

import numpy as np
import pytest

from autorecs import BiasedMF, evaluate
from autorecs.data import Interactions, split
from autorecs.models.popularity import Popularity


def _warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught if "trained on" in str(w.message)]


@pytest.mark.parametrize("task", ["rating", "ranking"])
def test_evaluating_on_training_pairs_is_warned_about(ratings_data, task):
    s = split(ratings_data, "random-60-20-20", seed=0)
    model = (BiasedMF(factors=2, epochs=1) if task == "rating" else Popularity()).fit(s.train, seed=0, progress=False)
    assert _warnings(lambda: evaluate(model, s.test, task=task)) == []
    said = _warnings(lambda: evaluate(model, s.train, task=task))
    n = len(s.train)
    assert said == [said[0]] and said[0].startswith(f"{n} of the {n} (user, item) pairs evaluated (100%)")
    assert ("optimistic" if task == "rating" else "can never be hit") in said[0]


def test_a_few_repeated_pairs_are_not_warned_about(ratings_data):
    """Repeat interactions are real: one held-out row of a pair also in training (under 1%) says nothing."""
    s = split(ratings_data, "random-60-20-20", seed=0)
    model = BiasedMF(factors=2, epochs=1).fit(s.train, seed=0, progress=False)
    first = s.train.subset(np.arange(1), compact=False)
    test = Interactions.concat(s.test, first)
    assert len(test) == len(s.test) + 1
    assert _warnings(lambda: evaluate(model, test)) == []
    many = Interactions.concat(s.test, s.train.subset(np.arange(len(s.test) // 10), compact=False))
    assert len(_warnings(lambda: evaluate(model, many))) == 1
