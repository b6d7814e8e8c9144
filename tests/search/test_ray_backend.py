"""The Ray backend against a real local Ray instance (not a mock)."""

import os

import pytest

from autorecs.data import split
from autorecs.models import BiasedMF
from autorecs.search import Tuner, builtin_space

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'autorecs[ray]'")
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_trials_run_as_ray_tasks_with_the_storage_as_source_of_truth(local_ray, ratings_data, tmp_path):
    parts = split(ratings_data, "random-60-20-20", seed=0)
    space = builtin_space("lambdaopt-grid", set(BiasedMF.Config.__dataclass_fields__))
    tuner = Tuner("biased-mf", space, strategy="grid", fixed={"factors": 3, "epochs": 5}, storage=tmp_path / "ray.journal",
                  backend="ray", n_jobs=2, prune=False)
    res = tuner.run(parts.train, parts.valid, parts.test)
    assert sorted(t.params["reg"] for t in res.trials) == sorted(space.grid()["reg"])  # each point once, none lost or repeated
    assert res.best is not None and res.test is not None
    workers = {t.worker for t in res.trials}
    assert all(w and not w.endswith(f":{os.getpid()}") for w in workers)  # ran in Ray worker processes


def test_a_crashed_ray_worker_is_a_lost_worker(local_ray):
    from autorecs.executor import WorkerLost, executor

    def job(x):  # nested: Ray ships it by value
        import os
        import signal

        if x < 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return 2 * x

    with executor("ray", 2) as ex:
        with pytest.raises(WorkerLost, match="a Ray worker died"):
            ex.map(job, [1, -1, 2])
        assert ex.map(job, [1, 2]) == [2, 4]


def test_auto_runs_trials_as_ray_tasks(local_ray, ratings_data, tmp_path):
    from autorecs import Recommender
    from autorecs.auto import auto

    parts = split(ratings_data, "random-60-20-20", seed=0)
    res = auto(parts.train, parts.valid, task="rating", budget=10, families=["baseline", "biased-mf-als"], backend="ray", n_jobs=2,
               out_dir=tmp_path / "r", progress=False)
    assert len([t for t in res.leaderboard if t.state == "COMPLETE"]) >= 3 and not [t for t in res.leaderboard if t.error]
    assert Recommender.load(tmp_path / "r" / "model").predict([0], [0]).shape == (1,)


def test_ray_tasks_warnings_reach_the_front_end(local_ray, capfd):
    """Ray does not forward its workers' output (log_to_driver=False): a failed trial's warning came back nowhere."""
    from autorecs._progress import warning_lines
    from autorecs.executor import executor

    def job(x):  # nested: Ray ships it by value
        import warnings

        from autorecs._progress import logger

        warnings.warn(f"python warning {x}")
        logger.warning("library warning %d", x)
        return x

    with warning_lines():
        with executor("ray", 2) as ex:
            assert ex.map(job, [1, 2, 1]) == [1, 2, 1]
    err = capfd.readouterr().err
    for x in (1, 2):
        assert f"warning: python warning {x}\n" in err and f"warning: library warning {x}\n" in err
    with executor("ray", 2) as ex:  # outside a front end: a Python warning here, the library's logger silent
        with pytest.warns(UserWarning, match="python warning 3"):
            ex.map(job, [3])
    assert "library warning 3" not in capfd.readouterr().err
    with warning_lines():  # the same warning from three tasks: shown once, as one process shows it (the filters' registry)
        with executor("ray", 2) as ex:
            ex.map(job, [4, 4, 4])
    assert capfd.readouterr().err.count("warning: python warning 4\n") == 1
