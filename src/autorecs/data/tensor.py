"""Three-way ratings: (user, item, context, value), e.g. MovieLens with the hour of the rating as context.

The library owns the ids of all three modes (:class:`Vocabulary` each).  Splits are uniformly
random over rows, as ``random-50-25-25`` for matrices; validation/test rows with an id unseen in
training are dropped (counted in ``dropped``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._rng import as_generator
from ..exceptions import ConfigError, DataError
from .interactions import Interactions
from .vocab import Vocabulary

#: hour-of-day periods of the built-in context (UTC of the rating's timestamp): [start, end)
HOUR_PERIODS = (("night", 0, 6), ("morning", 6, 11), ("midday", 11, 15), ("afternoon", 15, 19), ("evening", 19, 24))


@dataclass
class TensorRatings:
    codes: np.ndarray  # (n, 3) int64
    values: np.ndarray  # (n,) float32
    vocabs: tuple[Vocabulary, Vocabulary, Vocabulary]
    dropped: int = 0

    def __len__(self) -> int:
        return len(self.values)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(len(v) for v in self.vocabs)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, columns=("user", "item", "context", "rating")) -> "TensorRatings":
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"The column(s) {missing} are not in the table; its columns are {list(frame.columns)}. "
                            "Name them with --user-col/--item-col/--context-col/--rating-col.")
        values = pd.to_numeric(frame[columns[3]], errors="coerce").to_numpy(np.float32)
        if np.isnan(values).any():
            raise DataError(f"The value column {columns[3]!r} has missing or non-numeric entries; clean them first.")
        vocabs, codes = zip(*(Vocabulary.from_values(frame[c].to_numpy()) for c in columns[:3]))
        return cls(np.stack(codes, 1).astype(np.int64), values, tuple(vocabs))

    def fingerprint(self) -> str:
        """A short hash of the rows (raw ids of the three modes, values): equal data, equal fingerprint."""
        import hashlib

        h = hashlib.blake2b(digest_size=8)
        for m, vocab in enumerate(self.vocabs):
            h.update(pd.util.hash_array(np.asarray(vocab.to_array())).take(self.codes[:, m]).tobytes())
        h.update(np.ascontiguousarray(self.values).tobytes())
        return h.hexdigest()

    def subset(self, rows: np.ndarray) -> "TensorRatings":
        return TensorRatings(self.codes[rows], self.values[rows], self.vocabs)

    def recode(self, vocabs) -> np.ndarray:
        """Codes in other vocabularies (-1 where unknown)."""
        return np.stack([v.codes(self.vocabs[m].ids(self.codes[:, m])) for m, v in enumerate(vocabs)], 1).astype(np.int64)


def hour_context(data: Interactions, periods=HOUR_PERIODS) -> TensorRatings:
    """``data`` with the hour of each rating's timestamp (UTC), bucketed into ``periods``, as the third mode."""
    if data.timestamps is None or data.ratings is None:
        raise DataError("The hour context needs ratings with timestamps; this data has no timestamp (or rating) column.")
    hours = pd.to_datetime(data.timestamps, unit="s", utc=True).hour.to_numpy()
    names = np.empty(len(hours), dtype=object)
    for name, lo, hi in periods:
        names[(hours >= lo) & (hours < hi)] = name
    frame = pd.DataFrame({"user": data.user_vocab.ids(data.users), "item": data.item_vocab.ids(data.items),
                          "context": names, "rating": data.ratings})
    return TensorRatings.from_frame(frame)


def random_tensor_split(data: TensorRatings, fractions=(0.5, 0.25, 0.25), *, seed=None):
    """``(train, valid, test)``: a seeded uniform split; held-out rows with an id unseen in train are dropped."""
    fr = np.asarray(fractions, float)
    if fr.shape != (3,) or (fr < 0).any() or not np.isclose(fr.sum(), 1.0):
        raise ConfigError(f"The 'fractions' parameter must be three non-negative numbers summing to 1; got {tuple(fractions)}.")
    perm = as_generator(seed).permutation(len(data))
    cuts = np.floor(np.cumsum(fr)[:2] * len(data)).astype(int)
    tr_rows, va_rows, te_rows = perm[: cuts[0]], perm[cuts[0]:cuts[1]], perm[cuts[1]:]
    train = data.subset(np.sort(tr_rows))
    seen = [np.zeros(len(v), bool) for v in data.vocabs]
    for m in range(3):
        seen[m][train.codes[:, m]] = True
    parts = [train]
    for rows in (va_rows, te_rows):
        part = data.subset(np.sort(rows))
        keep = np.all([seen[m][part.codes[:, m]] for m in range(3)], axis=0)
        out = part.subset(np.flatnonzero(keep))
        out.dropped = int((~keep).sum())
        parts.append(out)
    return tuple(parts)
