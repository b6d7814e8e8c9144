"""Top-K ranking metrics, batched over users in bounded memory.

Two families, kept apart everywhere (see ``docs/protocols.md``):

``lambdaopt`` (the λOpt paper's code)
    Each test item is ranked against the items the user never interacted with
    (not in ``exclude`` and not in the test set): ``rank = 1 + #{scored strictly
    higher}``.  HR@K = share of test items with rank <= K; NDCG@K = mean over
    test items of ``1[rank <= K] / log2(1 + rank)``; AUC = mean over (test item,
    never-interacted item) pairs of ``1[s_test > s_other]`` (ties one half).

``topk`` (the conventional protocol)
    Candidates are all items not in ``exclude``; the top K are compared with the
    test set.  Recall@K, Precision@K, NDCG@K (binary gain, ideal DCG over
    ``min(K, |test|)``), Hit@K (any test item in the top K) and MRR (reciprocal
    rank of the best-ranked test item over the full candidate list).

Both are averaged over users with at least one test item.  Scores must be
finite; ties in the top-K list are broken arbitrarily by ``torch.topk``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import torch

from ..exceptions import DataError

FAMILIES = ("lambdaopt", "topk")
#: Score-matrix cells per evaluation batch (float32: 4 bytes each).  A batch of 4 MB stays in a core's
#: cache through scoring, masking and top-K: validation on ml-100k 19.0 -> 16.4 ms a call on one thread
#: (ml-1m 143 -> 126 ms) against 4M cells; 0.25M cells was slower again on ml-1m (session note, issue 15).
BATCH_CELLS = 1_000_000


def _padded_rows(m: sp.csr_matrix, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's column indices, ascending, padded to one width; and the mask of real entries."""
    sub = m[rows]
    sub.sort_indices()
    counts = np.diff(sub.indptr)
    width = max(int(counts.max(initial=0)), 1)
    idx = np.zeros((len(rows), width), np.int64)
    valid = np.arange(width)[None, :] < counts[:, None]
    idx[valid] = sub.indices
    return torch.from_numpy(idx), torch.from_numpy(valid)


def _flat_cells(m: sp.csr_matrix, rows: np.ndarray) -> torch.Tensor:
    """Positions ``row_in_batch * n_cols + col`` of the stored cells of ``m[rows]``, ascending."""
    sub = m[rows]
    sub.sort_indices()
    r = np.repeat(np.arange(len(rows), dtype=np.int64), np.diff(sub.indptr))
    return torch.from_numpy(r * m.shape[1] + sub.indices.astype(np.int64))


class _Batch:
    """What one batch of users needs besides the scores: computed once, reused on every call of a
    cached :class:`~autorecs.evaluation.Evaluator` (validation after every epoch)."""

    def __init__(self, truth: sp.csr_matrix, exclude: sp.csr_matrix, rows: np.ndarray, lambdaopt: bool):
        n_items = truth.shape[1]
        self.rows = rows
        self.excl = _flat_cells(exclude, rows)
        self.test_idx, self.test_valid = _padded_rows(truth, rows)
        self.n_test = self.test_valid.sum(1)
        test_flat = (torch.arange(len(rows))[:, None] * n_items + self.test_idx)[self.test_valid]
        # a test cell that is also excluded never counts as the best-ranked test item (MRR)
        excluded = torch.zeros_like(self.test_valid)
        excluded[self.test_valid] = torch.isin(test_flat, self.excl)
        self.test_usable = self.test_valid & ~excluded
        # ascending test items, padded with n_items (never a top-K index): membership by searchsorted
        self.test_sorted = self.test_idx.masked_fill(~self.test_valid, n_items)
        if lambdaopt:
            self.interacted = torch.unique(torch.cat([self.excl, test_flat]))
            self.n_neg = n_items - torch.bincount(self.interacted // n_items, minlength=len(rows))


def _all_finite(scores: torch.Tensor) -> bool:
    # a NaN or ±inf anywhere makes the sum non-finite; an overflowing sum of finite values is re-checked exactly
    return bool(torch.isfinite(scores.sum())) or bool(torch.isfinite(scores).all())


def ranking_metrics(
    score_fn: Callable[[np.ndarray], torch.Tensor],
    truth: sp.csr_matrix,
    exclude: sp.csr_matrix | None = None,
    *,
    ks: Sequence[int] = (10, 50, 100),
    families: Sequence[str] = FAMILIES,
    batch_cells: int = BATCH_CELLS,
    per_user: bool = False,
    metrics: Sequence[str] | None = None,
    cache: dict | None = None,
) -> dict:
    """Evaluate ranking quality.

    ``score_fn(user_codes)`` returns a ``(len(user_codes), n_items)`` float tensor;
    ``truth`` and ``exclude`` are users x items CSR matrices in the same codes
    (non-zero = relevant / excluded).  Returns ``{family: {metric: value}}`` plus
    ``"users"``, the number of users evaluated.  With ``per_user=True`` also
    ``"per_user"``: ``{"users": codes, family: {metric: values}}`` as NumPy arrays
    in the same order (AUC: NaN for a user with no never-interacted item); the
    averages above are their means, so a figure per user group never recomputes a metric.

    ``metrics``: names (``"ndcg@50"``, ``"mrr"``, ...) the caller needs; the others may be left out
    (today only the costly ``mrr`` is).  ``cache``: a dict kept by the caller between calls with the
    same ``truth``, ``exclude`` and ``ks`` (the per-batch index structures are built once).
    """
    for f in families:
        if f not in FAMILIES:
            raise DataError(f"Unknown metric family {f!r}; choose from {FAMILIES}.")
    truth = sp.csr_matrix(truth)
    n_users, n_items = truth.shape
    exclude = sp.csr_matrix((n_users, n_items), dtype=np.float32) if exclude is None else sp.csr_matrix(exclude)
    users = np.flatnonzero(np.diff(truth.indptr) > 0)
    ks = sorted(set(int(k) for k in ks))
    sums: dict[str, dict[str, float]] = {f: {} for f in families}
    auc_users = 0
    parts: dict[str, dict[str, list]] = {f: {} for f in families}

    def add(fam: str, name: str, values: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        kept = values if mask is None else values[mask]
        sums[fam][name] = sums[fam].get(name, 0.0) + float(kept.double().sum())
        if per_user:
            full = values.double() if mask is None else torch.where(mask, values.double(), float("nan"))
            parts[fam].setdefault(name, []).append(full.numpy())

    batch = max(1, batch_cells // max(n_items, 1))
    want = None if metrics is None else set(metrics)
    need = lambda name: want is None or name in want  # noqa: E731
    if cache is not None and cache.get("key") != (batch, tuple(families)):
        cache.clear()
        cache["key"] = (batch, tuple(families))
    for start in range(0, len(users), batch):
        if cache is not None and start in cache:
            b = cache[start]
        else:
            b = _Batch(truth, exclude, users[start : start + batch], "lambdaopt" in families)
            if cache is not None:
                cache[start] = b
        rows, test_idx, test_valid, n_test = b.rows, b.test_idx, b.test_valid, b.n_test
        scores = score_fn(rows).float()
        if not _all_finite(scores):
            raise DataError("The model produced non-finite scores (NaN/inf); it has diverged, retrain it with a lower learning rate.")
        test_scores = scores.gather(1, test_idx)
        if "lambdaopt" in families:
            neg = scores.flatten()  # a copy or a view; index_put below must not touch the caller's tensor
            neg = neg.clone() if neg.data_ptr() == scores.data_ptr() else neg
            neg[b.interacted] = float("-inf")
            neg = neg.view(len(rows), n_items).sort(dim=1).values
            n_neg = b.n_neg
            right = torch.searchsorted(neg, test_scores.contiguous(), right=True)
            left = torch.searchsorted(neg, test_scores.contiguous(), right=False)
            rank = 1 + (n_items - right)
            lower = left - (n_items - n_neg)[:, None]
            auc_pair = (lower + 0.5 * (right - left)) / n_neg.clamp(min=1)[:, None]
            has_neg = n_neg > 0
            add("lambdaopt", "auc", (auc_pair * test_valid).sum(1) / n_test, has_neg)
            auc_users += int(has_neg.sum())
            for k in ks:
                hit = (rank <= k) & test_valid
                add("lambdaopt", f"hr@{k}", hit.sum(1) / n_test)
                add("lambdaopt", f"ndcg@{k}", (hit / torch.log2(1.0 + rank)).sum(1) / n_test)
        if "topk" in families:
            cand = scores.flatten()
            cand = cand.clone() if cand.data_ptr() == scores.data_ptr() else cand
            cand[b.excl] = float("-inf")
            cand = cand.view(len(rows), n_items)
            kmax = min(max(ks), n_items)
            top = cand.topk(kmax, dim=1)
            pos = torch.searchsorted(b.test_sorted, top.indices).clamp(max=b.test_sorted.shape[1] - 1)
            hits = (b.test_sorted.gather(1, pos) == top.indices) & torch.isfinite(top.values)
            discount = 1.0 / torch.log2(torch.arange(2, kmax + 2, dtype=torch.float64))
            for k in ks:
                h = hits[:, :k]
                n_hit = h.sum(1)
                add("topk", f"recall@{k}", n_hit / n_test)
                add("topk", f"precision@{k}", n_hit / k)
                add("topk", f"hit@{k}", (n_hit > 0).double())
                dcg = (h * discount[: h.shape[1]]).sum(1)
                ideal = torch.cumsum(discount, 0)[(n_test.clamp(max=h.shape[1]) - 1)]
                add("topk", f"ndcg@{k}", dcg / ideal)
            if need("mrr"):  # a pass over every candidate: skipped when only other metrics are asked for
                best = test_scores.masked_fill(~b.test_usable, float("-inf")).max(1).values
                first = 1 + (cand > best[:, None]).sum(1)
                add("topk", "mrr", torch.where(torch.isfinite(best), 1.0 / first, 0.0))
    out: dict = {}
    n = max(len(users), 1)
    for fam in families:
        out[fam] = {name: (v / max(auc_users, 1) if name == "auc" else v / n) for name, v in sums[fam].items()}
    out["users"] = int(len(users))
    if per_user:
        out["per_user"] = {"users": users, **{f: {k: np.concatenate(v) for k, v in parts[f].items()} for f in families}}
    return out
