"""Checks on the real UCI Adult, run only where it is already cached (tests never download)."""

import pytest

from autorecs.data import is_cached

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def adult():
    if not is_cached("adult"):
        pytest.skip("adult is not cached; run `autorecs datasets fetch adult` to enable real-data tests")
    from autorecs.ctr.pipeline import table_protocol

    return table_protocol("adult", 0)


def test_adult_original_protocol(adult):
    train, valid, test, label = adult
    assert (len(train) + len(valid), len(valid), len(test)) == (32_561, 6_512, 16_281)
    assert label == "income" and set(test[label]) == {0, 1}  # the test file's trailing '.' is stripped
    assert 0.23 < train[label].mean() < 0.25


def test_crosses_lift_lr_on_validation_and_test(adult):
    from autorecs.ctr.pipeline import search_and_fit

    train, valid, test, label = adult
    _, rep = search_and_fit(train, valid, test, label, max_crosses=3, progress=False)
    assert len(rep["crosses"]) >= 1
    assert rep["ac+lr"]["valid"]["auc"] > rep["lr"]["valid"]["auc"]
    assert rep["ac+lr"]["test"]["auc"] > rep["lr"]["test"]["auc"] > 0.91
