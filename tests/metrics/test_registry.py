import pytest

from autorecs.metrics.registry import direction, is_known, lower_is_better


@pytest.mark.parametrize("metric,lower", [("rmse", True), ("valid_mae", True), ("topk.ndcg@50", False), ("valid_ndcg@50", False),
                                          ("lambdaopt.auc", False), ("mrr", False)])
def test_direction_of_every_kind_of_metric_name(metric, lower):
    assert lower_is_better(metric) is lower
    assert direction(metric) == ("minimize" if lower else "maximize")


@pytest.mark.parametrize("task,metric,known", [("rating", "rmse", True), ("rating", "ndcg@10", False), ("ranking", "ndcg@10", True),
                                               ("ranking", "lambdaopt.mrr", False), ("ranking", "topk.hit@0", False),
                                               ("ranking", "lambdaopt.hr@100", True), ("ranking", "rmse", False)])
def test_known_metrics_per_task(task, metric, known):
    assert is_known(task, metric) is known
