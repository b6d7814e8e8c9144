import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autorecs.metrics import auc, log_loss


def naive_auc(scores, labels):
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


def test_auc_known_answers():
    assert auc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]) == 1.0
    assert auc([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0]) == 0.0
    assert auc([0.5, 0.5, 0.5], [1, 0, 0]) == 0.5  # ties count one half
    assert auc([0.3, 0.6, 0.4, 0.5], [1, 1, 0, 0]) == 0.5  # pairs: (.3<.4,.3<.5), (.6>.4,.6>.5)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=2, max_size=40))
def test_auc_matches_pairwise_definition(rows):
    scores, labels = zip(*rows)
    assume(len(set(labels)) == 2)
    assert auc(scores, labels) == pytest.approx(naive_auc(scores, labels))


def test_auc_batched_rows_match_single_calls():
    rng = np.random.default_rng(0)
    y = rng.random(50) < 0.3
    s = rng.integers(0, 4, size=(3, 50)).astype(float)
    assert np.allclose(auc(s, y), [auc(row, y) for row in s])


def test_auc_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        auc([0.1, 0.2], [1, 1])


def test_log_loss_known_answer():
    assert log_loss([0.5, 0.5], [1, 0]) == pytest.approx(np.log(2))
    assert log_loss([0.9], [1]) == pytest.approx(-np.log(0.9))
