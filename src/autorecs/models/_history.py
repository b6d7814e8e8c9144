"""Scoring from a user's history: ``X_u M`` for an items x items matrix ``M`` (EASE's B, item-kNN's S),
with the history optionally weighted by recency.

Recency: of a user's training items, the one with ``r`` strictly newer items weighs ``exp(−r / τ)``
(τ = ``recency``; the latest weighs 1; items with the same timestamp weigh the same).  What a user
did last says most about what they do next: on ml-100k ``temporal-60-20-20`` EASE's test NDCG@50
rose from 0.257 to 0.292 with τ chosen on validation (benchmarks/README.md).  Only the scoring
changes; ``M`` is learned as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from ..exceptions import DataError, check_float
from ._als import torch_csr


@dataclass
class RecencyOptions:
    recency: float = 0.0
    """Weigh a user's history by recency when scoring: the item with r newer items in the user's
    training history weighs exp(−r / recency); 0: every item weighs 1.  Needs timestamps."""

    def validate_recency(self, owner: str) -> None:
        check_float(owner, "recency", self.recency, fix="Use 0 to weigh every history item the same.")


def recency_weights(train, tau: float, owner: str) -> np.ndarray | None:
    """One weight per training interaction, in the order of ``train.csr()``'s entries (the model's
    ``seen_``), or None when ``tau`` is 0."""
    if not tau:
        return None
    if train.timestamps is None:
        raise DataError(f"{owner}(recency={tau:g}) weighs each user's history by time, but the training data has no "
                        "timestamp column; add one or use recency=0.")
    u, t = train.users.astype(np.int64), train.timestamps.astype(np.float64)
    order = np.lexsort((-t, u))  # by user, newest first
    us, ts = u[order], t[order]
    user_start = np.r_[0, np.flatnonzero(np.diff(us)) + 1]
    run_start = np.r_[0, np.flatnonzero((np.diff(us) != 0) | (np.diff(ts) != 0)) + 1]  # runs of one (user, time)
    first_of_user = np.repeat(user_start, np.diff(np.r_[user_start, len(us)]))
    first_of_run = np.repeat(run_start, np.diff(np.r_[run_start, len(us)]))
    newer = np.empty(len(u))
    newer[order] = first_of_run - first_of_user  # how many of the user's items are strictly newer
    w = sp.csr_matrix((np.exp(-newer / tau), (train.users, train.items)), shape=(train.n_users, train.n_items))
    w.sum_duplicates()  # the canonical order of train.csr()
    return w.data.astype(np.float32)


def history_scores(seen: sp.csr_matrix, users: np.ndarray, matrix: torch.Tensor, weights: np.ndarray | None = None) -> torch.Tensor:
    """``X_u M`` for some users: their training rows (binary, or ``weights`` aligned with ``seen``'s
    entries) times an items x items matrix."""
    x = seen if weights is None else sp.csr_matrix((weights, seen.indices, seen.indptr), shape=seen.shape)
    rows = x[np.asarray(users, np.int64)]
    if not rows.nnz:
        return torch.zeros(rows.shape, dtype=torch.float32)
    if weights is None:
        rows.data[:] = 1.0
    return torch.sparse.mm(torch_csr(rows), matrix)
