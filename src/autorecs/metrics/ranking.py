"""Top-K ranking metrics, batched over users in bounded memory.

Two families, kept apart everywhere (see ``shared/docs/protocols.md``):

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
#: Score-matrix cells per evaluation batch (float32: 4 bytes each).
BATCH_CELLS = 4_000_000


def _dense_rows(m: sp.csr_matrix, rows: np.ndarray) -> torch.Tensor:
    sub = m[rows]
    out = torch.zeros(len(rows), m.shape[1], dtype=torch.bool)
    r = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
    out[torch.from_numpy(r), torch.from_numpy(sub.indices.astype(np.int64))] = True
    return out


def _padded_rows(m: sp.csr_matrix, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    sub = m[rows]
    counts = np.diff(sub.indptr)
    width = max(int(counts.max(initial=0)), 1)
    idx = np.zeros((len(rows), width), np.int64)
    valid = np.arange(width)[None, :] < counts[:, None]
    idx[valid] = sub.indices
    return torch.from_numpy(idx), torch.from_numpy(valid)


def ranking_metrics(
    score_fn: Callable[[np.ndarray], torch.Tensor],
    truth: sp.csr_matrix,
    exclude: sp.csr_matrix | None = None,
    *,
    ks: Sequence[int] = (10, 50, 100),
    families: Sequence[str] = FAMILIES,
    batch_cells: int = BATCH_CELLS,
    per_user: bool = False,
) -> dict:
    """Evaluate ranking quality.

    ``score_fn(user_codes)`` returns a ``(len(user_codes), n_items)`` float tensor;
    ``truth`` and ``exclude`` are users x items CSR matrices in the same codes
    (non-zero = relevant / excluded).  Returns ``{family: {metric: value}}`` plus
    ``"users"``, the number of users evaluated.  With ``per_user=True`` also
    ``"per_user"``: ``{"users": codes, family: {metric: values}}`` as NumPy arrays
    in the same order (AUC: NaN for a user with no never-interacted item); the
    averages above are their means, so a figure per user group never recomputes a metric.
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
    for start in range(0, len(users), batch):
        rows = users[start : start + batch]
        scores = score_fn(rows).float()
        if not torch.isfinite(scores).all():
            raise DataError("The model produced non-finite scores (NaN/inf); it has diverged, retrain it with a lower learning rate.")
        excl = _dense_rows(exclude, rows)
        test_idx, test_valid = _padded_rows(truth, rows)
        n_test = test_valid.sum(1)
        test_scores = scores.gather(1, test_idx)
        rel = _dense_rows(truth, rows)
        if "lambdaopt" in families:
            interacted = excl | rel
            neg = scores.masked_fill(interacted, float("-inf")).sort(dim=1).values
            n_neg = n_items - interacted.sum(1)
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
            cand = scores.masked_fill(excl, float("-inf"))
            kmax = min(max(ks), n_items)
            top = cand.topk(kmax, dim=1)
            hits = rel.gather(1, top.indices) & torch.isfinite(top.values)
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
            best = test_scores.masked_fill(~test_valid | excl.gather(1, test_idx), float("-inf")).max(1).values
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
