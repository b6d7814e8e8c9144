"""AutoML baselines over the SIF space: random search, Bayesian search (TPE) and a REINFORCE controller.

A trial samples an architecture (an operation of the space and the transform
parameters of users and items, each weight in [-1, 1] as the projection of the
transform allows), trains that :class:`~autorecs.models.SIF` for at most
``trial_epochs`` with early stopping on validation RMSE, and reports its validation
RMSE.  Every strategy stops when its wall-clock budget is spent and returns the
best architecture by validation RMSE.

Random and TPE run on an Optuna study in a journal file, so an interrupted search
keeps its finished trials and continues where it stopped; the REINFORCE controller
appends each trial to a JSON-lines file and replays it on restart.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from .._progress import logger
from ..exceptions import ConfigError
from ..metrics.rating import rmse

STRATEGIES = ("random", "tpe", "rl")


@dataclass
class Trial:
    number: int
    arch: dict
    valid_rmse: float
    seconds: float
    """Wall seconds since the start of the search when this trial finished."""
    test_rmse: float | None = None


def _n_params(hidden: int) -> int:
    return 3 * hidden + 1


def _arch(op: str, pu, pi, base: dict) -> dict:
    return {**base, "interaction": op, "transform": "mlp", "transform_user": [float(x) for x in pu],
            "transform_item": [float(x) for x in pi]}


def _evaluate(arch: dict, train, valid, test, trial_epochs: int, seed: int) -> tuple[float, float | None]:
    from ..models import SIF

    model = SIF(**arch, epochs=trial_epochs, patience=3).fit(train, valid, seed=seed, progress=False)
    score = float(model.history_.best_value)
    test_score = None
    if test is not None:  # for the figures only; never used to select
        test_score = rmse(model.predict(test.user_vocab.ids(test.users), test.item_vocab.ids(test.items)), test.ratings)
    return score, test_score


def run_baseline(strategy: str, train, valid, test=None, *, ops, base: dict, budget_seconds: float, trial_epochs: int = 20,
                 seed: int = 0, storage: str | Path | None = None) -> list[Trial]:
    """Run ``strategy`` until ``budget_seconds`` are spent; return every finished trial (earlier runs included)."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"The baseline strategy must be one of {STRATEGIES}; got {strategy!r}.")
    hidden = base["transform_hidden"]
    t0 = time.perf_counter()
    trials: list[Trial] = []
    if strategy in ("random", "tpe"):
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.RandomSampler(seed=seed) if strategy == "random" else optuna.samplers.TPESampler(seed=seed)
        stor = None if storage is None else JournalStorage(JournalFileBackend(str(storage)))
        study = optuna.create_study(study_name=f"sif-{strategy}", storage=stor, sampler=sampler, load_if_exists=True)
        for t in study.trials:
            if t.state == optuna.trial.TrialState.COMPLETE:
                trials.append(Trial(t.number, t.user_attrs["arch"], t.value, 0.0, t.user_attrs.get("test_rmse")))
        while time.perf_counter() - t0 < budget_seconds:
            tr = study.ask()
            op = tr.suggest_categorical("op", list(ops))
            pu = [tr.suggest_float(f"pu{k}", -1.0, 1.0) for k in range(_n_params(hidden))]
            pi = [tr.suggest_float(f"pi{k}", -1.0, 1.0) for k in range(_n_params(hidden))]
            arch = _arch(op, pu, pi, base)
            score, test_score = _evaluate(arch, train, valid, test, trial_epochs, seed + tr.number)
            tr.set_user_attr("arch", arch)
            tr.set_user_attr("test_rmse", test_score)
            study.tell(tr, score)
            trials.append(Trial(tr.number, arch, score, time.perf_counter() - t0, test_score))
        return trials
    # REINFORCE: a categorical policy over operations, Gaussian policies (fixed std) over transform weights
    rng = torch.Generator().manual_seed(seed)
    logits = torch.zeros(len(ops), requires_grad=True)
    means = torch.zeros(2, _n_params(hidden), requires_grad=True)
    std, baseline = 0.3, None
    opt = torch.optim.Adam([logits, means], lr=0.1)
    log = Path(storage) if storage is not None else None

    def learn(op_index: int, sample: torch.Tensor, reward: float) -> None:
        nonlocal baseline
        baseline = reward if baseline is None else 0.8 * baseline + 0.2 * reward
        logp = torch.log_softmax(logits, 0)[op_index] + torch.distributions.Normal(means, std).log_prob(sample).sum()
        opt.zero_grad()
        (-(reward - baseline) * logp).backward()
        opt.step()

    if log is not None and log.exists():  # replay finished trials: the controller learns them again
        for line in log.read_text().splitlines():
            t = Trial(**json.loads(line))
            sample = torch.tensor([t.arch["transform_user"], t.arch["transform_item"]])
            learn(list(ops).index(t.arch["interaction"]), sample, -t.valid_rmse)
            trials.append(t)
    while time.perf_counter() - t0 < budget_seconds:
        with torch.no_grad():
            k = int(torch.multinomial(torch.softmax(logits, 0), 1, generator=rng))
            sample = (means + std * torch.randn(means.shape, generator=rng)).clamp(-1.0, 1.0)
        arch = _arch(ops[k], sample[0].tolist(), sample[1].tolist(), base)
        score, test_score = _evaluate(arch, train, valid, test, trial_epochs, seed + len(trials))
        learn(k, sample, -score)
        trial = Trial(len(trials), arch, score, time.perf_counter() - t0, test_score)
        trials.append(trial)
        if log is not None:
            with log.open("a") as f:
                f.write(json.dumps(asdict(trial)) + "\n")
    logger.info("%s: %d trials in %.0fs", strategy, len(trials), time.perf_counter() - t0)
    return trials


def best_trial(trials: list[Trial]) -> Trial:
    finite = [t for t in trials if np.isfinite(t.valid_rmse)]
    if not finite:
        raise ConfigError("No baseline trial finished within the budget; raise the budget.")
    return min(finite, key=lambda t: (t.valid_rmse, t.number))
