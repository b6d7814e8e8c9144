"""Map a function over jobs on the search engine's backends: this process, a local
process pool (spawn), or Ray tasks (a local Ray, or a running cluster by address)."""

from __future__ import annotations

from contextlib import contextmanager

from ..exceptions import ConfigError, check_param

BACKENDS = ("local", "ray")


@contextmanager
def mapper(backend: str = "local", n_jobs: int = 1, ray_address: str | None = None):
    """Yield ``map_fn(fn, jobs) -> iterable of results`` (in job order) and the number of workers."""
    check_param(backend in BACKENDS, "AutoCross", "backend", backend, f"one of {list(BACKENDS)}")
    check_param(isinstance(n_jobs, int) and n_jobs >= 1, "AutoCross", "n_jobs", n_jobs, "an int >= 1")
    if backend == "ray":
        try:
            import ray
        except ImportError as exc:
            raise ConfigError("The 'ray' backend needs Ray; install it with `pip install 'autorecs[ray]'` or use --backend local.") from exc
        started_here = not ray.is_initialized()
        if started_here:
            kwargs = {"num_cpus": n_jobs} if ray_address is None else {}
            ray.init(address=ray_address, include_dashboard=False, log_to_driver=False, configure_logging=False, **kwargs)
        try:
            def ray_map(fn, jobs):
                task = ray.remote(num_cpus=1)(fn)
                return ray.get([task.remote(job) for job in jobs])

            yield ray_map, max(n_jobs, int(ray.cluster_resources().get("CPU", 1)))
        finally:
            if started_here:
                ray.shutdown()
    elif n_jobs > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: forking a process whose PyTorch thread pool is running can hang
        with ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool.map, n_jobs
    else:
        yield map, 1
