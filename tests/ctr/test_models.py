import numpy as np
import pytest

from autorecs.ctr import AutoCross, split_frame
from autorecs.ctr.cmi import cmi_pairs, mutual_information
from autorecs.ctr.nets import CTRNet
from autorecs.data.synthetic import planted_cross_table
from autorecs.exceptions import ConfigError, NotFittedError
from autorecs.metrics import auc


@pytest.fixture(scope="module")
def encoded():
    table = planted_cross_table(5000, seed=3)
    train, valid = split_frame(table, 0.3, 0)
    ac = AutoCross("label", max_crosses=0, progress=False).fit(train, valid)
    return ac.transform(train), ac.transform(valid), ac.labels(train), ac.labels(valid), ac


def test_mutual_information_known_answers():
    y = np.array([0, 1] * 500)
    assert mutual_information(y, y) == pytest.approx(np.log(2), abs=2e-3)
    assert abs(mutual_information(np.zeros(1000, int), y)) < 1e-9
    rng = np.random.default_rng(0)
    assert abs(mutual_information(rng.integers(0, 50, 1000), y)) < 0.01  # bias corrected


def test_cmi_ranks_the_planted_pair_first(encoded):
    X, _, y, _, ac = encoded
    i, j, score = cmi_pairs(X, ac.cardinalities_, y, 1)[0]
    assert {ac.field_names_[i], ac.field_names_[j]} == {"c1", "c3"} and score > 0.1


@pytest.mark.parametrize("kind", ["deep", "deepfm", "wide-deep"])
def test_nets_learn_the_xor(kind, encoded):
    X, Xv, y, yv, ac = encoded
    net = CTRNet(kind, max_epochs=20, hidden=(32,), lr=0.01, seed=0).fit(X, ac.cardinalities_, y, Xv, yv)
    assert auc(net.predict_proba(Xv), yv) > 0.8
    assert net.history_.best_epoch is not None


def test_net_errors():
    with pytest.raises(ConfigError, match="'kind' parameter of CTRNet"):
        CTRNet("xdeepfm")
    with pytest.raises(NotFittedError):
        CTRNet("deep").predict_proba(np.zeros((1, 2), int))
