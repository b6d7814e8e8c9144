import os
import signal

import pytest

from autorecs.exceptions import ConfigError
from autorecs.executor import InProcess, ProcessPool, WorkerLost, executor


def double_or_die(x):
    if x < 0:
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
    return 2 * x


def test_backends_are_chosen_and_checked():
    assert isinstance(executor("local", 1), InProcess) and isinstance(executor("local", 3), ProcessPool)
    with pytest.raises(ConfigError, match="The 'backend' parameter of Tuner must be one of"):
        executor("dask", 2, owner="Tuner")
    with pytest.raises(ConfigError, match="'n_jobs' parameter of executor must be an int >= 1; got 0"):
        executor("local", 0)


def test_results_come_back_in_job_order():
    with executor("local", 1) as ex:
        assert ex.map(double_or_die, [3, 1, 2]) == [6, 2, 4]
    with executor("local", 2) as ex:
        assert ex.map(double_or_die, list(range(8))) == [2 * x for x in range(8)]


def test_a_dead_process_is_a_lost_worker_and_the_pool_recovers():
    with executor("local", 2) as ex:
        with pytest.raises(WorkerLost, match="a worker process died"):
            ex.map(double_or_die, [1, -1, 2])
        assert ex.map(double_or_die, [1, 2]) == [2, 4]  # a fresh pool took over
