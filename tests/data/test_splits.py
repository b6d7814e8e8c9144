import pandas as pd
import pytest

from autorecs.data import Interactions, split, temporal_user_split
from autorecs.exceptions import ConfigError, DataError


def _pairs(d):
    f = d.to_frame()
    return set(zip(f["user"], f["item"]))


def test_temporal_60_20_20_known_answer():
    # one user with 10 interactions at t = 0..9 (items named by time), one with 3
    rows = [("a", f"i{t}", 1.0, t) for t in range(10)] + [("b", f"i{t}", 1.0, t) for t in range(3)]
    d = Interactions.from_frame(pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]))
    s = temporal_user_split(d, cold="keep")
    # a: n=10 -> test floor(2)=2 latest, rest 8 -> valid floor(2)=2, train 6; b: n=3 -> test 0, valid 0
    assert _pairs(s.test) == {("a", "i8"), ("a", "i9")}
    assert _pairs(s.valid) == {("a", "i6"), ("a", "i7")}
    assert ("b", "i2") in _pairs(s.train) and len(s.train) == 9
    assert s.protocol == "temporal-60-20-20"


def test_temporal_ties_broken_by_item_id():
    rows = [("a", i, 1.0, 5) for i in (9, 3, 7, 1, 5)]
    d = Interactions.from_frame(pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]))
    s = temporal_user_split(d, cold="keep")  # n=5: test 1 (largest id), valid floor(0.25*4)=1
    assert _pairs(s.test) == {("a", 9)} and _pairs(s.valid) == {("a", 7)}


def test_random_split_fractions_seed_and_disjointness(ratings_data):
    s1 = split(ratings_data, "random-50-25-25", seed=1, cold="keep")
    s2 = split(ratings_data, "random-50-25-25", seed=1, cold="keep")
    s3 = split(ratings_data, "random-50-25-25", seed=2, cold="keep")
    n = len(ratings_data)
    assert (len(s1.train), len(s1.valid), len(s1.test)) == (n // 2, n // 4, n - n // 2 - n // 4)
    assert _pairs(s1.test) == _pairs(s2.test) and _pairs(s1.test) != _pairs(s3.test)
    assert not (_pairs(s1.train) & _pairs(s1.test)) and not (_pairs(s1.valid) & _pairs(s1.test))


def test_cold_rows_are_dropped_by_default():
    rows = [("a", "x", 1.0, 1), ("a", "y", 1.0, 2), ("a", "z", 1.0, 3), ("a", "w", 1.0, 4), ("a", "v", 1.0, 5)]
    d = Interactions.from_frame(pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]))
    with pytest.warns(UserWarning, match="left the valid and test parts empty, so training on it has no early stopping and a test has nothing to score: all 2 of their rows"):
        s = split(d, "temporal-60-20-20")
    assert len(s.test) == 0 and len(s.valid) == 0  # their items never occur in train
    s = split(d, "temporal-60-20-20", cold="keep")
    assert len(s.test) == 1 and len(s.valid) == 1


def test_leave_last_out_and_global_time(ratings_data):
    s = split(ratings_data, "leave-last-out", cold="keep")
    assert len(s.test) == ratings_data.n_users == len(s.valid)
    g = split(ratings_data, "global-time-80-10-10", cold="keep")
    assert g.train.timestamps.max() < g.valid.timestamps.min() <= g.valid.timestamps.max() < g.test.timestamps.min()


def test_bad_protocols_and_missing_timestamps():
    with pytest.raises(ConfigError, match="Unknown split protocol 'random-50-50-50'"):
        split(Interactions.from_frame(pd.DataFrame({"user": [1], "item": [1]})), "random-50-50-50")
    with pytest.raises(DataError, match="timestamp"):
        split(Interactions.from_frame(pd.DataFrame({"user": [1], "item": [1]})), "temporal-60-20-20")


def test_a_split_that_leaves_a_part_empty_says_so_once():
    import warnings

    import pandas as pd

    from autorecs.data import Interactions

    d = Interactions.from_frame(pd.DataFrame({"user": list("aabbccddee"), "item": [1, 2, 1, 3, 2, 3, 1, 4, 5, 1], "timestamp": range(10)}))
    with pytest.warns(UserWarning, match=r"Split 'temporal-60-20-20' left the valid and test parts empty, so .*: the protocol gave them "
                                         r"none of the 10 rows; with so little data use a random split") as said:
        s = split(d, "temporal-60-20-20")
    assert len(said) == 1 and (len(s.valid), len(s.test)) == (0, 0)
    with pytest.warns(UserWarning, match=r"all 4 of their rows had a user or an item that training lacks .*\(cold='keep'\)"):
        split(d, "random-60-20-20", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        split(d, "random-100-0-0", seed=0)  # empty by request


def test_a_split_that_leaves_only_the_test_empty_says_only_that():
    import pandas as pd

    from autorecs.data import Interactions

    d = Interactions.from_frame(pd.DataFrame({"user": list("aaaabbbb"), "item": [1, 2, 3, 4, 1, 2, 3, 5], "timestamp": range(8)}))
    with pytest.warns(UserWarning) as said:
        split(d, "global-time-75-25-0")  # asks for no test: not warned
        split(d, "global-time-70-20-10")
    texts = [str(w.message) for w in said]
    assert len(texts) == 1 and "left the test part empty, so a test has nothing to score: all 1 of its rows" in texts[0]
    assert "early stopping" not in texts[0]


def test_warnings_point_at_the_callers_line_from_any_entry():
    """Whichever public function is called (split, or random_split directly), the warning names the caller's file."""
    import pandas as pd

    from autorecs.data import Interactions, random_split

    d = Interactions.from_frame(pd.DataFrame({"user": list("aabbccddee"), "item": [1, 2, 1, 3, 2, 3, 1, 4, 5, 1]}))
    for call in (lambda: split(d, "random-60-20-20", seed=0), lambda: random_split(d, (0.6, 0.2, 0.2), seed=0)):
        with pytest.warns(UserWarning, match="left the") as said:
            call()
        assert said[0].filename == __file__


def test_a_split_indexes_like_its_triple_and_refuses_a_negative_seed(ratings_data):
    from autorecs.exceptions import ConfigError

    parts = split(ratings_data, "random-50-25-25", seed=0)
    train, valid = parts[:2]
    assert train is parts.train and valid is parts.valid and parts[-1] is parts.test and len(parts) == 3
    with pytest.raises(ConfigError, match=r"The 'seed' parameter must be an int >= 0, a numpy Generator or None; got -1"):
        split(ratings_data, "random-50-25-25", seed=-1)
    with pytest.raises(DataError, match=r"split\(\) takes autorecs Interactions as 'data'; got DataFrame"):
        split(ratings_data.to_frame(), "random-50-25-25")
