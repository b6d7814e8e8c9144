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


def warn_twice(x):
    import warnings

    from autorecs._progress import logger

    warnings.warn(f"python warning {x}")
    logger.warning("library warning %d", x)
    return x


def test_spawned_workers_show_warnings_as_the_front_end_does(capfd):
    """The CLI shows warnings as one line each; a `--jobs N` worker's (a failed trial's) must not be lost."""
    from autorecs._progress import WARNING_LINES_ENV, warning_lines

    with warning_lines():
        with executor("local", 2) as ex:
            assert ex.map(warn_twice, [1, 2]) == [1, 2]
    err = capfd.readouterr().err
    for x in (1, 2):
        assert f"warning: python warning {x}\n" in err and f"warning: library warning {x}\n" in err
    assert WARNING_LINES_ENV not in os.environ  # put back
    with executor("local", 2) as ex:  # outside a front end: Python's default display, the library's logger silent
        ex.map(warn_twice, [3])
    err = capfd.readouterr().err
    assert "UserWarning: python warning 3" in err and "library warning 3" not in err


def test_warning_lines_nested_show_each_warning_once(capfd):
    import warnings

    from autorecs._progress import logger, warning_lines

    with warning_lines():
        with warning_lines():
            logger.warning("once?")
            warnings.warn("and this")
    err = capfd.readouterr().err
    assert err.count("warning: once?") == 1 and err.count("warning: and this") == 1
