"""AutoCross on Adult (`adult-original` protocol): LR, AC+LR, AC+W&D, Deep, DeepFM, CMI+LR (+ OpenFE+LR).

    python benchmarks/bench_autocross.py --seeds 0 1 2 --openfe --out benchmarks/results/autocross-adult.jsonl

Every model is selected on the seeded 20% validation part of the training file and
scored once on the original test file.  The LRs are refit on train + validation with the
penalties chosen on validation (the library's default, `search_and_fit(refit=True)`); their
train-only models are scored too (column "trained on train only").  LRs are tuned over the same L2 grid; the
crosses of AC+LR and CMI+LR get their own penalty multiplier (LR's L2 kept for the
originals, `tune_cross_l2`); the neural models over the same small grid of learning rates, with early stopping on
validation AUC.  CMI+LR gets as many crosses as AutoCross found (same budget).
OpenFE (benchmark-only dependency: `pip install openfe`) generates its features
on the same train/validation rows; they go through the same encoding and tuned LR.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, mean_std, peak_rss_mib  # noqa: E402

from autorecs.ctr import AutoCross  # noqa: E402
from autorecs.ctr.cmi import cmi_pairs  # noqa: E402
from autorecs.ctr.crosses import CrossSpec  # noqa: E402
from autorecs.ctr.logistic import tune_cross_l2, tune_l2  # noqa: E402
from autorecs.ctr.nets import CTRNet  # noqa: E402
from autorecs.ctr.pipeline import latency_ms_per_row, refit_lr, search_and_fit, table_protocol  # noqa: E402
from autorecs.metrics import classification_metrics  # noqa: E402
from autorecs.metrics.classification import auc  # noqa: E402
from autorecs.plots import plot_cross_search  # noqa: E402

NET_LRS = (1e-3, 3e-3)


def row(seed, model, probs_test, yt, valid_auc, fit_s, infer_ms, **extra):
    m = classification_metrics(probs_test, yt)
    return {"seed": seed, "model": model, "test_auc": m["auc"], "test_logloss": m["logloss"], "valid_auc": valid_auc,
            "fit_s": fit_s, "infer_ms_per_row": infer_ms, **extra}


def tuned_net(kind, seed, X, cards, y, Xv, yv, Xt, **fit_kw):
    t0 = time.perf_counter()
    best = None
    for lr in NET_LRS:
        net = CTRNet(kind, lr=lr, seed=seed).fit(X, cards, y, Xv, yv, **fit_kw)
        if best is None or net.history_.best_value > best.history_.best_value:
            best = net
    fit_s = time.perf_counter() - t0
    return best, best.predict_proba(Xt), best.history_.best_value, fit_s, latency_ms_per_row(lambda: best.predict_proba(Xt)) / len(Xt)


def openfe_rows(seed, tr, va, te, label, n_features):
    import pandas as pd
    from openfe import OpenFE, transform

    data = pd.concat([tr, va], ignore_index=True)
    x, y, xt = data.drop(columns=label), data[[label]], te.drop(columns=label)
    # OpenFE 0.0.12 fails on pandas category columns here (KeyError in its group-by operators);
    # integer codes (fitted on train+valid, -1 = missing/unseen) named as categorical work
    cats = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    for c in cats:
        levels = pd.Index(sorted(x[c].dropna().unique()))
        x[c], xt[c] = levels.get_indexer(x[c]), levels.get_indexer(xt[c])
    t0 = time.perf_counter()
    feats = OpenFE().fit(data=x, label=y, train_index=pd.RangeIndex(len(tr)), val_index=pd.RangeIndex(len(tr), len(data)),
                         categorical_features=cats, n_jobs=2, seed=seed, verbose=False, tmp_save_path=f"/tmp/openfe_{seed}.feather")
    xa, xta = transform(x, xt, feats[:n_features], n_jobs=2)
    search_s = time.perf_counter() - t0
    cat_out = cats + [c for c in xa.columns if c not in x.columns and not pd.api.types.is_numeric_dtype(xa[c])]
    for c in cat_out:
        xa[c], xta[c] = xa[c].astype(str), xta[c].astype(str)
    xa[label], xta[label] = y[label].to_numpy(), te[label].to_numpy()
    tra, vaa = xa.iloc[: len(tr)].reset_index(drop=True), xa.iloc[len(tr):].reset_index(drop=True)
    enc = AutoCross(label, max_crosses=0, categorical=cat_out, seed=seed, progress=False).fit(tra, vaa)  # same encoding and granularity choice
    X, Xv, Xt = enc.transform(tra), enc.transform(vaa), enc.transform(xta)
    t1 = time.perf_counter()
    lr, grid = tune_l2(X, enc.cardinalities_, enc.labels(tra), Xv, enc.labels(vaa))
    full = refit_lr(lr, X, Xv, enc.labels(tra), enc.labels(vaa))
    return row(seed, f"OpenFE+LR ({n_features} features)", full.predict_proba(Xt), enc.labels(xta), grid[lr.l2], time.perf_counter() - t1,
               latency_ms_per_row(lambda: full.predict_proba(Xt)) / len(Xt), search_s=search_s,
               test_auc_train_only=auc(lr.decision_function(Xt), enc.labels(xta)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--openfe", action="store_true", help="also run OpenFE's features through the same LR")
    ap.add_argument("--openfe-features", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/autocross-adult.jsonl"))
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in args.seeds:
        tr, va, te, label = table_protocol("adult", seed)
        model, rep = search_and_fit(tr, va, te, label, seed=seed, progress=False)
        ac = model.autocross
        if seed == args.seeds[0]:
            plot_cross_search(ac.base_valid_auc_, rep["steps"], args.out.with_name("autocross-adult-search.png"),
                              kept=len(ac.crosses_), title=f"AutoCross on Adult (seed {seed})")
        X, Xv, Xt = ac.transform(tr), ac.transform(va), ac.transform(te)
        y, yv, yt = ac.labels(tr), ac.labels(va), ac.labels(te)
        nb, cards = len(ac.encoder.fields), ac.cardinalities_
        for name in ("lr", "ac+lr"):
            r = rep[name]
            rows.append({"seed": seed, "model": name.upper(), "test_auc": r["test"]["auc"], "test_logloss": r["test"]["logloss"],
                         "valid_auc": r["valid"]["auc"], "fit_s": r["fit_seconds"], "l2": r["l2"],
                         "infer_ms_per_row": r.get("inference_ms_per_row"),
                         "search_s": rep["search_seconds"] if name == "ac+lr" else 0.0,
                         "crosses": rep["crosses"] if name == "ac+lr" else [], "test_auc_train_only": r["test_before_refit"]["auc"]})
        _, ref = search_and_fit(tr, va, te, label, seed=seed, progress=False, max_crosses=0, exact_levels=0)
        rows.append({"seed": seed, "model": "LR (bins only)", "test_auc": ref["lr"]["test"]["auc"], "test_logloss": ref["lr"]["test"]["logloss"],
                     "valid_auc": ref["lr"]["valid"]["auc"], "fit_s": ref["lr"]["fit_seconds"], "l2": ref["lr"]["l2"],
                     "infer_ms_per_row": ref["lr"]["inference_ms_per_row"], "search_s": 0.0,
                     "test_auc_train_only": ref["lr"]["test_before_refit"]["auc"]})
        _, p, v, s, ms = tuned_net("wide-deep", seed, X, cards, y, Xv, yv, Xt, deep_fields=range(nb))
        rows.append(row(seed, "AC+W&D", p, yt, v, s, ms, search_s=rep["search_seconds"]))
        for kind, name in (("deep", "Deep"), ("deepfm", "DeepFM")):
            _, p, v, s, ms = tuned_net(kind, seed, X[:, :nb], cards[:nb], y, Xv[:, :nb], yv, Xt[:, :nb])
            rows.append(row(seed, name, p, yt, v, s, ms, search_s=0.0))
        t0 = time.perf_counter()
        pairs = cmi_pairs(X[:, :nb], cards[:nb], y, max(1, len(ac.crosses_)))
        specs = [CrossSpec.fit(i, j, X, cards) for i, j, _ in pairs]
        C = [np.column_stack([Z[:, :nb]] + [s.encode(Z) for s in specs]) for Z in (X, Xv, Xt)]
        ccards = list(cards[:nb]) + [s.cardinality for s in specs]
        cmi_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        lr, grid = tune_cross_l2(C[0], ccards, y, C[1], yv, nb, rep["lr"]["l2"])  # as AC+LR: LR's l2, crosses' scale tuned
        full = refit_lr(lr, C[0], C[1], y, yv)
        rows.append(row(seed, "CMI+LR", full.predict_proba(C[2]), yt, max(grid.values()), time.perf_counter() - t1,
                        latency_ms_per_row(lambda: full.predict_proba(C[2])) / len(te), search_s=cmi_s,
                        test_auc_train_only=auc(lr.decision_function(C[2]), yt),
                        crosses=[f"{ac.field_names_[i]} x {ac.field_names_[j]}" for i, j, _ in pairs]))
        if args.openfe:
            rows.append(openfe_rows(seed, tr, va, te, label, args.openfe_features))
        for r in rows:
            r.setdefault("seed", seed)
        print(f"seed {seed}: " + ", ".join(f"{r['model']} {r['test_auc']:.4f}" for r in rows if r["seed"] == seed), file=sys.stderr)
    with args.out.open("w") as f:
        for r in rows:
            f.write(json.dumps({**r, "machine": machine(), "peak_rss_mib": peak_rss_mib()}) + "\n")
    models = list(dict.fromkeys(r["model"] for r in rows))
    print(f"\nAdult, adult-original, seeds {args.seeds}, mean ± std; test touched once per model\n")
    print("| model | test AUC | test AUC, trained on train only | test log loss | valid AUC | search s | fit s | inference ms/row |")
    print("|---|---|---|---|---|---|---|---|")
    for m in models:
        rs = [r for r in rows if r["model"] == m]

        ms = partial(mean_std, rs)

        only = ms("test_auc_train_only") if all("test_auc_train_only" in r for r in rs) else "(same)"
        print(f"| {m} | {ms('test_auc')} | {only} | {ms('test_logloss')} | {ms('valid_auc')} | {ms('search_s', '{:.1f}')} | "
              f"{ms('fit_s', '{:.1f}')} | {ms('infer_ms_per_row', '{:.1e}')} |")


if __name__ == "__main__":
    main()
