"""Λ-trajectories: how the learned regularization evolves per frequency group (paper Figs. 6-7).

``LambdaTrajectory`` is a training callback: after every epoch it records, for users and items
split into ``groups`` equal-size groups by their number of training interactions (group 0 =
the rarest), the mean and standard deviation of each row's λ (the mean over dimensions for
D-granularities; a global or per-dimension Λ gives every row the same value).
"""

from __future__ import annotations

import numpy as np

from .groups import frequency_groups


def _per_row(lam, n: int) -> np.ndarray:
    lam = lam.detach().cpu().numpy()
    if lam.ndim == 2:  # (n, 1) or (n, K)
        return lam.mean(1)
    return np.full(n, float(lam.mean()))  # () or (K,)


class LambdaTrajectory:
    def __init__(self, user_counts, item_counts, groups: int = 5):
        self.counts = {"user": np.asarray(user_counts), "item": np.asarray(item_counts)}
        self.groups = {}
        for side, c in self.counts.items():
            self.groups[side] = frequency_groups(c, groups)
        self.n_groups = groups
        self.records: list[dict] = []
        self.final: dict[str, np.ndarray] = {}

    def __call__(self, model, epoch: int, logs: dict) -> None:
        lam = getattr(model, "_lam", None)
        if lam is None:
            return None
        rec = {"epoch": epoch}
        for side, tensor in zip(("user", "item"), lam.current()):
            rows = _per_row(tensor, len(self.counts[side]))
            self.final[side] = rows
            rec[side] = [{"mean": float(rows[self.groups[side] == k].mean()), "std": float(rows[self.groups[side] == k].std()),
                          "max_count": int(self.counts[side][self.groups[side] == k].max())}
                         for k in range(self.n_groups) if (self.groups[side] == k).any()]
        self.records.append(rec)
        return None

    def to_dict(self) -> dict:
        return {"groups": self.n_groups, "records": self.records,
                "final": {k: v.tolist() for k, v in self.final.items()}, "counts": {k: v.tolist() for k, v in self.counts.items()}}
