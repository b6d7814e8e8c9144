"""Speed and memory of the MF building blocks.

    python benchmarks/bench_speed.py            # all cases, each in its own process
    python benchmarks/bench_speed.py --case NAME # one case, prints one JSON line

Cases: ml-1m epoch per solver (BiasedMF sgd/adam/adagrad, one ALS sweep by CG and exact; BPRMF epoch;
ImplicitALS sweep by CG and by Cholesky), full-ranking evaluation of all ml-1m users (both metric families), and one epoch on
synthetic long-tailed data of 1e5, 1e6 and 1e7 interactions.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, peak_rss_mib, run_isolated  # noqa: E402

CASES = [
    "ml1m-biasedmf-sgd", "ml1m-biasedmf-adam", "ml1m-biasedmf-adagrad", "ml1m-biasedmf-als-k32", "ml1m-biasedmf-als-k64",
    "ml1m-biasedmf-als-k64-exact", "ml1m-bpr-adam", "ml1m-bpr-default", "ml1m-implicit-als-k64", "ml1m-implicit-als-k64-cholesky", "ml1m-eval-all-users",
    "ml1m-validation-ndcg50",
    "synthetic-1e5", "synthetic-1e6", "synthetic-1e7",
]


def _time_epochs(model, train, epochs: int = 3) -> dict:
    model.fit(train, None, seed=0, progress=False)
    secs = [e["seconds"] for e in model.history_.epochs]
    return {"epoch_s": min(secs), "epoch_s_all": secs, "interactions": len(train), "interactions_per_s": len(train) / min(secs)}


def run_case(name: str) -> dict:
    from autorecs import BPRMF, BiasedMF, ImplicitALS, evaluate, load, split
    from autorecs.data.synthetic import low_rank_ratings

    if name.startswith("synthetic-"):
        n = int(float(name.split("-")[1]))
        t0 = time.perf_counter()
        data = low_rank_ratings(max(n // 50, 100), max(n // 500, 50), n, factors=8, zipf=0.8, seed=0)
        gen_s = time.perf_counter() - t0
        out = _time_epochs(BiasedMF(solver="adam", factors=32, batch_size=65536, learning_rate=0.01, epochs=2), data, 2)
        out.update(users=data.n_users, items=data.n_items, generate_s=gen_s, solver="adam", factors=32, batch_size=65536)
        return out
    data = load("ml-1m")
    train, valid, test = split(data, "random-50-25-25", seed=0)
    if name.startswith("ml1m-biasedmf-"):
        solver = name.split("-")[2]
        factors = int(name.split("-k")[1].split("-")[0]) if "-k" in name else 64
        lr = {"sgd": 0.5, "adam": 0.005, "adagrad": 0.05, "als": 0.0}[solver]
        cg_steps = 0 if name.endswith("-exact") else 3
        out = _time_epochs(BiasedMF(solver=solver, factors=factors, learning_rate=lr if lr else 0.005, epochs=3, cg_steps=cg_steps), train)
        out.update(solver=solver, factors=factors, batch_size=1024, **({"cg_steps": cg_steps} if solver == "als" else {}))
        return out
    tr, va, te = split(data, "temporal-60-20-20")
    if name == "ml1m-bpr-adam":
        return _time_epochs(BPRMF(factors=64, epochs=3, batch_size=1024), tr) | {"factors": 64, "batch_size": 1024}
    if name == "ml1m-bpr-default":  # the default batch, which follows the data's size
        model = BPRMF(epochs=3)
        return _time_epochs(model, tr) | {"factors": model.config.factors, "batch_size": model.batch_size_}
    if name.startswith("ml1m-implicit-als-k64"):
        solver = "cholesky" if name.endswith("-cholesky") else "cg"
        return _time_epochs(ImplicitALS(factors=64, epochs=3, solver=solver), tr) | {"factors": 64, "solver": solver}
    if name == "ml1m-eval-all-users":
        model = ImplicitALS(factors=64, epochs=1).fit(tr, None, seed=0, progress=False)
        t0 = time.perf_counter()
        res = evaluate(model, te, exclude=[va], ks=(50, 100))
        return {"evaluate_s": time.perf_counter() - t0, "users": res["users"], "items": len(model.item_vocab_), "families": ["lambdaopt", "topk"]}
    if name == "ml1m-validation-ndcg50":  # what fit() runs after every epoch: the monitored metric only, cached structures
        from autorecs.evaluation import Evaluator

        model = ImplicitALS(factors=64, epochs=1).fit(tr, None, seed=0, progress=False)
        ev = Evaluator(model, va, task="ranking", ks=(50,), families=("topk",), metrics=("ndcg@50",))
        t0 = time.perf_counter()
        ev(model)
        first = time.perf_counter() - t0
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            ev(model)
            times.append(time.perf_counter() - t0)
        return {"first_s": first, "validate_s": min(times), "users": int(ev(model)["users"]), "items": len(model.item_vocab_)}
    raise SystemExit(f"unknown case {name!r}; choose from {CASES}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=CASES)
    ap.add_argument("--only", nargs="*", default=None, help="subset of cases to run")
    args = ap.parse_args()
    if args.case:
        res = run_case(args.case)
        res["peak_rss_mib"] = peak_rss_mib()
        print(json.dumps(res))
        return
    print(json.dumps({"machine": machine()}))
    for case in args.only or CASES:
        res = run_isolated(__file__, "--case", case)
        keep = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items() if k != "epoch_s_all"}
        print(json.dumps({"case": case, **keep}), flush=True)


if __name__ == "__main__":
    main()
