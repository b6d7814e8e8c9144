"""Quality and fit time of the MF models with their default hyperparameters.

    python benchmarks/bench_quality.py --datasets ml-100k ml-1m --seeds 0 1 2 --out benchmarks/results/quality.json

Rating task: BiasedMF per solver on ``random-50-25-25`` (trained on train, early-stopped on
validation, test touched once).  Ranking task: BPRMF and ImplicitALS on ``temporal-60-20-20``
(the split is deterministic; the seed changes the initialisation), both metric families.
Prints one JSON line per run and a Markdown summary (mean ± std over seeds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402

RATING_RUNS = {
    "BiasedMF als": dict(solver="als"),
    "BiasedMF adam": dict(solver="adam", learning_rate=0.002),
    "BiasedMF adagrad": dict(solver="adagrad", learning_rate=0.05),
    "BiasedMF sgd": dict(solver="sgd", learning_rate=0.5),
}


def run(datasets, seeds, tasks):
    from autorecs import BPRMF, BiasedMF, ImplicitALS, evaluate, load, split

    rows = []
    for name in datasets:
        data = load(name)
        if "rating" in tasks:
            for seed in seeds:
                train, valid, test = split(data, "random-50-25-25", seed=seed)
                for label, params in RATING_RUNS.items():
                    m = BiasedMF(**params).fit(train, valid, seed=seed, progress=False)
                    r = evaluate(m, test)
                    rows.append(dict(dataset=name, protocol="random-50-25-25", model=label, seed=seed, valid_rmse=m.history_.best_value,
                                     rmse=r["rmse"], mae=r["mae"], rmse_std=r["rmse_std"], fit_s=m.fit_seconds_, epochs=len(m.history_.epochs)))
                    print(json.dumps(rows[-1]), flush=True)
        if "ranking" in tasks:
            train, valid, test = split(data, "temporal-60-20-20")
            for seed in seeds:
                for label, model in (("BPRMF", BPRMF()), ("ImplicitALS", ImplicitALS())):
                    model.fit(train, valid, seed=seed, progress=False)
                    r = evaluate(model, test, exclude=[valid], ks=(50, 100))
                    rows.append(dict(dataset=name, protocol="temporal-60-20-20", model=label, seed=seed, valid_ndcg50=model.history_.best_value,
                                     **{f"topk_{k}": v for k, v in r["topk"].items()}, **{f"lambdaopt_{k}": v for k, v in r["lambdaopt"].items()},
                                     fit_s=model.fit_seconds_, epochs=len(model.history_.epochs)))
                    print(json.dumps(rows[-1]), flush=True)
    return rows


def summarise(rows) -> str:
    def ms(values):
        return f"{statistics.mean(values):.4f} ± {statistics.pstdev(values):.4f}" if len(values) > 1 else f"{values[0]:.4f}"

    out = []
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["protocol"], r["model"]), []).append(r)
    rating = [(k, g) for k, g in groups.items() if k[1] == "random-50-25-25"]
    ranking = [(k, g) for k, g in groups.items() if k[1] == "temporal-60-20-20"]
    if rating:
        out += ["| data | model | test RMSE | MAE | rmse_std | valid RMSE | fit s | epochs |", "|---|---|---|---|---|---|---|---|"]
        for (d, _, m), g in rating:
            out.append(f"| {d} | {m} | {ms([r['rmse'] for r in g])} | {ms([r['mae'] for r in g])} | {ms([r['rmse_std'] for r in g])} | "
                       f"{ms([r['valid_rmse'] for r in g])} | {statistics.mean(r['fit_s'] for r in g):.1f} | {statistics.mean(r['epochs'] for r in g):.0f} |")
    if ranking:
        out += ["", "| data | model | topk NDCG@50 | topk Recall@50 | lambdaopt AUC | lambdaopt HR@50 | lambdaopt NDCG@50 | lambdaopt HR@100 | lambdaopt NDCG@100 | fit s |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for (d, _, m), g in ranking:
            cols = ["topk_ndcg@50", "topk_recall@50", "lambdaopt_auc", "lambdaopt_hr@50", "lambdaopt_ndcg@50", "lambdaopt_hr@100", "lambdaopt_ndcg@100"]
            out.append(f"| {d} | {m} | " + " | ".join(ms([r[c] for r in g]) for c in cols) + f" | {statistics.mean(r['fit_s'] for r in g):.1f} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=["ml-100k"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--tasks", nargs="+", default=["rating", "ranking"], choices=["rating", "ranking"])
    ap.add_argument("--out", type=Path, default=None, help="write all rows as JSON here")
    args = ap.parse_args()
    print(json.dumps({"machine": machine()}))
    rows = run(args.datasets, args.seeds, args.tasks)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))
    print(summarise(rows))


if __name__ == "__main__":
    main()
