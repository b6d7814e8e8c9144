"""Mapping between raw ids (any hashable) and contiguous int32 codes."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from ..exceptions import DataError


#: Text that spells an integer within int64 (longer digit strings stay text: no overflow).
_INT_TEXT = r"[+-]?\d{1,18}"


class Vocabulary:
    """An ordered set of raw ids; code ``k`` is the ``k``-th id.

    Unknown ids map to ``-1`` (never an exception), so callers decide what an
    unknown user or item means.
    """

    def __init__(self, ids: Iterable | pd.Index):
        if not isinstance(ids, pd.Index):
            ids = pd.Index(ids if isinstance(ids, np.ndarray) else list(ids))
        index = ids
        if not index.is_unique:
            raise DataError("The ids given to Vocabulary must be unique; deduplicate them first.")
        self._index = index

    @classmethod
    def from_values(cls, values) -> tuple["Vocabulary", np.ndarray]:
        """Build a vocabulary from a column of raw ids, in order of first appearance; return it and the codes."""
        codes, uniques = pd.factorize(pd.Series(values), sort=False)
        if (codes < 0).any():
            raise DataError("An id column contains missing values (NaN/None); drop or fill those rows.")
        return cls(pd.Index(uniques)), codes.astype(np.int32)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, raw) -> bool:
        return raw in self._index

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self._index.equals(other._index)

    @property
    def index(self) -> pd.Index:
        return self._index

    def codes(self, raw) -> np.ndarray:
        """Codes of raw ids (array-like or scalar list); ``-1`` where unknown.  Ids of another type that
        spell one of these (``"7"`` for the integer 7, and back: :meth:`matching`) are that id."""
        if not isinstance(raw, (np.ndarray, pd.Series, pd.Index)):
            raw = pd.Index(list(raw))  # keeps mixed types as objects
        return self._index.get_indexer(self.matching(pd.Index(raw))).astype(np.int32)

    @property
    def is_text(self) -> bool:
        """Whether every id here is text (then lookups are text too, and files of ids are read as text)."""
        return self._index.inferred_type == "string"

    def matching(self, raw: pd.Index) -> pd.Index:
        """``raw`` ids in these ids' type where the two differ: integers as text for text ids; for integer
        ids, text that spells an integer as that integer (other text stays as it is: unknown here).  So
        data read with integer ids meets a model whose ids are text (a column with one text id) and back."""
        kind = self._index.dtype.kind
        if kind in "iu" and raw.dtype.kind not in "iu":
            text = pd.Series(raw, dtype=object).astype(str).str.strip()
            spells = text.str.fullmatch(_INT_TEXT).to_numpy()
            out = pd.Series(raw, dtype=object)
            out[spells] = text[spells].astype(np.int64).to_numpy()
            return pd.Index(out.to_numpy(dtype=object))
        if raw.dtype.kind in "iu" and self.is_text:  # only where every id here is text
            return pd.Index(raw.astype(str), dtype=object)
        if self.is_text and pd.api.types.infer_dtype(raw, skipna=True) == "string":
            return pd.Index(pd.Series(raw, dtype=object).str.strip().to_numpy(dtype=object))  # as loaded: no spaces around
        if kind == "f" and raw.dtype.kind not in "iuf":  # float ids (a Parquet float column): text that spells a number
            numbers = pd.to_numeric(pd.Series(raw, dtype=object).astype(str).str.strip(), errors="coerce")
            return pd.Index(np.where(numbers.notna(), numbers.to_numpy(dtype=np.float64, na_value=np.nan), raw.to_numpy(dtype=object)),
                            dtype=object)
        return raw

    def coerce(self, values, *, source: str = "the ids") -> np.ndarray:
        """``values`` (e.g. text from a command line or a file) in the type of these ids: text that
        spells integers becomes integers when the ids are integers, integers become text when they
        are text.  Text that is not an integer, for integer ids, is a DataError naming ``source``."""
        values = pd.Series(list(values) if not isinstance(values, (np.ndarray, pd.Series)) else values)
        kind = self._index.dtype.kind
        if kind in "iu" and values.dtype.kind not in "iu":
            text = values.astype(str).str.strip()
            bad = text[~text.str.fullmatch(_INT_TEXT)].tolist()
            if bad:
                shown = ", ".join(repr(v) for v in bad[:5]) + (" ..." if len(bad) > 5 else "")
                raise DataError(f"{source[0].upper()}{source[1:]} got {shown}, but the model's ids are integers; pass integer ids.")
            return text.astype(np.int64).to_numpy()
        if kind not in "iuf" and values.dtype.kind in "iu":
            return values.astype(str).to_numpy(dtype=object)
        if kind not in "iuf" and pd.api.types.infer_dtype(values, skipna=True) == "string":  # as loaded: no spaces around
            return values.str.strip().to_numpy(dtype=object)
        if kind == "f" and values.dtype.kind not in "iuf":  # float ids: text that spells a number, as lookups read it
            return self.matching(pd.Index(values.to_numpy(dtype=object))).to_numpy()
        return values.to_numpy()

    def ids(self, codes) -> np.ndarray:
        """Raw ids of codes."""
        return self._index.to_numpy()[np.asarray(codes)]

    def to_array(self) -> np.ndarray:
        """The ids as a NumPy array that saves without pickle (ints or unicode strings)."""
        arr = self._index.to_numpy()
        if arr.dtype.kind in "iub":
            return arr.astype(np.int64)
        if arr.dtype.kind in "f":
            return arr
        if all(isinstance(v, str) for v in arr):
            return arr.astype(str)
        if all(isinstance(v, (int, np.integer)) for v in arr):
            return arr.astype(np.int64)
        raise DataError("Only int, float or str ids can be saved; convert the id column to str before fitting.")

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} ids)"
