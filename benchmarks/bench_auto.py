"""autorecs auto against its targets (issue 18): ml-100k rating (random-50-25-25) and ranking
(temporal-60-20-20) under a wall-clock budget; test scored once after the refit on train + validation.

    python benchmarks/bench_auto.py --task rating --budget 600 --seeds 0 1 2 --out benchmarks/results/auto.jsonl
    python benchmarks/bench_auto.py --summarize benchmarks/results/auto.jsonl --peers benchmarks/results/auto-peers.jsonl

Each run appends one JSON line (task, seed, budget, wall seconds, overhead, chosen family, ensemble,
validation and test metrics, trials per family); run directories go to an ignored folder.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import commit as code_commit, machine, peak_rss_mib  # noqa: E402

PROTOCOL = {"rating": "random-50-25-25", "ranking": "temporal-60-20-20"}


def run(task: str, seed: int, budget: float, dataset: str, workdir: Path, families: list[str] | None = None) -> dict:
    from autorecs import load, split
    from autorecs.auto import auto

    commit = code_commit()  # the code this run imports
    train, valid, test = split(load(dataset), PROTOCOL[task], seed=seed)
    out = workdir / (f"{dataset}-{task}-seed{seed}-{int(budget)}s" + ("-" + "+".join(families) if families else ""))
    t0 = time.perf_counter()
    res = auto(train, valid, task=task, budget=budget, seed=seed, test=test, out_dir=out, overwrite=True, progress=False,
               families=families)
    wall = time.perf_counter() - t0
    headline = res.test["rmse"] if task == "rating" else res.test["topk"]["ndcg@50"]
    return {
        "dataset": dataset, "task": task, "protocol": PROTOCOL[task], "seed": seed, "budget_s": budget, "families": families, "wall_s": wall,
        "over_budget_pct": 100 * (wall / budget - 1), "seconds": res.seconds, "overhead_pct_of_budget": 100 * res.seconds["overhead"] / budget,
        "metric": res.metric, "chosen": {k: res.chosen[k] for k in ("family", "valid", "epochs")},
        "ensemble": None if res.ensemble is None else {"members": res.ensemble["members"], "valid": res.ensemble["valid"]},
        "test": res.test, "test_headline": headline, "trials": len(res.leaderboard),
        "trials_per_family": dict(collections.Counter(t.family for t in res.leaderboard)), "peak_rss_mib": peak_rss_mib(),
        "machine": machine(), "commit": commit,
    }


def summarize(path: Path, peers: Path | None = None) -> None:
    """The README table: auto's rows (mean ± std over seeds) and, from ``bench_auto_peers.py``'s file,
    the peers' rows measured the same way."""
    import numpy as np

    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["dataset"], r["task"], r["budget_s"], tuple(r.get("families") or ()))].append(r)
    print("| data | task | budget | who | seeds | test | wall / budget | overhead | final model (per seed) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (ds, task, budget, only), rs in sorted(groups.items()):
        t = np.array([r["test_headline"] for r in rs])
        who = "autorecs auto" + (f" (only {', '.join(only)})" if only else "")
        name = "RMSE" if task == "rating" else "topk NDCG@50"
        chosen = "; ".join(("ensemble of " + " + ".join(sorted({m["family"] for m in r["ensemble"]["members"]})))
                           if r["ensemble"] else r["chosen"]["family"] for r in rs)
        print(f"| {ds} | {task} | {budget:.0f} s | {who} | {len(rs)} | {name} {t.mean():.4f} ± {t.std():.4f} | "
              f"{max(r['wall_s'] / r['budget_s'] for r in rs):.3f} (max) | {max(r['overhead_pct_of_budget'] for r in rs):.1f}% (max) | {chosen} |")
    if peers is None:
        return
    prow = [json.loads(line) for line in peers.read_text().splitlines() if line.strip()]
    pgroups = collections.defaultdict(list)
    for r in prow:
        pgroups[(r["dataset"], r["task"], r["budget_s"], r["peer"])].append(r)
    for (ds, task, budget, peer), rs in sorted(pgroups.items()):
        ok = [r for r in rs if r.get("test") is not None]
        t = np.array([r["test"] for r in ok])
        name = "RMSE" if task == "rating" else "topk NDCG@50"
        value = f"{name} {t.mean():.4f} ± {t.std():.4f}" if ok else "none finished"
        chosen = "; ".join(r["params"].get("algorithm", "") or ", ".join(f"{k}={v}" for k, v in r["params"].items()) if "params" in r
                           else r.get("error", "") for r in rs)
        print(f"| {ds} | {task} | {budget:.0f} s | {peer} | {len(ok)} of {len(rs)} | {value} | "
              f"{max(r['wall_s'] / r['budget_s'] for r in rs):.3f} (max) | | {chosen} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=sorted(PROTOCOL), default="rating")
    ap.add_argument("--budget", type=float, default=600.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/auto.jsonl"))
    ap.add_argument("--workdir", type=Path, default=Path("autorecs-out/bench-auto"))
    ap.add_argument("--families", nargs="+", default=None, help="only these families (default: auto's defaults), e.g. one family "
                                                                   "tuned with the same budget")
    ap.add_argument("--summarize", type=Path)
    ap.add_argument("--peers", type=Path, default=None, help="with --summarize: bench_auto_peers.py's rows to add")
    args = ap.parse_args()
    if args.summarize:
        return summarize(args.summarize, args.peers)
    for seed in args.seeds:
        row = run(args.task, seed, args.budget, args.dataset, args.workdir, args.families)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps({k: row[k] for k in ("task", "seed", "wall_s", "test_headline", "chosen", "trials")}), flush=True)


if __name__ == "__main__":
    main()
