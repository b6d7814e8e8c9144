"""After an auto run: how each family's best trials do on test, trained on train alone and refit on
train + validation.  An analysis of the selection (test is read here, after the run; auto never reads it).

    python benchmarks/check_auto_families.py autorecs-out/bench-auto/ml-100k-ranking-seed0-600s --task ranking --seed 0 \\
        --out benchmarks/results/auto-families.jsonl

For the ``--top`` best trials of every family (λOpt trials skipped: they cannot be refit), the trial's
configuration is fitted, for the epochs early stopping found, (a) on train with its seed and scored on
validation (a check: it should repeat the run's value) and on test (validation rows excluded), and (b) refit on train + validation for the epochs early stopping found, as auto's
refit does, and scored on test.  One JSON line per trial.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import commit as _commit  # noqa: E402
from bench_auto import PROTOCOL  # noqa: E402

from autorecs import Interactions  # noqa: E402


def _score(model, data, task, exclude=()):
    from autorecs import evaluate

    if task == "rating":
        return evaluate(model, data)["rmse"]
    return evaluate(model, data, exclude=list(exclude), ks=(50,), families=("topk",))["topk"]["ndcg@50"]


def main() -> None:
    from autorecs import load, split
    from autorecs.models import MODELS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--task", choices=sorted(PROTOCOL), required=True)
    ap.add_argument("--seed", type=int, required=True, help="the split's and the run's seed")
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--top", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    train, valid, test = split(load(args.dataset), PROTOCOL[args.task], seed=args.seed)
    full = Interactions.concat(train, valid)
    rows = [json.loads(line) for line in (args.run_dir / "leaderboard.jsonl").read_text().splitlines() if line.strip()]
    by = collections.defaultdict(list)
    for r in rows:
        if r["state"] == "COMPLETE" and not r["params"].get("lambdaopt"):
            by[r["family"]].append(r)
    sign = 1.0 if args.task == "rating" else -1.0
    commit = _commit()
    for family, trials in by.items():
        for r in sorted(trials, key=lambda r: sign * r["value"])[: args.top]:
            params = {k: v for k, v in r["params"].items() if k != "monitor"}
            seed = args.seed + r["number"]
            if r.get("best_epoch"):  # the epochs early stopping found, for both fits (no validation to stop on)
                params["epochs"] = int(r["best_epoch"])
            alone = MODELS[r["model"]](**params).fit(train, None, seed=seed, progress=False)
            refit = MODELS[r["model"]](**params).fit(full, None, seed=seed, progress=False)
            row = {"dataset": args.dataset, "task": args.task, "seed": args.seed, "family": family, "trial": r["number"],
                   "valid_in_run": r["value"], "valid_train_only": _score(alone, valid, args.task),
                   "test_train_only": _score(alone, test, args.task, [valid]), "test_refit": _score(refit, test, args.task),
                   "params": params, "commit": commit}
            print(json.dumps(row), flush=True)
            if args.out:
                with args.out.open("a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
