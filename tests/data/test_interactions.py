import re
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autorecs.data import Columns, Interactions, Vocabulary, read_interactions, write_interactions
from autorecs.exceptions import DataError


def frame(**cols):
    return pd.DataFrame(cols)


def test_vocabulary_maps_raw_ids_both_ways_and_unknown_to_minus_one():
    v = Vocabulary(["b", "a", "c"])
    assert v.codes(["a", "c", "zz"]).tolist() == [1, 2, -1]
    assert v.ids([2, 0]).tolist() == ["c", "b"]
    assert "a" in v and "q" not in v


def test_from_frame_owns_ids_of_any_hashable_type():
    d = Interactions.from_frame(frame(user=["x", "y", "x"], item=[10, 20, 20], rating=[1, 2, 3]))
    assert d.users.dtype == np.int32 and d.n_users == 2 and d.n_items == 2
    back = d.to_frame()
    assert back["user"].tolist() == ["x", "y", "x"] and back["item"].tolist() == [10, 20, 20]
    m = d.csr()
    assert m.shape == (2, 2) and m[0, 1] == 3


def test_duplicates_keep_last_by_timestamp_and_warn_with_count():
    f = frame(user=[1, 1, 1, 2], item=[5, 5, 5, 5], rating=[1.0, 4.0, 2.0, 3.0], timestamp=[10, 30, 20, 5])
    with pytest.warns(UserWarning, match="2 duplicated"):
        d = Interactions.from_frame(f)
    assert len(d) == 2
    row = d.to_frame().set_index("user").loc[1]
    assert row["rating"] == 4.0 and row["timestamp"] == 30
    implicit = f.drop(columns="rating")  # repeats of implicit feedback: the warning says what "last" does to a temporal split
    with pytest.warns(UserWarning, match=r"a temporal split can put a repeat into test .* duplicates='first'"):
        Interactions.from_frame(implicit)


def test_concat_on_an_instance_joins_it_too():
    """`train.concat(valid)` (a classmethod called on an instance) silently returned valid alone."""
    a = Interactions.from_frame(frame(user=[1, 2], item=[1, 2]))
    b = Interactions.from_frame(frame(user=[3], item=[3]))
    assert len(a.concat(b)) == 3 and len(Interactions.concat(a, b)) == 3
    with pytest.raises(DataError, match=r"concat\(\) takes autorecs Interactions as 'parts'; got DataFrame"):
        a.concat(b.to_frame())
    with pytest.raises(DataError, match=r"Interactions.concat\(\*parts\) for a list"):
        Interactions.concat([a, b])
    import warnings

    t1 = Interactions.from_frame(frame(user=[1], item=[1], timestamp=[10]))
    t2 = Interactions.from_frame(frame(user=[1], item=[1], timestamp=[20]))
    with warnings.catch_warnings(record=True) as caught:  # joined parts (auto's refit): the count, not the split advice
        warnings.simplefilter("always")
        t1.concat(t2)
    assert caught and "the joined parts (concat): 1 duplicated" in str(caught[0].message) and "temporal split" not in str(caught[0].message)


def test_concat_keeps_raw_ids_and_resolves_a_pair_in_both_parts():
    a = Interactions.from_frame(frame(user=["x", "y"], item=[1, 2], rating=[1.0, 2.0]))
    b = Interactions.from_frame(frame(user=["z", "x"], item=[3, 1], rating=[3.0, 5.0]))
    with pytest.warns(UserWarning, match="1 duplicated"):
        both = Interactions.concat(a, b)
    rows = {(u, i): r for u, i, r in both.to_frame().itertuples(index=False)}
    assert rows == {("x", 1): 5.0, ("y", 2): 2.0, ("z", 3): 3.0}  # the later part's row
    assert len(Interactions.concat(a, b.subset(np.array([0])))) == 3


def test_duplicates_mean_and_error_policies():
    f = frame(user=[1, 1], item=[5, 5], rating=[1.0, 4.0])
    with pytest.warns(UserWarning):
        assert Interactions.from_frame(f, duplicates="mean").ratings.tolist() == [2.5]
    with pytest.raises(DataError, match="duplicated"):
        Interactions.from_frame(f, duplicates="error")


def test_column_aliases_and_configured_names():
    d = Interactions.from_frame(frame(userId=[1], movieId=[2], rating=[3.0]))
    assert len(d) == 1
    d = Interactions.from_frame(frame(who=[1], what=[2]), Columns(user="who", item="what", rating=None, timestamp=None))
    assert not d.has_ratings


def test_missing_column_message_names_column_and_fix():
    with pytest.raises(DataError, match=r"Column 'who' \(the user column\).*Pass the right name"):
        Interactions.from_frame(frame(user=[1], item=[2]), Columns(user="who"))
    with pytest.raises(DataError, match=r"Column .user. \(the user column\) is not in data frame; its columns are \[.a., .item.\]"):
        Interactions.from_frame(frame(a=[1], item=[2]))


def test_non_numeric_rating_is_a_clear_error():
    with pytest.raises(DataError, match=r"Column 'rating'.*data row 2 \(counting from 1, the header not counted\) has 'five'"):
        Interactions.from_frame(frame(user=[1, 2], item=[1, 2], rating=["4", "five"]))
    with pytest.raises(DataError, match="data row 1 "):
        Interactions.from_frame(frame(user=[1], item=[1], rating=[np.nan]))


def test_empty_frame_is_an_error():
    with pytest.raises(DataError, match="no rows"):
        Interactions.from_frame(frame(user=[], item=[]))


def test_polars_frames_are_accepted():
    pl = pytest.importorskip("polars")
    d = Interactions.from_frame(pl.DataFrame({"user": ["a", "b"], "item": [1, 2], "rating": [3.0, 4.0]}))
    assert len(d) == 2 and d.has_ratings


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_write_then_read_round_trip(tmp_path, suffix):
    d = Interactions.from_frame(frame(user=["a", "b", "c"], item=["x", "x", "y"], rating=[1.0, 2.0, 5.0], timestamp=[3, 2, 1]))
    path = write_interactions(d, tmp_path / f"data{suffix}")
    back = read_interactions(path)
    pd.testing.assert_frame_equal(back.to_frame().astype({"user": str, "item": str}), d.to_frame().astype({"user": str, "item": str}), check_dtype=False)


def test_movielens_native_formats(tmp_path):
    (tmp_path / "u.data").write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    (tmp_path / "ratings.dat").write_text("1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978300000\n")
    a = read_interactions(tmp_path / "u.data")
    b = read_interactions(tmp_path / "ratings.dat")
    assert len(a) == 2 and a.to_frame()["item"].tolist() == [242, 302]
    assert len(b) == 3 and b.n_items == 2 and b.timestamps[0] == 978300760


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match="is empty"):
        read_interactions(tmp_path / "e.csv")
    with pytest.raises(DataError, match="does not exist"):
        read_interactions(tmp_path / "nope.csv")
    (tmp_path / "h.csv").write_text("user,item,rating\n")
    with pytest.raises(DataError, match="no rows"):
        read_interactions(tmp_path / "h.csv")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.sampled_from("abcdef"), st.floats(1, 5)), min_size=1, max_size=40))
def test_property_ids_round_trip_and_pairs_unique(rows):
    f = pd.DataFrame(rows, columns=["user", "item", "rating"])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = Interactions.from_frame(f)
    back = d.to_frame()
    assert not back.duplicated(["user", "item"]).any()
    assert set(map(tuple, back[["user", "item"]].to_numpy().tolist())) == set(map(tuple, f[["user", "item"]].to_numpy().tolist()))
    assert d.users.max() < d.n_users and d.items.max() < d.n_items


@pytest.mark.parametrize("value,shown", [(float("inf"), "inf"), (float("nan"), "nan"), ("-inf", "'-inf'"), ("x", "'x'")])
def test_a_rating_that_is_not_a_finite_number_is_refused_naming_row_and_value(value, shown):
    frame = pd.DataFrame({"user": [1, 2, 3], "item": [1, 2, 3], "rating": [4.0, 3.0, value]})
    with pytest.raises(DataError, match=rf"Column 'rating' of .* must hold finite numbers; its data row 3 \(counting from 1, the header "
                                        rf"not counted\) has {re.escape(shown)}\."):
        Interactions.from_frame(frame)


def test_from_csr_round_trips_and_checks_its_input():
    import scipy.sparse as sp

    from autorecs.exceptions import DataError

    m = sp.csr_matrix(np.array([[0, 5, 0], [3, 0, 1.5]], dtype=np.float32))
    data = Interactions.from_csr(m, users=["a", "b"], items=[10, 20, 30])
    frame = data.to_frame().sort_values(["user", "item"]).reset_index(drop=True)
    assert frame.to_dict("list") == {"user": ["a", "b", "b"], "item": [20, 10, 30], "rating": [5.0, 3.0, 1.5]}
    back = data.csr()  # codes follow first appearance: compare through the raw ids
    assert back.sum() == m.sum() and back.nnz == 3
    implicit = Interactions.from_csr(m, values="none")
    assert implicit.ratings is None and len(implicit) == 3 and sorted(implicit.user_vocab.to_array()) == [0, 1]
    with pytest.raises(DataError, match="'users' has 3 ids but the matrix has 2 rows"):
        Interactions.from_csr(m, users=["a", "b", "c"])
    with pytest.raises(DataError, match="'items' has repeated ids"):
        Interactions.from_csr(m, items=[1, 1, 2])
    with pytest.raises(DataError, match="must be a SciPy sparse matrix; got ndarray"):
        Interactions.from_csr(m.toarray())


def test_vocabulary_coerce_matches_the_type_of_the_ids():
    ints = Vocabulary(np.array([3, 7, 42]))
    assert ints.coerce(["7", " 42", "+3"]).tolist() == [7, 42, 3]
    with pytest.raises(DataError, match=r"The '--user' option got 'abc', but the model's ids are integers"):
        ints.coerce(["7", "abc"], source="the '--user' option")
    text = Vocabulary(np.array(["7", "u1"], dtype=object))
    assert text.coerce(np.array([7])).tolist() == ["7"] and text.codes(text.coerce(np.array([7]))).tolist() == [0]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_csv_separated_otherwise_is_read_by_its_header(tmp_path, sep):
    """A file named .csv whose header has no comma but one of ';', tab or '|' is read with that separator."""
    from autorecs.data import read_interactions

    path = tmp_path / "ratings.csv"
    path.write_text(sep.join(["user", "item", "rating"]) + "\n" + "\n".join(sep.join(r) for r in (["1", "10", "4"], ["2", "11", "3.5"])) + "\n")
    d = read_interactions(path)
    assert len(d) == 2 and list(d.ratings) == [4.0, 3.5]


def test_integer_and_text_ids_that_spell_the_same_integer_match_across_data():
    """Data with one text user id stores every id as text; the same users read elsewhere as integers are
    still the same users (evaluate recodes test data this way), and text that is no integer stays unknown."""
    a = Interactions.from_frame(pd.DataFrame({"user": ["1", "2", "alice"], "item": [10, 11, 12], "rating": [4.0, 3.0, 5.0]}))
    b = Interactions.from_frame(pd.DataFrame({"user": [1, 2, 3], "item": [10, 11, 12], "rating": [4.0, 3.0, 5.0]}))
    assert b.recode(a.user_vocab, a.item_vocab)[0].tolist() == [0, 1, -1]
    assert a.recode(b.user_vocab, b.item_vocab)[0].tolist() == [0, 1, -1]


def test_a_model_on_text_ids_evaluates_data_read_with_integer_ids():
    from autorecs import BiasedMF, evaluate
    from autorecs.data.synthetic import low_rank_ratings

    d = low_rank_ratings(40, 30, 600, seed=2).to_frame()
    text = d.assign(user=d["user"].astype(str))
    text.loc[0, "user"] = "alice"
    model = BiasedMF(factors=2, epochs=2).fit(Interactions.from_frame(text), seed=0, progress=False)
    with pytest.warns(UserWarning, match="599 of the 599 .* pairs the model was trained on"):  # every pair matched
        assert evaluate(model, Interactions.from_frame(d.iloc[1:]))["rmse"] < 2.0


def test_an_id_column_of_lists_is_one_sentence():
    with pytest.raises(DataError, match=r"Column 'user' of .* holds lists or other containers, not ids; give one user id"):
        Interactions.from_frame(pd.DataFrame({"user": [[1, 2], [3]], "item": [1, 2], "rating": [1.0, 2.0]}))


def test_float_ids_are_found_from_text():
    """A Parquet float id column: '242' on a command line is the id 242.0."""
    v = Vocabulary(pd.Index([242.0, 10.5, 3.0]))
    assert v.codes(v.coerce(["242", "3", "x"])).tolist() == [0, 2, -1]


def test_matching_converts_only_between_integer_and_all_text_ids():
    """Float or mixed ids keep matching integers as before; a long digit string is no integer (no overflow)."""
    floats = Vocabulary(pd.Index([7.0, 8.0]))
    assert floats.codes(floats.matching(pd.Index([7, 8]))).tolist() == [0, 1]
    mixed = Vocabulary(pd.Index([1, 2, "x"], dtype=object))
    assert mixed.codes(mixed.matching(pd.Index([1, 2]))).tolist() == [0, 1]
    ints = Vocabulary(pd.Index([1, 2]))
    assert ints.codes(ints.matching(pd.Index(["99999999999999999999", "2"]))).tolist() == [-1, 1]


def test_a_compressed_csv_is_not_sniffed(tmp_path):
    import gzip

    path = tmp_path / "r.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("user,item,rating\n" + "".join(f"{u},{u % 7},{u % 5 + 1}\n" for u in range(200)))
    assert len(read_interactions(path)) == 200


_TIMES = ["2021-01-01 10:00", "2021-01-01 10:01", "2021-01-02 00:00", "2021-01-03 00:00"]
_EPOCH = [1609495200, 1609495260, 1609545600, 1609632000]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_datetime_timestamps_are_epoch_seconds_in_any_unit(unit):
    """pandas 3 reads dates in microseconds, Parquet often too: the unit is the column's, not assumed."""
    when = pd.to_datetime(_TIMES).as_unit(unit)
    d = Interactions.from_frame(frame(user=["a", "a", "b", "b"], item=[1, 2, 1, 3], timestamp=when))
    assert d.timestamps.tolist() == _EPOCH


def test_time_zones_and_iso_text_are_read_as_utc_seconds():
    berlin = pd.to_datetime(_TIMES).tz_localize("Europe/Berlin")
    d = Interactions.from_frame(frame(user=["a", "a", "b", "b"], item=[1, 2, 1, 3], timestamp=berlin))
    assert d.timestamps.tolist() == [t - 3600 for t in _EPOCH]
    text = ["2021-01-01 10:00:00", "2021-01-01T10:01:00", "2021-01-02", "2021-01-03 01:00:00+01:00"]
    d = Interactions.from_frame(frame(user=["a", "a", "b", "b"], item=[1, 2, 1, 3], timestamp=text))
    assert d.timestamps.tolist() == _EPOCH
    d = Interactions.from_frame(frame(user=["a", "a", "b", "b"], item=[1, 2, 1, 3], timestamp=[str(t) for t in _EPOCH]))
    assert d.timestamps.tolist() == _EPOCH


@pytest.mark.parametrize("values, row, shown", [
    (pd.to_datetime(["2021-01-01", None, "2021-01-02", "2021-01-03"]), 2, "NaT"),
    (["2021-01-01", "yesterday", "2021-01-02", "2021-01-03"], 2, "'yesterday'"),
    (["01/03/2021", "01/04/2021", "01/05/2021", "01/06/2021"], 1, "'01/03/2021'"),
    (["2021-01-01", "1609495260", "2021-01-02", "2021-01-03"], 2, "'1609495260'"),
    ([1.0, np.nan, 2.0, 3.0], 2, "nan"),
    ([1.0, 2.0, np.inf, 3.0], 3, "inf"),
])
def test_a_missing_or_unreadable_timestamp_names_its_row(values, row, shown):
    with pytest.raises(DataError, match=rf"Column 'timestamp' of data frame must hold .*its data row {row} .* has {re.escape(shown)}, so fix or drop"):
        Interactions.from_frame(frame(user=["a", "a", "b", "b"], item=[1, 2, 1, 3], timestamp=values))


def test_fractional_timestamps_that_whole_seconds_would_tie_are_warned_about():
    with pytest.warns(UserWarning, match="has 4 distinct times but only 1 distinct whole second, which"):
        d = Interactions.from_frame(frame(user=["a", "a", "b", "b"], item=[1, 2, 1, 3], timestamp=[0.1, 0.9, 0.5, 0.2]))
    assert d.timestamps.tolist() == [0, 0, 0, 0]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = Interactions.from_frame(frame(user=["a", "a", "b", "b"], item=[1, 2, 1, 3], timestamp=[1.5, 2.5, 3.5, 4.0]))
    assert d.timestamps.tolist() == [1, 2, 3, 4]
    with pytest.warns(UserWarning, match="has 2 distinct times but only 1 distinct whole second"):  # half the order: said too
        Interactions.from_frame(frame(user=["a", "b"], item=[1, 2], timestamp=[1.6e9 + 0.25, 1.6e9 + 0.75]))


def test_an_id_column_that_mixes_numbers_and_text_is_refused():
    """1 and "1" would be two users, and such a model could not be saved: said at once, with the fix."""
    users = pd.Series([1, "1", 2], dtype=object)
    with pytest.raises(DataError, match=r"Column 'user' of data frame mixes ids of different types, int \(1\) and str \('1'\), so give "
                                        r"one type, e.g. text: frame\['user'\].astype\(str\)"):
        Interactions.from_frame(frame(user=users, item=[1, 2, 3]))
    import uuid
    with pytest.raises(DataError, match=r"holds UUID ids \(e.g. UUID\(.*\)\), but ids must be int, float or str"):
        Interactions.from_frame(frame(user=pd.Series([uuid.UUID(int=k) for k in range(3)], dtype=object), item=[1, 2, 3]))
    d = Interactions.from_frame(frame(user=pd.Series([1, 2.5, 3], dtype=object), item=[1, 2, 3]))  # numbers: floats
    assert d.user_vocab.index.dtype == np.float64 and d.n_users == 3


def test_ids_as_text_keep_leading_zeros(tmp_path):
    f = tmp_path / "codes.csv"
    f.write_text("user,item,rating,timestamp\n001,0042,4,10\n1,42,3,11\n007,0042,5,12\n")
    auto = read_interactions(f)  # pandas' reading: 001 and 1 are the number 1 (a duplicate, resolved with a warning)
    assert list(auto.user_vocab.index) == [1, 7] and len(auto) == 2
    text = read_interactions(f, ids="text")
    assert list(text.user_vocab.index) == ["001", "1", "007"] and list(text.item_vocab.index) == ["0042", "42"]
    assert text.ratings.tolist() == [4.0, 3.0, 5.0] and text.timestamps.tolist() == [10, 11, 12]
    with pytest.raises(Exception, match=r"The 'ids' parameter must be 'auto' .* or 'text' .*; got 'str'"):
        read_interactions(f, ids="str")


def test_columns_as_a_mapping_and_a_missing_column_named_for_python_users():
    d = Interactions.from_frame(frame(who=[1, 2], what=[3, 4]), {"user": "who", "item": "what", "rating": None, "timestamp": None})
    assert d.n_users == 2
    with pytest.raises(Exception, match=r"name \['users'\], which are not roles"):
        Interactions.from_frame(frame(who=[1, 2], what=[3, 4]), {"users": "who"})
    with pytest.raises(DataError, match=r"Pass the right name \(Columns\(user=...\) in Python, --user-col on the command line\)"):
        Interactions.from_frame(frame(who=[1, 2], item=[3, 4]))


def test_vocabulary_codes_match_ids_spelled_in_another_type():
    """"7" is the integer id 7 (a command line, a JSON request), 7 the text id "7", "1.5" the float id 1.5;
    text that spells none stays unknown."""
    assert Vocabulary([3, 7]).codes(["7", " 3", 7.0, "x", "7.5"]).tolist() == [1, 0, 1, -1, -1]
    assert Vocabulary(["a", "7"]).codes([7, 8]).tolist() == [1, -1]
    assert Vocabulary([1.5, 2.0]).codes(["1.5", "2", "a", 2]).tolist() == [0, 1, -1, 1]
    assert Vocabulary(["a", 7]).codes([7, "7"]).tolist() == [1, -1]  # mixed ids: only the same value and type


def test_timestamp_edge_cases_found_in_review():
    make = lambda ts: frame(user=["a", "a", "b", "b"], item=[1, 2, 1, 3], timestamp=ts)  # noqa: E731
    # a blank cell in a column of ISO dates names its own row (it named row 1, a good date)
    with pytest.raises(DataError, match=r"must hold times, not missing values; its data row 3 .* has nan"):
        Interactions.from_frame(make(["2021-03-01 10:00:00", "2021-03-01 11:00:00", np.nan, "2021-03-02"]))
    # integers are exact (a detour through float64 merged these two)
    big = [1600000000123456789, 1600000000123456790, 1, 2]
    assert Interactions.from_frame(make(big)).timestamps.tolist() == big
    with pytest.raises(DataError, match=r"must hold times \(epoch numbers or dates\), not durations"):
        Interactions.from_frame(make(pd.to_timedelta([1, 2, 3, 4], unit="s")))
    with pytest.raises(DataError, match=r"not True/False; its data row 2"):
        Interactions.from_frame(make(pd.Series([5, True, 7, 8], dtype=object)))
    arrow = pd.Series(pd.to_datetime(_TIMES).tz_localize("UTC")).astype("timestamp[us, tz=UTC][pyarrow]")
    assert Interactions.from_frame(make(arrow)).timestamps.tolist() == _EPOCH


def test_spaces_around_text_ids_are_removed_and_said():
    with pytest.warns(UserWarning, match=r"2 ids had spaces around them \(e.g. ' 7'\), removed, so that ' 7' and '7' are one id"):
        d = Interactions.from_frame(frame(user=["7", " 7", "7 ", "8"], item=[1, 2, 3, 1]))
    assert d.n_users == 2 and list(d.user_vocab.index) == ["7", "8"]


def test_a_missing_text_id_is_named_not_a_crash_and_padded_lookups_find_their_ids(tmp_path):
    f = tmp_path / "miss.csv"
    f.write_text("user,item\nu1,i1\n,i2\nu3,i3\n")
    with pytest.raises(DataError, match="Column 'user' of .* has missing ids; drop those rows"):
        read_interactions(f)
    with pytest.raises(DataError, match="has missing ids"):
        Interactions.from_frame(frame(user=pd.Series(["a", None, " b"], dtype=object), item=[1, 2, 3]))
    v = Vocabulary(["u0", "i0", "007"])  # as loaded: stripped; lookups are stripped the same way
    assert v.codes([" u0", "i0 ", "007", " 7"]).tolist() == [0, 1, 2, -1] and v.coerce([" u0", "007 "]).tolist() == ["u0", "007"]


def test_a_time_column_under_another_name_is_pointed_at():
    """A click log with 'event_time': read without times, and a temporal split then said "the data has none"."""
    import warnings

    from autorecs.data import Columns, split

    frame = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3], "item": [1, 2, 1, 3, 2, 3], "event_time": pd.date_range("2024-01-01", periods=6, freq="D")})
    with pytest.warns(UserWarning, match=r"Column 'event_time' of data frame looks like a time .* --timestamp-col event_time"):
        data = Interactions.from_frame(frame)
    assert data.timestamps is None
    with pytest.raises(DataError, match=r"the data has none \(a file's is read from the column 'timestamp' unless named"):
        split(data, "temporal-60-20-20")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Interactions.from_frame(frame, Columns(timestamp="event_time")).timestamps is not None
        assert Interactions.from_frame(frame, Columns(timestamp=None)).timestamps is None  # no times asked for, no warning
        Interactions.from_frame(frame.assign(event_time="drama").rename(columns={"event_time": "genre"}))  # nothing like a time
        # named like times, but not points in time: flags, durations, weekday names (the first version warned on these)
        for col, values in (("clicked", [0, 1, 0, 1, 1, 0]), ("watch_time", [12.5, 30, 4, 60, 8, 100]), ("date", ["mon", "tue"] * 3)):
            Interactions.from_frame(frame.drop(columns="event_time").assign(**{col: values}))
    with pytest.warns(UserWarning, match="Column 'created_at'"):  # epoch seconds under a name ending in _at
        Interactions.from_frame(frame.drop(columns="event_time").assign(created_at=[1_700_000_000 + i for i in range(6)]))
    with pytest.raises(DataError, match="no rows"):  # an empty frame: its own error, no warning first
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            Interactions.from_frame(frame.head(0))


def test_read_interactions_of_a_data_frame_points_at_from_frame():
    with pytest.raises(DataError, match=r"read_interactions\(\) reads a file .* use Interactions.from_frame\(df, columns\)"):
        read_interactions(frame(user=[1], item=[2]))


def test_read_interactions_takes_any_path_like(tmp_path):
    import os

    frame(user=[1, 2], item=[3, 4]).to_csv(tmp_path / "d.csv", index=False)

    class P(os.PathLike):
        def __fspath__(self):
            return str(tmp_path / "d.csv")

    assert len(read_interactions(P())) == 2
    with pytest.raises(DataError, match=r"takes its path; got int\.$"):
        read_interactions(5)
