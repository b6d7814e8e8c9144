import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from autorecs.exceptions import ConfigError
from autorecs.trials import Budget, OptunaStrategy, best, run_trials


def strategy(storage=None):
    return OptunaStrategy(optuna.samplers.RandomSampler(seed=0), lambda t: {"x": t.suggest_float("x", -2.0, 2.0)},
                          storage=storage, study_name="quadratic")


def objective(params, number):
    if params["x"] > 1.5:
        raise ValueError("x too large (simulated)")
    return (params["x"] - 0.5) ** 2, {"epochs": 2}


def test_run_trials_asks_tells_and_survives_failing_trials(tmp_path):
    journal = JournalStorage(JournalFileBackend(str(tmp_path / "q.journal")))
    first = run_trials(strategy(journal), objective, Budget(trials=12))
    assert len(first) == 12 and [t.number for t in first] == list(range(12))
    failed = [t for t in first if t.state == "FAIL"]
    assert failed and all(t.params["x"] > 1.5 and "ValueError: x too large" in t.error and t.value is None for t in failed)
    done = [t for t in first if t.state == "COMPLETE"]
    assert best(first).value == min(t.value for t in done) and best(first, "maximize").value == max(t.value for t in done)
    again = run_trials(strategy(journal), objective, Budget(trials=15))  # resumed: the budget counts earlier trials
    assert len(again) == 15 and [(t.params, t.value) for t in again[:12]] == [(t.params, t.value) for t in first]
    epochs = run_trials(strategy(), objective, Budget(epochs=7))
    assert sum(t.epochs for t in epochs) >= 7 and len(epochs) == 4


def test_budget_must_be_positive():
    with pytest.raises(ConfigError, match="'seconds' budget must be > 0"):
        Budget(seconds=0)
