import numpy as np
import pandas as pd
import pytest

from autorecs.ctr.crosses import CrossSpec
from autorecs.ctr.encoding import MISSING, OTHER, TableEncoder
from autorecs.exceptions import ConfigError, DataError


def frame():
    return pd.DataFrame({
        "color": ["red", "blue", None, "red", "green", "blue"],
        "size": [1, 2, 3, 1, 2, 3],  # few integer levels: categorical
        "price": [0.5, 1.5, 2.5, np.nan, 10.0, 3.0],
        "y": [1, 0, 1, 0, 1, 0],
    })


def test_typing_codes_missing_and_unseen():
    enc = TableEncoder("y", bins=(2,), binning="uniform").fit(frame())
    assert enc.column_types(frame()) == {"color": "categorical", "size": "categorical", "price": "numerical"}
    assert [f.name for f in enc.fields] == ["color", "size", "price/u2", "price/exact"]
    new = pd.DataFrame({"color": ["blue", "purple", None], "size": [1, 9, 2], "price": [0.0, None, 100.0]})
    codes = enc.transform(new)
    # color values sorted: blue, green, red -> 2, 3, 4
    assert codes[:, 0].tolist() == [2, OTHER, MISSING]
    assert codes[1, 1] == OTHER
    # uniform 2 bins over [0.5, 10]: edge 5.25
    assert codes[:, 2].tolist() == [2, MISSING, 3]


def test_overrides_and_clear_errors():
    enc = TableEncoder("y", numerical=["size"], bins=(2,)).fit(frame())
    assert "size/q2" in [f.name for f in enc.fields]
    with pytest.raises(DataError, match=r"label column\(s\) \['nope'\]"):
        TableEncoder("nope").fit(frame())
    with pytest.raises(ConfigError, match="both categorical and numerical"):
        TableEncoder("y", categorical=["size"], numerical=["size"]).fit(frame())
    with pytest.raises(ConfigError, match="'binning' parameter of TableEncoder"):
        TableEncoder("y", binning="kmeans")
    with pytest.raises(DataError, match="must hold 0/1"):
        TableEncoder("y").labels(frame().assign(y=["a", "b", "a", "b", "a", "b"]))


def test_high_cardinality_is_hashed_into_a_bounded_space():
    f = pd.DataFrame({"id": [f"u{i}" for i in range(500)], "y": [0, 1] * 250})
    enc = TableEncoder("y", max_levels=100, hash_buckets=16).fit(f)
    codes = enc.transform(f)[:, 0]
    assert enc.fields[0].kind == "hashed" and codes.min() >= 2 and codes.max() < 18
    assert np.array_equal(codes, enc.transform(f)[:, 0])  # stable
    assert len(np.unique(codes)) > 8


def test_rare_values_go_to_other():
    enc = TableEncoder("y", min_count=2).fit(frame())
    assert enc.fields[0].values == ["blue", "red"]


def test_cross_codes_known_answer_and_unseen_pairs():
    codes = np.array([[2, 2], [2, 3], [3, 2], [2, 2]])
    spec = CrossSpec.fit(0, 1, codes, [4, 4])
    assert spec.cardinality == 4
    assert spec.encode(codes).tolist() == [1, 2, 3, 1]
    assert spec.encode(np.array([[3, 3], [0, 2]])).tolist() == [0, 0]
    assert CrossSpec.fit(0, 1, codes, [4, 4], min_count=2).encode(codes).tolist() == [1, 0, 0, 1]


def test_integer_categories_survive_a_float_column():
    train = pd.DataFrame({"level": [1, 2, 3, 2], "y": [0, 1, 0, 1]})
    enc = TableEncoder("y").fit(train)
    test = pd.DataFrame({"level": [2.0, np.nan, 3.0]})  # an int column read as float because of a gap
    assert enc.fields[0].values == ["1", "2", "3"]
    assert enc.transform(test)[:, 0].tolist() == [3, MISSING, 4]


def test_exact_field_keeps_every_numerical_value():
    enc = TableEncoder("y", bins=(2,)).fit(frame())
    exact = enc.fields[-1]
    assert exact.name == "price/exact" and exact.levels == [0.5, 1.5, 2.5, 3.0, 10.0] and exact.cardinality == 7
    new = pd.DataFrame({"color": ["red"] * 4, "size": [1] * 4, "price": [10.0, 0.7, np.nan, 0.5]})
    assert enc.transform(new)[:, -1].tolist() == [6, OTHER, MISSING, 2]  # unseen 0.7 -> other
    assert TableEncoder.from_dict(enc.to_dict()).transform(new).tolist() == enc.transform(new).tolist()
    # too many distinct values, or switched off: bins only
    assert "price/exact" not in [f.name for f in TableEncoder("y", exact_levels=4).fit(frame()).fields]
    assert "price/exact" not in [f.name for f in TableEncoder("y", exact_levels=0).fit(frame()).fields]
    assert TableEncoder("y", min_count=2).fit(frame().assign(price=[1.0, 1.0, 2.0, 3.0, 3.0, 4.0])).fields[-1].levels == [1.0, 3.0]
    with pytest.raises(ConfigError, match="'exact_levels' parameter of TableEncoder"):
        TableEncoder("y", exact_levels=-1)
