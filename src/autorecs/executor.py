"""Where parallel work runs, behind one interface: this process, a local process pool, or Ray
tasks (a local Ray, or a running cluster by address).

``with executor("local", n_jobs=4) as ex: results = ex.map(fn, jobs)`` returns the results in job
order.  A worker that dies before returning (SIGKILL, the OOM killer, a crashed Ray worker) raises
:class:`WorkerLost` instead of a backend-specific error; the executor is usable again afterwards
(a process pool is replaced by a fresh one).  What a lost worker's job meant is the caller's
decision: the tuner re-queues its trial once (``search/engine.py``).
"""

from __future__ import annotations

from typing import Callable, Iterable

from ._progress import inherit_warning_lines, kept_warnings, replay
from .exceptions import ConfigError, check_param

BACKENDS = ("local", "ray")


class WorkerLost(RuntimeError):
    """A worker process (or Ray task) died before it returned its result."""


class Executor:
    """Run ``fn`` over jobs; subclasses decide where.  A context manager: ``close`` on exit."""

    n_workers: int = 1

    def map(self, fn: Callable, jobs: Iterable) -> list:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InProcess(Executor):
    def map(self, fn, jobs) -> list:
        return [fn(job) for job in jobs]


class ProcessPool(Executor):
    """A pool of ``n_jobs`` spawned processes (spawn, not fork: forking a process whose PyTorch
    thread pool is running can hang), replaced by a fresh one after a worker dies."""

    def __init__(self, n_jobs: int):
        self.n_workers = n_jobs
        self._pool = None

    def map(self, fn, jobs) -> list:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.n_workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=inherit_warning_lines)
        try:
            return list(self._pool.map(fn, jobs))
        except BrokenProcessPool as exc:
            self.close()
            raise WorkerLost("a worker process died (killed, or out of memory)") from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class RayTasks(Executor):
    """One Ray task (one CPU) per job.  Tasks are not retried by Ray: a crashed worker is reported as
    :class:`WorkerLost`, like a dead process.  A job object passed several times travels to the
    object store once.  Ray does not forward the tasks' output here: their warnings come back with
    their results and are shown here as they arrive (a task that raises loses its own)."""

    def __init__(self, n_jobs: int, address: str | None):
        try:
            import ray
        except ImportError as exc:
            raise ConfigError("The 'ray' backend needs Ray; install it with `pip install 'autorecs[ray]'` or use --backend local.") from exc
        self._ray = ray
        self._started_here = not ray.is_initialized()
        if self._started_here:
            kwargs = {"num_cpus": n_jobs} if address is None else {}
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False, **kwargs)
        self.n_workers = n_jobs
        self._shown: dict = {}  # the tasks' Python warnings already shown (replay's registry)

    def map(self, fn, jobs) -> list:
        ray = self._ray
        task = ray.remote(num_cpus=1, max_retries=0)(kept_warnings)
        fn_ref = ray.put(fn)
        refs: dict[int, object] = {}
        pending = []
        for job in jobs:
            if id(job) not in refs:
                refs[id(job)] = ray.put(job)
            pending.append(task.remote(fn_ref, refs[id(job)]))
        try:
            results = [None] * len(pending)
            index = {ref: n for n, ref in enumerate(pending)}
            waiting = list(pending)
            while waiting:
                done, waiting = ray.wait(waiting, num_returns=1)
                results[index[done[0]]], kept = ray.get(done[0])
                replay(kept, self._shown)
            return results
        except ray.exceptions.RayTaskError:  # an error raised inside the task: the caller's to handle
            raise
        except ray.exceptions.RayError as exc:  # a crashed worker or node, a lost object, out of memory, cancelled
            raise WorkerLost(f"a Ray worker died ({type(exc).__name__})") from exc

    def close(self) -> None:
        if self._started_here:
            self._ray.shutdown()
            self._started_here = False


def executor(backend: str = "local", n_jobs: int = 1, ray_address: str | None = None, *, owner: str = "executor") -> Executor:
    """The executor for ``backend`` (``local``: this process when ``n_jobs`` is 1, else a process
    pool; ``ray``: Ray tasks); ``owner`` names the caller in error messages."""
    check_param(backend in BACKENDS, owner, "backend", backend, f"one of {list(BACKENDS)}")
    check_param(isinstance(n_jobs, int) and not isinstance(n_jobs, bool) and n_jobs >= 1, owner, "n_jobs", n_jobs, "an int >= 1")
    if backend == "ray":
        return RayTasks(n_jobs, ray_address)
    return ProcessPool(n_jobs) if n_jobs > 1 else InProcess()
