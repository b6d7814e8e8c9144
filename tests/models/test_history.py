"""Recency-weighted history scoring of the item-item models (EASE, ItemKNN)."""

import numpy as np
import pandas as pd
import pytest

from autorecs import Recommender
from autorecs.data import Interactions
from autorecs.exceptions import ConfigError, DataError
from autorecs.models import EASE, ImplicitALS, ItemKNN
from autorecs.models._history import recency_weights


def _data(with_time=True):
    rows = [("a", "x", 1), ("a", "y", 2), ("a", "z", 2), ("a", "w", 3), ("b", "x", 5), ("b", "v", 1)]
    # two "taste" blocks the other users define: x co-occurs with p, w with q
    rows += [(f"u{k}", it, 1) for k in range(6) for it in ("x", "p")] + [(f"t{k}", it, 1) for k in range(6) for it in ("w", "q")]
    f = pd.DataFrame(rows, columns=["user", "item", "timestamp"])
    return Interactions.from_frame(f if with_time else f.drop(columns="timestamp"))


def test_weights_count_strictly_newer_items_of_the_same_user():
    d = _data()
    w = recency_weights(d, 1.0, "EASE")
    seen = d.csr("ones")
    got = {(d.user_vocab.ids([u])[0], d.item_vocab.ids([i])[0]): float(w[k])
           for u in range(seen.shape[0]) for k, i in zip(range(seen.indptr[u], seen.indptr[u + 1]), seen.indices[seen.indptr[u]:seen.indptr[u + 1]])}
    assert got[("a", "w")] == 1.0 and got[("a", "y")] == got[("a", "z")] == pytest.approx(np.exp(-1)) and got[("a", "x")] == pytest.approx(np.exp(-3))
    assert got[("b", "x")] == 1.0 and got[("b", "v")] == pytest.approx(np.exp(-1))
    assert recency_weights(d, 0.0, "EASE") is None


@pytest.mark.parametrize("make", [lambda **kw: EASE(reg=1.0, **kw), lambda **kw: ItemKNN(neighbors=5, shrink=0.0, **kw)])
def test_recent_history_decides_the_ranking_and_survives_save_load(make, tmp_path):
    d = _data()
    plain = make().fit(d, seed=0, progress=False)
    recent = make(recency=0.5).fit(d, seed=0, progress=False)
    p, q = (d.item_vocab.codes([it])[0] for it in ("p", "q"))
    ua = d.user_vocab.codes(["a"])
    s_plain, s_recent = plain._score_codes(ua)[0], recent._score_codes(ua)[0]
    # user a: x (oldest) points to p, w (latest) to q; recency tips the balance towards q
    assert float(s_recent[q] - s_recent[p]) > float(s_plain[q] - s_plain[p])
    assert float(s_recent[q]) > float(s_recent[p])
    recent.save(tmp_path / "m")
    back = Recommender.load(tmp_path / "m")
    assert np.allclose(back._score_codes(ua).numpy(), s_recent.numpy())


def test_recency_needs_timestamps_and_a_valid_value():
    with pytest.raises(DataError, match=r"EASE\(recency=10\).*no timestamp column; add one or use recency=0"):
        EASE(recency=10).fit(_data(with_time=False), seed=0, progress=False)
    with pytest.raises(ConfigError, match="'recency'"):
        ItemKNN(recency=-1.0)
    EASE(recency=0).fit(_data(with_time=False), seed=0, progress=False)  # no timestamps needed without it


def test_implicit_als_weighs_confidence_by_recency():
    d = _data()
    m = ImplicitALS(factors=2, alpha=2.0, recency=1.0, epochs=1)
    m.fit(d, seed=0, progress=False)
    w = recency_weights(d, 1.0, "ImplicitALS")
    assert np.allclose(m._conf.values().numpy(), 2.0 * w)  # c - 1 = α w r, in train.csr()'s order
    with pytest.raises(DataError, match=r"ImplicitALS\(recency=3\)"):
        ImplicitALS(recency=3).fit(_data(with_time=False), seed=0, progress=False)
