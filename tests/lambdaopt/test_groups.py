import numpy as np
import pandas as pd
import pytest

from autorecs import BPRMF, evaluate
from autorecs.data import Interactions
from autorecs.lambdaopt import frequency_groups, group_gains, group_metrics


def test_frequency_groups_are_equal_size_by_ascending_count():
    g = frequency_groups([9, 1, 5, 1, 7, 3], 3)
    assert list(g) == [2, 0, 1, 0, 2, 1]


def _long_tailed(seed):
    rng = np.random.default_rng(seed)
    users = rng.zipf(1.6, 3000) % 80
    items = (rng.zipf(1.4, 3000) + users) % 60
    frame = pd.DataFrame({"user": users, "item": items}).drop_duplicates()
    frame["timestamp"] = np.arange(len(frame))
    return Interactions.from_frame(frame)


def test_group_metrics_match_a_per_user_loop():
    data = _long_tailed(0)
    idx = np.random.default_rng(1).permutation(len(data))
    train, test = data.subset(idx[: len(data) * 4 // 5]), data.subset(idx[len(data) * 4 // 5 :])
    model = BPRMF(factors=4, epochs=3).fit(train, seed=0, progress=False)
    res = group_metrics(model, test, metrics=("hr@10",), groups=3)
    pu = evaluate(model, test, ks=(10,), families=("lambdaopt",), per_user=True)["per_user"]
    hr = dict(zip(pu["users"], pu["lambdaopt"]["hr@10"]))
    ucount = np.asarray(model.seen_.sum(1)).ravel()
    ug = frequency_groups(ucount, 3)
    for k in range(3):
        expect = [v for u, v in hr.items() if ug[u] == k]
        assert res["user"]["hr@10"][k] == pytest.approx(np.mean(expect))
    # an item's value: mean over the test users who interact with it
    tu, ti = test.recode(model.user_vocab_, model.item_vocab_)
    icount = np.asarray(model.seen_.sum(0)).ravel()
    ig = frequency_groups(icount, 3)
    per_item = {}
    for u, i in set(zip(tu, ti)):
        if u >= 0 and i >= 0 and u in hr:
            per_item.setdefault(i, []).append(hr[u])
    for k in range(3):
        expect = [np.mean(v) for i, v in per_item.items() if ig[i] == k]
        assert res["item"]["hr@10"][k] == pytest.approx(np.mean(expect))
    assert res["user"]["max_count"] == sorted(res["user"]["max_count"])
    assert all(a <= b for a, b in zip(res["user"]["min_count"], res["user"]["max_count"]))
    assert res["item"]["min_count"][0] == int(icount.min())
    half = {side: {k: ([v / 2 for v in vals] if k not in ("min_count", "max_count") else vals) for k, vals in r.items()}
            for side, r in res.items()}
    gains = group_gains(res, half)  # known answer: every group's value is twice the baseline's, a gain of +100%
    for side in ("user", "item"):
        for g, v in zip(gains[side]["hr@10"], res[side]["hr@10"]):
            assert (g == pytest.approx(1.0)) if v > 0 else (g != g)  # NaN where the baseline is 0
    assert gains["user"]["max_count"] == res["user"]["max_count"]


def test_group_gain_figure_is_written(tmp_path):
    from autorecs.plots import plot_group_gains

    gains = {side: {"max_count": [2, 5, 40], "hr@100": [0.1, 0.05, -0.02], "ndcg@100": [0.12, float("nan"), 0.0]} for side in ("user", "item")}
    assert plot_group_gains(gains, tmp_path / "g.png").stat().st_size > 5_000
