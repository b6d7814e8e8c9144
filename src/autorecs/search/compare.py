"""One call for what ``autorecs tune`` does: one study per strategy on the same data and budget,
their summaries, the chosen model saved, and the search-cost figure (a typed report)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..config import json_text
from ..data.interactions import Interactions
from .engine import Budget, Tuner, TuneResult
from .space import SearchSpace


def fit_command(model: str, task: str, params: dict, seed: int) -> str:
    """An ``autorecs fit`` command line that trains ``params`` as a trial did (what tune prints pastes into fit)."""
    flags = " ".join(f"-p {k}={v}" if isinstance(v, str) else f"-p {k}={json.dumps(v)}" for k, v in sorted(params.items()))
    return f"autorecs fit --task {task} --model {model} {flags} --seed {seed} --train TRAIN --valid VALID --out DIR"


def overhead_seconds(result: TuneResult) -> float:
    """This run's worker-seconds not spent training trials (sampling, storage, start-up): its wall time (the refit
    after it not included) times the workers that ran its trials, less those trials' fit seconds (a continued
    study's earlier trials are in neither)."""
    mine = result.trials[result.extra.get("earlier_trials", 0):]
    workers = len({t.worker for t in mine}) or 1
    return result.wall_seconds * workers - sum(t.fit_seconds for t in mine)


def summary(result: TuneResult, model: str, task: str, seed: int) -> dict:
    """A study's result as plain data: best trial, the parameters to fit it again, cost, every trial."""
    r = result
    return {
        "study": r.study, "strategy": r.strategy, "metric": r.metric, "direction": r.direction, "n_trials": len(r.trials),
        "states": {s: sum(t.state == s for t in r.trials) for s in {t.state for t in r.trials}},
        "best_valid": None if r.best is None else r.best.value, "best_params": None if r.best is None else r.best.params,
        "model_params": r.model_params,
        "fit_command": fit_command(model, task, r.model_params, seed + r.best.number) if r.best else None,
        "test": r.test, "fit_seconds": r.fit_seconds, "epochs": r.epochs, "wall_seconds": r.wall_seconds,
        "overhead_seconds": overhead_seconds(r),
        **r.extra, "trials": [t.__dict__ for t in r.trials],
    }


@dataclass
class TuneReport:
    model: str
    task: str
    space: dict
    studies: list[dict]
    results: list[TuneResult] = field(repr=False, default_factory=list)
    out: str | None = None
    """Where the chosen model was saved (``out_dir``)."""
    figure: str | None = None

    def to_dict(self) -> dict:
        d = {"model": self.model, "task": self.task, "space": self.space, "studies": self.studies}
        d.update({k: v for k, v in (("out", self.out), ("figure", self.figure)) if v is not None})
        return d


def best_result(results: Sequence[TuneResult]) -> TuneResult | None:
    """The study whose best trial is best (each study's own direction)."""
    done = [r for r in results if r.best is not None]
    if not done:
        return None
    sign = -1.0 if done[0].direction == "maximize" else 1.0
    return min(done, key=lambda r: sign * r.best.value)


def tune(model: str, space: SearchSpace, train: Interactions, valid: Interactions, test: Interactions | None = None, *,
         strategies: Sequence[str] = ("tpe",), budget: Budget | None = None, fixed: dict | None = None, storage=None,
         study: str | None = None, seed: int = 0, test_all: bool = False, out_dir: str | Path | None = None,
         report_dir: str | Path | None = None, on_trial: Callable[[str, object], None] | None = None, **tuner_options) -> TuneReport:
    """Search ``model``'s hyperparameters over ``space`` with each of ``strategies`` (one study each,
    ``study-STRATEGY`` when several), select on ``valid``, score the chosen one once on ``test``.

    ``out_dir``: save the best study's chosen model there.  ``report_dir``: write the
    validation-against-cost figure and ``results.json``.  Every Tuner is built (and so every
    option and value checked) before the first trial runs.
    """
    from ..models import MODELS

    task = MODELS[model].task
    tuners = [Tuner(model, space, strategy=s, budget=budget, fixed=fixed, storage=storage, seed=seed,
                    study=f"{study}-{s}" if study and len(strategies) > 1 else study, **tuner_options) for s in strategies]
    exclude = [valid] if task == "ranking" else ()
    results = []
    for s, tuner in zip(strategies, tuners):
        show = None if on_trial is None else (lambda t, s=s: on_trial(s, t))
        results.append(tuner.run(train, valid, test, exclude=exclude, test_all=test_all, on_trial=show, refit=out_dir is not None))
    report = TuneReport(model, task, space.to_dict(), [summary(r, model, task, seed) for r in results], results)
    best = best_result(results)
    if out_dir is not None and best is not None and best.model is not None:
        report.out = str(best.model.save(out_dir))
    if report_dir is not None:
        from ..plots import plot_search_cost

        folder = Path(report_dir)
        folder.mkdir(parents=True, exist_ok=True)
        report.figure = str(plot_search_cost(results, folder / "search_cost.png", title=f"{model}: {space.name}"))
        (folder / "results.json").write_text(json_text(report.to_dict(), indent=2))
    return report
