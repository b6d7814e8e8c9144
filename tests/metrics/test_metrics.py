import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from autorecs.exceptions import DataError
from autorecs.metrics import ranking_metrics, rating_metrics, rmse
from tests.helpers.naive_metrics import naive_ranking_metrics


def _fn(scores):
    s = torch.as_tensor(scores, dtype=torch.float32)
    return lambda rows: s[torch.as_tensor(rows, dtype=torch.long)]


def test_rating_metrics_known_answer():
    m = rating_metrics([1, 2, 3, 4], [1, 2, 3, 6], train_std=2.0)
    assert m["rmse"] == pytest.approx(1.0) and m["mae"] == pytest.approx(0.5) and m["rmse_std"] == pytest.approx(0.5)
    assert rmse([0, 0], [3, 4]) == pytest.approx(math.sqrt(12.5))


def test_ranking_known_answer_by_hand():
    # one user, 6 items; scores descending 5..0 for items 0..5
    scores = np.array([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0]])
    truth = sp.csr_matrix(np.array([[0, 0, 1, 0, 1, 0]]))  # test items 2 and 4
    exclude = sp.csr_matrix(np.array([[1, 0, 0, 0, 0, 0]]))  # item 0 seen in training
    m = ranking_metrics(_fn(scores), truth, exclude, ks=(1, 2, 3))
    # lambdaopt: never-interacted = {1, 3, 5}. item 2: higher {1} -> rank 2; item 4: higher {1, 3} -> rank 3
    lo = m["lambdaopt"]
    assert lo["hr@1"] == 0.0 and lo["hr@2"] == 0.5 and lo["hr@3"] == 1.0
    assert lo["ndcg@3"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / 2)
    # AUC: item 2 beats {3, 5} of {1, 3, 5} -> 2/3; item 4 beats {5} -> 1/3
    assert lo["auc"] == pytest.approx(0.5)
    # topk: candidates exclude item 0: ranking 1, 2, 3, 4, 5
    tk = m["topk"]
    assert tk["hit@1"] == 0.0 and tk["hit@2"] == 1.0
    assert tk["recall@2"] == 0.5 and tk["precision@2"] == 0.5
    assert tk["ndcg@2"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert tk["ndcg@3"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert tk["recall@3"] == 0.5
    assert tk["mrr"] == pytest.approx(0.5)
    assert m["users"] == 1


def test_ties_count_half_in_auc_and_not_in_rank():
    scores = np.array([[1.0, 1.0, 1.0]])
    m = ranking_metrics(_fn(scores), sp.csr_matrix(np.array([[1, 0, 0]])), None, ks=(1,))
    assert m["lambdaopt"]["auc"] == pytest.approx(0.5) and m["lambdaopt"]["hr@1"] == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batched_metrics_agree_with_naive_per_user_loop(seed):
    rng = np.random.default_rng(seed)
    n_users, n_items = 23, 40
    scores = rng.normal(size=(n_users, n_items))
    truth = sp.csr_matrix(rng.random((n_users, n_items)) < 0.1)
    exclude = sp.csr_matrix((rng.random((n_users, n_items)) < 0.3) & ~truth.toarray())
    fast = ranking_metrics(_fn(scores), truth, exclude, ks=(5, 10), batch_cells=7 * n_items)  # several batches
    slow = naive_ranking_metrics(scores, truth, exclude, ks=(5, 10))
    assert fast["users"] == slow["users"]
    for fam in ("lambdaopt", "topk"):
        for name, value in slow[fam].items():
            assert fast[fam][name] == pytest.approx(value, rel=1e-5, abs=1e-6), (fam, name)


def test_non_finite_scores_are_rejected():
    with pytest.raises(DataError, match="non-finite"):
        ranking_metrics(_fn(np.array([[np.nan, 1.0]])), sp.csr_matrix(np.array([[1, 0]])), None, ks=(1,))


def test_per_user_values_average_to_the_reported_means():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(40, 30))
    truth = rng.random((40, 30)) < 0.1
    exclude = (rng.random((40, 30)) < 0.2) & ~truth
    truth[0, 0], exclude[0, 1:] = True, True  # user 0: nothing left to compare with -> AUC undefined (NaN, not in the mean)
    truth, exclude = sp.csr_matrix(truth), sp.csr_matrix(exclude)
    m = ranking_metrics(_fn(scores), truth, exclude, ks=(5, 10), per_user=True, batch_cells=90)  # several batches
    pu = m["per_user"]
    assert len(pu["users"]) == m["users"] and list(pu["users"]) == sorted(pu["users"])
    for fam in ("lambdaopt", "topk"):
        for name, mean in m[fam].items():
            assert np.nanmean(pu[fam][name]) == pytest.approx(mean), (fam, name)
    assert np.isnan(pu["lambdaopt"]["auc"][0]) and not np.isnan(pu["lambdaopt"]["auc"][1:]).any()
    assert "per_user" not in ranking_metrics(_fn(scores), truth, exclude, ks=(5,))


@pytest.mark.parametrize("seed", [3, 4])
def test_overlapping_exclude_cache_and_metric_subset_agree_with_naive(seed):
    """Test items that are also excluded, an Evaluator-style cache reused with new scores, and a
    request for one metric: each gives the naive loop's values."""
    rng = np.random.default_rng(seed)
    n_users, n_items = 19, 30
    truth = sp.csr_matrix(rng.random((n_users, n_items)) < 0.15)
    exclude = sp.csr_matrix(rng.random((n_users, n_items)) < 0.3)  # overlaps truth
    cache: dict = {}
    for _ in range(2):
        scores = rng.normal(size=(n_users, n_items))
        fast = ranking_metrics(_fn(scores), truth, exclude, ks=(5, 10), batch_cells=6 * n_items, cache=cache)
        slow = naive_ranking_metrics(scores, truth, exclude, ks=(5, 10))
        for fam in ("lambdaopt", "topk"):
            for name, value in slow[fam].items():
                assert fast[fam][name] == pytest.approx(value, rel=1e-5, abs=1e-6), (fam, name)
    assert len(cache) > 2  # several batches were cached
    only = ranking_metrics(_fn(scores), truth, exclude, ks=(10,), families=("topk",), metrics=("ndcg@10",))
    assert "mrr" not in only["topk"] and only["topk"]["ndcg@10"] == pytest.approx(slow["topk"]["ndcg@10"], rel=1e-5)


def test_rmse_std_of_constant_training_ratings_is_nan_not_a_crash():
    """Every training rating the same (a one-row file): rmse_std divided by zero and ended search-ifc in a traceback."""
    import math

    from autorecs.metrics.rating import rating_metrics

    out = rating_metrics([3.0, 4.0], [3.0, 5.0], train_std=0.0)
    assert out["rmse"] == pytest.approx(math.sqrt(0.5)) and math.isnan(out["rmse_std"])
    assert rating_metrics([3.0], [4.0], train_std=2.0)["rmse_std"] == 0.5
