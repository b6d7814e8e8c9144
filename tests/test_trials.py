import dataclasses
import re
import time

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from autorecs.exceptions import ConfigError
from autorecs.trials import Budget, OptunaStrategy, TrialResult, best, run_trials


def strategy(storage=None):
    return OptunaStrategy(optuna.samplers.RandomSampler(seed=0), lambda t: {"x": t.suggest_float("x", -2.0, 2.0)},
                          storage=storage, study_name="quadratic")


def objective(params, number, report):
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
    with pytest.raises(ConfigError, match="'seconds' budget must be a number of seconds > 0"):
        Budget(seconds=0)
    for bad in ({"trials": "5"}, {"trials": 2.5}, {"epochs": True}, {"seconds": float("inf")}, {"seconds": "60"}):
        with pytest.raises(ConfigError, match=rf"The '{next(iter(bad))}' budget must be .* got {re.escape(repr(next(iter(bad.values()))))}\."):
            Budget(**bad)
    import numpy as np
    assert Budget(trials=np.int64(3), seconds=np.float32(1.5)).describe() == "3 trials, 1.5 s" and Budget().describe() == "no limit"


def test_a_pruner_consulted_through_report_ends_a_trial_pruned():
    """The objective reports a value per step; once the strategy's pruner says stop, it returns and the trial is PRUNED."""
    def curve(params, number, report):
        steps = 0
        for step in range(10):
            steps += 1
            if report(params["x"] + 0.1 * step, step):
                break
        return params["x"], {"epochs": steps}

    pruned = OptunaStrategy(optuna.samplers.RandomSampler(seed=0), lambda t: {"x": t.suggest_float("x", -1.0, 1.0)},
                            pruner=optuna.pruners.ThresholdPruner(upper=1.0))
    trials = run_trials(pruned, curve, Budget(trials=8))
    states = {t.state for t in trials}
    assert states == {"COMPLETE", "PRUNED"}
    assert all((t.state == "PRUNED") == (t.params["x"] + 0.9 > 1.0) for t in trials)
    assert all(t.epochs < 10 for t in trials if t.state == "PRUNED") and all(t.epochs == 10 for t in trials if t.state == "COMPLETE")
    assert [t.state for t in pruned.history()] == [t.state for t in trials]
    plain = run_trials(strategy(), curve, Budget(trials=8))  # no pruner: every trial trains to its end
    assert all(t.state == "COMPLETE" and t.epochs == 10 for t in plain)


def test_a_shared_study_counts_every_processs_trials_and_drops_a_late_ask(tmp_path):
    path = str(tmp_path / "shared.journal")

    def worker():
        return OptunaStrategy(optuna.samplers.RandomSampler(seed=0), lambda t: {"x": t.suggest_float("x", -2.0, 2.0)},
                              storage=JournalStorage(JournalFileBackend(path)), study_name="shared", shared=True)

    a, b = worker(), worker()
    running = a.ask()  # another process's trial, still running: it counts
    assert len(run_trials(b, objective, Budget(trials=3))) == 2
    assert a.spent(Budget(trials=3), [], time.time()) and not a.spent(Budget(trials=4), [], time.time())
    # the last slot is taken by another process between b's check and b's ask: b's ask is dropped, not charged
    check = b.spent

    def late(budget, results, started):
        spent = check(budget, results, started)
        a.ask()
        return spent

    b.spent = late
    assert b.ask_within(Budget(trials=4), [], time.time()) is None
    dropped = b.study.get_trials()[-1]
    assert dropped.state.name == "FAIL" and not OptunaStrategy.is_result(dropped)
    assert len(a._charged()) == 4 and len(b.history()) == 2
    a.tell(running, TrialResult(running.number, running.params, "COMPLETE", 1.0, 0.5, 1, 0.0))
    assert sorted(t.number for t in worker().history()) == [0, 1, 2]


def test_enqueued_points_are_asked_first_once_and_derived_params_survive_a_resume(tmp_path):
    journal = JournalStorage(JournalFileBackend(str(tmp_path / "g.journal")))

    def grid():
        s = OptunaStrategy(optuna.samplers.RandomSampler(seed=0), lambda t: {"x2": 2 * t.suggest_categorical("x", [0.0, 1.0, 2.0])},
                           storage=journal, study_name="grid")
        s.enqueue([{"x": 2.0}, {"x": 0.0}])
        return s

    def fit(params, number, report):
        return params["x2"], {"epochs": 1, "fit_seconds": 0.25, "test": {"rmse": 1.0}}

    first = run_trials(grid(), fit, Budget(trials=2), started=time.time() - 100)
    assert [t.params for t in first] == [{"x2": 4.0}, {"x2": 0.0}]
    assert all(t.fit_seconds == 0.25 and t.test == {"rmse": 1.0} and t.elapsed >= 100 for t in first)
    again = grid()  # the same points again: already tried, not queued twice
    assert again.history() == first and again.ask().number == 2 and len(again.study.trials) == 3  # a draw, nothing waiting
    assert run_trials(grid(), fit, Budget(seconds=5), started=time.time() - 10) == first  # its seconds were spent before


def test_budget_reached_by_counts():
    now = time.time()
    assert Budget(trials=3).reached(3, 0, now) and not Budget(trials=3).reached(2, 100, now)
    assert Budget(epochs=5).reached(0, 5, now) and Budget(seconds=1).reached(0, 0, now - 2) and not Budget().reached(10**6, 10**6, now - 10**6)


def test_a_record_of_an_earlier_version_is_still_read():
    s = strategy()
    ask = s.ask()
    old = TrialResult(ask.number, {"x": 9.0}, "COMPLETE", 0.5, 1.0, 2, 3.0)
    ask.handle.set_user_attr("result", dataclasses.asdict(old))
    s.study.tell(ask.handle, 0.5)
    assert s.history() == [old]
