"""Trials as Ray tasks: the same worker loop as the local backend, one CPU per task.

The study storage is the single source of truth, so every Ray worker must reach
it: a journal file on a shared file system, or an SQLAlchemy URL (e.g.
``postgresql://...``) for a real cluster.  ``address=None`` starts a local Ray
(stopped again at the end); ``"auto"`` or ``"HOST:PORT"`` joins a running cluster.
"""

from __future__ import annotations

from ..exceptions import ConfigError


def run_on_ray(job, n_tasks: int, address: str | None = None, num_cpus_per_task: float = 1.0) -> int:
    """Run ``n_tasks`` worker loops as Ray tasks; returns the number of trials they ran."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("The 'ray' backend needs Ray; install it with `pip install 'autorecs[ray]'` or use --backend local.") from exc
    from .engine import run_worker

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        task = ray.remote(num_cpus=num_cpus_per_task)(run_worker)
        job_ref = ray.put(job)  # the data travel once to the object store
        return int(sum(ray.get([task.remote(job_ref) for _ in range(n_tasks)])))
    finally:
        if started_here:
            ray.shutdown()
