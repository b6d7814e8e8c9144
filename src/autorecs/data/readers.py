"""Readers for interaction files: CSV/TSV with a header, Parquet, MovieLens' native files, RecBole ``.inter``."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..exceptions import DataError
from .interactions import Columns, Interactions, check_ids_option

_ML_NAMES = ["user", "item", "rating", "timestamp"]


def read_frame(path: str | Path, *, sep: str | None = None, text: bool = False) -> pd.DataFrame:
    """Read a file into a pandas DataFrame, choosing the format from its name (``text``: the columns of a
    text file as text, as written: ``007`` stays ``"007"``).

    - ``*.parquet`` / ``*.pq``: Parquet.
    - ``u.data``: MovieLens-100K (tab separated, no header).
    - ``ratings.dat``: MovieLens-1M (``::`` separated, no header).
    - ``*.inter``: RecBole atomic files (tab separated, ``name:type`` header).
    - ``*.tsv``: tab separated with a header; anything else: comma separated with a header (or, when
      the header has no comma, separated by the one of ``;``, tab or ``|`` it has), unless ``sep`` says
      otherwise.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"The file '{path}' does not exist; check the path.")
    if path.is_dir():
        raise DataError(f"'{path}' is a directory; give the interaction file inside it (CSV/TSV with a header, Parquet, "
                        "u.data, ratings.dat or a RecBole .inter file).")
    if path.stat().st_size == 0:
        raise DataError(f"The file '{path}' is empty; give a file with a header and at least one row.")
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        dtype = str if text else None
        if name == "u.data":
            return pd.read_csv(path, sep="\t", header=None, names=_ML_NAMES, dtype=dtype)
        if name == "ratings.dat":
            return pd.read_csv(path, sep="::", header=None, names=_ML_NAMES, engine="python", dtype=dtype)
        if name.endswith(".inter"):
            df = pd.read_csv(path, sep="\t", dtype=dtype)
            df.columns = [c.split(":")[0] for c in df.columns]
            return df
        if sep is None:
            sep = "\t" if name.endswith((".tsv", ".tab")) else _sniffed_sep(path, ",") if name.endswith((".csv", ".txt")) else ","
        return pd.read_csv(path, sep=sep, dtype=dtype)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"The file '{path}' has no data; give a file with a header and at least one row.") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise DataError(f"The file '{path}' could not be parsed ({exc}); give a CSV/TSV file with a header, Parquet, "
                        "u.data, ratings.dat or a RecBole .inter file.") from exc


def read_interactions(
    path: str | Path,
    columns: Columns | None = None,
    *,
    sep: str | None = None,
    duplicates: str = "last",
    ids: str = "auto",
) -> Interactions:
    """Read an interaction file into :class:`Interactions` (see :func:`read_frame` for formats).

    ``ids``: ``"auto"`` reads user and item ids as pandas does (``007`` is the number 7); ``"text"`` keeps
    them as written (``"007"``, ``"7"`` two ids), e.g. for codes with leading zeros."""
    if not isinstance(path, (str, os.PathLike)):  # a data frame, most often (read_interactions(df) ended in pathlib's TypeError)
        frame = isinstance(path, pd.DataFrame) or hasattr(path, "to_pandas")
        raise DataError(f"read_interactions() reads a file and takes its path; got {type(path).__name__}"
                        + (", so for a data frame use Interactions.from_frame(df, columns)." if frame else "."))
    check_ids_option(ids)
    frame = read_frame(path, sep=sep, text=ids == "text")
    return Interactions.from_frame(frame, columns, duplicates=duplicates, source=f"'{path}'", ids=ids)


TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def _sniffed_sep(path: Path, default: str) -> str:
    """``default``, unless the header line has none of it but exactly one of ``;``, tab or ``|`` (a
    semicolon- or tab-separated file named ``.csv``)."""
    with open(path, "rb") as f:
        header = f.readline().decode("utf-8", errors="replace")
    if default in header:
        return default
    found = [c for c in (";", "\t", "|") if c in header]
    return found[0] if len(found) == 1 else default


def check_table_path(path: str | Path, flag: str | None = None) -> None:
    """A table is written as CSV, TSV or Parquet, chosen by the file's suffix: anything else is refused."""
    from ..exceptions import ConfigError, check_writable

    name = f"The '{flag}' file" if flag else "The output file"
    if Path(path).suffix.lower() not in TABLE_SUFFIXES:
        raise ConfigError(f"{name} '{path}' must end in .csv, .tsv or .parquet (the format is chosen by the suffix).")
    if Path(path).is_dir():
        raise ConfigError(f"{name} '{path}' is a directory; give a file path ending in .csv, .tsv or .parquet.")
    check_writable(path, name)


def write_frame(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame to Parquet (``.parquet``/``.pq``), TSV (``.tsv``) or CSV (``.csv``)."""
    check_table_path(path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    return path


def write_interactions(data: Interactions, path: str | Path) -> Path:
    """Write raw ids (and ratings/timestamps) to CSV or Parquet, by the file's extension."""
    return write_frame(data.to_frame(), path)
