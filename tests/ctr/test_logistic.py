import numpy as np
import pytest
from scipy.special import logit

from autorecs.ctr.fieldwise import Candidate, successive_halving
from autorecs.ctr.logistic import FieldLogisticRegression, one_hot
from autorecs.exceptions import NotFittedError


def test_one_field_lr_recovers_per_value_log_odds():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, size=(3000, 1))
    rate = np.array([0.2, 0.5, 0.8])
    y = rng.random(3000) < rate[codes[:, 0]]
    lr = FieldLogisticRegression(l2=0.0).fit(codes, [3], y)
    empirical = np.array([y[codes[:, 0] == v].mean() for v in range(3)])
    assert np.allclose(lr.decision_function(np.arange(3)[:, None]), logit(empirical), atol=1e-3)


def test_offset_is_a_frozen_logit():
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 2, size=(2000, 1))
    off = rng.normal(size=2000)
    y = rng.random(2000) < 1 / (1 + np.exp(-(off + np.where(codes[:, 0] == 1, 1.0, -1.0))))
    lr = FieldLogisticRegression(l2=0.0).fit(codes, [2], y, offset=off)
    z = lr.decision_function(np.array([[0], [1]]))
    assert z[1] - z[0] == pytest.approx(2.0, abs=0.3)


def test_one_hot_and_not_fitted():
    m = one_hot(np.array([[0, 1], [2, 0]]), [3, 2]).toarray()
    assert m.tolist() == [[1, 0, 0, 0, 1], [0, 0, 1, 1, 0]]
    with pytest.raises(NotFittedError):
        FieldLogisticRegression().predict_proba(np.zeros((1, 1), int))


def test_successive_halving_finds_the_informative_field_and_halves():
    rng = np.random.default_rng(2)
    n, nv = 8000, 2000
    good, goodv = rng.integers(0, 4, n), rng.integers(0, 4, nv)
    effect = np.array([-1.5, -0.5, 0.5, 1.5])
    y = rng.random(n) < 1 / (1 + np.exp(-effect[good]))
    yv = rng.random(nv) < 1 / (1 + np.exp(-effect[goodv]))
    cands = [Candidate(rng.integers(0, 4, n), rng.integers(0, 4, nv), 4) for _ in range(9)]
    cands.insert(5, Candidate(good, goodv, 4))
    best, log = successive_halving(cands, np.zeros(n), y, np.zeros(nv), yv, rng=rng, min_block_rows=64)
    assert best == 5
    assert [r["candidates"] for r in log] == [10, 5, 2]
    assert log[-1]["best_auc"] > 0.7
    assert all(a["rows"] < b["rows"] for a, b in zip(log, log[1:]))
