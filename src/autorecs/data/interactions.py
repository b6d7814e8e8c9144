"""The dataset object: user-item interactions with owned id mapping."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._progress import warn
from ..exceptions import ConfigError, DataError
from .vocab import Vocabulary

DUPLICATE_POLICIES = ("last", "first", "mean", "error")


@dataclass(frozen=True)
class Columns:
    """Names of the input columns.  ``rating`` and ``timestamp`` are optional."""

    user: str = "user"
    item: str = "item"
    rating: str | None = "rating"
    timestamp: str | None = "timestamp"


# Aliases recognised when the configured name is absent (first match wins).
_ALIASES = {
    "user": ("user", "user_id", "userId", "userid", "uid", "user_id:token"),
    "item": ("item", "item_id", "itemId", "itemid", "movieId", "movie_id", "iid", "item_id:token"),
    "rating": ("rating", "ratings", "score", "value", "rating:float"),
    "timestamp": ("timestamp", "time", "ts", "datetime", "timestamp:float"),
}


class Interactions:
    """User-item interactions: int32 user/item codes, optional ratings and timestamps.

    The object owns the id mapping (:class:`Vocabulary` for users and items).
    Build it with :meth:`from_frame` (pandas or polars) or the readers in
    :mod:`autorecs.data.readers`; it is immutable by convention.
    """

    def __init__(
        self,
        users: np.ndarray,
        items: np.ndarray,
        user_vocab: Vocabulary,
        item_vocab: Vocabulary,
        ratings: np.ndarray | None = None,
        timestamps: np.ndarray | None = None,
    ):
        self.users = np.asarray(users, dtype=np.int32)
        self.items = np.asarray(items, dtype=np.int32)
        self.user_vocab = user_vocab
        self.item_vocab = item_vocab
        self.ratings = None if ratings is None else np.asarray(ratings, dtype=np.float32)
        self.timestamps = None if timestamps is None else np.asarray(timestamps, dtype=np.int64)
        n = len(self.users)
        for name, arr in (("items", self.items), ("ratings", self.ratings), ("timestamps", self.timestamps)):
            if arr is not None and len(arr) != n:
                raise DataError(f"Interactions: '{name}' has {len(arr)} rows but 'users' has {n}; give arrays of one length.")

    # ----------------------------------------------------------------- building
    @classmethod
    def from_csr(cls, matrix, users=None, items=None, *, values: str = "ratings") -> "Interactions":
        """Interactions from a users x items SciPy sparse matrix (``implicit``'s native input).

        Each stored non-zero is one interaction; ``users`` / ``items`` are the raw ids of the rows
        and columns (default: their indices).  ``values="ratings"`` keeps the values as ratings;
        ``"none"`` drops them (implicit feedback).  Explicit zeros are dropped.
        """
        if not sp.issparse(matrix):
            raise DataError(f"from_csr: 'matrix' must be a SciPy sparse matrix; got {type(matrix).__name__}. "
                            "Use from_frame for a DataFrame.")
        if values not in ("ratings", "none"):
            raise DataError(f"from_csr: the 'values' parameter must be 'ratings' or 'none'; got {values!r}.")
        m = sp.coo_matrix(matrix)
        m.sum_duplicates()
        m.eliminate_zeros()
        n_users, n_items = m.shape
        user_ids = np.arange(n_users) if users is None else np.asarray(users)
        item_ids = np.arange(n_items) if items is None else np.asarray(items)
        for name, ids, n in (("users", user_ids, n_users), ("items", item_ids, n_items)):
            if len(ids) != n:
                raise DataError(f"from_csr: '{name}' has {len(ids)} ids but the matrix has {n} {'rows' if name == 'users' else 'columns'}; "
                                "give one id per row (users) and per column (items).")
            if len(pd.unique(ids)) != n:
                raise DataError(f"from_csr: '{name}' has repeated ids; give each row and column its own id.")
        data = np.asarray(m.data, dtype=np.float64)
        if values == "ratings" and not np.isfinite(data).all():
            raise DataError("from_csr: the matrix holds NaN or inf values; ratings must be finite numbers.")
        frame = pd.DataFrame({"user": user_ids[m.row], "item": item_ids[m.col]})
        if values == "ratings":
            frame["rating"] = data
        return cls.from_frame(frame, Columns(rating="rating" if values == "ratings" else None, timestamp=None))

    @classmethod
    def from_frame(
        cls,
        frame,
        columns: Columns | None = None,
        *,
        duplicates: str = "last",
        source: str = "data frame",
        ids: str = "auto",
    ) -> "Interactions":
        """Build from a pandas or polars DataFrame (``ids="text"``: user and item ids as text, e.g. 7 as ``"7"``).

        Duplicated (user, item) pairs are resolved by ``duplicates``: ``"last"``
        (default: keep the latest by timestamp, or the last row without
        timestamps), ``"first"``, ``"mean"`` (average rating, latest timestamp)
        or ``"error"``.  The number of dropped rows is reported in a warning.
        """
        if duplicates not in DUPLICATE_POLICIES:
            raise DataError(f"The 'duplicates' policy must be one of {DUPLICATE_POLICIES}; got {duplicates!r}.")
        check_ids_option(ids)
        if not isinstance(frame, pd.DataFrame):
            if hasattr(frame, "to_pandas"):  # polars / pyarrow
                frame = frame.to_pandas()
            else:
                raise DataError(f"Expected a pandas or polars DataFrame from {source}; got {type(frame).__name__}.")
        if isinstance(columns, dict):  # Columns(**columns): the names a user typed as a mapping
            unknown = sorted(set(columns) - set(Columns.__dataclass_fields__))
            if unknown:
                raise ConfigError(f"The 'columns' of from_frame name {unknown}, which are not roles; the roles are "
                                  f"{sorted(Columns.__dataclass_fields__)} (Columns(user=..., item=..., rating=..., timestamp=...)).")
            columns = Columns(**columns)
        cols = columns or Columns()
        user_col = _resolve(frame, cols.user, "user", source, required=True)
        item_col = _resolve(frame, cols.item, "item", source, required=True)
        rating_col = _resolve(frame, cols.rating, "rating", source, required=False)
        ts_col = _resolve(frame, cols.timestamp, "timestamp", source, required=False)
        if len(frame) == 0:
            raise DataError(f"The input {source} has no rows; give a file with at least one interaction.")
        if ts_col is None and cols.timestamp is not None:
            _warn_unread_times(frame, (user_col, item_col, rating_col), source)
        keep = [c for c in (user_col, item_col, rating_col, ts_col) if c is not None]
        df = frame[keep].rename(columns={user_col: "user", item_col: "item", rating_col: "rating", ts_col: "timestamp"})
        for side, col in (("user", user_col), ("item", item_col)):
            if ids == "text" and not df[side].isna().any():
                df[side] = df[side].astype(str)
            if pd.api.types.is_string_dtype(df[side]) or df[side].dtype == object:
                _strip_text_ids(df, side, col, source)
            values = df[side]
            if values.dtype == object and values.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray))).any():
                raise DataError(f"Column '{col}' of {source} holds lists or other containers, not ids; give one {side} id "
                                "(a number or a string) per row.")
            kind = pd.api.types.infer_dtype(values, skipna=True) if values.dtype == object else ""
            if kind in ("mixed", "mixed-integer"):  # 1 and "1" would be two ids, and the model could not be saved
                examples: dict[str, object] = {}
                for v in values:
                    examples.setdefault(type(v).__name__, v)
                    if len(examples) > 2:
                        break
                if len(examples) == 1:  # one type, but not one a model can save (e.g. UUID objects)
                    (name, example), = examples.items()
                    raise DataError(f"Column '{col}' of {source} holds {name} ids (e.g. {example!r}), but ids must be int, float or "
                                    f"str, so convert them, e.g. frame['{col}'].astype(str).")
                shown = " and ".join(f"{name} ({v!r})" for name, v in examples.items())
                raise DataError(f"Column '{col}' of {source} mixes ids of different types, {shown}, so give one type, e.g. text: "
                                f"frame['{col}'].astype(str).")
            if kind == "mixed-integer-float":  # numbers: one float column (as pandas reads 1 and 2.5)
                df[side] = values.astype(np.float64)
        if df["user"].isna().any() or df["item"].isna().any():
            bad = "user" if df["user"].isna().any() else "item"
            raise DataError(f"Column '{user_col if bad == 'user' else item_col}' of {source} has missing ids; drop those rows.")
        if "rating" in df:
            ratings = pd.to_numeric(df["rating"], errors="coerce")
            bad = ratings.isna().to_numpy() | ~np.isfinite(ratings.to_numpy(dtype=np.float64, na_value=np.nan))
            if bad.any():  # text, empty, NaN and ±inf are not ratings
                row = int(np.flatnonzero(bad)[0])
                value = df["rating"].iloc[row]
                value = value.item() if hasattr(value, "item") else value  # 'nan', not 'np.float64(nan)'
                raise DataError(
                    f"Column '{rating_col}' of {source} must hold finite numbers; its data row {row + 1} (counting from 1, the "
                    f"header not counted) has {value!r}.  Fix or drop such rows, or read the data without ratings as implicit "
                    "feedback (the rating column none: --rating-col none, or Columns(rating=None))."
                )
            df["rating"] = ratings.astype(np.float32)
        if "timestamp" in df:
            df["timestamp"] = _epoch_seconds(df["timestamp"], ts_col, source)
        df = _deduplicate(df, duplicates, source)
        user_vocab, users = Vocabulary.from_values(df["user"].to_numpy())
        item_vocab, items = Vocabulary.from_values(df["item"].to_numpy())
        return cls(
            users,
            items,
            user_vocab,
            item_vocab,
            ratings=df["rating"].to_numpy() if "rating" in df else None,
            timestamps=df["timestamp"].to_numpy() if "timestamp" in df else None,
        )

    # ----------------------------------------------------------------- views
    def __len__(self) -> int:
        return len(self.users)

    @property
    def n_users(self) -> int:
        return len(self.user_vocab)

    @property
    def n_items(self) -> int:
        return len(self.item_vocab)

    @property
    def has_ratings(self) -> bool:
        return self.ratings is not None

    def csr(self, values: str = "ratings") -> sp.csr_matrix:
        """Users x items CSR matrix; ``values`` is ``"ratings"`` (ones if none) or ``"ones"``."""
        data = self.ratings if (values == "ratings" and self.ratings is not None) else np.ones(len(self), np.float32)
        m = sp.csr_matrix((data, (self.users, self.items)), shape=(self.n_users, self.n_items), dtype=np.float32)
        m.sum_duplicates()
        return m

    def to_frame(self) -> pd.DataFrame:
        """Raw ids back out, as a pandas DataFrame."""
        out = {"user": self.user_vocab.ids(self.users), "item": self.item_vocab.ids(self.items)}
        if self.ratings is not None:
            out["rating"] = self.ratings
        if self.timestamps is not None:
            out["timestamp"] = self.timestamps
        return pd.DataFrame(out)

    def concat(self, *others: "Interactions", duplicates: str = "last") -> "Interactions":
        """This data and ``others`` as one data set (raw ids; e.g. train + validation for a refit):
        ``train.concat(valid)`` or ``Interactions.concat(train, valid)``.  A (user, item) pair in several parts is
        resolved by ``duplicates`` as in :meth:`from_frame` (``"last"``: the latest by timestamp, else the later
        part's row)."""
        parts = (self, *others)
        for p in parts:
            if isinstance(p, (list, tuple)):
                raise DataError("concat() takes the parts one by one: Interactions.concat(*parts) for a list of them.")
            check_interactions(p, "concat()", "parts")
        frame = pd.concat([p.to_frame() for p in parts], ignore_index=True)
        cols = Columns(rating="rating" if "rating" in frame else None, timestamp="timestamp" if "timestamp" in frame else None)
        return Interactions.from_frame(frame, cols, duplicates=duplicates, source=JOINED)

    def subset(self, rows: np.ndarray, *, compact: bool = True) -> "Interactions":
        """The interactions at ``rows`` (indices or boolean mask).

        With ``compact`` the vocabularies keep only ids that occur, in order of
        first appearance; otherwise they are shared with this object.
        """
        rows = np.asarray(rows)
        if rows.size == 0:  # [] reads as float
            rows = rows.astype(np.int64)
        users, items = self.users[rows], self.items[rows]
        uv, iv = self.user_vocab, self.item_vocab
        if compact:
            ucodes, users = np.unique(users, return_inverse=True)
            icodes, items = np.unique(items, return_inverse=True)
            uv = Vocabulary(self.user_vocab.index[ucodes])
            iv = Vocabulary(self.item_vocab.index[icodes])
        return Interactions(
            users,
            items,
            uv,
            iv,
            ratings=None if self.ratings is None else self.ratings[rows],
            timestamps=None if self.timestamps is None else self.timestamps[rows],
        )

    def recode(self, user_vocab: Vocabulary, item_vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
        """This data's users and items as codes of other vocabularies (``-1`` where unknown); integer and
        text ids that spell the same integer match (:meth:`Vocabulary.matching`)."""
        return user_vocab.codes(self.user_vocab.index)[self.users], item_vocab.codes(self.item_vocab.index)[self.items]

    def fingerprint(self) -> str:
        """A short hash of the rows (raw user and item ids, ratings, timestamps): equal data, equal
        fingerprint.  Studies use it to tell whether they are continued on the same data."""
        import hashlib

        h = hashlib.blake2b(digest_size=8)
        for vocab, codes in ((self.user_vocab, self.users), (self.item_vocab, self.items)):
            h.update(pd.util.hash_array(np.asarray(vocab.to_array())).take(codes).tobytes())
        for arr in (self.ratings, self.timestamps):
            h.update(b"-" if arr is None else arr.tobytes())
        return h.hexdigest()

    def __repr__(self) -> str:
        extra = ", ratings" if self.has_ratings else ""
        extra += ", timestamps" if self.timestamps is not None else ""
        return f"Interactions({len(self)} rows, {self.n_users} users, {self.n_items} items{extra})"


def _resolve(frame: pd.DataFrame, name: str | None, role: str, source: str, required: bool) -> str | None:
    """The column to use for ``role``: the configured name, else (for default names) a known alias."""
    if name is None:
        return None
    if name in frame.columns:
        return name
    if name == getattr(Columns(), role):
        for alias in _ALIASES[role]:
            if alias in frame.columns:
                return alias
        if not required:
            return None
    raise DataError(
        f"Column '{name}' (the {role} column) is not in {source}; its columns are {list(frame.columns)}. "
        f"Pass the right name (Columns({role}=...) in Python, --{role}-col on the command line)."
    )


def _looks_like_times(values: pd.Series) -> bool:
    """Whether a column's values read as points in time: datetimes, ISO 8601 text, or epoch numbers (s, ms, µs, ns
    after 1973); not small numbers (durations, flags, counts) or other text."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    sample = values.dropna().head(200)
    if sample.empty or pd.api.types.is_bool_dtype(sample):
        return False
    if pd.api.types.is_numeric_dtype(sample):
        return bool(((sample.abs() >= 1e8) & (sample.abs() < 1e20)).mean() >= 0.9)
    parsed = pd.to_datetime(sample.astype(str), errors="coerce", format="ISO8601", utc=True)
    return bool(parsed.notna().mean() >= 0.9)


def _warn_unread_times(frame: pd.DataFrame, used, source: str) -> None:
    """No timestamp column by its default name or aliases: a warning when another column is named like one
    (``event_time``, ``date``, ``created_at``) and holds times (a temporal split would say the data has no times,
    and duplicates resolve by row order), or holds datetimes whatever its name."""
    for col in frame.columns:
        if col in used:
            continue
        words = re.split(r"[_\W]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", str(col)).lower())
        named = bool({"time", "date", "datetime", "timestamp", "ts"} & set(words)) or words[-1] == "at"
        values = frame[col]
        if (named or pd.api.types.is_datetime64_any_dtype(values)) and _looks_like_times(values):
            warn(f"Column '{col}' of {source} looks like a time but is not read as one (the timestamp column is "
                 f"'timestamp' unless named), so the data has no timestamps; name it: --timestamp-col {col}, or "
                 f"Columns(timestamp='{col}') (--timestamp-col none, Columns(timestamp=None): no times, no warning).")
            return


def _strip_text_ids(df: pd.DataFrame, side: str, col: str, source: str) -> None:
    """Text ids without the spaces around them (``" 7"`` and ``"7"`` are one id), said in a warning when any had them."""
    values = df[side]
    if pd.api.types.infer_dtype(values, skipna=True) != "string":  # numbers (or mixed types: refused just after)
        return
    stripped = values.str.strip()
    moved = (values.notna() & (stripped != values)).to_numpy()  # a missing id is refused just after, not here
    changed = int(moved.sum())
    if changed:
        example = values[moved].iloc[0]
        warn(f"Column '{col}' of {source}: {changed} ids had spaces around them (e.g. {example!r}), removed, so that "
                      f"{example!r} and {example.strip()!r} are one id.")
        df[side] = stripped


ID_OPTIONS = ("auto", "text")


def check_ids_option(ids) -> None:
    if ids not in ID_OPTIONS:
        raise ConfigError(f"The 'ids' parameter must be 'auto' (ids as pandas reads them) or 'text' (as written, e.g. 007); "
                          f"got {ids!r}.", param="ids", owner="read_interactions")


#: Where whole seconds keep fewer than this share of a timestamp column's distinct values, part of the
#: column's order is lost (e.g. fractions of a day as 0.1, 0.5, 0.9): :func:`_epoch_seconds` warns.
TIES_WARN = 0.9


def _epoch_seconds(ts: pd.Series, col: str, source: str) -> np.ndarray:
    """A timestamp column as whole seconds since the epoch (int64): integers as they are, other numbers with
    their fractions cut, datetimes in any unit or time zone (UTC; NumPy- or Arrow-backed), and text that is
    numbers or ISO 8601 dates.  A missing, unreadable or non-time value (a duration, True/False) is a DataError
    naming its row; a warning where whole seconds tie most distinct times."""
    def bad_row(mask, what: str) -> DataError:
        row = int(np.flatnonzero(np.asarray(mask))[0])
        value = ts.iloc[row]
        value = value.item() if hasattr(value, "item") else value
        return DataError(f"Column '{col}' of {source} must hold {what}; its data row {row + 1} (counting from 1, the header not "
                         f"counted) has {value!r}, so fix or drop such rows, or read the data without timestamps (the timestamp "
                         "column none: --timestamp-col none, or Columns(timestamp=None)).")

    kind = str(ts.dtype)
    if ts.isna().any():
        raise bad_row(ts.isna().to_numpy(), "times, not missing values")
    if pd.api.types.is_timedelta64_dtype(ts) or "duration" in kind:
        raise bad_row(np.ones(len(ts), bool), "times (epoch numbers or dates), not durations")
    if pd.api.types.is_bool_dtype(ts) or (ts.dtype == object and ts.map(lambda v: isinstance(v, (bool, np.bool_))).any()):
        bools = ts.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy()
        raise bad_row(bools, "times (epoch numbers or dates), not True/False")
    if pd.api.types.is_integer_dtype(ts):  # exact: no detour through float64
        return ts.to_numpy(dtype=np.int64)
    if pd.api.types.is_datetime64_any_dtype(ts) or "timestamp" in kind:  # NumPy or Arrow datetimes, with or without a zone
        when = pd.to_datetime(ts, utc=True).dt.tz_localize(None)
    elif pd.api.types.is_numeric_dtype(ts):
        values = ts.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise bad_row(~np.isfinite(values), "finite epoch numbers or dates")
        seconds = np.floor(values).astype(np.int64)
        if (values != seconds).any():  # fractions: does cutting them tie distinct times?
            _warn_if_ties(values, seconds, col, source)
        return seconds
    else:  # text: numbers, or ISO 8601 dates
        numbers = pd.to_numeric(ts, errors="coerce")
        if not numbers.isna().any():
            return _epoch_seconds(numbers, col, source)
        when = pd.to_datetime(ts.astype(str).str.strip(), errors="coerce", utc=True, format="ISO8601")
        if when.isna().any():  # a value that is neither, or numbers and dates mixed
            neither = when.isna().to_numpy() & numbers.isna().to_numpy()
            raise bad_row(neither if neither.any() else when.isna().to_numpy(), "epoch numbers or ISO 8601 dates, one kind "
                          "(e.g. 2021-03-01 10:00:00; parse other date formats with pandas.to_datetime first)")
        when = when.dt.tz_localize(None)
    fine = when.to_numpy()
    seconds = fine.astype("datetime64[s]").astype(np.int64)  # numpy floors to the second in any unit
    unit, _ = np.datetime_data(fine.dtype)
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}.get(unit, 1)
    if per_second > 1 and (fine.astype(np.int64) != seconds * per_second).any():  # sub-second times
        _warn_if_ties(fine.astype(np.int64), seconds, col, source)
    return seconds


def _warn_if_ties(fine: np.ndarray, seconds: np.ndarray, col: str, source: str) -> None:
    n_fine = int(pd.Series(fine).nunique())
    n_seconds = int(pd.Series(seconds).nunique())
    if n_fine > 1 and n_seconds < TIES_WARN * n_fine:
        warn(f"Column '{col}' of {source} has {n_fine} distinct times but only {n_seconds} distinct whole "
                      f"second{'s' if n_seconds != 1 else ''}, which autorecs keeps, so the order of the others is lost (temporal "
                      "splits, the latest duplicate): scale the column to whole units first (e.g. milliseconds, or days x 86400).")


#: The source named by :meth:`Interactions.concat` (parts already read: the split hint of the duplicates warning is not theirs).
JOINED = "the joined parts (concat)"


def _deduplicate(df: pd.DataFrame, policy: str, source: str) -> pd.DataFrame:
    dup = df.duplicated(["user", "item"], keep=False)
    if not dup.any():
        return df.reset_index(drop=True)
    n_extra = int(df.duplicated(["user", "item"]).sum())
    if policy == "error":
        raise DataError(f"{source} has {n_extra} duplicated (user, item) rows; deduplicate them or choose another policy (duplicates='last' in Python, --duplicates last on the command line).")
    if "timestamp" in df:
        df = df.sort_values("timestamp", kind="stable")
    if policy == "mean":
        agg = {c: ("mean" if c == "rating" else "last") for c in df.columns if c not in ("user", "item")}
        out = df.groupby(["user", "item"], sort=False, as_index=False).agg(agg) if agg else df.drop_duplicates(["user", "item"])
    else:
        out = df.drop_duplicates(["user", "item"], keep=policy)
    hint = ("  On implicit feedback 'last' keeps each pair's latest time, so a temporal split can put a repeat into test although "
            "the user chose the item before; duplicates='first' (--duplicates first) keeps the first time."
            if policy == "last" and "timestamp" in df and "rating" not in df and source != JOINED else "")
    warn(f"{source}: {n_extra} duplicated (user, item) rows resolved by policy duplicates={policy!r}.{hint}")
    return out.sort_index(kind="stable").reset_index(drop=True) if policy != "mean" else out.reset_index(drop=True)


def check_interactions(obj, owner: str, name: str, *, optional: bool = False) -> None:
    """One sentence when ``obj``, ``owner``'s argument ``name``, is not Interactions (a DataFrame, most often)."""
    if isinstance(obj, Interactions) or (optional and obj is None):
        return
    raise DataError(f"{owner} takes autorecs Interactions{' (or None)' if optional else ''} as '{name}'; got {type(obj).__name__}, "
                    "so build them with Interactions.from_frame(df).")

