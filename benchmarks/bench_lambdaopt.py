"""λOpt against a grid-searched fixed λ and the λOpt paper's other baselines (its Table 2 protocol).

    python benchmarks/bench_lambdaopt.py --dataset ml-100k --seeds 0 1 2 --out benchmarks/results/lambdaopt-ml-100k.jsonl
    python benchmarks/bench_lambdaopt.py --summarize benchmarks/results/lambdaopt-ml-100k.jsonl   # table + figures only
    python benchmarks/bench_lambdaopt.py --dataset ml-1m --factors 128 --rows control --reg-from R.jsonl --out R2.jsonl
        # more rows for an earlier run: each seed's grid λ read from R.jsonl instead of searching again

Protocol `temporal-60-20-20` (deterministic; the seed changes initialisation and sampling), BPR-MF
with Adam, full ranking, the `lambdaopt` metric family (AUC, HR@50/100, NDCG@50/100) on test with
validation items excluded from the candidates.  Rows (``--rows``):

- ``fix``: MF-λFix, the paper's 8-value λ grid through the search engine, chosen on validation;
- ``control``: the grid's λ trained on train plus a random half of validation, early stopping on the
  other half (λOpt sees half of validation through Λ; this row sees it as training data);
- ``sgda``: SGDA as the paper re-derived it = λOpt-D with plain SGD for Θ and Λ, tuned by the paper's
  flow: the SGD learning rate for fixed-λ MF first (4 values), then the Λ step size (3 values);
- ``amf``: AMF (APR) started from the MF-λFix model, ε chosen on validation from {0.1, 0.5, 1};
- ``neumf``: NeuMF started from the MF-λFix model, MLP depth chosen on validation from {1, 2, 3};
- ``lambdaopt``: λOpt at each of ``--granularities`` (Λ learned from half of validation, the other
  half for early stopping), starting from the BPRMF default λ;
- ``als``: ImplicitALS with the library defaults (tuned on ml-100k; benchmarks/README.md).

Every row stores its per-frequency-group HR@100/NDCG@100 (`autorecs.lambdaopt.group_metrics`);
the summary plots λOpt-DUI's gain per group over MF-λFix of the same seed (the paper's Fig. 6) and
the Λ-trajectories of the first seed (Figs. 7-8).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, mean_std  # noqa: E402

from autorecs import BPRMF, ImplicitALS, evaluate  # noqa: E402
from autorecs.data import Interactions, load, split  # noqa: E402
from autorecs.lambdaopt import LambdaTrajectory, group_gains, group_metrics, split_validation  # noqa: E402
from autorecs.models import AMF, NeuMF  # noqa: E402
from autorecs.search import Tuner  # noqa: E402
from autorecs.search.spaces import builtin_space  # noqa: E402

METRICS = ("auc", "hr@50", "hr@100", "ndcg@50", "ndcg@100")
ROWS = ("fix", "control", "sgda", "amf", "neumf", "lambdaopt", "als")
SGD_LR = (3.0, 10.0, 30.0, 100.0)
SGDA_LAMBDA_LR = (0.01, 1.0, 100.0)
AMF_EPS = (0.1, 0.5, 1.0)
NEUMF_LAYERS = (1, 2, 3)


#: Every BPR-MF row trains on batches of 1,024 (the λOpt paper's code; BPRMF's default batch follows the
#: data's size without λOpt, so it is fixed here for the rows to compare like with like).
BATCH = 1024

def pick(models):
    """The model with the best validation value (each model's own early-stopping monitor)."""
    return max(models, key=lambda m: m.history_.best_value)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--rows", nargs="+", default=list(ROWS), choices=ROWS)
    ap.add_argument("--granularities", nargs="+", default=["D", "DU", "DI", "DUI"])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/lambdaopt-ml-100k.jsonl"))
    ap.add_argument("--lambda-every", type=int, default=1, help="λOpt rows: a Λ-step every N training batches")
    ap.add_argument("--lambda-batch-size", type=int, default=0, help="λOpt rows: validation rows per Λ-step (0: the batch size)")
    ap.add_argument("--reg-from", type=Path, help="take each seed's grid λ from this results file instead of searching again")
    ap.add_argument("--summarize", type=Path, help="only print the table and draw the figures of this results file")
    args = ap.parse_args()
    if args.summarize:
        return summarize(args.summarize)
    s = split(load(args.dataset), "temporal-60-20-20")
    ks = (50, 100)
    with args.out.open("a") as f, tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            def emit(name, model, seconds, **extra):
                m = evaluate(model, s.test, exclude=[s.valid], ks=ks)
                r = {"model": name, **{k: m["lambdaopt"][k] for k in METRICS}, "topk_ndcg@50": m["topk"]["ndcg@50"],
                     "seconds": seconds, "epochs": len(model.history_.epochs), **extra,
                     "groups": group_metrics(model, s.test, exclude=[s.valid]),
                     "seed": seed, "dataset": args.dataset, "factors": args.factors, "machine": machine()}
                f.write(json.dumps(r) + "\n")
                f.flush()
                print(f"seed {seed} {name}: NDCG@100 {r['ndcg@100']:.4f} HR@100 {r['hr@100']:.4f} ({seconds:.0f} s)", file=sys.stderr, flush=True)

            # MF-λFix first: every other baseline starts from its λ (and AMF/NeuMF from its model)
            t0 = time.perf_counter()
            if args.reg_from:  # the grid's λ of this seed from an earlier run (no grid search now)
                reg = next(r["reg"] for r in map(json.loads, args.reg_from.open()) if r["model"].startswith("MF-λFix")
                           and (r["dataset"], r["factors"], r["seed"]) == (args.dataset, args.factors, seed))
                params, fix = {"factors": args.factors, "reg": reg, "batch_size": BATCH}, None
                if {"amf", "neumf"} & set(args.rows):  # they start from the MF-λFix model
                    fix = BPRMF(**params).fit(s.train, s.valid, seed=seed, progress=False)
            else:
                fields = set(BPRMF.Config.__dataclass_fields__)
                res = Tuner("bpr-mf", builtin_space("lambdaopt-grid", fields), strategy="grid", fixed={"factors": args.factors, "batch_size": BATCH},
                            storage=Path(tmp) / f"grid-{seed}.journal", seed=seed).run(s.train, s.valid, s.test, exclude=[s.valid])
                fix, reg, params = res.model, res.model_params["reg"], res.model_params
            fix_seconds = time.perf_counter() - t0
            if "fix" in args.rows and not args.reg_from:
                emit("MF-λFix (8-value grid)", fix, fix_seconds, reg=reg, grid_fit_seconds=res.fit_seconds)
            if "control" in args.rows:
                t0 = time.perf_counter()
                half, held_out = split_validation(s.valid, 0.5, seed)
                more = Interactions.from_frame(pd.concat([s.train.to_frame(), half.to_frame()], ignore_index=True))
                ctrl = BPRMF(**params).fit(more, held_out, seed=seed, progress=False)
                emit("control: MF-λFix + half of validation", ctrl, time.perf_counter() - t0, reg=reg)
            if "sgda" in args.rows:
                t0 = time.perf_counter()
                base = dict(factors=args.factors, optimizer="sgd", reg=reg, batch_size=BATCH)
                sgd = pick([BPRMF(**base, learning_rate=lr).fit(s.train, s.valid, seed=seed, progress=False) for lr in SGD_LR])
                lr = sgd.config.learning_rate
                sgda = pick([BPRMF(**{**base, "reg": 0.01}, learning_rate=lr, lambdaopt="D", lambda_optimizer="sgd", lambda_lr=llr)
                             .fit(s.train, s.valid, seed=seed, progress=False) for llr in SGDA_LAMBDA_LR])
                emit("SGDA (λOpt-D, SGD)", sgda, time.perf_counter() - t0, learning_rate=lr, lambda_lr=sgda.config.lambda_lr)
            if "amf" in args.rows:
                t0 = time.perf_counter()
                amf = pick([AMF(**params, adv_eps=e, pretrained=fix).fit(s.train, s.valid, seed=seed, progress=False)
                            for e in AMF_EPS])
                emit("AMF (from MF-λFix)", amf, time.perf_counter() - t0 + fix.fit_seconds_, reg=reg, adv_eps=amf.config.adv_eps)
            if "neumf" in args.rows:
                t0 = time.perf_counter()
                nm = pick([NeuMF(**params, mlp_layers=n, pretrained=fix).fit(s.train, s.valid, seed=seed, progress=False)
                           for n in NEUMF_LAYERS])
                emit("NeuMF (from MF-λFix)", nm, time.perf_counter() - t0 + fix.fit_seconds_, reg=reg, mlp_layers=nm.config.mlp_layers)
            if "lambdaopt" in args.rows:
                for g in args.granularities:
                    model = BPRMF(factors=args.factors, batch_size=BATCH, lambdaopt=g, lambda_every=args.lambda_every,
                                  lambda_batch_size=args.lambda_batch_size or None)
                    traj = LambdaTrajectory(np.bincount(s.train.users, minlength=s.train.n_users),
                                            np.bincount(s.train.items, minlength=s.train.n_items))
                    t0 = time.perf_counter()
                    model.fit(s.train, s.valid, seed=seed, progress=False, callbacks=[traj])
                    emit(f"λOpt-{g}" + (f" (Λ-step every {args.lambda_every} batches)" if args.lambda_every > 1 else "")
                         + (f" ({args.lambda_batch_size} validation rows per Λ-step)" if args.lambda_batch_size else ""), model, time.perf_counter() - t0, trajectory=traj.to_dict() if g == "DUI" and args.lambda_every == 1 and not args.lambda_batch_size else None)
            if "als" in args.rows:
                t0 = time.perf_counter()
                als = ImplicitALS().fit(s.train, s.valid, seed=seed, progress=False)
                emit("ImplicitALS (defaults)", als, time.perf_counter() - t0)
    summarize(args.out)


def summarize(path: Path) -> None:
    rows = [json.loads(line) for line in path.open()]
    rows = [r for r in rows if "groups" in r]  # rows of this version of the script
    for (dataset, factors) in dict.fromkeys((r["dataset"], r["factors"]) for r in rows):
        rs_all = [r for r in rows if r["dataset"] == dataset and r["factors"] == factors]
        seeds = sorted({r["seed"] for r in rs_all})
        print(f"\n{dataset}, temporal-60-20-20, BPR-MF K={factors} Adam, seeds {seeds}, λOpt metric family (test)\n")
        print("| model | AUC | HR@50 | HR@100 | NDCG@50 | NDCG@100 | topk NDCG@50 | wall s | seeds |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name in dict.fromkeys(r["model"] for r in rs_all):
            rs = [r for r in rs_all if r["model"] == name]
            ms = partial(mean_std, rs)
            print(f"| {name} | " + " | ".join(ms(k) for k in (*METRICS, "topk_ndcg@50")) + f" | {ms('seconds', '{:.0f}')} | {len(rs)} |")
        fixed = {r["seed"]: r for r in rs_all if r["model"].startswith("MF-λFix")}
        for name in dict.fromkeys(r["model"] for r in rs_all if r["model"].startswith("λOpt")):
            paired = [(r, fixed[r["seed"]]) for r in rs_all if r["model"] == name and r["seed"] in fixed]
            if not paired:
                continue
            for m in ("hr@100", "ndcg@100"):
                gain = [100 * (a[m] / b[m] - 1) for a, b in paired]
                print(f"{name} {m.upper()} gain over MF-λFix, same seed: {np.mean(gain):+.1f}% (per seed "
                      + ", ".join(f"{x:+.1f}%" for x in gain) + ")")
            if name == "λOpt-DUI":
                from autorecs.plots import plot_group_gains, plot_lambda_trajectories

                gains = [group_gains(a["groups"], b["groups"]) for a, b in paired]
                mean = {side: {k: (v if k.endswith("_count") else list(np.nanmean([g[side][k] for g in gains], 0)))
                               for k, v in gains[0][side].items()} for side in ("user", "item")}
                stem = path.with_suffix("")
                print("group gains (mean over seeds):", json.dumps(mean))
                print(plot_group_gains(mean, f"{stem}-K{factors}-group-gains.png",
                                       title=f"λOpt-DUI over MF-λFix per frequency group, {dataset} K={factors}, {len(paired)} seeds"))
                first = min(paired, key=lambda p: p[0]["seed"])[0]
                if first.get("trajectory"):
                    traj = LambdaTrajectory(first["trajectory"]["counts"]["user"], first["trajectory"]["counts"]["item"],
                                            first["trajectory"]["groups"])
                    traj.records = first["trajectory"]["records"]
                    traj.final = {k: np.asarray(v) for k, v in first["trajectory"]["final"].items()}
                    print(plot_lambda_trajectories(traj, f"{stem}-K{factors}-trajectories.png",
                                                   title=f"λOpt-DUI Λ-trajectories, {dataset} K={factors}, seed {first['seed']}"))


if __name__ == "__main__":
    main()
