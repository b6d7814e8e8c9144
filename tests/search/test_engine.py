import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from autorecs.data import split, write_interactions
from autorecs.exceptions import ConfigError, DataError
from autorecs.models import BiasedMF
from autorecs.search import Budget, Param, SearchSpace, Tuner, builtin_space

FIELDS = set(BiasedMF.Config.__dataclass_fields__)


@pytest.fixture(scope="module")
def parts(ratings_data):
    return split(ratings_data, "random-60-20-20", seed=0)


def test_grid_search_tries_every_point_and_selects_on_validation(parts, tmp_path):
    space = SearchSpace((Param("reg", "categorical", choices=(1e-3, 0.05, 30.0), apply_to=("reg_user", "reg_item")),))
    tuner = Tuner("biased-mf", space, strategy="grid", fixed={"factors": 3, "epochs": 15}, storage=tmp_path / "s.journal")
    res = tuner.run(parts.train, parts.valid, parts.test)
    assert sorted(t.params["reg"] for t in res.trials) == [1e-3, 0.05, 30.0]
    values = {t.params["reg"]: t.value for t in res.trials}
    assert res.best.params["reg"] == min(values, key=values.get)  # the lowest validation RMSE wins
    assert values[30.0] > values[res.best.params["reg"]]  # known answer: λ=30 underfits this rank-3 matrix
    assert res.test is not None and abs(res.extra["refit_valid"] - res.best.value) < 1e-6  # refit is the same model
    assert all(t.fit_seconds > 0 and t.epochs >= 1 for t in res.trials)
    from autorecs.search.compare import overhead_seconds

    # the search's own cost: its wall time (which ends before the refit) less the trials' training; was minus the refit too
    assert 0 <= overhead_seconds(res) == pytest.approx(res.wall_seconds - res.fit_seconds)
    from autorecs.plots import plot_search_cost

    assert plot_search_cost([res], tmp_path / "cost.png").stat().st_size > 5_000


def test_resume_continues_the_study_and_keeps_finished_trials(parts, tmp_path):
    space = builtin_space("mf-tpe", FIELDS)
    kw = dict(strategy="random", fixed={"solver": "adam", "epochs": 3}, storage=tmp_path / "s.journal", study="resume")
    first = Tuner("biased-mf", space, budget=Budget(trials=3), **kw).run(parts.train, parts.valid)
    second = Tuner("biased-mf", space, budget=Budget(trials=5), **kw).run(parts.train, parts.valid)
    assert len(first.trials) == 3 and len(second.trials) == 5
    before = {t.number: (t.params, t.value) for t in first.trials}
    assert all(before[n] == (t.params, t.value) for t in second.trials if (n := t.number) in before)
    points = [tuple(sorted(t.params.items())) for t in second.trials]
    assert len(set(points)) == 5  # the resumed run draws its own points (a sampler reseeded as the first run's repeats them)
    from autorecs.search.compare import overhead_seconds

    # the continued run's own cost: its 2 trials against its wall time (all 5 trials' fit seconds made it negative)
    assert second.extra["earlier_trials"] == 3 and 0 <= overhead_seconds(second) < second.wall_seconds


def test_each_worker_of_a_study_draws_its_own_points(parts, tmp_path):
    """Workers build their own sampler: with one seed they would propose the same random points."""
    from autorecs.search.engine import _Job, _strategy

    space = builtin_space("mf-tpe", FIELDS)
    job = _Job("biased-mf", space, {"solver": "adam"}, "random", "workers", str(tmp_path / "w.journal"), 0, False, Budget(trials=4),
               time.time(), parts.train, parts.valid)
    strategies = [_strategy(dataclasses.replace(job, worker=k), "minimize") for k in (0, 1)]  # both start on a fresh study
    first = [st.ask().params for st in strategies]
    assert first[0] != first[1]
    again = _strategy(job, "minimize").ask().params  # worker 0 again, the study no longer fresh
    assert again not in first


def test_ctrl_c_stops_the_search_and_the_trial_runs_again(parts, tmp_path, monkeypatch):
    """Ctrl-C inside a trial's training is no result: the search stops (KeyboardInterrupt reaches the caller,
    the CLI exits 130), that trial is not counted, and its parameters wait in the study's queue for the rerun."""
    space = SearchSpace((Param("reg", "categorical", choices=(0.01, 0.05, 0.1), apply_to=("reg_user", "reg_item")),))
    kw = dict(strategy="grid", fixed={"factors": 3, "epochs": 4}, storage=tmp_path / "s.journal", study="ctrl-c")
    original, calls = BiasedMF._train_epoch, []

    def pressed(self):
        calls.append(1)
        if len(calls) == 6:  # the second trial's second epoch
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(BiasedMF, "_train_epoch", pressed)
    with pytest.raises(KeyboardInterrupt):
        Tuner("biased-mf", space, **kw).run(parts.train, parts.valid)
    monkeypatch.undo()
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    study = optuna.load_study(study_name="ctrl-c", storage=JournalStorage(JournalFileBackend(str(tmp_path / "s.journal"))))
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    assert "RUNNING" not in states and states.count("FAIL") == 1  # abandoned, not left for the dead-worker requeue
    waiting = [t for t in study.get_trials(deepcopy=False) if t.state.name == "WAITING"]
    assert any(t.system_attrs.get("fixed_params", {}).get("reg") == 0.05 for t in waiting)  # the interrupted point, queued again
    again = Tuner("biased-mf", space, **kw).run(parts.train, parts.valid)
    done = [t for t in again.trials if t.state == "COMPLETE"]
    assert sorted(t.params["reg"] for t in done) == [0.01, 0.05, 0.1] and len(again.trials) == 3  # no half-trained result kept
    assert all(t.epochs == 4 for t in done)


def test_a_study_is_not_continued_on_other_data(parts, ratings_data, tmp_path):
    space = builtin_space("mf-tpe", FIELDS)
    kw = dict(strategy="random", fixed={"solver": "adam", "epochs": 2}, storage=tmp_path / "s.journal", budget=Budget(trials=2))
    first = Tuner("biased-mf", space, study="named", **kw).run(parts.train, parts.valid)
    other = split(ratings_data, "random-60-20-20", seed=1)
    with pytest.raises(ConfigError, match="The study 'named' in .* was started on other data; give it another study name"):
        Tuner("biased-mf", space, study="named", **kw).run(other.train, other.valid)
    with pytest.raises(ConfigError, match="was started on other fixed parameters"):
        Tuner("biased-mf", space, study="named", **{**kw, "fixed": {"solver": "adam", "epochs": 3}}).run(parts.train, parts.valid)
    # without a name, each data set gets its own study (the name carries the data's fingerprint), in the same journal
    a = Tuner("biased-mf", space, **kw).run(parts.train, parts.valid)
    b = Tuner("biased-mf", space, **kw).run(other.train, other.valid)
    with pytest.warns(UserWarning, match="trained nothing"):
        again = Tuner("biased-mf", space, **kw).run(parts.train, parts.valid)
    assert a.study != b.study and a.study == again.study and len(b.trials) == 2 and len(first.trials) == 2
    assert [t.value for t in again.trials] == [t.value for t in a.trials]  # continued: nothing retrained


@pytest.mark.parametrize("where,message", [
    (lambda tmp: tmp / "no" / "such" / "s.journal", "neither it nor"),
    (lambda tmp: tmp, "is a directory; give a journal file inside it"),
])
def test_storage_paths_are_checked_before_the_search(tmp_path, where, message):
    with pytest.raises(ConfigError, match=message):
        Tuner("biased-mf", builtin_space("mf-tpe", FIELDS), storage=where(tmp_path))
    assert not (tmp_path / "no").exists()


def test_a_missing_last_directory_level_is_created(parts, tmp_path):
    res = Tuner("biased-mf", builtin_space("mf-tpe", FIELDS), strategy="random", fixed={"solver": "adam", "epochs": 1},
                budget=Budget(trials=1), storage=tmp_path / "new" / "s.journal").run(parts.train, parts.valid)
    assert len(res.trials) == 1 and (tmp_path / "new" / "s.journal").is_file()


def test_epoch_budget_and_bad_options(parts, tmp_path):
    space = builtin_space("mf-tpe", FIELDS)
    res = Tuner("biased-mf", space, strategy="random", budget=Budget(epochs=10), fixed={"solver": "adam", "epochs": 4, "patience": 4},
                storage=tmp_path / "e.journal").run(parts.train, parts.valid)
    assert 10 <= res.epochs < 10 + 4
    with pytest.raises(ConfigError, match="strategy"):
        Tuner("biased-mf", space, strategy="bayes")
    with pytest.raises(ConfigError, match="grid strategy needs categorical"):
        Tuner("biased-mf", space, strategy="grid")
    with pytest.raises(ConfigError, match=r"Fixed hyperparameters \['epoch'\]"):
        Tuner("biased-mf", space, fixed={"epoch": 3})
    with pytest.raises(ConfigError, match="'trials' budget must be a whole number > 0"):
        Budget(trials=0)


def _tune_command(tmp_path, ratings_data, study: str, *args: str) -> tuple[list[str], object]:
    """A real `autorecs tune` command line (random search of mf-tpe with Adam) on files in ``tmp_path``."""
    s = split(ratings_data, "random-60-20-20", seed=0)
    write_interactions(s.train, tmp_path / "train.csv")
    write_interactions(s.valid, tmp_path / "valid.csv")
    journal = tmp_path / "study.journal"
    cmd = [sys.executable, "-m", "autorecs.cli", "tune", "--train", str(tmp_path / "train.csv"), "--valid", str(tmp_path / "valid.csv"),
           "--task", "rating", "--space", "mf-tpe", "--strategy", "random", "-p", "solver=adam", *args,
           "--storage", str(journal), "--study", study, "--json"]
    return cmd, journal


def test_killed_search_resumes_without_losing_finished_trials(tmp_path, ratings_data):
    """SIGKILL a real `autorecs tune` mid-search, run the same command again: nothing finished is lost."""
    cmd, journal = _tune_command(tmp_path, ratings_data, "kill", "--trials", "12", "-p", "epochs=40", "-p", "patience=40")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "OMP_NUM_THREADS": "1"})

    def finished():
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        if not journal.exists():
            return []
        st = optuna.load_study(study_name="kill", storage=JournalStorage(JournalFileBackend(str(journal))))
        return [(t.number, t.value) for t in st.get_trials() if t.state.name == "COMPLETE"]

    deadline = time.time() + 120
    while len(finished()) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "the search ended before it could be killed; make trials longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = finished()
    assert 2 <= len(done_before) < 12
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)["studies"][0]
    after = {(t["number"], t["value"]) for t in result["trials"] if t["state"] == "COMPLETE"}
    assert set(done_before) <= after
    assert result["states"].get("COMPLETE", 0) == 12 and len(result["trials"]) == 12


def test_pruning_stops_clearly_bad_trials(parts, tmp_path):
    space = SearchSpace((Param("reg", "categorical", choices=(0.05, 0.06, 0.07, 0.08, 0.09, 50.0, 60.0, 70.0), apply_to=("reg_user", "reg_item")),),
                        fixed={"factors": 3, "epochs": 30, "patience": 30, "solver": "adam", "learning_rate": 0.01})
    res = Tuner("biased-mf", space, strategy="grid", storage=tmp_path / "p.journal", prune=True).run(parts.train, parts.valid)
    states = {t.params["reg"]: t.state for t in res.trials}
    assert all(states[r] == "COMPLETE" for r in (0.05, 0.06, 0.07, 0.08, 0.09))  # the first five are never pruned
    assert any(states[r] == "PRUNED" for r in (50.0, 60.0, 70.0))
    assert sum(t.epochs for t in res.trials if t.state == "PRUNED") < 3 * 30


def test_process_pool_backend_shares_one_study(parts, tmp_path):
    space = SearchSpace((Param("reg", "categorical", choices=(0.01, 0.1, 1.0, 10.0), apply_to=("reg_user", "reg_item")),), fixed={"factors": 2, "epochs": 3})
    res = Tuner("biased-mf", space, strategy="grid", storage=tmp_path / "pool.journal", n_jobs=2).run(parts.train, parts.valid)
    assert sorted(t.params["reg"] for t in res.trials) == [0.01, 0.1, 1.0, 10.0]
    assert all(not t.worker.endswith(f":{os.getpid()}") for t in res.trials)
    from autorecs.search.compare import overhead_seconds

    assert overhead_seconds(res) >= 0  # two workers: their fit seconds add up to more than the wall time


def test_yaml_space_file(tmp_path):
    pytest.importorskip("yaml")
    f = tmp_path / "space.yaml"
    f.write_text("params:\n  reg:\n    type: categorical\n    choices: [0.1, 1.0]\n    apply_to: [reg_user, reg_item]\nfixed:\n  epochs: 2\n")
    space = SearchSpace.from_file(f)
    assert space.grid() == {"reg": [0.1, 1.0]} and space.fixed == {"epochs": 2}


def test_test_all_scores_every_trial_but_selects_on_validation(parts, tmp_path):
    space = SearchSpace((Param("reg", "categorical", choices=(0.01, 1.0, 30.0), apply_to=("reg_user", "reg_item")),), fixed={"factors": 3, "epochs": 10})
    res = Tuner("biased-mf", space, strategy="grid", storage=tmp_path / "t.journal").run(parts.train, parts.valid, parts.test, test_all=True)
    assert all(t.test is not None and "rmse" in t.test for t in res.trials)
    assert res.best.value == min(t.value for t in res.trials)
    assert res.test["rmse"] == pytest.approx(next(t for t in res.trials if t.number == res.best.number).test["rmse"], rel=1e-6)


def test_a_value_the_model_refuses_is_refused_before_the_search(tmp_path):
    space = SearchSpace((Param("solver", "categorical", choices=("adam", "bogus")),))
    with pytest.raises(ConfigError, match=r"Search parameter 'solver' can take the value 'bogus'.*remove it"):
        Tuner("biased-mf", space, strategy="grid", storage=tmp_path / "s.journal")
    with pytest.raises(ConfigError, match=r"'factors' can take the value 0"):
        Tuner("biased-mf", SearchSpace((Param("factors", "int", low=0, high=8),)), strategy="random", storage=tmp_path / "t.journal")


def test_an_error_inside_a_trial_is_a_failed_trial_and_the_study_goes_on(parts, tmp_path, monkeypatch):
    """A trial that raises something other than divergence is recorded as failed with its message;
    the other trials complete and a rerun does not stop on it."""
    space = SearchSpace((Param("reg", "categorical", choices=(0.01, 0.05, 0.1), apply_to=("reg_user", "reg_item")),))
    original = BiasedMF.fit

    def flaky(self, *a, **kw):
        if self.config.reg_user == 0.05:
            raise RuntimeError("out of memory (simulated)")
        return original(self, *a, **kw)

    monkeypatch.setattr(BiasedMF, "fit", flaky)
    kw = dict(strategy="grid", fixed={"factors": 3, "epochs": 3}, storage=tmp_path / "s.journal", study="flaky")
    res = Tuner("biased-mf", space, **kw).run(parts.train, parts.valid)
    states = {t.params["reg"]: t.state for t in res.trials}
    assert states == {0.01: "COMPLETE", 0.05: "FAIL", 0.1: "COMPLETE"}
    failed = next(t for t in res.trials if t.state == "FAIL")
    assert "RuntimeError: out of memory (simulated)" in failed.error
    with pytest.warns(UserWarning, match="trained nothing"):  # the rerun neither raises nor repeats work, and says so
        again = Tuner("biased-mf", space, **kw).run(parts.train, parts.valid)
    assert len([t for t in again.trials if t.state == "COMPLETE"]) == 2


def test_the_tuner_leaves_optunas_log_level_as_it_found_it(parts, tmp_path):
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.DEBUG)
    try:
        space = SearchSpace((Param("reg", "categorical", choices=(0.01,), apply_to=("reg_user", "reg_item")),))
        Tuner("biased-mf", space, strategy="grid", fixed={"factors": 2, "epochs": 2}, storage=tmp_path / "s.journal").run(parts.train, parts.valid)
        assert optuna.logging.get_verbosity() == optuna.logging.DEBUG
    finally:
        optuna.logging.set_verbosity(before)


def _children(pid: int) -> list[tuple[int, str]]:
    out = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [(int(line.split(None, 1)[0]), line.split(None, 1)[1]) for line in out.splitlines() if line.strip()]


def test_a_dead_worker_does_not_end_the_search(tmp_path, ratings_data):
    """SIGKILL one worker of `autorecs tune --jobs 2` mid-trial (as the OOM killer would): its trial is
    queued again, fresh workers take over, and the run completes its budget with exit 0 and its JSON."""
    cmd, journal = _tune_command(tmp_path, ratings_data, "dead", "--trials", "6", "--jobs", "2", "-p", "epochs=100", "-p", "patience=100")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})

    def running() -> int:
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        if not journal.exists():
            return 0
        st = optuna.load_study(study_name="dead", storage=JournalStorage(JournalFileBackend(str(journal))))
        return sum(t.state.name == "RUNNING" for t in st.get_trials())

    deadline = time.time() + 120
    workers: list[int] = []
    while time.time() < deadline and proc.poll() is None:
        workers = [pid for pid, args in _children(proc.pid) if "multiprocessing.spawn" in args]
        if len(workers) == 2 and running() >= 1:
            break
        time.sleep(0.2)
    assert proc.poll() is None and workers, "the search ended before a worker could be killed; make trials longer"
    time.sleep(0.5)  # inside a trial (when the pool breaks, every running trial fails and is queued again)
    os.kill(workers[0], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    result = json.loads(stdout)["studies"][0]
    assert len(result["trials"]) == 6 and result["states"].get("COMPLETE", 0) == 6
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    st = optuna.load_study(study_name="dead", storage=JournalStorage(JournalFileBackend(str(journal))))
    killed = [t for t in st.get_trials() if t.state.name == "FAIL"]
    retried = [t for t in st.get_trials() if "retry_of" in t.user_attrs]
    assert killed and retried and all(t.state.name == "COMPLETE" for t in retried)  # the killed trial ran again, to the end


def test_a_rerun_of_a_spent_study_says_it_trained_nothing(parts, tmp_path):
    """A notebook cell run twice: the second run returns the stored trials at once, and says so."""
    space = builtin_space("lambdaopt-grid", BiasedMF)  # a model class where a registry name would do
    assert space.to_dict() == builtin_space("lambdaopt-grid", "biased-mf").to_dict() == builtin_space("lambdaopt-grid", FIELDS).to_dict()
    tuner = lambda: Tuner(BiasedMF, space, strategy="grid", budget=Budget(trials=2), storage=tmp_path / "s.journal")  # noqa: E731
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = tuner().run(parts.train, parts.valid)
    with pytest.warns(UserWarning, match=r"had spent its budget \(2 trials\) in earlier runs .* trained nothing and returns its 2 trials"):
        again = tuner().run(parts.train, parts.valid)
    assert [t.value for t in again.trials] == [t.value for t in first.trials] and again.best.params == first.best.params
    with pytest.raises(ConfigError, match=r"Unknown model <class 'int'>; give a registered model's name"):
        Tuner(int, space)


def test_a_small_trial_budget_reaches_tpe(parts, tmp_path):
    """TPE drew Optuna's 10 random start-up points first: with Budget(trials=8) (the README's example) it never modelled."""
    from autorecs.search.engine import startup_trials

    assert [startup_trials(t) for t in (None, 4, 8, 30, 100)] == [10, 3, 3, 10, 10]
    space = builtin_space("mf-tpe", FIELDS)
    kw = dict(fixed={"solver": "adam", "epochs": 2}, budget=Budget(trials=5), seed=3)
    rand = Tuner("biased-mf", space, strategy="random", storage=tmp_path / "r.journal", **kw).run(parts.train, parts.valid)
    tpe = Tuner("biased-mf", space, strategy="tpe", storage=tmp_path / "t.journal", **kw).run(parts.train, parts.valid)
    points = lambda res: [tuple(sorted(t.params.items())) for t in sorted(res.trials, key=lambda t: t.number)]  # noqa: E731
    assert points(tpe)[:3] == points(rand)[:3] and points(tpe)[3:] != points(rand)[3:]  # 3 start-up points, then TPE's own


def test_a_negative_seed_is_refused_before_the_search(parts, tmp_path):
    """`tune --seed -1` ended in Optuna's ValueError ("Seed must be between 0 and 2**32 - 1") inside the search."""
    with pytest.raises(ConfigError, match=r"The 'seed' parameter of Tuner must be an int in \[0, 2\*\*32\)"):
        Tuner("biased-mf", builtin_space("mf-tpe", FIELDS), seed=-1, storage=tmp_path / "s.journal")
    from autorecs.sif.pipeline import search_ifc

    with pytest.raises(ConfigError, match="The 'seed' parameter of search_ifc"):
        search_ifc(parts.train, parts.valid, dims=(2,), seed=-1, out_dir=tmp_path / "sif", progress=False)
    assert not (tmp_path / "sif").exists()  # refused before the directory was claimed


def test_notebook_mistakes_are_refused_before_any_trial(parts, implicit_data, tmp_path):
    """A rating model on implicit data spent the budget on failed trials (best=none); a dict space crashed; NumPy values in
    a space crashed the study's JSON; a DataFrame as train died on 'fingerprint'."""
    import numpy as np

    from autorecs.models import ImplicitALS

    from autorecs.data import Columns, Interactions

    clicks = Interactions.from_frame(implicit_data.to_frame(), Columns(rating=None))
    with pytest.raises(DataError, match="BiasedMF predicts ratings, but the training data has no rating column"):
        Tuner("biased-mf", builtin_space("mf-tpe", FIELDS), storage=tmp_path / "a.journal").run(clicks, clicks)
    with pytest.raises(DataError, match=r"Tuner.run\(\) takes autorecs Interactions as 'train'; got DataFrame"):
        Tuner("biased-mf", builtin_space("mf-tpe", FIELDS), storage=tmp_path / "b.journal").run(parts.train.to_frame(), parts.valid)
    space = {"fixed": {"epochs": np.int64(2)}, "params": {"factors": {"type": "categorical", "choices": list(np.array([2, 4]))}}}
    res = Tuner(ImplicitALS, space, budget=Budget(trials=2), storage=tmp_path / "c.journal").run(implicit_data, implicit_data)
    assert len(res.trials) == 2 and {t.params["factors"] for t in res.trials} <= {2, 4}
    with pytest.raises(ConfigError, match="has no 'type'"):
        Tuner(ImplicitALS, {"params": {"factors": {"low": 8, "high": 64}}})


def test_a_ranking_tune_scores_its_test_without_the_validation_items(tmp_path):
    """Tuner.run left each user's validation items among the test candidates (auto and `autorecs tune` leave them out)."""
    from autorecs import evaluate
    from autorecs.data.synthetic import low_rank_ratings
    from autorecs.models import ImplicitALS

    data = low_rank_ratings(80, 60, 2400, factors=2, seed=0)
    tr, va, te = split(data, "random-60-20-20", seed=0)
    space = SearchSpace((Param("factors", "categorical", choices=(2,)),), fixed={"epochs": 2})
    res = Tuner(ImplicitALS, space, budget=Budget(trials=1), storage=tmp_path / "r.journal").run(tr, va, te)
    assert res.test["topk"]["ndcg@50"] == pytest.approx(evaluate(res.model, te, exclude=[va])["topk"]["ndcg@50"])


def test_numpy_grids_and_the_ranking_study_identity(implicit_data, tmp_path):
    """choices=np.logspace(...) crashed ('can only convert an array of size 1'); the default exclude=[valid] of a ranking
    run changed the study's identity, so an existing study no longer continued."""
    import numpy as np

    from autorecs.models import ImplicitALS

    space = SearchSpace.from_dict({"params": {"reg": {"type": "categorical", "choices": np.logspace(-1, 1, 3)}}, "fixed": {"epochs": 1}})
    assert space.params[0].choices == (0.1, 1.0, 10.0)
    kw = dict(storage=tmp_path / "s.journal", study="s")
    Tuner(ImplicitALS, space, budget=Budget(trials=1), **kw).run(implicit_data, implicit_data, exclude=())  # as before the default changed
    again = Tuner(ImplicitALS, space, budget=Budget(trials=2), **kw).run(implicit_data, implicit_data)  # the default: the same study
    assert len(again.trials) == 2
