import numpy as np
import pytest
from scipy.special import logit

from autorecs.ctr.fieldwise import Candidate, successive_halving
from autorecs.ctr.logistic import FieldLogisticRegression, one_hot, tune_cross_l2
from autorecs.exceptions import ConfigError, NotFittedError


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


def test_field_scale_penalises_only_its_field():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 2, size=(4000, 2))
    y = rng.random(4000) < 1 / (1 + np.exp(-(np.where(codes[:, 0] == 1, 1.0, -1.0) + np.where(codes[:, 1] == 1, 1.0, -1.0))))
    plain = FieldLogisticRegression(l2=1e-3).fit(codes, [2, 2], y)
    scaled = FieldLogisticRegression(l2=1e-3, field_scale=[1.0, 1000.0]).fit(codes, [2, 2], y)
    # the second field's weights shrink towards 0; the first field's do not
    assert np.abs(scaled.coef_[2:]).max() < 0.2 * np.abs(plain.coef_[2:]).max()
    assert np.abs(scaled.coef_[:2]).max() > 0.8 * np.abs(plain.coef_[:2]).max()
    with pytest.raises(ConfigError, match="field_scale"):
        FieldLogisticRegression(field_scale=[1.0, -1.0])
    with pytest.raises(ConfigError, match="one per field"):
        FieldLogisticRegression(field_scale=[1.0]).fit(codes, [2, 2], y)


def test_tune_cross_l2_shrinks_a_noise_cross():
    rng = np.random.default_rng(4)
    n, nv = 3000, 3000
    base, basev = rng.integers(0, 2, n), rng.integers(0, 2, nv)
    y = rng.random(n) < np.where(base == 1, 0.8, 0.2)
    yv = rng.random(nv) < np.where(basev == 1, 0.8, 0.2)
    noise, noisev = rng.integers(0, 500, n), rng.integers(0, 500, nv)  # a 500-value "cross" unrelated to y
    X, Xv = np.column_stack([base, noise]), np.column_stack([basev, noisev])
    best, scores = tune_cross_l2(X, [2, 500], y, Xv, yv, n_base=1, l2=1e-6)
    assert list(scores) == [1, 3, 10, 30, 100, 300]
    assert best.field_scale[1] > 1 and scores[best.field_scale[1]] > scores[1]
    only_base, scores = tune_cross_l2(X[:, :1], [2], y, Xv[:, :1], yv, n_base=1, l2=1e-6)
    assert list(scores) == [1] and only_base.field_scale == [1.0]
