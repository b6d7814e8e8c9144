"""autorecs against the field's libraries, side by side in one process.

    pip install -e ".[bench]"        # brings `implicit` and `scikit-surprise`
    python benchmarks/bench_peers.py --dataset ml-100k --threads 1 2 --rounds 3 \
        --out benchmarks/results/peers.jsonl

Same split for everyone (``temporal-60-20-20`` for the ranking models, ``random-50-25-25``
for the rating models, seed 0), contenders fitted in alternating order inside each round
(so a slow phase of the machine hits all of them), fit seconds and the test metric scored
by autorecs' one evaluation path (ranking: topk NDCG@50 excluding train and validation
items; rating: RMSE).  One JSON row per (contender, threads, round); the summary printed
at the end is the median over rounds.

Contenders (each at its library's defaults, or the same K as ours where said):

- ``autorecs ImplicitALS`` defaults (CG solver, early stopping on validation NDCG@50);
  ``autorecs ImplicitALS 15 sweeps`` the same model for exactly 15 sweeps, no validation
  (the like-for-like fit time); ``implicit ALS`` with our K = 96 and its default 15 iterations.
- ``autorecs BPRMF`` defaults (early stopping on validation); ``implicit BPR`` with
  factors = 63 (+ its item-bias column = our K = 64 + bias) and its default 100 iterations.
- ``autorecs BiasedMF`` defaults (ALS, early stopping on validation RMSE); ``Surprise SVD``
  defaults (100 factors, 20 epochs), with 100 epochs, and tuned: the best of a 24-point grid
  (factors 50/100, epochs 20/50, lr 0.005/0.01, reg 0.02/0.05/0.1) on validation RMSE, chosen
  once per thread count, then timed like the others.

Our models see the validation split only to decide when to stop; the peers train on the
same training split for their fixed number of iterations.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit warns otherwise; we set BLAS threads below

sys.path.insert(0, str(Path(__file__).parent))
from _common import PeerFactors, commit, machine  # noqa: E402


#: ``--dataset`` names that are generated here, not loaded (see :func:`longtail`).
GENERATED = ("synthetic-longtail",)


def longtail(seed: int = 0):
    """The speed issue's "sparse, long-tailed set": 2,000 users, 3,000 items, 18,000 distinct
    interactions, user and item popularity Zipf-distributed (exponent 1), no ratings (implicit
    feedback), timestamps in random order (``autorecs.data.synthetic.low_rank_ratings``, seed 0)."""
    from autorecs.data import Interactions
    from autorecs.data.synthetic import low_rank_ratings

    d = low_rank_ratings(2000, 3000, 18000, zipf=1.0, seed=seed)
    return Interactions(d.users, d.items, d.user_vocab, d.item_vocab, timestamps=d.timestamps)


def ranking_contenders(train, valid, threads: int):
    """``(name, fit() -> scorer)`` pairs for the ranking split."""
    import numpy as np
    from implicit.als import AlternatingLeastSquares
    from implicit.bpr import BayesianPersonalizedRanking

    from autorecs import BPRMF, ImplicitALS

    ui = train.csr("ones").astype(np.float32).tocsr()

    def ours(klass, with_valid=True, **params):
        def fit():
            m = klass(**params).fit(train, valid if with_valid else None, seed=0, progress=False)
            return m, {"epochs": len(m.history_.epochs), "best_epoch": m.history_.best_epoch}
        return fit

    def peer(klass, **params):
        def fit():
            m = klass(**params, random_state=0, num_threads=threads)
            m.fit(ui, show_progress=False)
            return PeerFactors(train, m.user_factors, m.item_factors), {"iterations": params.get("iterations")}
        return fit

    return [
        ("autorecs ImplicitALS", ours(ImplicitALS)),
        ("autorecs ImplicitALS 15 sweeps", ours(ImplicitALS, with_valid=False, epochs=15)),
        ("implicit ALS", peer(AlternatingLeastSquares, factors=96, iterations=15)),
        ("autorecs BPRMF", ours(BPRMF)),
        ("implicit BPR", peer(BayesianPersonalizedRanking, factors=63, iterations=100)),
    ]


class _SurprisePredictions:
    """A fitted Surprise algorithm's predictions in the interface of autorecs.evaluation (rating)."""

    task = "rating"

    def __init__(self, algo, train):
        import numpy as np

        self.algo, self.fitted_ = algo, True
        self.user_vocab_, self.item_vocab_ = train.user_vocab, train.item_vocab
        self.train_mean_, self.train_std_ = float(np.mean(train.ratings)), float(np.std(train.ratings))

    def _check_fitted(self):
        pass

    def _predict_codes(self, users, items):
        import numpy as np

        uids, iids = self.user_vocab_.ids(np.maximum(users, 0)), self.item_vocab_.ids(np.maximum(items, 0))
        out = np.empty(len(users), np.float32)
        for k, (u, i, ku, ki) in enumerate(zip(uids, iids, users, items)):
            out[k] = self.algo.predict(u if ku >= 0 else "?", i if ki >= 0 else "?").est
        return out


def rating_contenders(train, valid, threads: int, tuned: bool = False):
    import pandas as pd
    from surprise import SVD, Dataset, Reader

    from autorecs import BiasedMF

    frame = pd.DataFrame({"u": train.user_vocab.ids(train.users), "i": train.item_vocab.ids(train.items), "r": train.ratings})
    lo, hi = float(train.ratings.min()), float(train.ratings.max())

    def ours():
        m = BiasedMF().fit(train, valid, seed=0, progress=False)
        return m, {"epochs": len(m.history_.epochs), "best_epoch": m.history_.best_epoch}

    def svd(**params):
        def fit():
            data = Dataset.load_from_df(frame, Reader(rating_scale=(lo, hi))).build_full_trainset()
            algo = SVD(random_state=0, **params)
            algo.fit(data)
            return _SurprisePredictions(algo, train), {"epochs": params.get("n_epochs", 20), **({"params": params} if params else {})}
        return fit

    out = [("autorecs BiasedMF", ours), ("Surprise SVD", svd()), ("Surprise SVD 100 epochs", svd(n_epochs=100))]
    if tuned:  # Surprise's SVD tuned on validation RMSE over a small grid, once; its chosen configuration is timed
        from autorecs import evaluate

        best = None
        for n_factors, n_epochs, lr_all, reg_all in itertools.product((50, 100), (20, 50), (0.005, 0.01), (0.02, 0.05, 0.1)):
            params = dict(n_factors=n_factors, n_epochs=n_epochs, lr_all=lr_all, reg_all=reg_all)
            value = evaluate(svd(**params)()[0], valid)["rmse"]
            if best is None or value < best[0]:
                best = (value, params)
        print(json.dumps({"surprise_svd_tuned": best[1], "valid_rmse": best[0]}), flush=True)
        out.append(("Surprise SVD tuned", svd(**best[1])))
    return out


def score(model, test, valid) -> dict:
    from autorecs import evaluate

    if model.task == "rating":
        return {"rmse": evaluate(model, test)["rmse"]}
    return {"ndcg@50": evaluate(model, test, exclude=[valid], ks=(50,), families=("topk",))["topk"]["ndcg@50"]}


#: (our contender, its peer) pairs whose fit-time ratio the table shows
PAIRS = {
    "autorecs ImplicitALS": "implicit ALS",
    "autorecs ImplicitALS 15 sweeps": "implicit ALS",
    "autorecs BPRMF": "implicit BPR",
    "autorecs BiasedMF": "Surprise SVD tuned",
}


def summarize(rows: list[dict]) -> str:
    """Markdown table: median fit seconds and test metric over the rounds of each contender's latest
    run in ``rows`` (file order; a re-measurement appends a run), and our time / the peer's."""
    keys = sorted({(r["dataset"], r["task"], r["threads"], r["model"]) for r in rows},
                  key=lambda k: (k[0] != "ml-100k", k[0], k[1], k[2], k[3]))
    med = {}
    for key in keys:
        sel = [r for r in rows if (r["dataset"], r["task"], r["threads"], r["model"]) == key]
        sel = sel[max(k for k, r in enumerate(sel) if r["round"] == 0):]  # its latest run (earlier ones: history)
        metric = "rmse" if key[1] == "rating" else "ndcg@50"
        med[key] = (statistics.median(r["fit_s"] for r in sel), statistics.median(r[metric] for r in sel), len(sel),
                    statistics.median(r.get("epochs") or r.get("iterations") or 0 for r in sel))
    out = ["| data | threads | model | fit s (median) | test metric | epochs | fit / peer's |", "|---|---|---|---|---|---|---|"]
    for key in keys:
        data, task, threads, model = key
        fit, value, n, epochs = med[key]
        peer = PAIRS.get(model)
        ratio = f"{fit / med[(data, task, threads, peer)][0]:.2f}x" if peer and (data, task, threads, peer) in med else ""
        metric = "RMSE" if task == "rating" else "NDCG@50"
        out.append(f"| {data} | {threads} | {model} | {fit:.2f} | {metric} {value:.4f} | {epochs:g} | {ratio} |")
    return "\n".join(out)


def main() -> None:
    import torch
    from threadpoolctl import threadpool_limits

    from autorecs import load, split

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-100k", help=f"a built-in data set, or generated: {', '.join(GENERATED)}")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--task", choices=["ranking", "rating", "both"], default="both")
    ap.add_argument("--only", nargs="*", default=None, help="contender names to run (default: all)")
    ap.add_argument("--out", type=Path, default=None, help="append JSON rows here")
    ap.add_argument("--summarize", type=Path, nargs="+", default=None, help="print the README table of these result files and exit")
    args = ap.parse_args()
    if args.summarize:
        print(summarize([json.loads(line) for f in args.summarize for line in f.read_text().splitlines() if line.strip()]))
        return

    if args.dataset in GENERATED and args.task != "ranking":
        raise SystemExit(f"--dataset {args.dataset} is implicit feedback: use --task ranking")
    data = longtail() if args.dataset == "synthetic-longtail" else load(args.dataset)
    splits = {}
    if args.task in ("ranking", "both"):
        splits["ranking"] = split(data, "temporal-60-20-20")
    if args.task in ("rating", "both"):
        splits["rating"] = split(data, "random-50-25-25", seed=0)
    rows = []
    code = commit()
    for threads in args.threads:
        torch.set_num_threads(threads)
        with threadpool_limits(threads):
            for task, (train, valid, test) in splits.items():
                if task == "ranking":
                    contenders = ranking_contenders(train, valid, threads)
                else:
                    contenders = rating_contenders(train, valid, threads, tuned=args.only is None or "Surprise SVD tuned" in args.only)
                contenders = [c for c in contenders if args.only is None or c[0] in args.only]
                for rnd in range(args.rounds):
                    order = contenders[rnd % len(contenders):] + contenders[: rnd % len(contenders)]  # alternate who goes first
                    for name, fit in order:
                        t0 = time.perf_counter()
                        model, info = fit()
                        secs = time.perf_counter() - t0
                        row = {"dataset": args.dataset, "task": task, "model": name, "threads": threads, "round": rnd,
                               "fit_s": secs, **score(model, test, valid), **info}
                        rows.append(row)
                        print(json.dumps(row), flush=True)
                        if args.out:
                            with args.out.open("a") as f:
                                f.write(json.dumps({**row, "machine": machine(), "commit": code}) + "\n")
    print("\nmedian over rounds:")
    keys = sorted({(r["task"], r["model"], r["threads"]) for r in rows}, key=lambda k: (k[0], k[2], k[1]))
    for task, model, threads in keys:
        sel = [r for r in rows if (r["task"], r["model"], r["threads"]) == (task, model, threads)]
        metric = "rmse" if task == "rating" else "ndcg@50"
        print(f"{task:8s} {threads}t  {model:32s} fit {statistics.median(r['fit_s'] for r in sel):7.2f} s  "
              f"{metric} {statistics.median(r[metric] for r in sel):.4f}")


if __name__ == "__main__":
    main()
