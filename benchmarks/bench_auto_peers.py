"""The peers of ``autorecs auto`` (issue 18's table), measured as ``bench_auto.py`` measures auto: the same
split and seed, the same wall-clock budget, selection on validation only, the choice refit on
train + validation, test scored once.

    pip install -e ".[bench]" && pip install --no-deps auto-surprise hyperopt future py4j
    python benchmarks/bench_auto_peers.py --task rating  --peers svd auto-surprise --seeds 0 1 2 --out benchmarks/results/auto-peers.jsonl
    python benchmarks/bench_auto_peers.py --task ranking --peers implicit-als        --seeds 0 1 2 --out benchmarks/results/auto-peers.jsonl

Peers:

- ``svd``: Surprise's SVD over a wide grid (n_factors 20-200, n_epochs 20-100, lr_all, reg_all: 144
  points) in a seeded random order until the budget, less the refit's time, is spent.
- ``auto-surprise``: Auto-Surprise's engine (TPE over Surprise's algorithms) with ``cpu_time_limit``
  = the budget on train + validation (it cross-validates inside), its choice refit on train +
  validation.  Its limit is CPU time; the row records the wall time it took.
- ``implicit-als``: ``implicit``'s ALS over a wide grid (factors 32-256, regularization 0.01-100,
  alpha 1-40, 15 or 30 iterations: 200 points), as ``svd``.

Scores come from ``autorecs.evaluation`` (the code that scores auto), through the adapters of
``bench_peers.py`` / ``_common.py``.  One JSON line per (peer, seed).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).parent))
from _common import PeerFactors, machine  # noqa: E402
from _common import commit as _commit  # noqa: E402
from bench_auto import PROTOCOL  # noqa: E402

from autorecs import Interactions  # noqa: E402

GRIDS = {
    "svd": dict(n_factors=(20, 50, 100, 200), n_epochs=(20, 50, 100), lr_all=(0.002, 0.005, 0.01), reg_all=(0.02, 0.05, 0.1, 0.2)),
    "implicit-als": dict(factors=(32, 64, 128, 256), regularization=(0.01, 0.1, 1.0, 10.0, 100.0), alpha=(1.0, 5.0, 10.0, 20.0, 40.0),
                         iterations=(15, 30)),
}


def _surprise_set(data):
    import pandas as pd
    from surprise import Dataset, Reader

    frame = pd.DataFrame({"u": data.user_vocab.ids(data.users), "i": data.item_vocab.ids(data.items), "r": data.ratings})
    return Dataset.load_from_df(frame, Reader(rating_scale=(float(data.ratings.min()), float(data.ratings.max()))))


def _grid_search(grid: dict, fit, value, budget: float, seed: int, better) -> tuple[dict, float, int, float]:
    """Grid points in a seeded random order until ``budget`` less the refit's time (1.2 x the slowest fit)
    is spent; ``(best params, best validation value, trials, search seconds)``."""
    import numpy as np

    points = [dict(zip(grid, v)) for v in itertools.product(*grid.values())]
    order = np.random.default_rng(seed).permutation(len(points))
    t0, slowest, best, n = time.perf_counter(), 0.0, None, 0
    for k in order:
        if time.perf_counter() - t0 + 1.2 * slowest >= budget:
            break
        t1 = time.perf_counter()
        model = fit(points[k])
        slowest = max(slowest, time.perf_counter() - t1)
        v = value(model)
        n += 1
        if best is None or better(v, best[1]):
            best = (points[k], v)
    return best[0], best[1], n, time.perf_counter() - t0


def run_svd(train, valid, test, budget, seed) -> dict:
    from bench_peers import _SurprisePredictions
    from surprise import SVD

    from autorecs import evaluate

    t0 = time.perf_counter()
    tr = _surprise_set(train).build_full_trainset()

    def fit(params, data=tr, on=train):
        algo = SVD(random_state=seed, **params)
        algo.fit(data)
        return _SurprisePredictions(algo, on)

    params, v, n, search_s = _grid_search(GRIDS["svd"], fit, lambda m: evaluate(m, valid)["rmse"], budget, seed, lambda a, b: a < b)
    full = Interactions.concat(train, valid)
    model = fit(params, _surprise_set(full).build_full_trainset(), full)
    return {"params": params, "valid": v, "trials": n, "search_s": search_s, "wall_s": time.perf_counter() - t0,
            "test": evaluate(model, test)["rmse"]}


def run_auto_surprise(train, valid, test, budget, seed) -> dict:
    import numpy as np
    from auto_surprise.engine import Engine
    from bench_peers import _SurprisePredictions

    from autorecs import evaluate

    t0 = time.perf_counter()
    full = Interactions.concat(train, valid)
    engine = Engine(verbose=False, random_state=np.random.default_rng(seed))
    algo_name, params, score, tasks = engine.train(data=_surprise_set(full), target_metric="test_rmse", cpu_time_limit=int(budget),
                                                   max_evals=10_000)
    search_s = time.perf_counter() - t0
    if algo_name is None:  # every algorithm's job timed out
        return {"error": "no algorithm finished within the CPU-time limit", "search_s": search_s, "wall_s": search_s, "test": None}
    algo = engine.build_model(algo_name, params)
    algo.fit(_surprise_set(full).build_full_trainset())
    model = _SurprisePredictions(algo, full)
    return {"params": {"algorithm": algo_name, **{k: v for k, v in (params or {}).items() if not callable(v)}},
            "valid": float(score), "valid_is": "Auto-Surprise's own cross-validated RMSE on train + validation",
            "algorithms": len(tasks) if hasattr(tasks, "__len__") else None, "search_s": search_s,
            "wall_s": time.perf_counter() - t0, "test": evaluate(model, test)["rmse"]}


def run_implicit_als(train, valid, test, budget, seed) -> dict:
    import numpy as np
    from implicit.als import AlternatingLeastSquares

    from autorecs import evaluate

    t0 = time.perf_counter()

    def fit(params, data=train):
        m = AlternatingLeastSquares(**params, random_state=seed, num_threads=1)
        m.fit(data.csr("ones").astype(np.float32).tocsr(), show_progress=False)
        return PeerFactors(data, m.user_factors, m.item_factors)

    def ndcg(model, on, exclude=()):
        return evaluate(model, on, exclude=list(exclude), ks=(50,), families=("topk",))["topk"]["ndcg@50"]

    params, v, n, search_s = _grid_search(GRIDS["implicit-als"], fit, lambda m: ndcg(m, valid), budget, seed, lambda a, b: a > b)
    full = Interactions.concat(train, valid)
    model = fit(params, full)  # excludes train + validation (its training rows) when scoring test, as auto's refit model does
    return {"params": params, "valid": v, "trials": n, "search_s": search_s, "wall_s": time.perf_counter() - t0,
            "test": ndcg(model, test)}


PEERS = {"svd": ("rating", run_svd), "auto-surprise": ("rating", run_auto_surprise), "implicit-als": ("ranking", run_implicit_als)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=sorted(PROTOCOL), default="rating")
    ap.add_argument("--peers", nargs="+", choices=sorted(PEERS), required=True)
    ap.add_argument("--budget", type=float, default=600.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/auto-peers.jsonl"))
    args = ap.parse_args()
    from autorecs import load, split

    for peer in args.peers:
        task = PEERS[peer][0]
        if task != args.task:
            ap.error(f"--peers {peer} is a {task} peer; use --task {task}.")
    for seed in args.seeds:
        train, valid, test = split(load(args.dataset), PROTOCOL[args.task], seed=seed)
        for peer in args.peers:
            commit = _commit()
            row = {"dataset": args.dataset, "task": args.task, "protocol": PROTOCOL[args.task], "seed": seed, "peer": peer,
                   "budget_s": args.budget, **PEERS[peer][1](train, valid, test, args.budget, seed), "machine": machine(), "commit": commit}
            print(json.dumps(row, default=str), flush=True)
            with args.out.open("a") as f:
                f.write(json.dumps(row, default=str) + "\n")


if __name__ == "__main__":
    main()
