import numpy as np
import pandas as pd
import pytest

from autorecs.ctr import autocross as ac_module
from autorecs.ctr.autocross import AutoCross, split_frame
from autorecs.data.synthetic import planted_cross_table
from autorecs.exceptions import ConfigError, DataError


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_cross_is_found_first(seed):
    table = planted_cross_table(6000, seed=seed, planted=(1, 3))
    ac = AutoCross("label", max_crosses=2, min_block_rows=256, seed=seed, progress=False).fit(table)
    assert ac.history_[0].cross == "c1 x c3"
    assert ac.crosses_[0] == "c1 x c3"
    assert ac.valid_auc_ > ac.base_valid_auc_ + 0.2  # LR alone cannot see an XOR


def test_transform_handles_new_values_and_round_trips(tmp_path):
    table = planted_cross_table(3000, seed=0)
    train, test = split_frame(table, 0.3, 0)
    ac = AutoCross("label", max_crosses=1, min_block_rows=128, progress=False).fit(train)
    test.loc[0, "c1"] = "never-seen"
    codes = ac.transform(test)
    assert codes.shape == (len(test), len(ac.field_names_))
    assert codes[0, len(ac.encoder.fields)] == 0  # an unseen pair goes to code 0
    loaded = ac_module.AutoCross.load(ac.save(tmp_path / "m"))
    assert np.array_equal(loaded.transform(test), codes)
    assert loaded.crosses_ == ac.crosses_ and loaded.history_ == ac.history_
    out = loaded.transform_frame(test)
    assert list(out.columns[-1:]) == ac.crosses_


def test_granularity_selection_keeps_one_per_numerical_column():
    table = planted_cross_table(3000, seed=0, n_numerical=2)
    ac = AutoCross("label", max_crosses=0, bins=(2, 4), binning="both", min_block_rows=128, progress=False).fit(table)
    assert sorted(ac.granularities_) == ["x0", "x1"]
    assert sum(name.startswith("x0/") for name in ac.field_names_) == 1


def _point_mass_table(n, seed):
    """``gain`` is 0 in most rows; among its 24 other values the odd-ranked ones mean label 1 and the
    even-ranked ones label 0, so no binning into fewer codes than values separates them."""
    rng = np.random.default_rng(seed)
    values = np.sort(rng.choice(np.arange(1, 2000), 24, replace=False)).astype(float)
    gain = np.where(rng.random(n) < 0.7, 0.0, values[rng.integers(0, 24, n)])
    rank = np.searchsorted(values, gain)
    p = np.where(gain == 0, 0.3, np.where(rank % 2 == 1, 0.9, 0.1))
    return pd.DataFrame({"gain": gain, "color": rng.choice(["r", "g", "b"], n), "label": (rng.random(n) < p).astype(int)})


def test_exact_values_are_kept_beside_the_best_binning():
    table = _point_mass_table(6000, seed=0)
    ac = AutoCross("label", max_crosses=2, bins=(4, 16), min_block_rows=256, progress=False).fit(table)
    binned = AutoCross("label", max_crosses=0, bins=(4, 16), exact_levels=0, min_block_rows=256, progress=False).fit(table)
    base = ac.field_names_[: len(ac.encoder.fields)]
    assert "gain/exact" in base and sum(n.startswith("gain/") for n in base) == 2
    assert ac.base_valid_auc_ > binned.valid_auc_ + 0.05
    for cross in ac.crosses_:  # never two granularities of one column in a cross
        assert sum(part.startswith("gain/") for part in cross.split(" x ")) <= 1


def test_held_out_confirm_rows_decide_the_steps():
    table = planted_cross_table(6000, seed=0, planted=(1, 3))
    ac = AutoCross("label", max_crosses=3, confirm_fraction=0.5, min_block_rows=256, progress=False).fit(table)
    assert ac.crosses_[0] == "c1 x c3"
    assert ac.valid_auc_ > ac.base_valid_auc_ + 0.2
    with pytest.raises(ConfigError, match="'confirm_fraction' parameter of AutoCross"):
        AutoCross("label", confirm_fraction=1.0)
    with pytest.raises(DataError, match="confirm_fraction=0.99 leaves too few validation rows"):
        AutoCross("label", confirm_fraction=0.99, progress=False).fit(planted_cross_table(200, seed=0))


def test_interrupt_keeps_the_crosses_found(monkeypatch):
    table = planted_cross_table(3000, seed=0)
    real = ac_module.successive_halving
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # granularity selection makes 2 calls (x0, x1), then steps 1, 2
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ac_module, "successive_halving", flaky)
    ac = AutoCross("label", max_crosses=5, min_block_rows=128, progress=False).fit(table)
    assert ac.interrupted_ and ac.crosses_ == ["c1 x c3"]


def test_bad_input_is_named():
    table = planted_cross_table(200, seed=0)
    with pytest.raises(ConfigError, match="'max_crosses' parameter of AutoCross"):
        AutoCross("label", max_crosses=-1)
    with pytest.raises(DataError, match="only label 0"):
        AutoCross("label", progress=False).fit(table.assign(label=0))
    with pytest.raises(DataError, match=r"label column\(s\) \['click'\]"):
        AutoCross("click", progress=False).fit(table)
    with pytest.raises(ConfigError, match="'backend' parameter"):
        AutoCross("label", backend="spark", progress=False).fit(table)


def test_process_backend_gives_the_same_crosses():
    table = planted_cross_table(3000, seed=0)
    kw = dict(max_crosses=2, min_block_rows=128, progress=False)
    local = AutoCross("label", **kw).fit(table)
    pooled = AutoCross("label", n_jobs=2, **kw).fit(table)
    assert pooled.crosses_ == local.crosses_
    assert [h.valid_auc for h in pooled.history_] == pytest.approx([h.valid_auc for h in local.history_])


@pytest.mark.ray
def test_ray_backend_gives_the_same_crosses():
    table = planted_cross_table(3000, seed=0)
    kw = dict(max_crosses=1, min_block_rows=128, progress=False)
    assert AutoCross("label", backend="ray", n_jobs=2, **kw).fit(table).crosses_ == AutoCross("label", **kw).fit(table).crosses_
