"""Reference implementations for cross-checks: slow per-user Python loops."""

import numpy as np
import scipy.sparse as sp


def naive_ranking_metrics(scores: np.ndarray, truth: sp.csr_matrix, exclude: sp.csr_matrix, ks=(10, 50)) -> dict:
    """Per-user Python loop over a full score matrix; reference for tests only."""
    truth, exclude = sp.csr_matrix(truth), sp.csr_matrix(exclude)
    res: dict = {"lambdaopt": {}, "topk": {}}
    users = [u for u in range(truth.shape[0]) if truth[u].nnz]
    acc: dict = {}
    for u in users:
        s = scores[u]
        test = set(truth[u].indices.tolist())
        ex = set(exclude[u].indices.tolist())
        never = [j for j in range(len(s)) if j not in ex and j not in test]
        ranks = [1 + sum(s[j] > s[t] for j in never) for t in test]
        aucs = [np.mean([1.0 if s[t] > s[j] else 0.5 if s[t] == s[j] else 0.0 for j in never]) for t in test]
        acc.setdefault("lambdaopt/auc", []).append(np.mean(aucs))
        cands = [j for j in range(len(s)) if j not in ex]
        order = sorted(cands, key=lambda j: -s[j])
        for k in ks:
            acc.setdefault(f"lambdaopt/hr@{k}", []).append(np.mean([r <= k for r in ranks]))
            acc.setdefault(f"lambdaopt/ndcg@{k}", []).append(np.mean([(r <= k) / np.log2(1 + r) for r in ranks]))
            top = order[:k]
            hits = [j in test for j in top]
            acc.setdefault(f"topk/recall@{k}", []).append(sum(hits) / len(test))
            acc.setdefault(f"topk/precision@{k}", []).append(sum(hits) / k)
            acc.setdefault(f"topk/hit@{k}", []).append(float(any(hits)))
            dcg = sum(h / np.log2(p + 2) for p, h in enumerate(hits))
            idcg = sum(1 / np.log2(p + 2) for p in range(min(k, len(test))))
            acc.setdefault(f"topk/ndcg@{k}", []).append(dcg / idcg)
        first = next((p for p, j in enumerate(order) if j in test), None)
        acc.setdefault("topk/mrr", []).append(0.0 if first is None else 1.0 / (first + 1))
    for key, vals in acc.items():
        fam, name = key.split("/")
        res[fam][name] = float(np.mean(vals))
    res["users"] = len(users)
    return res
