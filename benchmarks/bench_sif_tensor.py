"""SIF on three-way data: MovieLens with the hour of the rating (5 periods) as context.

    python benchmarks/bench_sif_tensor.py --dataset ml-100k --dims 8 --seeds 0 1 2 --out benchmarks/results/sif-tensor-ml-100k.jsonl

Rows: CP and Tucker (λ from the same grid, chosen on validation), the tensor SIF searches over
the 65 operation pairings (successive halving, and the one-shot proximal search of
`autorecs.sif.tensor_search`), the winner retrained with λ chosen on validation.  Split: uniformly random 50/25/25 of the rows, seeded (the same fractions as
the 2-D `random-50-25-25`, not the same rows).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path


sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, mean_std, peak_rss_mib  # noqa: E402

from autorecs.data import load  # noqa: E402
from autorecs.data.tensor import hour_context, random_tensor_split  # noqa: E402
from autorecs.models.tensor_ifc import TensorIFC  # noqa: E402
from autorecs.sif.pipeline import IFC_REG_GRID, search_tensor_ifc  # noqa: E402


def tuned(op, k, tr, va, te, seed):
    t0 = time.perf_counter()
    best = None
    for reg in IFC_REG_GRID:
        m = TensorIFC(interaction=op, factors=k, reg=reg).fit(tr, va, seed=seed, progress=False)
        if best is None or m.history_.best_value < best.history_.best_value:
            best = m
    return {"reg": best.config.reg, "valid_rmse": float(best.history_.best_value), "search_s": 0.0,
            "fit_s": time.perf_counter() - t0, **{f"test_{k2}": v for k2, v in best.evaluate(te).items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--dims", type=int, nargs="+", default=[8])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/sif-tensor-ml-100k.jsonl"))
    ap.add_argument("--strategies", nargs="+", default=["sif-halving", "sif"], choices=["sif-halving", "sif"])
    ap.add_argument("--skip-fixed", action="store_true", help="only the search rows (no CP / Tucker)")
    args = ap.parse_args()
    data = hour_context(load(args.dataset))
    rows = []
    with args.out.open("a") as f:
        for seed in args.seeds:
            tr, va, te = random_tensor_split(data, seed=seed)
            for k in args.dims:
                new = [] if args.skip_fixed else [{"model": "CP", **tuned("cp", k, tr, va, te, seed)},
                                                  {"model": "Tucker", **tuned("tucker", k, tr, va, te, seed)}]
                for strategy in args.strategies:
                    rep = search_tensor_ifc(tr, va, te, dims=(k,), strategy=strategy, seed=seed, progress=False)["dims"][k]
                    name = "SIF (tensor, halving)" if strategy == "sif-halving" else "SIF (tensor, one-shot proximal)"
                    new.append({"model": name, "interaction": rep["interaction"], "reg": rep["reg"],
                                "valid_rmse": rep["valid_rmse"], "search_s": rep["search_seconds"], "fit_s": rep["retrain_seconds"],
                                **{f"test_{k2}": v for k2, v in rep["test"].items()}})
                for r in new:
                    r.update(seed=seed, k=k, dataset=args.dataset, machine=machine(), peak_rss_mib=peak_rss_mib())
                    f.write(json.dumps(r) + "\n")
                    f.flush()
                    print(f"seed {seed} K={k} {r['model']}: test {r['test_rmse']:.4f} valid {r['valid_rmse']:.4f} "
                          f"{r.get('interaction', '')} {r['search_s']:.1f}+{r['fit_s']:.1f}s", file=sys.stderr, flush=True)
                rows += new
    for k in args.dims:
        print(f"\n{args.dataset} + hour context (5 periods), random 50/25/25, K={k}, seeds {args.seeds}\n")
        print("| model | test RMSE | MAE | rmse_std | valid RMSE | search s | fit s | chosen |")
        print("|---|---|---|---|---|---|---|---|")
        for m in dict.fromkeys(r["model"] for r in rows):
            rs = [r for r in rows if r["model"] == m and r["k"] == k]

            ms = partial(mean_std, rs)

            chosen = ", ".join(sorted({r.get("interaction", "") for r in rs} - {""}))
            print(f"| {m} | {ms('test_rmse')} | {ms('test_mae')} | {ms('test_rmse_std')} | {ms('valid_rmse')} | "
                  f"{ms('search_s', '{:.1f}')} | {ms('fit_s', '{:.1f}')} | {chosen} |")


if __name__ == "__main__":
    main()
