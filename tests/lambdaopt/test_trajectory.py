import numpy as np
import torch

from autorecs.lambdaopt import LambdaTrajectory


class _FakeLearner:
    def __init__(self, user, item):
        self.user, self.item = user, item

    def current(self):
        return self.user, self.item


class _FakeModel:
    def __init__(self, user, item):
        self._lam = _FakeLearner(user, item)


def test_groups_by_frequency_and_per_row_means():
    traj = LambdaTrajectory(user_counts=[4, 1, 3, 2], item_counts=[5, 5, 1], groups=2)
    # users: per-user, per-dimension Λ (DU): row means 1, 2, 3, 4
    user = torch.tensor([[1.0, 1.0], [2.0, 2.0], [2.0, 4.0], [4.0, 4.0]])
    traj(_FakeModel(user, torch.tensor([0.5, 1.5])), 1, {})
    rec = traj.records[0]
    # rarest half of users: counts 1 and 2 -> rows 1 and 3 -> λ 2 and 4
    assert rec["user"][0]["mean"] == 3.0 and rec["user"][0]["max_count"] == 2
    assert rec["user"][1]["mean"] == 2.0  # rows 0 and 2 (counts 4 and 3): λ 1 and 3
    assert all(g["mean"] == 1.0 and g["std"] == 0.0 for g in rec["item"])  # a per-dimension Λ is the same for every item
    np.testing.assert_allclose(traj.final["user"], [1, 2, 3, 4])
    assert traj(object(), 2, {}) is None and len(traj.records) == 1  # models without λOpt are ignored
