"""The shared shape of every search: a strategy proposes (``ask``), a trial trains and is scored,
the strategy learns the result (``tell``), until a :class:`Budget` is spent.

- :class:`Budget` and :class:`TrialResult` are the units every search reports in (cost and
  quality side by side).
- :class:`Strategy` is the ask/tell protocol (Optuna's shape); :class:`OptunaStrategy` wraps an
  Optuna sampler and study (random, TPE; resumable from its storage).
- :func:`run_trials` is the loop: a trial that raises is recorded as FAIL with its message and
  the search goes on; finished trials of earlier runs count toward the budget.

The tuner (``search/engine.py``) runs the same ask/tell cycle on an Optuna study shared by
parallel workers; SIF's AutoML baselines (``sif/baselines.py``) run on :func:`run_trials`.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable

from .exceptions import ConfigError


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
            if v is not None and not v > 0:
                raise ConfigError(f"The '{name}' budget must be > 0 (or None for no limit); got {v!r}.")

    def spent(self, trials: Iterable["TrialResult"], started: float) -> bool:
        trials = list(trials)
        return ((self.trials is not None and len(trials) >= self.trials)
                or (self.seconds is not None and time.perf_counter() - started >= self.seconds)
                or (self.epochs is not None and sum(t.epochs for t in trials) >= self.epochs))


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
    ``tell(ask, result)`` learns the result; ``history()`` gives the finished trials of earlier runs."""

    direction: str = "minimize"

    def history(self) -> list[TrialResult]:
        return []

    def ask(self) -> Ask | None:
        raise NotImplementedError

    def tell(self, ask: Ask, result: TrialResult) -> None:
        raise NotImplementedError


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


class OptunaStrategy(Strategy):
    """An Optuna sampler behind ask/tell.  ``suggest(optuna_trial) -> params`` draws the parameters;
    the study lives in ``storage`` (an Optuna storage or None for memory), so a rerun continues it."""

    def __init__(self, sampler, suggest: Callable[[Any], dict], *, storage=None, study_name: str = "search", direction: str = "minimize"):
        import optuna

        self.direction, self._suggest = direction, suggest
        with quiet_optuna():
            self.study = optuna.create_study(study_name=study_name, storage=storage, sampler=sampler, direction=direction,
                                             load_if_exists=True)

    def history(self) -> list[TrialResult]:
        return [TrialResult(**t.user_attrs["result"]) for t in self.study.get_trials(deepcopy=False) if "result" in t.user_attrs]

    def ask(self) -> Ask:
        with quiet_optuna():
            trial = self.study.ask()
            return Ask(trial.number, self._suggest(trial), trial)

    def tell(self, ask: Ask, result: TrialResult) -> None:
        from optuna.trial import TrialState

        with quiet_optuna():
            ask.handle.set_user_attr("result", asdict(result))
            if result.state == "COMPLETE":
                self.study.tell(ask.handle, result.value)
            else:
                self.study.tell(ask.handle, state=TrialState.FAIL if result.state == "FAIL" else TrialState.PRUNED)


def run_trials(strategy: Strategy, objective: Callable[[dict, int], tuple[float, dict]], budget: Budget, *,
               on_trial: Callable[[TrialResult], None] | None = None) -> list[TrialResult]:
    """Ask, evaluate, tell until ``budget`` is spent; every trial, earlier runs' included.

    ``objective(params, number) -> (value, info)``: ``info`` may carry ``epochs`` and ``test``.  An
    exception inside it fails that trial (its message kept in ``error``); the search goes on.
    """
    from ._progress import logger

    started = time.perf_counter()
    results = strategy.history()
    while not budget.spent(results, started):
        ask = strategy.ask()
        if ask is None:
            break
        t0 = time.perf_counter()
        try:
            value, info = objective(ask.params, ask.number)
            state, error = "COMPLETE", None
        except Exception as exc:  # noqa: BLE001  (any error inside a trial fails that trial, not the search)
            logger.warning("trial %d failed: %s: %s", ask.number, type(exc).__name__, exc)
            value, info, state, error = None, {}, "FAIL", f"{type(exc).__name__}: {exc}"
        result = TrialResult(ask.number, ask.params, state, value, time.perf_counter() - t0, int(info.get("epochs", 0)),
                             peak_rss_mib(), error, worker_id(), info.get("test"), time.perf_counter() - started)
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
