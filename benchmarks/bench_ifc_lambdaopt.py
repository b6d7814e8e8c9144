"""λOpt on rating models: fixed λ chosen on a grid against λ learned from validation (SIF issue's option).

    python benchmarks/bench_ifc_lambdaopt.py --seeds 0 1 2 --out benchmarks/results/ifc-lambdaopt-ml-100k.jsonl

ml-100k `random-50-25-25`, K=8 (the SIF benchmark's size).  Per seed and model: "fixed" = λ chosen on
validation from the SIF grid (0.03, 0.1, 0.3, 1), one fit each; "λOpt-DUI" = one fit with Λ learned from
a seeded half of validation starting at the grid's λ, early stopping on the other half (the grid's λ
comes from the fixed row of the same seed, so λOpt's total cost includes that grid).  Models: AltGrad
(inner product + biases), the `min` interaction, and the searched SIF architecture of each seed found by
`bench_sif.py --predictor-table` (results/sif-ml-100k-predictor/sif-K8-seed*/arch-K8.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, mean_std  # noqa: E402

from autorecs import evaluate  # noqa: E402
from autorecs.data import load, split  # noqa: E402
from autorecs.models import SIF, InteractionMF  # noqa: E402
from autorecs.sif.pipeline import IFC_REG_GRID  # noqa: E402

ARCHS = Path(__file__).parent / "results" / "sif-ml-100k-predictor"


def models(seed: int) -> dict:
    out = {"AltGrad (multiply)": (InteractionMF, {"interaction": "multiply"}), "min": (InteractionMF, {"interaction": "min"})}
    arch = ARCHS / f"sif-K8-seed{seed}" / "arch-K8.json"
    if arch.exists():
        a = json.loads(arch.read_text())
        out[f"SIF ({a['interaction']})"] = (SIF, a)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/ifc-lambdaopt-ml-100k.jsonl"))
    args = ap.parse_args()
    data = load("ml-100k")
    rows = []
    with args.out.open("a") as f:
        for seed in args.seeds:
            s = split(data, "random-50-25-25", seed=seed)
            for name, (klass, params) in models(seed).items():
                params = {**params, "factors": 8}
                t0 = time.perf_counter()
                fits = [klass(**{**params, "reg": reg}).fit(s.train, s.valid, seed=seed, progress=False) for reg in IFC_REG_GRID]
                best = min(fits, key=lambda m: m.history_.best_value)
                grid_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                lopt = klass(**{**params, "reg": best.config.reg, "lambdaopt": "DUI"}).fit(s.train, s.valid, seed=seed, progress=False)
                lopt_s = time.perf_counter() - t0
                for kind, m, secs in (("fixed (grid)", best, grid_s), ("λOpt-DUI", lopt, lopt_s)):
                    ev = evaluate(m, s.test)
                    r = {"model": name, "kind": kind, "reg": best.config.reg, "test_rmse": ev["rmse"], "test_mae": ev["mae"],
                         "epochs": len(m.history_.epochs), "seconds": secs, "seed": seed, "machine": machine()}
                    f.write(json.dumps(r) + "\n")
                    f.flush()
                    rows.append(r)
                    print(f"seed {seed} {name} {kind}: test RMSE {r['test_rmse']:.4f} ({secs:.0f} s)", file=sys.stderr, flush=True)
    print("\n| model | fixed λ (grid of 4) test RMSE | λOpt-DUI test RMSE | fixed s (4 fits) | λOpt s (1 fit) |")
    print("|---|---|---|---|---|")
    names = dict.fromkeys(r["model"].split(" (")[0] if r["model"].startswith("SIF") else r["model"] for r in rows)
    for name in names:
        pick = partial(lambda n, kind: [r for r in rows if (r["model"].startswith("SIF") if n == "SIF" else r["model"] == n) and r["kind"] == kind], name)
        fx, lo = pick("fixed (grid)"), pick("λOpt-DUI")
        print(f"| {name} | {mean_std(fx, 'test_rmse')} | {mean_std(lo, 'test_rmse')} | {mean_std(fx, 'seconds', '{:.0f}')} | "
              f"{mean_std(lo, 'seconds', '{:.0f}')} |")


if __name__ == "__main__":
    main()
