"""autorecs.evaluation: the checks evaluate() makes of its input (the metrics themselves: tests/metrics)."""

import warnings

import numpy as np
import pytest

from autorecs import BiasedMF, evaluate
from autorecs.exceptions import DataError
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


@pytest.mark.parametrize("call, message", [
    (lambda m, d: evaluate(m, d.to_frame()), r"evaluate\(\) takes autorecs Interactions as 'test'; got DataFrame"),
    (lambda m, d: evaluate(d, m), r"takes a fitted autorecs model as 'model'; got Interactions \(the order is evaluate\(model, test\)\)"),
    (lambda m, d: evaluate(m, d.subset([])), "The evaluation data 'test' is empty"),
    (lambda m, d: evaluate(m, d, task="rank"), "The 'task' parameter of evaluate must be 'rating', 'ranking' or None"),
    (lambda m, d: evaluate(m, d, task="rating"), r"Popularity ranks items and predicts no ratings, .* evaluate it with task='ranking'"),
    (lambda m, d: evaluate(m, d, task="ranking", ks=[0]), r"The 'ks' parameter of evaluate must be positive whole cutoffs .*got \[0\]"),
    (lambda m, d: evaluate(m, d, task="ranking", ks=[10.5]), r"got \[10.5\]"),
    (lambda m, d: evaluate(m, d, families="x"), r"The 'families' parameter of evaluate must name some of \['lambdaopt', 'topk'\]"),
    (lambda m, d: evaluate(m, d, exclude=[d.to_frame()]), "takes autorecs Interactions as 'exclude'; got DataFrame"),
])
def test_wrong_arguments_get_one_sentence(ratings_data, call, message):
    from autorecs.exceptions import AutorecsError

    model = Popularity().fit(ratings_data, seed=0, progress=False)
    with pytest.raises(AutorecsError, match=message):
        call(model, ratings_data)


def test_single_values_where_lists_are_expected(ratings_data):
    """One cutoff, one family, one data set to exclude: what a user types first."""
    s = split(ratings_data, "random-60-20-20", seed=0)
    model = Popularity().fit(s.train, seed=0, progress=False)
    one = evaluate(model, s.test, exclude=s.valid, ks=10, families="topk")
    listed = evaluate(model, s.test, exclude=[s.valid], ks=[10], families=["topk"])
    assert set(one) == {"topk", "users", "skipped_rows"} and one["topk"] == listed["topk"] and "ndcg@10" in one["topk"]
    defaults = evaluate(model, s.test, ks=None, families=None)  # None: the defaults
    assert set(defaults) >= {"topk", "lambdaopt"} and "ndcg@50" in defaults["topk"]


def test_rows_the_model_cannot_score_are_warned_about_when_they_are_most(ratings_data):
    s = split(ratings_data, "random-60-20-20", seed=0)
    few = s.train.subset(np.flatnonzero(s.train.users < 20))  # a model that knows 20 users
    model = BiasedMF(factors=2, epochs=1).fit(few, seed=0, progress=False)
    with pytest.warns(UserWarning, match=r"of the 1200 evaluation rows \([\d.]+%\) have a user or an item the model never saw .* fallback"):
        out = evaluate(model, s.test)
    assert out["rows"] == 1200 and 600 < out["skipped_rows"] < 1200  # rating: every row scored, most by the fallback
    ranker = Popularity().fit(few, seed=0, progress=False)
    with pytest.warns(UserWarning, match=r"never saw in training and are left out: the figures cover the other \d+ rows only"):
        evaluate(ranker, s.test)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate(Popularity().fit(s.train, seed=0, progress=False), s.test)


def test_nothing_to_score_shows_the_two_kinds_of_ids():
    """Text ids evaluated on the same data read with integer ids ('007' vs 7): the message shows both and the fix."""
    import pandas as pd

    rows = pd.DataFrame({"user": ["007", "008", "009"] * 4, "item": [f"i{k}" for k in range(12)], "rating": [3.0] * 12})
    model = BiasedMF(factors=2, epochs=1).fit(Interactions.from_frame(rows), seed=0, progress=False)
    other = Interactions.from_frame(rows.assign(user=rows["user"].astype(int) + 1000))
    with pytest.raises(DataError, match=r"the model's users are e.g. '007', '008', '009'; these are e.g. 1007, 1008, 1009\), .*ids='text'"):
        evaluate(model, other)


def test_nothing_to_score_names_the_side_that_shares_no_id(ratings_data):
    model = Popularity().fit(ratings_data, seed=0, progress=False)
    frame = ratings_data.to_frame()
    other = Interactions.from_frame(frame.assign(item=frame["item"].astype(str) + "x"))  # same users, other items
    with pytest.raises(DataError, match=r"\(the model's items are e.g. .*; these are e.g. '.*x'") as caught:
        evaluate(model, other)
    assert "the model's users" not in str(caught.value)
