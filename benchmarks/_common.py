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


def commit() -> str:
    """The short hash of the checkout these scripts run from (read before a run, not after it)."""
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=os.path.dirname(__file__))
    return out.stdout.strip()


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


class PeerFactors:
    """A peer library's fitted user and item factors in the minimal interface of
    ``autorecs.evaluation`` (ranking), so that its figures come from the same code as ours."""

    task = "ranking"

    def __init__(self, train, user_factors, item_factors):
        import numpy as np
        import torch

        self.user_vocab_, self.item_vocab_ = train.user_vocab, train.item_vocab
        self.seen_ = train.csr("ones")
        self.fitted_ = True
        self._U = torch.from_numpy(np.asarray(user_factors, np.float32))
        self._V = torch.from_numpy(np.asarray(item_factors, np.float32))

    def _check_fitted(self):
        pass

    def _score_codes(self, users):
        import torch

        return self._U[torch.as_tensor(users, dtype=torch.long)] @ self._V.T
