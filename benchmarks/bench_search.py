"""Grid vs random vs TPE on the same budget axis (issue: search engine targets).

    python benchmarks/bench_search.py --dataset ml-100k --trials 30 --out benchmarks/results/search

ml-100k ``random-50-25-25``, BiasedMF with the Adam solver (so that the learning rate is a real
hyperparameter): the λOpt paper's 8-point global-λ grid against random and TPE searches of
``--trials`` trials over (λ_user, λ_item, factors, learning rate).  Everything is selected on
validation; each search's chosen configuration is refit with its trial seed and scored once on
test.  Prints one JSON line per search and writes the cost figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402


def main() -> None:
    from autorecs import load, split
    from autorecs.models import BiasedMF
    from autorecs.plots import plot_search_cost
    from autorecs.search import Budget, Tuner, builtin_space

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/search"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    train, valid, test = split(load(args.dataset), "random-50-25-25", seed=args.seed)
    fields = set(BiasedMF.Config.__dataclass_fields__)
    fixed = {"solver": "adam", "learning_rate": 0.002}
    print(json.dumps({"machine": machine(), "dataset": args.dataset, "protocol": "random-50-25-25", "fixed": fixed}))
    runs = [("grid", "lambdaopt-grid", None), ("random", "mf-tpe", args.trials), ("tpe", "mf-tpe", args.trials)]
    results = []
    for strategy, space_name, trials in runs:
        space = builtin_space(space_name, fields)
        run_fixed = {"solver": "adam"} if "learning_rate" in {p.name for p in space.params} else fixed
        tuner = Tuner("biased-mf", space, strategy=strategy, budget=None if trials is None else Budget(trials=trials),
                      fixed=run_fixed, storage=args.out / f"{strategy}.journal", study=f"bench-{strategy}", seed=args.seed)
        res = tuner.run(train, valid, test)
        results.append(res)
        # the compact rows behind the figure (the journal itself is a run artifact, not committed)
        (args.out / f"{strategy}.trials.jsonl").write_text(
            "".join(json.dumps({"number": t.number, "state": t.state, "params": t.params, "value": t.value,
                                "fit_seconds": t.fit_seconds, "epochs": t.epochs, "error": t.error}) + "\n" for t in res.trials))
        overhead = res.wall_seconds - res.fit_seconds
        print(json.dumps({
            "strategy": strategy, "space": space_name, "trials": len(res.trials),
            "states": {s: sum(t.state == s for t in res.trials) for s in {t.state for t in res.trials}},
            "best_valid_rmse": res.best.value, "test_rmse": res.test["rmse"], "best_params": res.best.params,
            "fit_seconds": round(res.fit_seconds, 1), "epochs": res.epochs, "wall_seconds": round(res.wall_seconds, 1),
            "engine_overhead_seconds": round(overhead, 2), "overhead_per_trial_pct": round(100 * overhead / res.fit_seconds, 2),
        }), flush=True)
    fig = plot_search_cost(results, args.out / "search_cost.png", title=f"BiasedMF (Adam) on {args.dataset} random-50-25-25")
    print(json.dumps({"figure": str(fig)}))


if __name__ == "__main__":
    main()
