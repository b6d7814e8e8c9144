"""Attempts to close AC+LR's gap to the paper on Adult: variants of the final LR and of the search.

    python benchmarks/bench_autocross_variants.py --seeds 0 --out benchmarks/results/autocross-variants.jsonl

Same `adult-original` protocol and tuned-L2 LR as `bench_autocross.py`; every variant is chosen
and tuned on validation, the test file scored once per row.  Rows:

- LR / AC+LR as in the main table (the chosen granularity per numerical column);
- `all granularities`: every binning of every numerical column (10 per column) as fields at once;
- `refit on train+valid`: the model refitted on training + validation rows with the L2 chosen on validation;
- `longer search`: up to 25 crosses, patience 25;  `min_count 5`: rare values and pairs to code 0;
- `held-out half`: ``confirm_fraction=0.5``, candidates ranked on one half of validation, steps decided on the other;
- `in-file test`: the test rows drawn from the training file (60/20/20) instead of the original
  test file, to see how much a single split's AUC moves.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402

from autorecs.ctr.autocross import AutoCross, split_frame  # noqa: E402
from autorecs.ctr.encoding import TableEncoder  # noqa: E402
from autorecs.ctr.logistic import FieldLogisticRegression, tune_l2  # noqa: E402
from autorecs.ctr.pipeline import table_protocol  # noqa: E402
from autorecs.metrics.classification import auc  # noqa: E402


def lr_row(name, seed, X, Xv, Xt, cards, y, yv, yt, refit=False) -> dict:
    lr, grid = tune_l2(X, cards, y, Xv, yv)
    row = {"seed": seed, "variant": name, "l2": lr.l2, "valid_auc": grid[lr.l2], "test_auc": auc(lr.decision_function(Xt), yt)}
    if refit:
        full = FieldLogisticRegression(lr.l2).fit(np.vstack([X, Xv]), cards, np.concatenate([y, yv]))
        row["test_auc_refit_train_valid"] = auc(full.decision_function(Xt), yt)
    return row


def variants(seed: int) -> list[dict]:
    train, valid, test, label = table_protocol("adult", seed)
    rows = []
    ac = AutoCross(label, progress=False, seed=seed).fit(train, valid)
    X, Xv, Xt = ac.transform(train), ac.transform(valid), ac.transform(test)
    y, yv, yt = ac.labels(train), ac.labels(valid), ac.labels(test)
    n, cards = len(ac.encoder.fields), ac.cardinalities_
    rows.append(lr_row("LR", seed, X[:, :n], Xv[:, :n], Xt[:, :n], cards[:n], y, yv, yt, refit=True))
    rows.append(lr_row(f"AC+LR ({len(ac.crosses_)} crosses)", seed, X, Xv, Xt, cards, y, yv, yt, refit=True))
    enc = TableEncoder(label, bins=(4, 8, 16, 32, 64), binning="both").fit(train)
    A, Av, At = enc.transform(train), enc.transform(valid), enc.transform(test)
    all_cards = [f.cardinality for f in enc.fields]
    rows.append(lr_row("LR, all granularities", seed, A, Av, At, all_cards, y, yv, yt))
    rows.append(lr_row("AC+LR crosses, all granularities", seed, np.column_stack([A, X[:, n:]]), np.column_stack([Av, Xv[:, n:]]),
                       np.column_stack([At, Xt[:, n:]]), all_cards + cards[n:], y, yv, yt))
    for name, opts in (("AC+LR, longer search (25 crosses, patience 25)", {"max_crosses": 25, "patience": 25}),
                       ("AC+LR, min_count 5", {"min_count": 5, "cross_min_count": 5}),
                       ("AC+LR, steps decided on held-out half of validation", {"confirm_fraction": 0.5})):
        v = AutoCross(label, progress=False, seed=seed, **opts).fit(train, valid)
        rows.append(lr_row(name, seed, v.transform(train), v.transform(valid), v.transform(test), v.cardinalities_, y, yv, yt)
                    | {"crosses": len(v.crosses_)})
    # in-file test: 60/20/20 of the training file (validation as above)
    tr, te = split_frame(train, 0.25, seed + 100)
    v = AutoCross(label, progress=False, seed=seed).fit(tr, valid)
    T, Tv, Tt = v.transform(tr), v.transform(valid), v.transform(te)
    ty, tyt, m = v.labels(tr), v.labels(te), len(v.encoder.fields)
    rows.append(lr_row("LR, in-file test", seed, T[:, :m], Tv[:, :m], Tt[:, :m], v.cardinalities_[:m], ty, yv, tyt))
    rows.append(lr_row("AC+LR, in-file test", seed, T, Tv, Tt, v.cardinalities_, ty, yv, tyt))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/autocross-variants.jsonl"))
    args = ap.parse_args()
    rows = []
    for seed in args.seeds:
        for r in variants(seed):
            r["machine"] = machine()
            rows.append(r)
            refit = f"  refit {r['test_auc_refit_train_valid']:.4f}" if "test_auc_refit_train_valid" in r else ""
            print(f"seed {seed} {r['variant']}: valid {r['valid_auc']:.4f} test {r['test_auc']:.4f}{refit}", flush=True)
    with args.out.open("a") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
