"""Helpers shared by the benchmark scripts (not part of the library)."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict:
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "machine": platform.machine(),
    }


def run_isolated(script: str, *args: str) -> dict:
    """Run ``script --case ...`` in a fresh process (so peak memory is its own) and parse its JSON line."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = time.perf_counter() - t0
    return out


def mean_std(rows: list[dict], key: str, fmt: str = "{:.4f}") -> str:
    """``mean ± std`` of ``row[key]`` over rows (a missing or None value counts as NaN); one row: the value."""
    import numpy as np

    v = np.array([r.get(key) if r.get(key) is not None else np.nan for r in rows], float)
    return (fmt + " ± " + fmt).format(v.mean(), v.std()) if len(v) > 1 else fmt.format(v[0])
