"""From a raw table to integer codes per field.

Rules (stated once, used everywhere):

* **Typing.** A column is categorical if its dtype is not numeric, or if it is an
  integer column with at most ``max_int_levels`` distinct training values;
  otherwise numerical.  ``categorical=`` / ``numerical=`` override the guess.
* **Codes.** Every field maps to ``0..cardinality-1``: code 0 is *other* (a value
  unseen in training, or seen fewer than ``min_count`` times), code 1 is
  *missing* (NaN/None, e.g. Adult's ``?``), values start at 2.
* **High cardinality.** A categorical column with more than ``max_levels``
  distinct training values is hashed (pandas' fixed-key hash, stable across runs
  and machines) into ``hash_buckets`` codes instead of keeping a vocabulary.
* **Numerical columns** are discretized at several granularities
  (``bins``: equal-frequency ``"quantile"`` or equal-width ``"uniform"`` edges
  from the training values, or ``"both"``); each granularity is a candidate field named
  ``column/q16`` (or ``/u16``).  A column with at most ``exact_levels`` distinct
  training values also gets the finest granularity, ``column/exact``: one code per
  value (values seen fewer than ``min_count`` times, and unseen ones, go to code 0).
  Equal-frequency edges collapse on a column that is mostly one value (Adult's
  ``capital_gain`` is 0 in 92% of rows: its 64 quantile bins leave 6 distinct edges),
  and equal-width ones merge rare values with opposite labels; the exact field keeps
  them apart.  :class:`~autorecs.ctr.autocross.AutoCross` keeps the best granularity
  per column by its cheap field-wise evaluation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import ConfigError, DataError, check_param

OTHER, MISSING, FIRST_VALUE = 0, 1, 2


@dataclass
class FieldSpec:
    """One encoded field of the original table."""

    name: str
    column: str
    kind: str  # "categorical", "hashed", "numeric" (binned) or "exact" (one code per numerical value)
    values: list[str] = field(default_factory=list)  # categorical: code = FIRST_VALUE + position
    buckets: int = 0  # hashed
    edges: list[float] = field(default_factory=list)  # numeric: inner bin edges
    levels: list[float] = field(default_factory=list)  # exact: sorted values, code = FIRST_VALUE + position

    @property
    def cardinality(self) -> int:
        if self.kind == "categorical":
            return FIRST_VALUE + len(self.values)
        if self.kind == "hashed":
            return FIRST_VALUE + self.buckets
        if self.kind == "exact":
            return FIRST_VALUE + len(self.levels)
        return FIRST_VALUE + len(self.edges) + 1

    def encode(self, column: pd.Series) -> np.ndarray:
        missing = column.isna().to_numpy().copy()
        if self.kind == "numeric":
            x = pd.to_numeric(column, errors="coerce").to_numpy(np.float64)
            missing |= np.isnan(x)
            codes = FIRST_VALUE + np.searchsorted(np.asarray(self.edges), np.nan_to_num(x), side="right")
        elif self.kind == "exact":
            x = pd.to_numeric(column, errors="coerce").to_numpy(np.float64)
            missing |= np.isnan(x)
            levels = np.asarray(self.levels, np.float64)
            pos = np.searchsorted(levels, x)
            hit = pos < len(levels)
            hit[hit] = levels[pos[hit]] == x[hit]
            codes = np.where(hit, FIRST_VALUE + pos, OTHER)
        elif self.kind == "hashed":
            codes = FIRST_VALUE + (pd.util.hash_array(_as_str(column).to_numpy(object)) % np.uint64(self.buckets)).astype(np.int64)
        else:
            lookup = pd.Index(self.values)
            pos = lookup.get_indexer(_as_str(column))
            codes = np.where(pos >= 0, FIRST_VALUE + pos, OTHER)
        return np.where(missing, MISSING, codes).astype(np.int64)


def _as_str(column: pd.Series) -> pd.Series:
    """Category labels as strings; integral numbers print without '.0', so an int column read as float
    (e.g. because of a missing value in another file) maps to the same labels."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        x = column.astype("float64")
        integral = x.dropna().eq(np.floor(x.dropna())).all()
        if integral:
            return x.map(lambda v: str(int(v)) if v == v else v)
    return column.astype(str)


def _edges(x: np.ndarray, bins: int, binning: str) -> list[float]:
    x = x[~np.isnan(x)]
    if x.size == 0:
        return []
    if binning == "quantile":
        edges = np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1])
    else:
        edges = np.linspace(x.min(), x.max(), bins + 1)[1:-1]
    return sorted(set(float(e) for e in edges))


class TableEncoder:
    """Fit on a training frame; ``transform`` any frame with the same columns into codes (n x fields)."""

    def __init__(
        self,
        label: str,
        *,
        categorical: list[str] | None = None,
        numerical: list[str] | None = None,
        drop: list[str] = (),
        bins: tuple[int, ...] = (4, 8, 16, 32, 64),
        binning: str = "quantile",
        min_count: int = 1,
        max_levels: int = 10_000,
        hash_buckets: int = 2**16,
        max_int_levels: int = 20,
        exact_levels: int = 256,
    ):
        check_param(binning in ("quantile", "uniform", "both"), "TableEncoder", "binning", binning, "'quantile', 'uniform' or 'both'")
        check_param(len(bins) > 0 and all(isinstance(b, int) and b >= 2 for b in bins), "TableEncoder", "bins", bins,
                    "a non-empty list of ints >= 2", "e.g. --bins 4,8,16,32.")
        check_param(isinstance(exact_levels, int) and exact_levels >= 0, "TableEncoder", "exact_levels", exact_levels,
                    "an int >= 0", "Use 0 to discretize every numerical column into bins only.")
        self.label, self.categorical, self.numerical, self.drop = label, categorical, numerical, list(drop)
        self.bins, self.binning, self.min_count = tuple(bins), binning, min_count
        self.max_levels, self.hash_buckets, self.max_int_levels = max_levels, hash_buckets, max_int_levels
        self.exact_levels = exact_levels
        self.fields: list[FieldSpec] = []

    def _check_columns(self, frame: pd.DataFrame, names, what: str) -> None:
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise DataError(f"The {what} column(s) {missing} are not in the table; its columns are {list(frame.columns)}.")

    def column_types(self, frame: pd.DataFrame) -> dict[str, str]:
        """``{column: "categorical" | "numerical"}`` for every feature column."""
        self._check_columns(frame, [self.label], "label")
        for what, names in (("categorical", self.categorical or []), ("numerical", self.numerical or []), ("drop", self.drop)):
            self._check_columns(frame, names, what)
        both = set(self.categorical or []) & set(self.numerical or [])
        if both:
            raise ConfigError(f"The column(s) {sorted(both)} are listed as both categorical and numerical; list each once.")
        types = {}
        for col in frame.columns:
            if col == self.label or col in self.drop:
                continue
            if col in (self.categorical or []):
                types[col] = "categorical"
            elif col in (self.numerical or []):
                s = frame[col]
                text = s[s.notna() & pd.to_numeric(s, errors="coerce").isna()]
                if len(text):  # binned as numbers, every text value would share one bucket: the column gone, silently
                    raise DataError(f"The column {col!r} is listed as numerical but holds values that are not numbers, e.g. "
                                    f"{str(text.iloc[0])!r}; list it as categorical, or leave it out of the numerical columns.")
                types[col] = "numerical"
            else:
                s = frame[col]
                numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
                few = pd.api.types.is_integer_dtype(s) and s.nunique() <= self.max_int_levels
                types[col] = "numerical" if numeric and not few else "categorical"
        if not types:
            raise DataError(f"The table has no feature columns besides the label {self.label!r}.")
        return types

    def labels(self, frame: pd.DataFrame, table: str = "") -> np.ndarray:
        """The 0/1 labels of ``frame``; ``table`` ("test", ...) names it in the messages."""
        self._check_columns(frame, [self.label], "label")
        y = frame[self.label]
        values = set(pd.unique(y.dropna()))
        where = f"The label column {self.label!r}" + (f" of the {table} table" if table else "")
        if y.isna().any():
            raise DataError(f"{where} has {int(y.isna().sum())} missing value(s) (the first at data row "
                            f"{int(np.flatnonzero(y.isna().to_numpy())[0]) + 1}, counting from 1); drop those rows or fill them with 0/1.")
        if not values <= {0, 1, True, False}:
            raise DataError(f"{where} must hold 0/1 (or True/False); found values {sorted(map(str, values))[:5]}. Map it to 0/1 first.")
        return y.to_numpy().astype(np.int8)

    def fit(self, frame: pd.DataFrame) -> "TableEncoder":
        types = self.column_types(frame)
        self.fields = []
        for col, kind in types.items():
            s = frame[col]
            if kind == "numerical":
                x = pd.to_numeric(s, errors="coerce").to_numpy(np.float64)
                for binning in (("quantile", "uniform") if self.binning == "both" else (self.binning,)):
                    for b in self.bins:
                        self.fields.append(FieldSpec(f"{col}/{binning[0]}{b}", col, "numeric", edges=_edges(x, b, binning)))
                levels, counts = np.unique(x[~np.isnan(x)], return_counts=True)
                if 0 < len(levels) <= self.exact_levels:
                    kept = levels[counts >= self.min_count]
                    self.fields.append(FieldSpec(f"{col}/exact", col, "exact", levels=[float(v) for v in kept]))
                continue
            counts = _as_str(s.dropna()).value_counts()
            if len(counts) > self.max_levels:
                self.fields.append(FieldSpec(col, col, "hashed", buckets=self.hash_buckets))
            else:
                kept = counts[counts >= self.min_count]
                self.fields.append(FieldSpec(col, col, "categorical", values=sorted(kept.index.tolist())))
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        if not self.fields:
            raise ConfigError("This TableEncoder is not fitted; call fit(train_frame) first.")
        self._check_columns(frame, sorted({f.column for f in self.fields}), "feature")
        return np.stack([f.encode(frame[f.column]) for f in self.fields], axis=1) if len(frame) else np.zeros((0, len(self.fields)), np.int64)

    def keep(self, names: list[str]) -> None:
        """Keep only the named fields (e.g. after granularity selection)."""
        self.fields = [f for f in self.fields if f.name in set(names)]

    def to_dict(self) -> dict:
        return {"label": self.label, "fields": [asdict(f) for f in self.fields]}

    @classmethod
    def from_dict(cls, d: dict) -> "TableEncoder":
        enc = cls(d["label"])
        enc.fields = [FieldSpec(**f) for f in d["fields"]]
        return enc
