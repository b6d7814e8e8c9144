"""Which metrics exist for early stopping and selection, and which way is better: one place.

Rating models report ``rmse`` and ``mae`` (lower is better); ranking models report the
metrics of each family of :mod:`autorecs.metrics.ranking` (higher is better), at any cut-off
``@k`` where the name ends in ``@k``.
"""

from __future__ import annotations

#: metrics a rating model's validation reports (lower is better)
RATING_METRICS = ("rmse", "mae")
#: metrics each ranking family reports (higher is better; ``@k``: at any cut-off k >= 1)
RANKING_METRICS = {"lambdaopt": ("auc", "hr@k", "ndcg@k"), "topk": ("recall@k", "precision@k", "ndcg@k", "hit@k", "mrr")}


def lower_is_better(metric: str) -> bool:
    """True for an error (``rmse``, ``mae``, with or without a family or ``valid_`` prefix), False for a ranking metric."""
    return metric.rpartition(".")[2].removeprefix("valid_") in RATING_METRICS


def direction(metric: str) -> str:
    """``"minimize"`` or ``"maximize"`` (Optuna's words) for ``metric``."""
    return "minimize" if lower_is_better(metric) else "maximize"


def is_known(task: str, metric: str) -> bool:
    """Whether ``metric`` (``[family.]name[@k]``) is one the validation of ``task`` computes."""
    if task == "rating":
        return metric in RATING_METRICS
    family, _, name = metric.rpartition(".")
    base, at, k = name.partition("@")
    return (base + ("@k" if at else "")) in RANKING_METRICS.get(family or "topk", ()) and (not at or (k.isdigit() and int(k) >= 1))
