"""Crossed fields: the Cartesian product of two fields' codes, re-coded densely.

A cross of fields ``a`` and ``b`` keys each row by ``code_a * cardinality_b +
code_b``.  The keys seen in training (at least ``min_count`` times) get codes
``1..m`` in key order; every other key, e.g. a pair unseen in training, gets
code 0.  Because the parents may be crosses themselves, high-order crosses grow
one pair-wise step at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class CrossSpec:
    """Cross of the fields at positions ``left`` and ``right`` of the field list before it."""

    left: int
    right: int
    right_cardinality: int
    keys: np.ndarray  # sorted int64 keys seen in training

    @classmethod
    def fit(cls, left: int, right: int, codes: np.ndarray, cardinalities: list[int], min_count: int = 1) -> "CrossSpec":
        key = codes[:, left].astype(np.int64) * cardinalities[right] + codes[:, right]
        keys, counts = np.unique(key, return_counts=True)
        return cls(left, right, cardinalities[right], keys[counts >= min_count])

    @property
    def cardinality(self) -> int:
        return len(self.keys) + 1

    def encode(self, codes: np.ndarray) -> np.ndarray:
        key = codes[:, self.left].astype(np.int64) * self.right_cardinality + codes[:, self.right]
        pos = np.searchsorted(self.keys, key)
        pos_c = np.minimum(pos, len(self.keys) - 1) if len(self.keys) else pos
        hit = (pos < len(self.keys)) & (self.keys[pos_c] == key) if len(self.keys) else np.zeros(len(key), bool)
        return np.where(hit, pos + 1, 0).astype(np.int64)
