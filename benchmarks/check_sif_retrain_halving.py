"""Would successive halving over SIF's retraining variants pick the same model for less?  An analysis
behind the decision to retrain every variant in full (issue 15: SIF's cost).

    python benchmarks/check_sif_retrain_halving.py --seeds 0 1 2 3 4 --out benchmarks/results/sif-retrain-histories.jsonl
    python benchmarks/check_sif_retrain_halving.py --histories benchmarks/results/sif-retrain-histories.jsonl

Per seed (ml-100k `random-50-25-25`, K=8): the one-shot search (`SIFSearch`, defaults), then every variant
`retrain` fits (the λ grid `IFC_REG_GRID`, with the searched transform and without), each to its own early
stop, with its validation RMSE and seconds per epoch (one JSON line per fit).  Then, from those histories,
halving with rungs of r, 2r, 4r, ... epochs (the better half by best validation RMSE so far survives each
rung) is replayed: which variant it keeps, against the full grid's winner, and the epochs' seconds it pays.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import commit, machine  # noqa: E402


def collect(seeds, out: Path) -> None:
    from autorecs.data import load, split
    from autorecs.models import SIF
    from autorecs.sif.pipeline import IFC_REG_GRID
    from autorecs.sif.search import SIFSearch

    code = commit()
    for seed in seeds:
        s = split(load("ml-100k"), "random-50-25-25", seed=seed)
        t0 = time.perf_counter()
        arch = SIFSearch(factors=8, strategy="proximal").fit(s.train, s.valid, seed=seed, progress=False).arch
        search_s = time.perf_counter() - t0
        variants = [("searched", arch)] + ([("identity", {**arch, "transform": "identity"})] if arch.get("transform") == "mlp" else [])
        for label, a in variants:
            for reg in IFC_REG_GRID:
                t0 = time.perf_counter()
                m = SIF(**{**a, "reg": reg}).fit(s.train, s.valid, seed=seed, progress=False)
                row = {"seed": seed, "interaction": arch["interaction"], "variant": label, "reg": reg, "search_s": search_s,
                       "fit_s": time.perf_counter() - t0, "valid_rmse": m.history_.column("valid_rmse"),
                       "epoch_s": [e["seconds"] for e in m.history_.epochs], "commit": code, "machine": machine()}
                with out.open("a") as f:
                    f.write(json.dumps(row) + "\n")


def replay(fits: list[dict], rung: int) -> tuple[int, float]:
    """The variant halving keeps (an index of ``fits``) and the seconds of the epochs it trains."""
    alive, cost, epoch, next_rung = list(range(len(fits))), 0.0, 0, rung
    kept = None
    while alive:
        epoch += 1
        for k in list(alive):
            if epoch > len(fits[k]["valid_rmse"]):  # its own early stopping ended it
                alive.remove(k)
                continue
            cost += fits[k]["epoch_s"][epoch - 1]
        if epoch == next_rung and len(alive) > 1:
            best = {k: min(fits[k]["valid_rmse"][:epoch]) for k in alive}
            alive = sorted(alive, key=lambda k: best[k])[: len(alive) // 2]
            next_rung *= 2
        if len(alive) == 1:
            kept = alive[0]
    return kept, cost


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--out", type=Path, default=Path("sif-retrain-histories.jsonl"), help="where the fits' histories go")
    ap.add_argument("--histories", type=Path, default=None, help="replay these histories instead of fitting")
    ap.add_argument("--rungs", type=int, nargs="+", default=[3, 5, 8, 10])
    args = ap.parse_args()
    path = args.histories
    if path is None:
        collect(args.seeds, args.out)
        path = args.out
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    print("| seed | op | full grid: winner (valid RMSE) | s | " + " | ".join(f"halving r={r}: kept (valid), s" for r in args.rungs) + " |")
    print("|---|---|---|---|" + "---|" * len(args.rungs))
    for seed in sorted({r["seed"] for r in rows}):
        fits = [r for r in rows if r["seed"] == seed]
        name = (lambda f: f"{f['variant']} λ={f['reg']:g} ({min(f['valid_rmse']):.4f})")
        win = min(fits, key=lambda f: min(f["valid_rmse"]))
        cells = []
        for r in args.rungs:
            kept, cost = replay(fits, r)
            cells.append(f"{name(fits[kept])}, {cost:.1f}")
        print(f"| {seed} | {fits[0]['interaction']} | {name(win)} | {sum(sum(f['epoch_s']) for f in fits):.1f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
