"""`autorecs quickstart`: a real recommender on real data in one command."""

from __future__ import annotations

import time
from pathlib import Path

from ._progress import progress_bar
from .config import json_text
from .data import load, split
from .evaluation import evaluate
from .models import BPRMF, BiasedMF, ImplicitALS
from .plots import plot_learning_curves


def run_quickstart(*, dataset: str = "ml-100k", out_dir: Path = Path("autorecs-out/quickstart"), seed: int = 0, progress: bool = True) -> dict:
    """Rating task on ``random-50-25-25`` (BiasedMF, and a searched interaction function: a short
    SIF search, K=8, retrained with λ chosen on validation) and ranking on ``temporal-60-20-20``:
    BPRMF with λ chosen by the λOpt paper's 8-value grid (8 training runs) against BPRMF with
    λOpt-DUI (Λ learned in one run), and ImplicitALS; defaults otherwise, selection on
    validation, each model evaluated once on test.  Writes ``learning_curves.png`` and ``results.json``."""
    data = load(dataset)  # an unknown or unavailable data set refused before the directory is made
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = [  # (protocol, role, model or what to run)
        ("random-50-25-25", "rating-baseline", BiasedMF()),
        ("random-50-25-25", "sif", "sif"),
        ("temporal-60-20-20", "lambda-grid", "grid"),
        ("temporal-60-20-20", "lambdaopt", BPRMF(lambdaopt="DUI")),
        ("temporal-60-20-20", "implicit-als", ImplicitALS()),
    ]
    splits: dict = {}
    results, histories = [], {}
    for protocol, role, model in runs:
        if protocol not in splits:
            splits[protocol] = split(data, protocol, seed=seed)
        train, valid, test = splits[protocol]
        search_s, fit_s = 0.0, None
        if model == "sif":
            from .sif.pipeline import retrain
            from .sif.search import SIFSearch

            found = SIFSearch(factors=8).fit(train, valid, seed=seed, progress=progress)
            model, info = retrain(found.arch, train, valid, seed=seed)
            search_s, fit_s = found.seconds, info["seconds"]  # fit: every λ of the retraining grid
        elif model == "grid":
            import tempfile

            from .search import Tuner
            from .search.spaces import builtin_space

            space = builtin_space("lambdaopt-grid", set(BPRMF.Config.__dataclass_fields__))
            with tempfile.TemporaryDirectory() as tmp, progress_bar(space.grid_size, f"λ grid ({space.grid_size} BPR-MF fits)", enabled=progress) as bar:
                tuner = Tuner("bpr-mf", space, strategy="grid", storage=Path(tmp) / "grid.journal", seed=seed)  # fresh: timed alone
                res = tuner.run(train, valid, test, exclude=[valid],
                                on_trial=lambda t: bar.update(1, **t.params, valid=t.value if t.value is not None else float("nan")))
            model, fit_s = res.model, res.fit_seconds + res.extra["refit_seconds"]  # fit: the 8 grid runs and the refit
        else:
            model.fit(train, valid, seed=seed, progress=progress)
            fit_s = model.fit_seconds_
        t0 = time.perf_counter()
        metrics = evaluate(model, test, exclude=[valid], ks=(10, 50, 100))
        eval_s = time.perf_counter() - t0
        if model.task == "rating":
            metrics = {"rating": {k: metrics[k] for k in ("rmse", "mae", "rmse_std")}}
        label = model.name
        if model.name == "sif":
            label = f"sif ({model.config.interaction})"
        elif model.name == "bpr-mf":
            label = f"bpr-mf λOpt-{model.config.lambdaopt}" if model.config.lambdaopt else f"bpr-mf (λ={model.config.reg:g} of the 8-value grid)"
        histories[label] = model.history_
        results.append(
            {
                "model": label,
                "role": role,
                "task": model.task,
                "protocol": protocol,
                "dataset": dataset,
                "params": model.get_params(),
                "epochs": len(model.history_.epochs),
                "best_epoch": model.history_.best_epoch,
                "metrics": metrics,
                "seconds": {"fit": fit_s, "evaluate": eval_s, **({"search": search_s} if search_s else {})},
            }
        )
    figure = plot_learning_curves(histories, out_dir / "learning_curves.png", title=f"autorecs quickstart on {dataset}")
    results_file = out_dir / "results.json"
    payload = {"dataset": dataset, "seed": seed, "results": results, "comparison": lambdaopt_vs_grid(results), "figure": str(figure),
               "results_file": str(results_file)}
    results_file.write_text(json_text(payload, indent=2))
    return payload


def lambdaopt_vs_grid(results: list[dict]) -> dict | None:
    """λOpt against the λ grid on test (λOpt family, K=100): each value, the relative change, and the fit seconds."""
    by_role = {r["role"]: r for r in results}
    grid, learned = by_role.get("lambda-grid"), by_role.get("lambdaopt")
    if grid is None or learned is None:
        return None
    g, lo = grid["metrics"]["lambdaopt"], learned["metrics"]["lambdaopt"]
    out = {"model": learned["model"], "grid": grid["model"]}
    for k in ("ndcg@100", "hr@100"):
        out[k] = {"lambdaopt": lo[k], "grid": g[k], "change_percent": 100 * (lo[k] / g[k] - 1) if g[k] else None}
    out["fit_seconds"] = {"lambdaopt": learned["seconds"]["fit"], "grid": grid["seconds"]["fit"]}
    return out
