"""Epoch times on a GPU (the speed issue's GPU targets), one JSON line per case.

    python benchmarks/bench_gpu.py --device cuda --out benchmarks/results/gpu.jsonl
    python benchmarks/bench_gpu.py --device cpu --synthetic 1e6      # the same cases on the CPU, smaller

Cases: an ml-1m epoch of BiasedMF (Adam, K=64, batch 1024) and of BPRMF (batch 1,024 and the default), an ml-1m
ImplicitALS sweep (K=64, CG) and an epoch over ``--synthetic`` generated interactions (BiasedMF,
Adam, K=32, batch 65,536; the target is 10^8 under 10 s).  Each case trains a few epochs and
reports the fastest (the first pays for moving data and warming kernels up), after
``torch.cuda.synchronize()``.  Targets: ml-1m epochs of BiasedMF and BPRMF under 0.1 s, 10^8
interactions under 10 s.

``--cases fits`` adds whole fits with the defaults (early stopping on validation) on ml-1m, the
speed issue's protocol (temporal-60-20-20 for the ranking models, random-50-25-25 for BiasedMF):
fit seconds, epochs and the test metric (train + validation excluded), to set beside
``bench_peers.py``'s CPU rows.

The synthetic data is drawn for speed, not realism: Zipf-distributed users and items (exponent
0.8) drawn independently, so a cell can repeat (an epoch's cost does not depend on that), and
ratings from biases plus noise.  ``low_rank_ratings`` (distinct cells, a planted low-rank
signal) takes about 25 s per 10^7 rows on one core, too slow for 10^8.

Each row says whether the trainer replayed CUDA graphs (``AUTORECS_CUDA_GRAPHS=1``, see
``autorecs.training.minibatch_epoch``) and whether the tensor path ran (always on a GPU;
``--tensor-path`` on the CPU, where the models otherwise run compiled kernels).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import commit, machine  # noqa: E402


#: Set by --tensor-path: the models run the tensor ops a GPU runs, on any device (for the CPU's figures of that path).
TENSOR_PATH = False
#: Set by --count-ops: one more epoch counts the PyTorch operators each step dispatches (on a GPU each is a launch or more).
COUNT_OPS = False


def _epochs(model, train, device: str, epochs: int, count: bool = False) -> dict:
    import torch

    if TENSOR_PATH:
        model._compiled = False
        model._compiled_optimizer = False
    model.fit(train, None, seed=0, progress=False, device=device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    secs = [e["seconds"] for e in model.history_.epochs]
    out = {"epoch_s": min(secs), "epoch_s_all": secs, "interactions": len(train)}
    if count and COUNT_OPS:
        out["ops_per_step"] = _ops_per_step(model)
    return out


def _ops_per_step(model) -> float:
    """PyTorch operators dispatched per mini-batch step over one more epoch (views included)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        n = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Count.n += 1
            return func(*args, **(kwargs or {}))

    batch = getattr(model, "batch_size_", None) or model.config.batch_size
    steps = -(-len(model._u) // batch)
    with Count():
        model._train_epoch()
    return Count.n / steps


def synthetic(n: int, seed: int = 0):
    """``n`` interactions over ``n // 50`` users and ``n // 500`` items (see the module docstring)."""
    import numpy as np
    import pandas as pd

    from autorecs.data import Interactions, Vocabulary

    rng = np.random.default_rng(seed)
    n_users, n_items = max(n // 50, 100), max(n // 500, 50)

    def zipf(m):
        cdf = np.cumsum(1.0 / np.arange(1, m + 1) ** 0.8)
        return np.searchsorted(cdf / cdf[-1], rng.random(n)).astype(np.int32)

    users, items = zipf(n_users), zipf(n_items)
    bu, bi = rng.normal(0, 0.3, n_users).astype(np.float32), rng.normal(0, 0.3, n_items).astype(np.float32)
    ratings = 3.5 + bu[users] + bi[items] + rng.normal(0, 0.5, n).astype(np.float32)
    return Interactions(users, items, Vocabulary(pd.RangeIndex(n_users)), Vocabulary(pd.RangeIndex(n_items)), ratings=ratings)


def _whole_fit(model, s, device: str, metric: str) -> dict:
    import torch
    from bench_peers import score

    t0 = time.perf_counter()
    model.fit(s.train, s.valid, seed=0, progress=False, device=device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    fit_s = time.perf_counter() - t0
    value = next(iter(score(model, s.test, s.valid).values()))  # bench_peers' test score: RMSE, or NDCG@50 without validation rows
    return {"fit_s": fit_s, "epochs": len(model.history_.epochs), "metric": metric, "test": float(value)}


CASES = ("epochs", "batch-epochs", "fits", "batches", "synthetic")


def run(device: str, synthetic_n: float, epochs: int = 3, cases=("epochs", "synthetic"), batches=(4096, 16384, 65536),
        models=("bpr", "biasedmf")) -> list[dict]:
    import torch

    from autorecs import BPRMF, BiasedMF, ImplicitALS, load, split

    rows = []
    data = load("ml-1m")
    if "epochs" in cases:
        tr, _, _ = split(data, "random-50-25-25", seed=0)
        rows.append({"case": "ml1m-biasedmf-adam", **_epochs(BiasedMF(solver="adam", epochs=epochs), tr, device, epochs, count=True)})
        tr, _, _ = split(data, "temporal-60-20-20")
        rows.append({"case": "ml1m-bpr", **_epochs(BPRMF(epochs=epochs, batch_size=1024), tr, device, epochs, count=True)})
        rows.append({"case": "ml1m-bpr-default", **_epochs(BPRMF(epochs=epochs), tr, device, epochs, count=True)})  # batch 8,192 on ml-1m
        rows.append({"case": "ml1m-implicit-als-k64", **_epochs(ImplicitALS(factors=64, epochs=epochs), tr, device, epochs)})
    ranking, rating = split(data, "temporal-60-20-20"), split(data, "random-50-25-25", seed=0)
    if "batch-epochs" in cases:  # epoch times at the batches the "batches" fits use
        for b in (16384, 65536):
            rows.append({"case": f"ml1m-biasedmf-adam-b{b}", "batch_size": b,
                         **_epochs(BiasedMF(solver="adam", epochs=epochs, batch_size=b), rating.train, device, epochs)})
            rows.append({"case": f"ml1m-bpr-b{b}", "batch_size": b, **_epochs(BPRMF(epochs=epochs, batch_size=b), ranking.train, device, epochs)})
    if "fits" in cases:
        rows.append({"case": "ml1m-bpr-fit", **_whole_fit(BPRMF(), ranking, device, "topk.ndcg@50")})
        rows.append({"case": "ml1m-implicit-als-fit", **_whole_fit(ImplicitALS(), ranking, device, "topk.ndcg@50")})
        rows.append({"case": "ml1m-biasedmf-fit", **_whole_fit(BiasedMF(), rating, device, "rmse")})
        rows.append({"case": "ml1m-biasedmf-adam-fit", **_whole_fit(BiasedMF(solver="adam"), rating, device, "rmse")})
    if "batches" in cases:  # the per-step cost is what a GPU pays at batch 1024: larger batches, the rate scaled by sqrt
        for b in batches:
            if "bpr" in models:
                lr = 0.002 * (b / 1024) ** 0.5
                rows.append({"case": f"ml1m-bpr-fit-b{b}", "batch_size": b, "learning_rate": lr,
                             **_whole_fit(BPRMF(batch_size=b, learning_rate=lr), ranking, device, "topk.ndcg@50")})
            if "biasedmf" in models:
                lr = 0.005 * (b / 1024) ** 0.5
                rows.append({"case": f"ml1m-biasedmf-adam-fit-b{b}", "batch_size": b, "learning_rate": lr,
                             **_whole_fit(BiasedMF(solver="adam", batch_size=b, learning_rate=lr), rating, device, "rmse")})
    if "synthetic" in cases:
        t0 = time.perf_counter()
        big = synthetic(int(synthetic_n))
        made_s = time.perf_counter() - t0
        model = BiasedMF(solver="adam", factors=32, batch_size=65536, learning_rate=0.01, epochs=2)
        rows.append({"case": f"synthetic-{synthetic_n:g}", **_epochs(model, big, device, 2), "generate_s": made_s})
    try:
        from autorecs.training import cuda_graphs_enabled
    except ImportError:  # a commit before the CUDA graphs (A/B runs of this script)
        cuda_graphs_enabled = bool

    for r in rows:
        r.update(device=device, gpu=torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
                 cuda_graphs=cuda_graphs_enabled() and device.startswith("cuda"), tensor_path=TENSOR_PATH or device.startswith("cuda"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--synthetic", type=float, default=1e8, help="interactions of the synthetic case")
    ap.add_argument("--cases", nargs="+", choices=CASES, default=["epochs", "synthetic"],
                    help="epochs: ml-1m epoch times (batch 1024); batch-epochs: the same at batches 16,384 and 65,536; fits: whole ml-1m fits with the defaults (fit seconds, test metric); "
                         "batches: whole fits at larger batches; synthetic: the --synthetic epoch")
    ap.add_argument("--batches", type=int, nargs="+", default=[4096, 16384, 65536], help="the batches case's batch sizes")
    ap.add_argument("--models", nargs="+", choices=["bpr", "biasedmf"], default=["bpr", "biasedmf"], help="the batches case's models")
    ap.add_argument("--tensor-path", action="store_true", help="run the GPU's tensor ops on any device (no compiled CPU kernels)")
    ap.add_argument("--count-ops", action="store_true", help="the epochs cases also count PyTorch operators per step (one more epoch)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    global TENSOR_PATH, COUNT_OPS
    TENSOR_PATH, COUNT_OPS = args.tensor_path, args.count_ops
    code = commit()
    t0 = time.perf_counter()
    for row in run(args.device, args.synthetic, cases=args.cases, batches=args.batches, models=args.models):
        row = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
        print(json.dumps(row), flush=True)
        if args.out:
            with args.out.open("a") as f:
                f.write(json.dumps({**row, "machine": machine(), "commit": code}) + "\n")
    print(json.dumps({"total_s": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
