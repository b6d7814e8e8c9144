"""Cost of λOpt against fixed λ: seconds per epoch and peak memory, each case in a fresh process.

    python benchmarks/bench_lambdaopt_cost.py --dataset ml-1m --factors 128 --epochs 2
    python benchmarks/bench_lambdaopt_cost.py --case GRAN --dataset ml-1m --factors 128 --epochs 2   # one case, one JSON line

BPRMF (Adam, the paper's setting, batch 1,024) on `temporal-60-20-20`, or with ``--model biased-mf``
BiasedMF (Adam, its defaults otherwise) on `random-50-25-25` seed 0, `epochs` epochs with validation (the
held-out part of validation is scored after each epoch, as in a real run).  GRAN is `fixed` or a
λOpt granularity (D, DU, DI, DUI).  The issue's targets: one λOpt epoch at most 3x a fixed-λ epoch,
and DUI on ml-1m with K=128 under 2 GiB peak.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import commit, machine, peak_rss_mib, run_isolated  # noqa: E402

CASES = ["fixed", "D", "DU", "DI", "DUI"]


def one_case(case: str, dataset: str, factors: int, epochs: int, every: int = 1, vb: int = 0, model: str = "bpr-mf") -> dict:
    from autorecs import BPRMF, BiasedMF
    from autorecs.data import load, split

    params = {"factors": factors, "epochs": epochs, "patience": epochs + 1, "batch_size": 1024}  # the paper's schedule, fixed λ too
    if model == "biased-mf":
        s, klass = split(load(dataset), "random-50-25-25", seed=0), BiasedMF
        params["solver"] = "adam"
    else:
        s, klass = split(load(dataset), "temporal-60-20-20"), BPRMF
    if case != "fixed":
        params.update(lambdaopt=case, lambda_every=every, lambda_batch_size=vb or None)
    t0 = time.perf_counter()
    fitted = klass(**params).fit(s.train, s.valid, seed=0, progress=False)
    wall = time.perf_counter() - t0
    per_epoch = [e["seconds"] for e in fitted.history_.epochs]
    label = case if case == "fixed" else case + (f" (every {every})" if every > 1 else "") + (f" (Λ batch {vb})" if vb else "")
    return {"case": label, "model": model, "dataset": dataset, "factors": factors, "epochs": len(per_epoch), "epoch_seconds": per_epoch,
            "mean_epoch_s": sum(per_epoch) / len(per_epoch), "fit_wall_s": wall, "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", choices=CASES)
    ap.add_argument("--dataset", default="ml-1m")
    ap.add_argument("--factors", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lambda-every", type=int, default=1, help="λOpt cases: a Λ-step every N batches")
    ap.add_argument("--lambda-batch-size", type=int, default=0, help="λOpt cases: validation rows per Λ-step (0: the batch size)")
    ap.add_argument("--cases", nargs="+", default=CASES, choices=CASES)
    ap.add_argument("--model", choices=["bpr-mf", "biased-mf"], default="bpr-mf")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/lambdaopt-cost.jsonl"))
    args = ap.parse_args()
    if args.case:
        print(json.dumps(one_case(args.case, args.dataset, args.factors, args.epochs, args.lambda_every, args.lambda_batch_size, args.model)))
        return
    rows, code = [], commit()
    for case in ["fixed"] + [c for c in args.cases if c != "fixed"]:  # the first row is the reference
        res = run_isolated(__file__, "--case", case, "--dataset", args.dataset, "--factors", str(args.factors), "--epochs", str(args.epochs),
                           "--lambda-every", str(args.lambda_every), "--lambda-batch-size", str(args.lambda_batch_size), "--model", args.model)
        res["machine"], res["commit"] = machine(), code
        rows.append(res)
        print(f"{case}: {res['mean_epoch_s']:.2f} s/epoch, peak {res['peak_rss_mib']:.0f} MiB", file=sys.stderr, flush=True)
    with args.out.open("a") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    base = rows[0]["mean_epoch_s"]
    print(f"\n{args.model} Adam, {args.dataset}, K={args.factors}, {args.epochs} epochs, each case in a fresh process\n")
    print("| Λ | s/epoch | x fixed | peak RSS MiB |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['mean_epoch_s']:.2f} | {r['mean_epoch_s'] / base:.2f} | {r['peak_rss_mib']:.0f} |")


if __name__ == "__main__":
    main()
