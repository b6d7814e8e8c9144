"""Peer comparison: the `implicit` library's ALS and BPR on our split, scored by our metrics.

    pip install -e ".[bench]"   # brings `implicit` (benchmark-only dependency)
    python benchmarks/peer_implicit.py --dataset ml-100k

Same split (temporal-60-20-20), same evaluation code (autorecs.evaluation), hyperparameters
chosen by validation topk NDCG@50 over a small grid; the test split is evaluated once for the
chosen configuration.  Tells whether our ImplicitALS / BPRMF numbers are those of a correct
implementation.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit's advice for its own threading

sys.path.insert(0, str(Path(__file__).parent))
from _common import PeerFactors  # noqa: E402


def main() -> None:
    import implicit
    from implicit.als import AlternatingLeastSquares
    from implicit.bpr import BayesianPersonalizedRanking

    from autorecs import load, split
    from autorecs.evaluation import Evaluator

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-100k")
    args = ap.parse_args()
    train, valid, test = split(load(args.dataset), "temporal-60-20-20")
    ui = train.csr("ones")
    grids = {
        "implicit ALS": (AlternatingLeastSquares, dict(factors=[64, 128], regularization=[0.01, 0.1, 1.0, 10.0], alpha=[1.0, 5.0, 20.0, 40.0], iterations=[15])),
        "implicit BPR": (BayesianPersonalizedRanking, dict(factors=[63, 127], learning_rate=[0.01, 0.05], regularization=[0.001, 0.01], iterations=[100, 300])),
    }
    print(json.dumps({"implicit": implicit.__version__, "dataset": args.dataset, "protocol": "temporal-60-20-20"}))
    for label, (klass, grid) in grids.items():
        best = None
        for values in itertools.product(*grid.values()):
            params = dict(zip(grid, values))
            t0 = time.perf_counter()
            model = klass(**params, random_state=0)
            model.fit(ui, show_progress=False)
            fit_s = time.perf_counter() - t0
            peer = PeerFactors(train, model.user_factors, model.item_factors)
            v = Evaluator(peer, valid, task="ranking", ks=(50,), families=("topk",))(peer)["topk"]["ndcg@50"]
            if best is None or v > best[0]:
                best = (v, params, peer, fit_s)
        v, params, peer, fit_s = best
        res = Evaluator(peer, test, task="ranking", exclude=[valid], ks=(50, 100))(peer)
        print(json.dumps({"model": label, "params": params, "valid_ndcg@50": v, "fit_s": fit_s, "topk": res["topk"], "lambdaopt": res["lambdaopt"]}), flush=True)


if __name__ == "__main__":
    main()
