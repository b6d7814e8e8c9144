"""Train one model and save it, with a typed report (what ``autorecs fit`` does, for Python too)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .data.interactions import Interactions


@dataclass
class FitReport:
    """What a fit did: the model, its parameters (a default that follows the data as the value the fit
    chose, e.g. BPRMF's batch size), epochs, the best validation value and the cost."""

    model: str
    task: str
    params: dict
    out: str | None
    train_rows: int
    epochs: int
    best_epoch: int | None
    monitor: str | None
    best_valid: float | None
    interrupted: bool
    seconds: dict = field(default_factory=dict)
    report: str | None = None
    """λOpt runs with a trajectory directory: the Λ-trajectory figure (its JSON beside it)."""

    def to_dict(self) -> dict:
        return asdict(self)


def fit_model(klass, params: dict, train: Interactions, valid: Interactions | None = None, *, out_dir: str | Path | None = None,
              seed: int = 0, device=None, progress: bool = True, trajectory_dir: str | Path | None = None):
    """Fit ``klass(**params)``; save it to ``out_dir`` (if given); with ``trajectory_dir`` (λOpt
    models) record Λ per frequency group every epoch and write ``lambda_trajectories.{json,png}``.

    Returns ``(model, FitReport)``.
    """
    callbacks, traj = [], None
    if trajectory_dir is not None:
        from .lambdaopt import LambdaTrajectory

        traj = LambdaTrajectory(np.bincount(train.users, minlength=train.n_users), np.bincount(train.items, minlength=train.n_items))
        callbacks.append(traj)
    t0 = time.perf_counter()
    model = klass(**params).fit(train, valid, seed=seed, progress=progress, callbacks=callbacks, device=device)
    seconds = time.perf_counter() - t0
    if out_dir is not None:
        model.save(out_dir)
    hist = model.history_
    params = {**model.get_params(), **model.resolved_params()}  # a default that follows the data: the value this fit used
    report = FitReport(model.name, model.task, params, None if out_dir is None else str(out_dir), len(train),
                       len(hist.epochs), hist.best_epoch, hist.monitor, hist.best_value, hist.interrupted, {"fit": seconds})
    if traj is not None:
        from .plots import plot_lambda_trajectories

        folder = Path(trajectory_dir)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "lambda_trajectories.json").write_text(json.dumps(traj.to_dict()))
        title = f"λOpt-{model.config.lambdaopt}, {model.name}"
        report.report = str(plot_lambda_trajectories(traj, folder / "lambda_trajectories.png", title=title))
    return model, report
