"""Checks on the real MovieLens-100K, run only where it is already cached (tests never download)."""

import numpy as np
import pytest

from autorecs import BiasedMF, evaluate, split

pytestmark = pytest.mark.realdata


def test_ml100k_shape_and_protocol_split_sizes(ml100k):
    assert (len(ml100k), ml100k.n_users, ml100k.n_items) == (100_000, 943, 1682)
    assert set(np.unique(ml100k.ratings)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    s = split(ml100k, "temporal-60-20-20", cold="keep")
    assert len(s.train) + len(s.valid) + len(s.test) == 100_000
    assert 0.58 < len(s.train) / 100_000 < 0.62 and 0.18 < len(s.test) / 100_000 < 0.21


def test_biased_mf_defaults_are_far_better_than_the_mean_on_ml100k(ml100k):
    s = split(ml100k, "random-50-25-25", seed=0)
    model = BiasedMF(epochs=8).fit(s.train, s.valid, seed=0, progress=False)
    rmse = evaluate(model, s.test)["rmse"]
    baseline = float(np.sqrt(np.mean((s.test.ratings - s.train.ratings.mean()) ** 2)))
    assert rmse < 0.95 < baseline  # the global mean scores about 1.13
