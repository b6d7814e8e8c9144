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
from dataclasses import asdict
from pathlib import Path

import torch

from .._progress import logger
from ..exceptions import ConfigError
from ..metrics.rating import rmse
from ..trials import Ask, Budget, OptunaStrategy, Strategy, TrialResult, best, run_trials

STRATEGIES = ("random", "tpe", "rl")


def _n_params(hidden: int) -> int:
    return 3 * hidden + 1


def _arch(op: str, pu, pi, base: dict) -> dict:
    return {**base, "interaction": op, "transform": "mlp", "transform_user": [float(x) for x in pu],
            "transform_item": [float(x) for x in pi]}


class ReinforceStrategy(Strategy):
    """A REINFORCE controller: a categorical policy over operations and Gaussian policies (fixed
    std) over the transform weights, with a moving-average baseline.  Finished trials are appended
    to a JSON-lines file (``log``) and replayed on restart, so the controller relearns them."""

    def __init__(self, ops, base: dict, *, seed: int = 0, log: str | Path | None = None):
        hidden = base["transform_hidden"]
        self.ops, self.base, self.log = list(ops), base, None if log is None else Path(log)
        self._rng = torch.Generator().manual_seed(seed)
        self._logits = torch.zeros(len(self.ops), requires_grad=True)
        self._means = torch.zeros(2, _n_params(hidden), requires_grad=True)
        self._std, self._baseline, self._count = 0.3, None, 0
        self._opt = torch.optim.Adam([self._logits, self._means], lr=0.1)

    def _learn(self, arch: dict, reward: float) -> None:
        sample = torch.tensor([arch["transform_user"], arch["transform_item"]])
        self._baseline = reward if self._baseline is None else 0.8 * self._baseline + 0.2 * reward
        logp = (torch.log_softmax(self._logits, 0)[self.ops.index(arch["interaction"])]
                + torch.distributions.Normal(self._means, self._std).log_prob(sample).sum())
        self._opt.zero_grad()
        (-(reward - self._baseline) * logp).backward()
        self._opt.step()

    def history(self) -> list[TrialResult]:
        done = []
        if self.log is not None and self.log.exists():
            for line in self.log.read_text().splitlines():
                t = TrialResult(**json.loads(line))
                if t.state == "COMPLETE":
                    self._learn(t.params, -t.value)
                done.append(t)
        self._count = len(done)
        return done

    def ask(self) -> Ask:
        with torch.no_grad():
            k = int(torch.multinomial(torch.softmax(self._logits, 0), 1, generator=self._rng))
            sample = (self._means + self._std * torch.randn(self._means.shape, generator=self._rng)).clamp(-1.0, 1.0)
        self._count += 1
        return Ask(self._count - 1, _arch(self.ops[k], sample[0].tolist(), sample[1].tolist(), self.base))

    def tell(self, ask: Ask, result: TrialResult) -> None:
        if result.state == "COMPLETE":
            self._learn(ask.params, -result.value)
        if self.log is not None:
            with self.log.open("a") as f:
                f.write(json.dumps(asdict(result)) + "\n")


def make_strategy(strategy: str, ops, base: dict, *, seed: int = 0, storage: str | Path | None = None) -> Strategy:
    """Random or TPE (Optuna, resumable from a journal file) or REINFORCE (resumable from a JSON-lines log)."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"The baseline strategy must be one of {STRATEGIES}; got {strategy!r}.")
    if strategy == "rl":
        return ReinforceStrategy(ops, base, seed=seed, log=storage)
    import optuna
    from optuna.storages import JournalStorage

    from .._rng import sampler_seed
    from optuna.storages.journal import JournalFileBackend

    n = _n_params(base["transform_hidden"])

    def suggest(tr) -> dict:
        op = tr.suggest_categorical("op", list(ops))
        pu = [tr.suggest_float(f"pu{k}", -1.0, 1.0) for k in range(n)]
        pi = [tr.suggest_float(f"pi{k}", -1.0, 1.0) for k in range(n)]
        return _arch(op, pu, pi, base)

    def sampler(seed):
        return optuna.samplers.RandomSampler(seed=seed) if strategy == "random" else optuna.samplers.TPESampler(seed=seed)

    stor = None if storage is None else JournalStorage(JournalFileBackend(str(storage)))
    st = OptunaStrategy(sampler(seed), suggest, storage=stor, study_name=f"sif-{strategy}")
    resumed = sampler_seed(seed, 0, len(st.study.get_trials(deepcopy=False)))
    if resumed != seed:  # a resumed study: not the first run's random points again
        st.study.sampler = sampler(resumed)
    return st


def run_baseline(strategy: str, train, valid, test=None, *, ops, base: dict, budget_seconds: float, trial_epochs: int = 20,
                 seed: int = 0, storage: str | Path | None = None) -> list[TrialResult]:
    """Run ``strategy`` until ``budget_seconds`` are spent; return every finished trial (earlier runs included).

    A trial trains :class:`~autorecs.models.SIF` with the proposed architecture for at most
    ``trial_epochs`` (early stopping on validation RMSE, its ``value``); ``test`` (``{"rmse": ...}``)
    is for figures only."""
    from ..models import SIF

    def objective(arch: dict, number: int, report) -> tuple[float, dict]:  # no pruning: every trial trains to its end
        model = SIF(**arch, epochs=trial_epochs, patience=3).fit(train, valid, seed=seed + number, progress=False)
        info = {"epochs": len(model.history_.epochs)}
        if test is not None:
            info["test"] = {"rmse": rmse(model.predict(test.user_vocab.ids(test.users), test.item_vocab.ids(test.items)), test.ratings)}
        return float(model.history_.best_value), info

    trials = run_trials(make_strategy(strategy, ops, base, seed=seed, storage=storage), objective, Budget(seconds=budget_seconds))
    logger.info("%s: %d trials", strategy, len(trials))
    return trials


def best_trial(trials: list[TrialResult]) -> TrialResult:
    found = best(trials)
    if found is None:
        raise ConfigError("No baseline trial finished within the budget; raise the budget.")
    return found
