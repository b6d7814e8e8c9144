"""What SIF's search and retraining cost against one AltGrad fit (issue 15's target: SIF search +
retrain ≤ 3x one AltGrad fit), per seed on `random-50-25-25`, one process, nothing else timed.

    python benchmarks/bench_sif_cost.py --dataset ml-100k --dims 8 --seeds 0 1 2 --out benchmarks/results/sif-cost.jsonl

For each seed: the one-shot proximal search (`SIFSearch`, the library's defaults), then the found
architecture retrained at every λ of the grid (`autorecs.sif.pipeline.IFC_REG_GRID`; with and without
its transform, as `retrain` does) and AltGrad (`multiply`, no transform) fitted at the same λ, each fit
timed on its own.  Two ratios: search + one retrain at the λ the grid chose against one AltGrad fit at
that λ, and search + the whole retraining against AltGrad's own λ grid.  A short search and fit run
first, untimed (:func:`warm_up`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402


def one_seed(dataset: str, k: int, seed: int) -> dict:
    from autorecs.data import load, split
    from autorecs.models import MODELS, SIF
    from autorecs.sif.pipeline import IFC_REG_GRID
    from autorecs.sif.search import SIFSearch

    s = split(load(dataset), "random-50-25-25", seed=seed)
    t0 = time.perf_counter()
    arch = SIFSearch(factors=k, strategy="proximal").fit(s.train, s.valid, seed=seed, progress=False).arch
    search_s = time.perf_counter() - t0
    variants = [("searched", arch)] + ([("identity", {**arch, "transform": "identity"})] if arch.get("transform") == "mlp" else [])
    fits = []
    for label, a in variants:
        for reg in IFC_REG_GRID:
            t0 = time.perf_counter()
            m = SIF(**{**a, "reg": reg}).fit(s.train, s.valid, seed=seed, progress=False)
            fits.append({"who": f"SIF {label}", "reg": reg, "seconds": time.perf_counter() - t0, "valid_rmse": m.history_.best_value,
                         "epochs": len(m.history_.epochs)})
    for reg in IFC_REG_GRID:
        t0 = time.perf_counter()
        m = MODELS["altgrad"](factors=k, reg=reg).fit(s.train, s.valid, seed=seed, progress=False)
        fits.append({"who": "AltGrad", "reg": reg, "seconds": time.perf_counter() - t0, "valid_rmse": m.history_.best_value,
                     "epochs": len(m.history_.epochs)})
    sif = [f for f in fits if f["who"].startswith("SIF")]
    alt = [f for f in fits if f["who"] == "AltGrad"]
    best = min(sif, key=lambda f: f["valid_rmse"])
    alt_at = next(f for f in alt if f["reg"] == best["reg"])
    return {"dataset": dataset, "k": k, "seed": seed, "arch": arch, "search_s": search_s, "fits": fits,
            "chosen": {"who": best["who"], "reg": best["reg"]},
            "ratio_one_fit": (search_s + best["seconds"]) / alt_at["seconds"],
            "ratio_grids": (search_s + sum(f["seconds"] for f in sif)) / sum(f["seconds"] for f in alt), "machine": machine()}


def warm_up(dataset: str, k: int) -> None:
    """One short search and fit, untimed: the first of each in a process pays one-time costs (imports,
    PyTorch's first kernels: the first seed's search took 2.1-2.6 s against 1.3-1.6 s for the others)."""
    from autorecs.data import load, split
    from autorecs.models import MODELS
    from autorecs.sif.search import SIFSearch

    s = split(load(dataset), "random-50-25-25", seed=0)
    SIFSearch(factors=k, strategy="proximal", epochs=1, warmup_epochs=0).fit(s.train, s.valid, seed=0, progress=False)
    MODELS["altgrad"](factors=k, epochs=1).fit(s.train, s.valid, seed=0, progress=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--dims", type=int, default=8)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/sif-cost.jsonl"))
    args = ap.parse_args()
    warm_up(args.dataset, args.dims)
    print("| seed | found | search s | retrain at chosen λ s | AltGrad at that λ s | x one fit | SIF total s | AltGrad grid s | x grid |")
    print("|---|---|---|---|---|---|---|---|---|")
    for seed in args.seeds:
        r = one_seed(args.dataset, args.dims, seed)
        with args.out.open("a") as f:
            f.write(json.dumps(r) + "\n")
        sif = [f for f in r["fits"] if f["who"].startswith("SIF")]
        alt = [f for f in r["fits"] if f["who"] == "AltGrad"]
        best = next(f for f in sif if f["who"] == r["chosen"]["who"] and f["reg"] == r["chosen"]["reg"])
        alt_at = next(f for f in alt if f["reg"] == best["reg"])
        print(f"| {seed} | {r['arch']['interaction']} ({best['who'].split()[1]}, λ {best['reg']:g}) | {r['search_s']:.1f} | "
              f"{best['seconds']:.1f} | {alt_at['seconds']:.1f} | {r['ratio_one_fit']:.2f} | "
              f"{r['search_s'] + sum(f['seconds'] for f in sif):.1f} | {sum(f['seconds'] for f in alt):.1f} | {r['ratio_grids']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
