import numpy as np
import pytest
import torch

from autorecs import BPRMF
from autorecs.data import split
from autorecs.exceptions import ConfigError, DataError
from autorecs.lambdaopt.granularity import GRANULARITIES, lambda_shapes


@pytest.fixture(scope="module")
def parts(implicit_data):
    return split(implicit_data, "random-60-20-20", seed=0)


def test_lambda_lr_zero_is_exactly_fixed_lambda_training(parts):
    kw = dict(factors=4, epochs=3, reg=0.05, optimizer="adam", learning_rate=0.01)
    fixed = BPRMF(**kw).fit(parts.train, parts.valid, seed=0, progress=False)
    learned = BPRMF(**kw, lambdaopt="DUI", lambda_lr=0.0).fit(parts.train, parts.valid, seed=0, progress=False)
    torch.testing.assert_close(learned.P, fixed.P, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(learned.Q, fixed.Q, rtol=1e-5, atol=1e-6)
    assert torch.all(learned.lam_user == 0.05)


@pytest.mark.parametrize("granularity", GRANULARITIES)
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adagrad"])
def test_every_granularity_learns_nonnegative_lambdas(parts, granularity, optimizer):
    m = BPRMF(factors=4, epochs=2, reg=0.01, optimizer=optimizer, learning_rate=0.05, lambdaopt=granularity, lambda_lr=0.05)
    m.fit(parts.train, parts.valid, seed=0, progress=False)
    su, si = lambda_shapes(granularity, len(m.user_vocab_), len(m.item_vocab_), 4)
    assert tuple(m.lam_user.shape) == su and tuple(m.lam_item.shape) == si
    assert bool((m.lam_user >= 0).all()) and bool((m.lam_item >= 0).all())
    assert not (torch.all(m.lam_user == 0.01) and torch.all(m.lam_item == 0.01))  # Λ moved
    assert all(np.isfinite(e["loss"]) for e in m.history_.epochs)


def test_lambdaopt_needs_validation_and_a_known_granularity(parts):
    with pytest.raises(DataError, match="pass a validation set"):
        BPRMF(factors=2, epochs=1, lambdaopt="D").fit(parts.train, progress=False)
    with pytest.raises(ConfigError, match="'lambdaopt' parameter of BPRMF"):
        BPRMF(lambdaopt="XY")


def test_learned_lambdas_are_saved_with_the_model(parts, tmp_path):
    from autorecs import Recommender

    m = BPRMF(factors=3, epochs=2, lambdaopt="UI", lambda_lr=0.05).fit(parts.train, parts.valid, seed=0, progress=False)
    back = Recommender.load(m.save(tmp_path / "m"))
    torch.testing.assert_close(back.lam_user, m.lam_user.detach())


def test_biased_mf_lambdaopt_lr_zero_is_fixed_training_and_learns_otherwise(ratings_data):
    from autorecs import BiasedMF

    s = split(ratings_data, "random-60-20-20", seed=0)
    kw = dict(factors=3, epochs=3, solver="adam", learning_rate=0.01, reg_user=0.05, reg_item=0.05)
    fixed = BiasedMF(**kw).fit(s.train, s.valid, seed=0, progress=False)
    zero = BiasedMF(**kw, lambdaopt="DUI", lambda_lr=0.0).fit(s.train, s.valid, seed=0, progress=False)
    torch.testing.assert_close(zero.P, fixed.P, rtol=1e-5, atol=1e-6)
    learned = BiasedMF(**kw, lambdaopt="UI", lambda_lr=0.05).fit(s.train, s.valid, seed=0, progress=False)
    assert bool((learned.lam_user >= 0).all()) and not torch.all(learned.lam_user == 0.05)
    with pytest.raises(ConfigError, match="ALS has none"):
        BiasedMF(lambdaopt="D")  # the default solver is ALS
