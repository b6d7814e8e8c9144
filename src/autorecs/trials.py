"""The shared shape of every search: a strategy proposes (``ask``), a trial trains and is scored,
the strategy learns the result (``tell``), until a :class:`Budget` is spent.

- :class:`Budget` and :class:`TrialResult` are the units every search reports in (cost and
  quality side by side).
- :class:`Strategy` is the ask/tell protocol (Optuna's shape), with two hooks that have defaults:
  ``report`` (an intermediate value of a running trial; True prunes it) and ``ask_within`` (the
  next trial unless the budget is spent).  :class:`OptunaStrategy` wraps an Optuna sampler, pruner
  and study (random, TPE, enqueued grid points; resumable from its storage; optionally ``shared``
  by several processes, the budget then counting the whole study).
- :func:`run_trials` is the loop: a trial that raises is recorded as FAIL with its message and
  the search goes on; finished trials of earlier runs count toward the budget.

The tuner's workers (``search/engine.py``) and SIF's AutoML baselines (``sif/baselines.py``)
run on :func:`run_trials`; ``autorecs.auto`` asks and tells its per-family TPE searches through
:class:`OptunaStrategy` too (its trials run in batches across families on the executor).
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from .exceptions import ConfigError, DivergenceError


@dataclass
class Budget:
    """When to stop asking for new trials (any limit reached stops; None = no limit)."""

    trials: int | None = None
    """Total trials of the search, those of earlier runs of a resumed search included."""
    seconds: float | None = None
    """Wall-clock seconds of this run (a resumed search gets the budget again)."""
    epochs: int | None = None
    """Total training epochs over all trials of the search."""

    def __post_init__(self):
        for name in ("trials", "seconds", "epochs"):
            v = getattr(self, name)
            whole = name != "seconds"
            kinds = (int, np.integer) if whole else (int, float, np.integer, np.floating)
            if v is not None and (isinstance(v, bool) or not isinstance(v, kinds) or not v > 0 or not math.isfinite(v)):
                raise ConfigError(f"The '{name}' budget must be {'a whole number' if whole else 'a number of seconds'} > 0 (or None for "
                                  f"no limit); got {v!r}.")

    def describe(self) -> str:
        """The limits in words, e.g. ``"20 trials, 60 s"``."""
        parts = [f"{self.trials} trials" if self.trials is not None else "",
                 f"{self.seconds:g} s" if self.seconds is not None else "",
                 f"{self.epochs} epochs" if self.epochs is not None else ""]
        return ", ".join(p for p in parts if p) or "no limit"

    def reached(self, trials: int, epochs: int, started: float) -> bool:
        """Whether ``trials`` trials and ``epochs`` epochs, in a run started at ``started`` (``time.time()``), reach a limit."""
        return ((self.trials is not None and trials >= self.trials)
                or (self.seconds is not None and time.time() - started >= self.seconds)
                or (self.epochs is not None and epochs >= self.epochs))

    def spent(self, trials: Iterable[TrialResult], started: float) -> bool:
        """Whether ``trials`` (the search's, earlier runs' included) in a run started at ``started`` reach a limit."""
        trials = list(trials)
        return self.reached(len(trials), sum(t.epochs for t in trials), started)


@dataclass
class TrialResult:
    """One trial: its parameters, validation value and cost."""

    number: int
    params: dict[str, Any]
    state: str
    """COMPLETE, FAIL or PRUNED."""
    value: float | None
    fit_seconds: float
    epochs: int
    peak_rss_mib: float
    error: str | None = None
    worker: str = ""
    """``host:pid`` of the process that ran the trial."""
    test: dict | None = None
    """Test metrics, for figures only (never used to select)."""
    elapsed: float = 0.0
    """Wall seconds from the start of the search's run to the end of this trial."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Ask:
    """A proposal: the trial's number, its parameters, and the strategy's own handle."""

    number: int
    params: dict
    handle: Any = field(default=None, repr=False)


class Strategy:
    """Ask/tell: ``ask()`` proposes parameters (None when it has nothing left to propose),
    ``tell(ask, result)`` learns the result; ``history()`` gives the finished trials of earlier runs.
    The other hooks have defaults: ``report`` prunes nothing, ``ask_within`` asks while the budget
    counts only this search's own trials."""

    direction: str = "minimize"

    def history(self) -> list[TrialResult]:
        return []

    def ask(self) -> Ask | None:
        raise NotImplementedError

    def tell(self, ask: Ask, result: TrialResult) -> None:
        raise NotImplementedError

    def report(self, ask: Ask, value: float, step: int) -> bool:
        """An intermediate value of the running trial ``ask`` (say, its validation score after epoch
        ``step``); True asks the trial to stop, which ends it PRUNED."""
        return False

    def abandon(self, ask: Ask) -> None:
        """The trial ``ask`` was interrupted (Ctrl-C): it is no result; a rerun should try it again."""

    def ask_within(self, budget: Budget, results: list[TrialResult], started: float) -> Ask | None:
        """The next trial, or None once ``budget`` is spent by ``results`` (this search's trials,
        earlier runs' included) in the run started at ``started`` (``time.time()``)."""
        return None if budget.spent(results, started) else self.ask()


@contextlib.contextmanager
def quiet_optuna():
    """Optuna's per-trial INFO lines off while a search runs; the caller's level restored after."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


_RESULT_ATTRS = ("fit_seconds", "epochs", "peak_rss_mib", "worker", "elapsed", "error", "test")


class OptunaStrategy(Strategy):
    """An Optuna sampler behind ask/tell.  ``suggest(optuna_trial) -> params`` draws the parameters
    (it may also set user attributes on the trial); the study lives in ``storage`` (an Optuna storage
    or None for memory), so a rerun continues it.

    ``tell`` records a trial's cost as user attributes of the Optuna trial, one per
    :class:`TrialResult` field (``fit_seconds``, ``epochs``, ``peak_rss_mib``, ``worker``,
    ``elapsed``; ``error`` and ``test`` when set; ``params`` when they differ from Optuna's); a
    finished trial without ``fit_seconds`` is not a result (see ``shared``).

    ``pruner``: an Optuna pruner that :meth:`report` consults (None: nothing is pruned).

    ``shared``: several processes run trials of this study at once, through ``storage``.  The
    budget then counts every trial the study has started, whoever runs it (running ones included),
    and a trial asked when the trials budget is already taken (another process took the last slot
    between the check and the ask) is told FAIL without a result, which is not charged, and ends
    this process's search.
    """

    def __init__(self, sampler, suggest: Callable[[Any], dict], *, storage=None, study_name: str = "search", direction: str = "minimize",
                 pruner=None, shared: bool = False):
        import optuna

        self.direction, self._suggest, self.shared = direction, suggest, shared
        with quiet_optuna():
            self.study = optuna.create_study(study_name=study_name, storage=storage, sampler=sampler, direction=direction,
                                             pruner=pruner if pruner is not None else optuna.pruners.NopPruner(), load_if_exists=True)

    @staticmethod
    def is_result(t) -> bool:
        """Whether the Optuna trial ``t`` is a finished trial's result (``result``: the record of earlier versions)."""
        return t.state.is_finished() and ("fit_seconds" in t.user_attrs or "result" in t.user_attrs)

    def history(self) -> list[TrialResult]:
        out = []
        for t in self.study.get_trials(deepcopy=False):
            if not self.is_result(t):
                continue
            a = t.user_attrs
            if "result" in a:
                out.append(TrialResult(**a["result"]))
                continue
            out.append(TrialResult(t.number, dict(a.get("params", t.params)), t.state.name, t.value, a["fit_seconds"], a.get("epochs", 0),
                                   a.get("peak_rss_mib", math.nan), a.get("error"), a.get("worker", ""), a.get("test"), a.get("elapsed", 0.0)))
        return out

    def ask(self) -> Ask:
        with quiet_optuna():
            trial = self.study.ask()
            return Ask(trial.number, self._suggest(trial), trial)

    def _charged(self, before: int | None = None) -> list:
        """The study's trials that count toward a shared budget (numbered below ``before`` if given)."""
        from optuna.trial import TrialState

        return [t for t in self.study.get_trials(deepcopy=False)
                if t.state != TrialState.WAITING and not (t.state.is_finished() and not self.is_result(t))
                and (before is None or t.number < before)]

    def spent(self, budget: Budget, results: list[TrialResult], started: float) -> bool:
        """Whether ``budget`` is spent: by ``results``, or with ``shared`` by the whole study."""
        if not self.shared:
            return budget.spent(results, started)
        return budget.reached(len(self._charged()), sum(t.user_attrs.get("epochs", 0) for t in self.study.get_trials(deepcopy=False)), started)

    def ask_within(self, budget: Budget, results: list[TrialResult], started: float) -> Ask | None:
        from optuna.trial import TrialState

        if self.spent(budget, results, started):
            return None
        ask = self.ask()
        if self.shared and budget.trials is not None and len(self._charged(before=ask.number)) >= budget.trials:
            with quiet_optuna():
                self.study.tell(ask.handle, state=TrialState.FAIL)  # no fit_seconds: not a result, not charged
            return None
        return ask

    def report(self, ask: Ask, value: float, step: int) -> bool:
        ask.handle.report(value, step)
        return ask.handle.should_prune()

    def abandon(self, ask: Ask) -> None:
        """Told FAIL without a result (not charged to the budget), its parameters queued again for the
        next ask, which a rerun of the study makes."""
        from optuna.trial import TrialState

        with quiet_optuna():
            self.study.tell(ask.handle, state=TrialState.FAIL)
            self.study.enqueue_trial(ask.handle.params, skip_if_exists=False)

    def enqueue(self, points: Iterable[dict]) -> None:
        """Queue parameter points for the coming asks (a point already queued or tried is skipped),
        e.g. a grid: Optuna's GridSampler cannot be driven by ask/tell."""
        with quiet_optuna():
            for params in points:
                self.study.enqueue_trial(params, skip_if_exists=True)

    def tell(self, ask: Ask, result: TrialResult) -> None:
        from optuna.trial import TrialState

        trial = ask.handle
        with quiet_optuna():
            for name in _RESULT_ATTRS:
                if getattr(result, name) is not None:
                    trial.set_user_attr(name, getattr(result, name))
            if result.params != trial.params:
                trial.set_user_attr("params", result.params)
            if result.state == "COMPLETE":
                self.study.tell(trial, result.value)
            else:  # a pruned trial's value is its last report (Optuna's rule)
                self.study.tell(trial, state=TrialState.FAIL if result.state == "FAIL" else TrialState.PRUNED)


def run_trials(strategy: Strategy, objective: Callable[[dict, int, Callable[[float, int], bool]], tuple[float, dict]], budget: Budget, *,
               on_trial: Callable[[TrialResult], None] | None = None, started: float | None = None) -> list[TrialResult]:
    """Ask, evaluate, tell until ``budget`` is spent; every trial, earlier runs' included.

    ``objective(params, number, report) -> (value, info)``: ``info`` may carry ``epochs``, ``test``
    and ``fit_seconds`` (the training part of the trial, when the objective does more; by default
    the whole call); an objective interrupted by Ctrl-C raises KeyboardInterrupt, and the trial is
    abandoned (:meth:`Strategy.abandon`) and the search stopped.  ``report(value, step) -> bool`` passes an intermediate value to the strategy
    (:meth:`Strategy.report`); once it returns True the objective should stop training and return,
    and the trial ends PRUNED.  An exception inside the objective fails that trial (its message kept
    in ``error``); the search goes on.  ``started`` (``time.time()``, default now) is when the run
    began, for the seconds budget and each trial's ``elapsed``: the search's start, when several
    workers share it.
    """
    from ._progress import logger

    started = time.time() if started is None else started
    results = strategy.history()
    while (ask := strategy.ask_within(budget, results, started)) is not None:
        pruned = False

        def report(value: float, step: int, ask=ask) -> bool:
            nonlocal pruned
            pruned = strategy.report(ask, value, step) or pruned
            return pruned

        t0 = time.perf_counter()
        try:
            value, info = objective(ask.params, ask.number, report)
            state, error = "PRUNED" if pruned else "COMPLETE", None
        except KeyboardInterrupt:  # Ctrl-C: this trial is no result (a rerun tries it again); the search stops
            strategy.abandon(ask)
            raise
        except Exception as exc:  # noqa: BLE001  (any error inside a trial fails that trial, not the search)
            # divergence is an expected outcome of a search (a learning rate too high): recorded, not shouted
            log = logger.info if isinstance(exc, DivergenceError) else logger.warning
            log("trial %d failed: %s: %s", ask.number, type(exc).__name__, exc)
            value, info, state, error = None, {}, "FAIL", f"{type(exc).__name__}: {exc}"
        seconds = info.get("fit_seconds", time.perf_counter() - t0)
        result = TrialResult(ask.number, ask.params, state, value, seconds, int(info.get("epochs", 0)), peak_rss_mib(), error, worker_id(),
                             info.get("test"), time.time() - started)
        strategy.tell(ask, result)
        results.append(result)
        if on_trial is not None:
            on_trial(result)
    return results


def best(results: Iterable[TrialResult], direction: str = "minimize") -> TrialResult | None:
    """The best completed trial (ties: the earlier one)."""
    done = [t for t in results if t.state == "COMPLETE" and t.value is not None]
    if not done:
        return None
    sign = 1.0 if direction == "minimize" else -1.0
    return min(done, key=lambda t: (sign * t.value, t.number))
