"""SIF and every fixed interaction function on MovieLens (`random-50-25-25`), the SIF paper's Tables 3-4.

    python benchmarks/bench_sif.py --dataset ml-100k --dims 8 --seeds 0 1 2 --out benchmarks/results/sif-ml-100k.jsonl

Rows per (seed, K): every fixed interaction function of `autorecs.models.ifc` (AltGrad = multiply,
plus, min, max, concat, conv, outer, NCF, Wide&Deep, FM), each with λ chosen on validation from the
same grid; BiasedMF with the library defaults (K=64, ALS) as the reference; SIF (one-shot proximal
search, Algorithm 2), SIF-halving, SIF(no-auto) (architecture learned on training batches), and the
random / TPE / REINFORCE baselines over the same space, each given SIF's whole wall time (search +
retrain) as its search budget and then retrained the same way.  Selection on validation only; the
test split is scored once per row (the per-epoch/per-trial test curves feed the figure only).

    python benchmarks/bench_sif.py --predictor-table --dims 4 8 --out benchmarks/results/sif-ml-100k-predictor.jsonl

only SIF with the linear predictor of eq. 5 and with a 3-layer MLP predictor (10 hidden units), the paper's Table 7.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from functools import partial
from pathlib import Path


sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, mean_std, peak_rss_mib  # noqa: E402

from autorecs import BiasedMF, evaluate  # noqa: E402
from autorecs.data import load, split  # noqa: E402
from autorecs.models import MODELS  # noqa: E402
from autorecs.plots import plot_sif_search  # noqa: E402
from autorecs.sif.pipeline import IFC_REG_GRID, five_star_topk, search_ifc  # noqa: E402

FIXED = {"altgrad (multiply)": ("altgrad", {}), "plus": ("ifc", {"interaction": "plus"}), "min": ("ifc", {"interaction": "min"}),
         "max": ("ifc", {"interaction": "max"}), "concat": ("ifc", {"interaction": "concat"}), "conv": ("ifc", {"interaction": "conv"}),
         "outer": ("ifc", {"interaction": "outer"}), "NCF": ("ncf", {}), "Wide&Deep": ("wide-deep", {}), "FM": ("fm", {})}


def metrics(model, test) -> dict:
    m = evaluate(model, test)
    return {"test_rmse": m["rmse"], "test_mae": m["mae"], "test_rmse_std": m["rmse_std"], **five_star_topk(model, test)}


def fixed_row(name, model_name, params, k, s, seed):
    t0 = time.perf_counter()
    best = None
    for reg in IFC_REG_GRID:
        m = MODELS[model_name](**params, factors=k, reg=reg).fit(s.train, s.valid, seed=seed, progress=False)
        if best is None or m.history_.best_value < best.history_.best_value:
            best = m
    return {"model": name, "reg": best.config.reg, "valid_rmse": best.history_.best_value, "search_s": 0.0,
            "fit_s": time.perf_counter() - t0, **metrics(best, s.test)}


def search_row(name, strategy, k, s, seed, out, **kw):
    slug = {"SIF(no-auto)": "sif-no-auto", "SIF (MLP predictor)": "sif-mlp"}.get(name, strategy)
    rep = search_ifc(s.train, s.valid, s.test, dims=(k,), strategy=strategy, seed=seed, progress=False,
                     out_dir=out / f"{slug}-K{k}-seed{seed}", overwrite=True, **kw)  # a row is measured afresh
    for model_dir in (out / f"{slug}-K{k}-seed{seed}").glob("model-K*"):  # holds the training ids: never commit data
        shutil.rmtree(model_dir)
    plot_sif_search(rep, out / f"{slug}-K{k}-seed{seed}")
    e = rep["dims"][k]
    return {"model": name, "reg": e["reg"], "valid_rmse": e["valid_rmse"], "search_s": e["search_seconds"],
            "fit_s": e["retrain_seconds"], "interaction": e["arch"]["interaction"], "curve": e["curve"],
            **{f"test_{m}" if not m.startswith(("hit", "ndcg")) else m: v for m, v in e["test"].items()}}


def table_rows(k, s, seed, work, skip_fixed: bool) -> list[dict]:
    """Every row of Tables 3-4 for one (seed, K)."""
    new = []
    sif = search_row("SIF", "sif", k, s, seed, work)
    budget = sif["search_s"] + sif["fit_s"]
    new.append(sif)
    new.append(search_row("SIF-halving", "sif-halving", k, s, seed, work))
    new.append(search_row("SIF(no-auto)", "sif", k, s, seed, work, use_validation=False))
    for strat, name in (("random", "Random"), ("tpe", "TPE (Bayes)"), ("rl", "RL (REINFORCE)")):
        new.append(search_row(name, strat, k, s, seed, work, budget=budget))
    if not skip_fixed:
        for name, (model_name, params) in FIXED.items():
            new.append(fixed_row(name, model_name, params, k, s, seed))
        t0 = time.perf_counter()
        mf = BiasedMF().fit(s.train, s.valid, seed=seed, progress=False)
        new.append({"model": "BiasedMF (K=64, ALS, defaults)", "reg": mf.config.reg_user, "valid_rmse": mf.history_.best_value,
                    "search_s": 0.0, "fit_s": time.perf_counter() - t0, **metrics(mf, s.test)})
    return new


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--dims", type=int, nargs="+", default=[8])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--skip-fixed", action="store_true", help="only the search rows")
    ap.add_argument("--predictor-table", action="store_true", help="only SIF with the linear and with the MLP predictor (Table 7)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/sif-ml-100k.jsonl"))
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    work = args.out.with_suffix("")
    data = load(args.dataset)
    rows = []
    with args.out.open("a") as f:
        for seed in args.seeds:
            s = split(data, "random-50-25-25", seed=seed)
            for k in args.dims:
                if args.predictor_table:
                    new = [search_row("SIF", "sif", k, s, seed, work), search_row("SIF (MLP predictor)", "sif", k, s, seed, work, predictor="mlp")]
                else:
                    new = table_rows(k, s, seed, work, args.skip_fixed)
                for r in new:
                    r.update(seed=seed, k=k, dataset=args.dataset, machine=machine(), peak_rss_mib=peak_rss_mib())
                    f.write(json.dumps(r) + "\n")
                    f.flush()
                    print(f"seed {seed} K={k} {r['model']}: test {r['test_rmse']:.4f} valid {r['valid_rmse']:.4f} "
                          f"({r.get('interaction', '')}) {r['search_s']:.1f}+{r['fit_s']:.1f}s", file=sys.stderr, flush=True)
                rows += new
    summarize(rows)


def summarize(rows) -> None:
    for k in sorted({r["k"] for r in rows}):
        print(f"\n{rows[0]['dataset']}, random-50-25-25, K={k}, seeds {sorted({r['seed'] for r in rows})}, mean ± std\n")
        print("| model | test RMSE | MAE | rmse_std | Hit@5 | Hit@10 | NDCG@5 | NDCG@10 | valid RMSE | search s | retrain/fit s | chosen |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for m in dict.fromkeys(r["model"] for r in rows if r["k"] == k):
            rs = [r for r in rows if r["model"] == m and r["k"] == k]

            ms = partial(mean_std, rs)

            chosen = ", ".join(sorted({r.get("interaction", "") for r in rs} - {""}))
            print(f"| {m} | {ms('test_rmse')} | {ms('test_mae')} | {ms('test_rmse_std')} | {ms('hit@5', '{:.3f}')} | {ms('hit@10', '{:.3f}')} | "
                  f"{ms('ndcg@5', '{:.3f}')} | {ms('ndcg@10', '{:.3f}')} | {ms('valid_rmse')} | {ms('search_s', '{:.1f}')} | "
                  f"{ms('fit_s', '{:.1f}')} | {chosen} |")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--summarize":
        summarize([json.loads(line) for line in Path(sys.argv[2]).read_text().splitlines()])
    else:
        main()
