"""Quality per frequency group of users and items (the λOpt paper's Figure 6).

Users and items are split into ``groups`` equal-size groups by their number of training
interactions (group 0 = the rarest; :func:`frequency_groups`, shared with
:class:`~autorecs.lambdaopt.LambdaTrajectory`).  A user's HR/NDCG are the λOpt-family
per-user values of :func:`autorecs.evaluate`; an item's "HR"/"NDCG" is, as in the paper,
the mean over the test users who interact with it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def frequency_groups(counts, groups: int) -> np.ndarray:
    """Group index (0 .. groups-1) of every row, equal-size groups by ascending count (stable)."""
    counts = np.asarray(counts)
    order = np.argsort(counts, kind="stable")
    g = np.empty(len(counts), int)
    g[order] = np.arange(len(counts)) * groups // max(len(counts), 1)
    return g


def group_metrics(model, test, *, exclude: Sequence = (), metrics: Sequence[str] = ("hr@100", "ndcg@100"), groups: int = 5) -> dict:
    """``{"user"|"item": {"min_count": [...], "max_count": [...], metric: [mean per group]}}`` of a fitted ranking model on ``test``.

    Groups by training frequency; a group without any test user (item) gets NaN.
    """
    import scipy.sparse as sp

    from ..evaluation import Evaluator

    ks = sorted({int(m.split("@")[1]) for m in metrics})
    ev = Evaluator(model, test, task="ranking", exclude=exclude, ks=ks, families=("lambdaopt",), per_user=True)
    pu = ev(model)["per_user"]
    users = pu["users"]
    counts = {"user": np.asarray(model.seen_.sum(1)).ravel(), "item": np.asarray(model.seen_.sum(0)).ravel()}
    truth = sp.csr_matrix(ev.truth[users])  # evaluated users x items
    per_test_items = np.asarray(truth.sum(0)).ravel()
    out = {}
    for side in ("user", "item"):
        g = frequency_groups(counts[side], groups)
        present = [k for k in range(groups) if (g == k).any()]
        res = {"min_count": [int(counts[side][g == k].min()) for k in present], "max_count": [int(counts[side][g == k].max()) for k in present]}
        for m in metrics:
            values = pu["lambdaopt"][m]
            if side == "user":
                rows, v = users, values
            else:  # item value = mean over its test users
                rows = np.flatnonzero(per_test_items > 0)
                v = (truth.T @ values)[rows] / per_test_items[rows]
            res[m] = [float(v[g[rows] == k].mean()) if (g[rows] == k).any() else float("nan") for k in range(groups) if (g == k).any()]
        out[side] = res
    return out


def group_gains(model: dict, baseline: dict) -> dict:
    """Relative gain (model / baseline − 1) per group, same layout as :func:`group_metrics`."""
    out = {}
    for side, res in model.items():
        out[side] = {k: res[k] for k in ("min_count", "max_count") if k in res}
        for m, values in res.items():
            if m not in ("min_count", "max_count"):
                out[side][m] = [a / b - 1.0 if b > 0 else float("nan") for a, b in zip(values, baseline[side][m])]
    return out
