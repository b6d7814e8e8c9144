import numpy as np
import pytest

from autorecs import BiasedMF, ImplicitALS
from autorecs.crossval import cross_validate
from autorecs.data.splits import kfold
from autorecs.exceptions import ConfigError


@pytest.mark.parametrize("by", ["rows", "user"])
def test_kfold_tests_every_row_once_and_keeps_the_parts_apart(ratings_data, by):
    splits = kfold(ratings_data, 4, by=by, seed=0, cold="keep")
    key = lambda part: set(zip(part.user_vocab.ids(part.users).tolist(), part.item_vocab.ids(part.items).tolist()))  # noqa: E731
    tests = [key(s.test) for s in splits]
    assert sum(len(t) for t in tests) == len(ratings_data) and len(set().union(*tests)) == len(ratings_data)
    for s, t in zip(splits, tests):
        assert not (key(s.train) & t) and not (key(s.valid) & t) and not (key(s.train) & key(s.valid))
    if by == "user":  # each user's rows are spread over the folds
        counts = np.bincount(ratings_data.users, minlength=ratings_data.n_users)
        u = int(np.argmax(counts))
        raw = ratings_data.user_vocab.ids(np.array([u]))[0]
        per_fold = [int((s.test.user_vocab.ids(s.test.users) == raw).sum()) for s in splits]
        assert max(per_fold) - min(per_fold) <= 1
    with pytest.raises(ConfigError, match="'folds' parameter of kfold must be an int >= 3"):
        kfold(ratings_data, 2)


def test_cross_validate_reports_each_fold_and_the_spread(ratings_data, implicit_data):
    rep = cross_validate(lambda: BiasedMF(factors=3, epochs=5), ratings_data, folds=3, seed=0)
    assert len(rep.folds) == 3 and rep.task == "rating"
    assert rep.mean["rmse"] == pytest.approx(np.mean([f["rmse"] for f in rep.folds]))
    assert 0 < rep.std["rmse"] < 0.5 * rep.mean["rmse"] and rep.mean["rmse"] < 1.0
    rank = cross_validate(lambda: ImplicitALS(factors=4, epochs=5), implicit_data, folds=3, seed=0, ks=(5,))
    assert set(rank.mean) >= {"topk.ndcg@5", "lambdaopt.auc"} and rank.mean["lambdaopt.auc"] > 0.7  # two clear user groups


def test_too_little_data_for_the_folds_is_one_sentence():
    """Ten rows: "The evaluation data 'test' is empty" (a fold's test rows were all cold); one row: "another protocol"."""
    import pandas as pd

    from autorecs.data import Interactions
    from autorecs.exceptions import DataError
    from autorecs.models import BiasedMF

    tiny = Interactions.from_frame(pd.DataFrame({"user": [0, 0, 1, 1, 2, 2, 3, 3, 0, 1], "item": [0, 1, 2, 3, 4, 0, 1, 2, 3, 4],
                                                 "rating": [3.0, 4, 5, 2, 1, 3, 4, 5, 2, 3]}))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the split's own warning (it suggests cold='keep', which cv has not) is not shown
        with pytest.raises(DataError, match=r"Fold \d of 3 leaves its test part empty \(10 rows: .* or more folds \(--folds\)"):
            cross_validate(lambda: BiasedMF(factors=2, epochs=2), tiny, folds=3)
    with pytest.raises(DataError, match=r"1 row\(s\) are too few for 3-fold cross-validation"):
        cross_validate(lambda: BiasedMF(factors=2, epochs=2), tiny.subset([0]), folds=3)
