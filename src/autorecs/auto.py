"""``autorecs.auto``: hand over interactions and a wall-clock budget; get the best recommender found,
refit on train + validation, with a leaderboard and a report.

How the budget is spent (every decision on validation only):

1. **Defaults first.**  Every family of the task (:data:`FAMILIES`, each a model with a search space
   that is data) is fitted once with its default configuration, cheapest first: the defaults are
   strong, and this ranks the families.
2. **Halving across families, TPE within.**  The families with something to tune enter successive
   halving (:mod:`autorecs.halving`): in rung ``r`` every surviving family gets ``3 x 2^r`` more TPE
   trials (Optuna, one study per family), then the better half by best validation value survives.
   Then stints: the best family searches until it stalls (``STINT`` trials without improving its best by
   more than ``STALL_TOLERANCE``), then the next best, and so on, until only the refit's share of the
   budget is left (without this, a cheap family takes thousands of trials and fits validation noise).
3. **Ensemble.**  Greedy ensemble selection with replacement (Caruana et al. 2004) over the best
   trials' models: averaged ratings, or per-user standardised scores for ranking.  Used only if it
   beats the best single model on validation and its refit fits in the budget.  The time kept back for
   the refit was an estimate; once the selection has named what ships, the time left beyond its refit is
   searched too (when it is at least ``SEARCH_ON_SHARE`` of the budget) and the selection runs again.
4. **Refit.**  The chosen configuration(s) trained again on train + validation for the number of
   epochs early stopping found (λOpt models, which learn Λ from validation data, are trained again as in
   their trial, on train; they are chosen over a refit-able model only with a clear validation lead).

Trials are recorded as they finish (``trials.jsonl`` and Optuna's journal under ``out_dir``), so a
run killed at any point and started again continues without repeating a finished trial.  The
result saves like any model (``autorecs evaluate`` / ``recommend`` load it) next to
``leaderboard.jsonl`` and a self-contained ``report.html``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ._progress import logger, warn
from ._rng import check_seed
from .config import json_text
from .data.interactions import Interactions, check_interactions
from .data.splits import random_split, temporal_user_split
from .evaluation import evaluate
from .exceptions import AutorecsError, ConfigError, DataError, prepare_run_dir
from .halving import successive_halving
from .metrics.rating import mae, rmse
from .metrics.registry import lower_is_better
from .executor import InProcess, executor
from .models import MODELS, Ensemble, Recommender
from .report import write_auto_report
from .search.space import SearchSpace


# --------------------------------------------------------------------------- families
@dataclass(frozen=True)
class Family:
    """A model family: a registered model, its fixed settings and its search space (data)."""

    name: str
    model: str
    fixed: dict = field(default_factory=dict)
    space: dict = field(default_factory=dict)
    """``{"params": {name: {"type": ..., ...}}}`` as for :meth:`SearchSpace.from_dict`; empty: nothing to tune."""
    refit: bool = True
    """Train again on train + validation (False for λOpt, which learns Λ from the validation data)."""
    default: bool = True
    """Among the families a run chooses from when none are named (False: only when named)."""
    search_arch: bool = False
    """SIF: each trial first searches the interaction function (one-shot, SIF's Algorithm 2) at the
    trial's ``factors``, then trains the found architecture with the trial's other parameters."""

    @property
    def learns_from_validation(self) -> bool:
        """λOpt: Λ is learned from (part of) the validation rows."""
        return bool(self.fixed.get("lambdaopt"))

    def search_space(self) -> SearchSpace | None:
        return SearchSpace.from_dict({"params": self.space}, name=self.name) if self.space else None

    def for_data(self, has_timestamps: bool) -> "Family":
        """This family on data without timestamps searches none of :data:`TIME_PARAMS`."""
        if has_timestamps or not any(k in self.space for k in TIME_PARAMS):
            return self
        return replace(self, space={k: v for k, v in self.space.items() if k not in TIME_PARAMS})


#: Search parameters that need timestamps (dropped from the spaces on data without them).
TIME_PARAMS = ("recency",)
#: The recency τ of EASE, item-kNN (scoring) and ImplicitALS (confidence) (0: off): a user's item with r newer ones weighs exp(−r/τ).
#: On ml-100k temporal-60-20-20 EASE's validation NDCG@50 was best at τ = 10 (benchmarks/README.md).
_RECENCY = {"type": "categorical", "choices": [0.0, 3.0, 10.0, 30.0, 100.0, 300.0]}


def _log(low, high):
    return {"type": "float", "low": low, "high": high, "log": True}


def _int(low, high, log=True):
    return {"type": "int", "low": low, "high": high, "log": log}


#: The families per task, cheapest first (the order of the defaults phase).
FAMILIES: dict[str, tuple[Family, ...]] = {
    "rating": (
        Family("baseline", "baseline", space={"reg_user": _log(0.5, 50.0), "reg_item": _log(0.5, 50.0)}),
        Family("knn-baseline", "knn-baseline", space={"k": _int(10, 200), "shrink": _log(1.0, 500.0)}),
        Family("biased-mf-als", "biased-mf", {"solver": "als"},
               {"factors": _int(8, 256), "reg_user": _log(0.01, 30.0), "reg_item": _log(0.01, 30.0)}),
        Family("biased-mf-adam", "biased-mf", {"solver": "adam"},
               {"factors": _int(8, 256), "learning_rate": _log(1e-3, 0.05), "reg_user": _log(1e-3, 1.0), "reg_item": _log(1e-3, 1.0)}),
        Family("biased-mf-lambdaopt", "biased-mf", {"solver": "adam", "lambdaopt": "DUI"},
               {"factors": _int(8, 256), "learning_rate": _log(1e-3, 0.05)}, refit=False),
        Family("sif", "sif", {}, {"factors": _int(4, 64), "reg": _log(1e-5, 1.0)}, search_arch=True),
    ),
    "ranking": (
        Family("popularity", "popularity"),
        Family("item-knn", "item-knn", space={"neighbors": _int(10, 1000), "shrink": _log(0.1, 200.0), "recency": _RECENCY}),
        Family("ease", "ease", space={"reg": _log(10.0, 10_000.0), "recency": _RECENCY}),
        Family("implicit-als", "implicit-als", space={"factors": _int(16, 256), "reg": _log(0.1, 200.0), "alpha": _log(0.1, 50.0),
                                                      "recency": _RECENCY}),
        Family("bpr-mf", "bpr-mf", space={"factors": _int(16, 256), "learning_rate": _log(1e-4, 0.02), "reg": _log(1e-4, 0.5)}),
        # not by default: far behind on ml-100k (validation NDCG@50 about 0.20 against 0.26 for ImplicitALS), slow
        # (5-8 trials in 10 minutes), and with it every family would be scored on half the validation rows
        Family("bpr-mf-lambdaopt", "bpr-mf", {"lambdaopt": "DUI"}, {"factors": _int(16, 256), "learning_rate": _log(1e-4, 0.02)},
               refit=False, default=False),
    ),
}


def parse_budget(budget) -> float:
    """Seconds from ``600``, ``"600"``, ``"10m"``, ``"1h30m"`` or ``"90s"``."""
    if isinstance(budget, (int, float)) and not isinstance(budget, bool):
        seconds = float(budget)
    else:
        text = str(budget).strip().lower()
        try:  # plain seconds: 600, 0.5, .5, 1e3
            seconds = float(text)
        except ValueError:
            number = r"(\d+(?:\.\d*)?|\.\d+)"
            parts = re.fullmatch(rf"(?:{number}h)?\s*(?:{number}m)?\s*(?:{number}s)?", text)
            if not text or parts is None or not any(parts.groups()):
                raise ConfigError(f"The 'budget' parameter of auto must be seconds or a duration such as 10m, 1h30m or 90s; "
                                  f"got {budget!r}.", param="budget", owner="auto") from None
            h, m, s = (float(g) if g else 0.0 for g in parts.groups())
            seconds = 3600 * h + 60 * m + s
    if not seconds > 0 or not math.isfinite(seconds):
        raise ConfigError(f"The 'budget' parameter of auto must be a positive, finite duration; got {budget!r}.", param="budget", owner="auto")
    return seconds


# --------------------------------------------------------------------------- records
@dataclass
class AutoTrial:
    """One row of the leaderboard."""

    number: int
    family: str
    model: str
    params: dict
    value: float | None
    state: str
    fit_seconds: float
    epochs: int
    best_epoch: int | None
    elapsed: float
    """Seconds from the start of the run (all runs of a resumed search counted) to the end of the trial."""
    phase: str
    """``default`` or ``search``."""
    curve: list = field(default_factory=list, repr=False)
    """The monitored validation value per epoch."""
    error: str | None = None
    stopped_by_budget: bool = False
    """Training was cut short by the budget's deadline (its value is that of an unfinished fit)."""
    train_seconds: float | None = None
    """The model's fit alone (``fit_seconds`` less a searched architecture's search: what a refit repeats)."""


@dataclass
class AutoResult:
    """What :func:`auto` found: the fitted model (refit, or an ensemble), the leaderboard and the costs."""

    model: Recommender
    task: str
    metric: str
    direction: str
    leaderboard: list[AutoTrial]
    chosen: dict
    """The best single trial on validation (family, parameters, value, epochs).  Not always what was
    shipped: see ``final`` (an ensemble, or a refit-able runner-up preferred to a λOpt trial that
    leads by less than the refit's expected gain)."""
    ensemble: dict | None
    """The ensemble selection's result (members, weights, validation value), or None."""
    budget_seconds: float
    seconds: dict
    """``search``, ``refit``, ``ensemble``, ``total`` and ``overhead`` (what is not fitting or scoring)."""
    out_dir: str | None = None
    report: str | None = None
    test: dict | None = None
    test_reference: dict | None = None
    """With ``test``: ``{"model": name, "test": {...}}``, the simplest model of the task (popularity; the biases
    baseline for ratings) fitted on the final model's rows and scored on the same test, for the lift."""
    final: dict = field(default_factory=dict)
    """What the saved model (``model``) is: ``{"kind": "ensemble" | "single", ...}``."""
    data: dict = field(default_factory=dict)
    """Rows, users and items of train and validation, and how the validation part was made."""
    ensemble_tried: bool = True
    interrupted: bool = False
    """Ctrl-C ended the search early: the model was chosen among the trials finished by then."""

    def __repr__(self) -> str:
        done = sum(t.state == "COMPLETE" for t in self.leaderboard)
        c = self.chosen or {}
        chosen = f"#{c.get('trial')} {c.get('family')} ({c.get('valid'):.4g} on validation)" if c.get("valid") is not None else "none"
        final = self.final.get("kind", "none")
        if final == "ensemble":
            final += f" of {len(self.final.get('members', []))}"
        test = "" if not self.test else f", test={_short(self.test)}"
        return (f"AutoResult(task={self.task!r}, metric={self.metric!r}, trials={len(self.leaderboard)} ({done} complete), "
                f"chosen={chosen}, final={final}{test}, seconds={self.seconds.get('total', 0.0):.1f} of {self.budget_seconds:g}"
                + (", interrupted" if self.interrupted else "") + (f", out_dir={self.out_dir!r}" if self.out_dir else "") + ")")

    def leaderboard_frame(self):
        """The leaderboard as a pandas DataFrame, a row a trial (parameters in a column of dicts; no curves), best first."""
        import pandas as pd

        rows = [{k: v for k, v in asdict(t).items() if k != "curve"} for t in self.leaderboard]
        frame = pd.DataFrame(rows)
        if len(frame):
            frame = frame.sort_values("value", ascending=self.direction == "minimize", na_position="last", kind="stable")
        return frame.reset_index(drop=True)

    def to_dict(self) -> dict:
        """Everything but the fitted model, as plain data."""
        import dataclasses

        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ("model", "leaderboard")}
        d["leaderboard"] = [asdict(t) for t in self.leaderboard]
        return d


def _short(metrics: dict) -> dict:
    """A metrics dict with its numbers to 4 digits (nested one level: ranking families)."""
    def num(v):
        return round(v, 4) if isinstance(v, float) else v
    return {k: ({kk: num(vv) for kk, vv in v.items()} if isinstance(v, dict) else num(v)) for k, v in metrics.items()}


class _Deadline:
    """A training callback that stops an epoch loop once the deadline (``time.time()``, so that it
    means the same in every worker process) has passed."""

    def __init__(self, deadline: float):
        self.deadline = deadline

    def __call__(self, model, epoch, logs) -> bool:
        return time.time() >= self.deadline


@dataclass
class _TrialJob:
    """Everything a worker needs for one trial (picklable: process pools and Ray tasks)."""

    number: int
    family: Family
    params: dict
    train: Interactions
    valid: Interactions
    seed: int
    deadline: float
    device: str | None
    portable: bool
    """Return the fitted model as bytes (it crosses a process boundary) rather than as the object."""


def _placement(model: Recommender, device: str | None) -> str | None:
    """``device`` for a configuration that trains on a GPU, else the CPU: auto's device is where the
    families that can use it train (EASE, the neighbourhood models, λOpt... stay on the CPU)."""
    return device if model.trains_on_gpu() else "cpu"


def _fit_trial(job: _TrialJob) -> tuple[dict, object]:
    """One trial, in whatever process runs it: the outcome and the fitted model (or its bytes)."""
    t1 = t_fit = time.perf_counter()
    params, model, error = dict(job.params), None, None
    try:
        if job.family.search_arch:
            from .sif.search import SIFSearch

            found = SIFSearch(factors=int(params.get("factors", 8))).fit(job.train, job.valid, seed=job.seed, progress=False,
                                                                        deadline=job.deadline)
            params = {**found.arch, **{k: v for k, v in params.items() if k != "interaction"}}
            t_fit = time.perf_counter()
        model = MODELS[job.family.model](**params)
        model.fit(job.train, job.valid, seed=job.seed, progress=False, callbacks=[_Deadline(job.deadline)],
                  device=_placement(model, job.device))
        hist = model.history_
        if hist.interrupted:  # Ctrl-C inside the trial: not a result
            raise KeyboardInterrupt
        params.update(model.resolved_params())  # a default that follows the data: the refit on more data keeps this one
        value, epochs, best_epoch = hist.best_value, len(hist.epochs), hist.best_epoch
        curve = [e.get(hist.monitor) for e in hist.epochs]
        state = "COMPLETE" if value is not None and math.isfinite(value) else "FAIL"
    except Exception as exc:  # noqa: BLE001  (a failing trial is a FAIL with its message; the run goes on)
        value, epochs, best_epoch, curve, state, error = None, 0, None, [], "FAIL", f"{type(exc).__name__}: {exc}"
        model = None
    cut = False
    if model is not None and time.time() >= job.deadline and epochs < model.config.epochs:  # stopped before its last epoch,
        cut = best_epoch is None or epochs - best_epoch < model.config.patience  # and not by its patience: by the deadline
    t2 = time.perf_counter()
    outcome = {"params": params, "value": value, "state": state, "fit_seconds": t2 - t1, "epochs": epochs,
               "best_epoch": best_epoch, "curve": curve, "error": error, "stopped_by_budget": bool(cut), "train_seconds": t2 - t_fit}
    if model is not None and job.portable:
        model = _to_bytes(model)
    return outcome, model


def _to_bytes(model: Recommender) -> bytes:
    """A fitted model as bytes: its saved directory (the one persistence format), tarred in memory."""
    import io
    import tarfile
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp) / "m")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(Path(tmp) / "m", arcname="m")
        return buf.getvalue()


def _from_bytes(data: bytes) -> Recommender:
    import io
    import tarfile
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(tmp, filter="data")
        return Recommender.load(Path(tmp) / "m")


def _holdout(train: Interactions, task: str, seed: int):
    """A validation part of ``train`` by the protocol that fits the task."""
    if len(train) < 2:
        raise DataError(f"The training data given to auto has {len(train)} row(s), too few to hold out validation rows; give "
                        "more data, or validation data (valid=..., --valid).")
    with warnings.catch_warnings():  # an empty part is auto's own error ("The validation data is empty"), in its words
        warnings.filterwarnings("ignore", message="Split .* left the")
        if task == "ranking" and train.timestamps is not None:
            part = temporal_user_split(train, test=0.2, valid=0.0)
            return part.train, part.test
        part = random_split(train, (0.8, 0.2, 0.0), seed=seed)
        return part.train, part.valid


def _scored_rows(valid: Interactions, families, seed: int) -> Interactions:
    """The validation rows every trial is scored on.  With λOpt families in the run, the seeded half
    of ``valid`` that λOpt holds out (the other half teaches its Λ, so it no longer measures the model):
    every family early-stops and is compared on those same rows.  Otherwise all of ``valid``."""
    if not any(f.learns_from_validation for f in families):
        return valid
    from .lambdaopt.granularity import split_validation
    from .lambdaopt.options import LambdaOptOptions

    return split_validation(valid, LambdaOptOptions.lambda_valid_fraction, seed)[1]


# --------------------------------------------------------------------------- the search
class _Run:
    """State of one auto run: the studies, the trials, the kept models and the clock."""

    def __init__(self, task, train, valid, metric, seed, budget, out_dir, families, device, progress, ensemble=True):
        self.task, self.train, self.valid, self.metric, self.seed = task, train, valid, metric, seed
        self.ensemble = ensemble
        self.budget, self.out_dir, self.device, self.progress = budget, out_dir, device, progress
        self.families = {f.name: f for f in families}
        self.direction = "minimize" if lower_is_better(metric.rpartition(".")[2]) else "maximize"
        self.sign = 1.0 if self.direction == "minimize" else -1.0
        self.trials: list[AutoTrial] = self._load_trials()
        self.resumed = len(self.trials)  # trials of earlier runs (their models are not in memory)
        self._bests: dict[str | None, AutoTrial] = {}
        for t in self.trials:
            self._note_best(t)
        self.offset = max([t.elapsed for t in self.trials] + [self._spent_before()])  # a resumed run continues the clock
        self.t0 = time.perf_counter()
        self.models: dict[int, Recommender] = {}  # the best few trials' fitted models (for the ensemble)
        self.ensemble_log: list[dict] = []  # ensemble selection: the blend and its validation value per round
        self.pool = InProcess()  # where trials run (set by auto())
        self._kept: dict[int, AutoTrial] = {}  # the trials whose models are in self.models
        self.as_trained: dict[str, tuple[int, Recommender]] = {}  # per family that is not refit: its best trial's model
        self.studies: dict = {}
        self.exclude = [train] if task == "ranking" else []
        self.valid_score = _scored_rows(valid, families, seed)
        #: After a first ensemble selection (:func:`_search_on`): its members, the candidates it chose among
        #: and its seconds, which replace the reserve's estimate of what follows the search.
        self.settled: tuple[set[int], set[int], float] | None = None
        self.interrupted = False  # Ctrl-C: finish with what is done, search no more
        self._last_line = time.perf_counter()  # when the last progress line was shown
        self._shown: dict[str, float] = {}  # per family, the value its last progress line showed
        self.ensemble_why: str | None = None  # why the last ensemble selection named no blend

    # clock
    def elapsed(self) -> float:
        return self.offset + time.perf_counter() - self.t0

    def left(self) -> float:
        return self.budget - self.elapsed()

    def _refit_cost(self, t: AutoTrial) -> float:
        if not self.families[t.family].refit:  # shipped as trained in its trial (λOpt): free if its model is held
            return 0.0 if self.as_trained.get(t.family, (None,))[0] == t.number else 1.2 * t.fit_seconds
        grow = (len(self.train) + len(self.valid)) / max(len(self.train), 1)
        share = (t.best_epoch or t.epochs or 1) / max(t.epochs, 1)
        return 1.2 * (t.fit_seconds if t.train_seconds is None else t.train_seconds) * grow * share

    def refit_cost(self, numbers) -> float:
        """Seconds to refit these distinct trials (by number), as :meth:`_refit_cost` estimates each."""
        by = {t.number: t for t in self.trials}
        return sum(self._refit_cost(by[n]) for n in numbers)

    def ensemble_candidates(self) -> list[int]:
        """Kept models that can join an ensemble (refit on train + validation like the others), best first."""
        return sorted(self.models, key=lambda n: (self.sign * self._kept[n].value, n))

    def refit_reserve(self) -> float:
        """Seconds the search leaves for what comes after it: refitting the single trial that would ship
        (:func:`_final_single`) on train + validation (its fit time, scaled to the larger data and to the
        epochs early stopping chose; nothing for a model shipped as trained in its trial and held), or,
        with an ensemble, its members (the three best kept models), plus ``SELECTION_SHARE`` of the budget
        for the ensemble selection and ``AFTER_SHARE`` for saving and the report.  After a first selection
        (:func:`_search_on`): its members, the candidates kept since, and its own measured seconds."""
        if self.best() is None:
            return 0.0
        single = self._refit_cost(_final_single(self))
        if self.settled is not None:  # the members are known: theirs, any candidate kept since, a second selection
            members, known, selection = self.settled
            cost = self.refit_cost(members | {n for n in self.models if n not in known})
            return max(single, cost) + selection + AFTER_SHARE * self.budget + 0.5
        members = self.ensemble_candidates()[:3] if self.ensemble else []
        cost = max(single, sum(self._refit_cost(self._kept[n]) for n in members))
        return cost + (SELECTION_SHARE + AFTER_SHARE) * self.budget + 0.5

    def _spent_before(self) -> float:
        return self.spent_in(self.out_dir)

    @staticmethod
    def spent_in(out_dir: Path | None) -> float:
        """Seconds the earlier runs in ``out_dir`` spent in all (their ensemble, refit and report included:
        an interrupted run's too), as their ``clock.json`` says; 0 for a new run."""
        path = None if out_dir is None else out_dir / "clock.json"
        try:
            return float(json.loads(path.read_text())["elapsed"]) if path is not None and path.exists() else 0.0
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            return 0.0

    def save_clock(self) -> None:
        if self.out_dir is not None:
            (self.out_dir / "clock.json").write_text(json.dumps({"elapsed": self.elapsed()}))

    # records
    def _load_trials(self) -> list[AutoTrial]:
        path = None if self.out_dir is None else self.out_dir / "trials.jsonl"
        if path is None or not path.exists():
            return []
        rows, bad = [], 0
        for line in path.read_text().splitlines():
            try:
                rows.append(AutoTrial(**json.loads(line)))
            except (json.JSONDecodeError, TypeError):  # a line cut by a kill: that trial runs again
                bad += 1
        if bad:  # rewrite without it, so that the next record starts on a line of its own
            path.write_text("".join(json.dumps(asdict(t)) + "\n" for t in rows))
        return rows

    def _record(self, trial: AutoTrial) -> None:
        self.trials.append(trial)
        self._note_best(trial)
        if self.out_dir is not None:
            with (self.out_dir / "trials.jsonl").open("a") as f:
                f.write(json.dumps(asdict(trial)) + "\n")

    def _note_best(self, t: AutoTrial) -> None:
        if t.state != "COMPLETE" or t.value is None:
            return
        for key in (None, t.family):
            cur = self._bests.get(key)
            if cur is None or (self.sign * t.value, t.number) < (self.sign * cur.value, cur.number):
                self._bests[key] = t

    def best(self, family: str | None = None) -> AutoTrial | None:
        """The best completed trial (of ``family``), by validation; kept up to date as trials are recorded."""
        return self._bests.get(family)

    # studies
    def study(self, fam: Family):
        """The family's TPE search behind ask/tell (:class:`~autorecs.trials.OptunaStrategy`), its study in
        ``studies.journal`` under ``out_dir`` so that a rerun continues it."""
        if fam.name not in self.studies:
            import warnings

            import optuna

            from ._rng import sampler_seed
            from .trials import OptunaStrategy

            storage = None
            if self.out_dir is not None:
                from optuna.storages import JournalStorage
                from optuna.storages.journal import JournalFileBackend

                storage = JournalStorage(JournalFileBackend(str(self.out_dir / "studies.journal")))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # constant_liar: parallel asks differ
                sampler = optuna.samplers.TPESampler(seed=self.seed, n_startup_trials=3, constant_liar=True)
            st = OptunaStrategy(sampler, fam.search_space().sample, storage=storage, study_name=fam.name, direction=self.direction)
            seed = sampler_seed(self.seed, 0, len(st.study.get_trials(deepcopy=False)))
            if seed != self.seed:  # a resumed run: not the first run's random points again
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    st.study.sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=3, constant_liar=True)
            self.studies[fam.name] = st
        return self.studies[fam.name]

    def run_batch(self, requests: list[tuple[Family, str]]) -> list[AutoTrial] | None:
        """Trials of ``(family, phase)`` on the executor, at most one per worker at a time, recorded as they
        return; None when no time is left to start them.  A ``default`` trial fits the family's defaults,
        a ``search`` trial the family's next TPE proposal."""
        from .executor import WorkerLost
        from .trials import TrialResult, peak_rss_mib, worker_id

        left = self.left() - self.refit_reserve()
        if left <= 0 or not requests:
            return None
        deadline = time.time() + left
        jobs, asks = [], []
        for k, (fam, phase) in enumerate(requests):
            space, st, ask, values = fam.search_space(), None, None, {}
            if space is not None and phase == "search":
                st = self.study(fam)
                ask = st.ask()
                values = ask.params
            params = {**fam.fixed, **(space.model_params(values) if space is not None else {}), "monitor": self.metric}
            number = len(self.trials) + k
            if fam.learns_from_validation:  # Λ from the rest of the validation rows; monitored on valid_score
                params["lambda_split_seed"] = self.seed
            jobs.append(_TrialJob(number, fam, params, self.train, self.valid if fam.learns_from_validation else self.valid_score,
                                  self.seed + number, deadline, self.device, not isinstance(self.pool, InProcess)))
            asks.append((st, ask))
        try:
            outcomes = self.pool.map(_fit_trial, jobs)
        except KeyboardInterrupt:  # these trials are no results: their asks go back to the studies' queues
            for st, ask in asks:
                if st is not None:
                    st.abandon(ask)
            raise
        except WorkerLost as exc:  # the executor recovers; these trials are failed with the reason
            outcomes = [({"params": j.params, "value": None, "state": "FAIL", "fit_seconds": 0.0, "epochs": 0, "best_epoch": None,
                          "curve": [], "error": str(exc)}, None) for j in jobs]
        done = []
        for (_, phase), job, (st, ask), (o, model) in zip(requests, jobs, asks, outcomes):
            trial = AutoTrial(job.number, job.family.name, job.family.model, o["params"], o["value"], o["state"], o["fit_seconds"],
                              o["epochs"], o["best_epoch"], self.elapsed(), phase, o["curve"], o["error"], o.get("stopped_by_budget", False),
                              o.get("train_seconds"))
            if st is not None:  # an unfinished fit (cut by the budget) is PRUNED: not a value for the sampler to learn from
                state = "PRUNED" if trial.state == "COMPLETE" and trial.stopped_by_budget else trial.state
                st.tell(ask, TrialResult(ask.number, ask.params, state, trial.value, trial.fit_seconds, trial.epochs, peak_rss_mib(),
                                         trial.error, worker_id(), None, trial.elapsed))
            self._record(trial)
            if model is not None and trial.state == "COMPLETE":
                self._keep(trial, _from_bytes(model) if isinstance(model, bytes) else model)
            if trial.error:
                logger.warning("auto: %s trial failed: %s", trial.family, trial.error)
            elif self.progress:  # progress lines (the CLI shows them), not warnings
                self._progress_line(trial)
            done.append(trial)
        return done

    def _progress_line(self, trial: AutoTrial) -> None:
        """A line for a trial that improved its family's best by more than STALL_TOLERANCE, or the best of all (a
        line per trial flooded the terminal: hundreds a minute on small data), and every PROGRESS_EVERY seconds
        the count and the best so far."""
        now = time.perf_counter()
        shown = self._shown.get(trial.family)
        if self.best(trial.family) is trial and (shown is None or self.sign * (shown - trial.value) > STALL_TOLERANCE * abs(shown)
                                                 or self.best() is trial):
            self._shown[trial.family] = trial.value
            mark = "  best so far" if self.best() is trial else ""
            logger.info("auto %6.1fs  %-20s %-7s %s=%.4f  %.1fs%s", trial.elapsed, trial.family, trial.phase, self.metric,
                        trial.value, trial.fit_seconds, mark, extra={"progress": True})
        elif now - self._last_line >= PROGRESS_EVERY and (b := self.best()) is not None:
            logger.info("auto %6.1fs  %d trials; best so far #%d %s %s=%.4f", trial.elapsed, len(self.trials), b.number, b.family,
                        self.metric, b.value, extra={"progress": True})
        else:
            return
        self._last_line = now

    def run_all(self, requests: list[tuple[Family, str]]) -> bool:
        """``requests`` in batches of the executor's width; False once time ran out."""
        width = max(1, getattr(self.pool, "n_workers", 1))
        for s in range(0, len(requests), width):
            if self.run_batch(requests[s : s + width]) is None:
                return False
        return True

    def _keep(self, trial: AutoTrial, model: Recommender, per_family: int = 2) -> None:
        """Hold the models of the best ``per_family`` trials of each family that can join an ensemble:
        the candidates differ in kind, not only in settings (a blend of near-copies gains nothing).  Of a
        family that is not refit (λOpt: shipped as trained in its trial), hold its best trial's model, so
        that shipping it costs no second fit."""
        if not self.families[trial.family].refit:
            if self.best(trial.family) is trial:  # recorded first, so a new family best is known here
                self.as_trained[trial.family] = (trial.number, model)
            return
        if not self.ensemble:
            return
        self.models[trial.number] = model
        by = {n: self._kept[n] for n in self._kept if n in self.models}
        by[trial.number] = trial
        self._kept = by
        same = sorted((n for n in self.models if by[n].family == trial.family), key=lambda n: (self.sign * by[n].value, n))
        for n in same[per_family:]:
            del self.models[n]
            del self._kept[n]


#: A model that cannot be refit on train + validation (λOpt learns Λ from the validation rows) is the final
#: single model only if it beats the best refit-able trial on validation by more than this share: on ml-100k
#: random-50-25-25 (seed 0) the chosen λOpt BiasedMF scored test RMSE 0.9237 trained on train only, while
#: BiasedMF (Adam, default λ, the same epochs) refit on train + validation scored 0.9122.
REFIT_GAIN = 0.01


def _effective(run: _Run, t: AutoTrial) -> float:
    """A trial's validation value as the final model would stand (sign-adjusted, lower is better): a model
    that cannot be refit on the validation rows gives up what they are worth as training data (``REFIT_GAIN``)."""
    v = run.sign * t.value
    return v if run.families[t.family].refit else v + REFIT_GAIN * abs(t.value)


def _final_single(run: _Run) -> AutoTrial:
    """The single trial to refit: the best by :func:`_effective` validation value (a λOpt trial needs a lead of
    more than ``REFIT_GAIN`` over the best refit-able one).  Within a family that order is the validation
    order, so the families' best trials are the only contenders."""
    bests = [run.best(name) for name in run.families if run.best(name) is not None]
    return min(bests, key=lambda t: (_effective(run, t), t.number))


#: An ensemble is kept only if it beats the best single trial by more than this share of its value.
ENSEMBLE_MARGIN = 1e-3
#: The reserve's shares of the budget for the ensemble selection (before it has run; ml-1m: 0.8-1.9%) and for
#: what follows the refit (saving the model, the report, scoring a test set: ml-1m 0.8%).
SELECTION_SHARE, AFTER_SHARE = 0.02, 0.01
#: The search goes on after the first ensemble selection when the time left beyond its members' refit, a
#: second selection and the rest is at least this share of the budget (the reserve before the selection is an
#: estimate: ml-1m rating, seed 1, left 7% of the budget unused).
SEARCH_ON_SHARE = 0.02
#: Trials a family searches without a real improvement before the next family's turn.
STINT = 16
#: Seconds between the progress lines that report the trial count when no trial improved its family's best.
PROGRESS_EVERY = 15.0

#: An improvement smaller than this share of the current best is validation noise, not progress.
STALL_TOLERANCE = 1e-3


def _search(run: _Run) -> None:
    fams = list(run.families.values())
    done_defaults = {t.family for t in run.trials if t.phase == "default"}
    if not run.run_all([(f, "default") for f in fams if f.name not in done_defaults]):  # 1. defaults, cheapest first
        return
    searchable = [f.name for f in fams if f.space and run.best(f.name) is not None]
    if not searchable:
        return

    def family_value(name):
        b = run.best(name)
        return run.sign * b.value if b is not None else math.inf

    def rung(alive, r):  # 2. 3 x 2^r TPE trials for every surviving family (TPE starts from 3 random ones)
        # counted as a total, 3 x (2^(r+1) - 1) search trials per family after rung r, so that a resumed run
        # does not repeat the rungs it finished (in a fresh run this is exactly 3 x 2^r more)
        searched = {name: sum(t.family == name and t.phase == "search" for t in run.trials) for name in alive}
        run.run_all([(run.families[name], "search") for name in alive for _ in range(3 * (2 ** (r + 1) - 1) - searched[name])])
        return {name: family_value(name) for name in alive}

    order = sorted(searchable, key=lambda n: (family_value(n), n))
    if len(order) > 1:
        successive_halving(order, rung)
    width = max(1, getattr(run.pool, "n_workers", 1))
    stalled: set[str] = set()
    while True:  # 3. stints: the best family not stalled searches until it stalls, then the next; all stalled: again
        left = [n for n in order if n not in stalled] or order
        if len(left) == len(order):
            stalled.clear()
        name = min(left, key=lambda n: (family_value(n), n))
        before, since = family_value(name), 0
        while since < STINT:
            if run.run_batch([(run.families[name], "search")] * width) is None:
                return
            since += width
            now = family_value(name)
            if now < before - STALL_TOLERANCE * abs(before):  # a real improvement, not validation noise
                before, since = now, 0
        stalled.add(name)


def _search_on(run: _Run, picked, t_selection: float):
    """The search's reserve was an estimate; after the first ensemble selection (``picked``, or None: the single
    model ships) what follows is known: refitting the blend's members or the single model.  Where that leaves at
    least ``SEARCH_ON_SHARE`` of the budget beyond a second selection and the rest, the search goes on with
    that reserve, then the selection runs again; of the two blends the better on validation whose refit still
    fits ships, if it still beats the single model.  Returns ``(blend or None, seconds searched on, seconds of
    the second selection)``."""
    members = set(picked[0]) if picked is not None else set()
    cost = max(run._refit_cost(_final_single(run)), run.refit_cost(members))
    spare = run.left() - cost - t_selection - AFTER_SHARE * run.budget
    logger.info("auto: %.1f s left after the selection, %.1f s for the refit: %.1f s spare", run.left(), cost, spare)
    if run.interrupted or spare < SEARCH_ON_SHARE * run.budget:
        return picked, 0.0, 0.0
    t0, n_trials, known = run.elapsed(), len(run.trials), set(run.models)
    run.settled = (members, known, t_selection)
    try:
        logger.info("auto: %.0f s left beyond the refit; searching on", run.left() - run.refit_reserve())
        _search(run)
    except KeyboardInterrupt:
        logger.warning("auto: interrupted; choosing among the %d finished trials and refitting", len(run.trials))
        run.interrupted = True
    finally:
        run.settled = None
    t1 = run.elapsed()
    if len(run.trials) == n_trials or not run.ensemble:  # nothing new to choose from (or no blends)
        return picked, t1 - t0, 0.0
    first_log = len(run.ensemble_log)
    again = _select_ensemble(run)
    fits = [b for b in (again, picked) if b is not None and _beats_single(run, b[2]) and run.refit_cost(b[0]) < run.left()]
    best = min(fits, key=lambda b: run.sign * b[2]) if fits else None
    if best is picked:  # the log describes the selection that ships
        del run.ensemble_log[first_log:]
    else:
        del run.ensemble_log[:first_log]
    return best, t1 - t0, run.elapsed() - t1


# --------------------------------------------------------------------------- ensemble
def _restore_kept(run: _Run, per_family: int = 2) -> None:
    """A resumed run holds no model of an earlier run's trial: fit the best ones of each family again exactly
    as in their trials (the same data, parameters and seed), while the budget allows, so that they can join
    the ensemble."""
    earlier = {t.number for t in run.trials[: run.resumed]}
    for fam in run.families.values():
        if not fam.refit:
            continue
        done = [t for t in run.trials if t.family == fam.name and t.state == "COMPLETE" and not t.stopped_by_budget]
        for t in sorted(done, key=lambda t: (run.sign * t.value, t.number))[:per_family]:
            if t.number in run.models or t.number not in earlier:
                continue
            if run.left() - run.refit_reserve() < 1.2 * t.fit_seconds:
                return
            model = MODELS[t.model](**t.params)
            model.fit(run.train, run.valid_score, seed=run.seed + t.number, progress=False, device=_placement(model, run.device))
            run._keep(t, model)


def _select_ensemble(run: _Run, rounds: int = 10) -> tuple[list[int], list[float], float] | None:
    """Greedy ensemble selection with replacement over the kept models; ``(trial numbers, weights, valid value)``
    when it beats the best single model on validation, else None."""
    by = {t.number: t for t in run.trials}
    cands = sorted(run.ensemble_candidates())  # members are refit on one data set
    if len(cands) < 2:
        run.ensemble_why = "fewer than two models were kept for an ensemble"
        return None
    if run.task == "rating":
        u, i = run.valid_score.user_vocab.ids(run.valid_score.users), run.valid_score.item_vocab.ids(run.valid_score.items)
        preds = {n: run.models[n].predict(u, i).astype(np.float64) for n in cands}
        truth = run.valid_score.ratings.astype(np.float64)

        def score(counts):
            w = np.array([counts.get(n, 0) for n in cands], np.float64)
            blend = sum(w[k] * preds[n] for k, n in enumerate(cands)) / w.sum()
            return (rmse if run.metric.endswith("rmse") else mae)(blend, truth)  # the metrics' own functions
    else:
        cache = {n: _CachedScores(run.models[n]) for n in cands}

        def score(counts):
            members = [cache[n] for n in cands if counts.get(n)]
            ens = Ensemble(members, weights=[float(counts[n]) for n in cands if counts.get(n)], task="ranking")
            fam, _, name = run.metric.rpartition(".")
            k = int(name.split("@")[1]) if "@" in name else 10
            return float(evaluate(ens, run.valid_score, exclude=run.exclude, ks=(k,), families=(fam or "topk",))[fam or "topk"][name])

    single = min(cands, key=lambda n: (run.sign * by[n].value, n))
    counts: dict[int, int] = {}
    best = (by[single].value, {single: 1})  # the best blend seen in any round (Caruana et al.: not the last one)
    def cost(members) -> float:  # refitting these distinct members on train + validation
        return sum(run._refit_cost(by[n]) for n in members)

    for _ in range(rounds):
        room = run.left() - 0.01 * run.budget  # what the refit of the blend may take (and the selection itself)
        affordable = [n for n in cands if cost(set(counts) | {n}) <= room]  # members whose refit still fits
        if not affordable:
            break
        trial_values = {n: score({**counts, n: counts.get(n, 0) + 1}) for n in affordable}
        pick = min(affordable, key=lambda n: (run.sign * trial_values[n], n))
        counts[pick] = counts.get(pick, 0) + 1
        if run.sign * trial_values[pick] < run.sign * best[0] - 1e-9:
            best = (trial_values[pick], dict(counts))
        run.ensemble_log.append({"members": dict(counts), "valid": trial_values[pick]})
    value, chosen = best
    if not counts:
        run.ensemble_why = "the budget left no time to refit an ensemble's members"
        return None
    if len(chosen) < 2 or not _beats_single(run, value):
        run.ensemble_why = f"no ensemble beat it on validation by more than {100 * ENSEMBLE_MARGIN:.1f}%"
        return None
    members = [n for n in cands if chosen.get(n)]
    return members, [float(chosen[n]) for n in members], value


def _beats_single(run: _Run, value: float) -> bool:
    """Whether a blend's validation ``value`` beats the single model the run would ship otherwise (the whole
    run's :func:`_final_single`) by more than ``ENSEMBLE_MARGIN``: a real gain, worth the members' cost."""
    overall = run.sign * _effective(run, _final_single(run))  # back in the metric's own sign
    return run.sign * value < run.sign * overall - ENSEMBLE_MARGIN * abs(overall)


class _CachedScores:
    """A fitted model whose per-user scores are computed once (ensemble selection scores the same users many times)."""

    def __init__(self, model):
        self.model, self._cache = model, {}
        for name in ("user_vocab_", "item_vocab_", "seen_", "train_mean_", "train_std_", "task", "fitted_"):
            setattr(self, name, getattr(model, name))

    def _check_fitted(self) -> None:
        pass

    def _score_codes(self, users):
        key = np.asarray(users).tobytes()
        if key not in self._cache:
            self._cache[key] = self.model._score_codes(users)
        return self._cache[key]


# --------------------------------------------------------------------------- refit
def _refit(run: _Run, trial: AutoTrial, full: Interactions) -> tuple[Recommender, float]:
    fam = run.families[trial.family]
    t0 = time.perf_counter()
    if not fam.refit:  # shipped as trained in its trial: its held model, or trained again exactly so
        number, model = run.as_trained.get(trial.family, (None, None))
        if number == trial.number:
            return model, 0.0
        params = {**trial.params, "epochs": max(1, trial.epochs)}
        model = MODELS[trial.model](**params)
        model.fit(run.train, run.valid, seed=run.seed + trial.number, progress=False, device=_placement(model, run.device))
        if model.history_.interrupted:
            raise KeyboardInterrupt
        return model, time.perf_counter() - t0
    params = dict(trial.params)
    if trial.best_epoch:
        params["epochs"] = int(trial.best_epoch)  # what early stopping found; no validation to stop on now
    model = MODELS[trial.model](**params)
    model.fit(full, None, seed=run.seed + trial.number, progress=False, device=_placement(model, run.device))
    if model.history_.interrupted:  # a refit cut short is not the trial's model: stop, nothing half-trained shipped
        raise KeyboardInterrupt
    return model, time.perf_counter() - t0


# --------------------------------------------------------------------------- entry point
def auto(train: Interactions, valid: Interactions | None = None, *, task: str, budget, metric: str | None = None, seed: int = 0,
         device: str | None = None, out_dir: str | Path | None = None, test: Interactions | None = None,
         families: list[str] | None = None, ensemble: bool = True, backend: str = "local", n_jobs: int = 1,
         ray_address: str | None = None, overwrite: bool = False, progress: bool = True) -> AutoResult:
    """Choose the best recommender for ``train`` within ``budget`` (seconds or ``"10m"``), refit it, report.

    ``valid``: the validation interactions every decision is made on (default: a seeded split of
    ``train``: random for ratings, each user's latest 20% for ranking data with timestamps).
    ``metric``: rating ``rmse`` (default) or ``mae``; ranking a validation metric such as
    ``topk.ndcg@50`` (default).  ``out_dir``: where the model, ``leaderboard.jsonl``, ``report.html``
    and the resumable trial records go (a rerun with the same directory continues).  ``test``:
    scored once at the end (never used to choose).  ``families``: a subset of :data:`FAMILIES` (default:
    those marked ``default``; λOpt BPR-MF is chosen only when named).
    ``device``: where the configurations that can train on a GPU train (``"cuda"``, ``"auto"``); the
    others (EASE, the neighbourhood models, λOpt, ...) train on the CPU.
    ``backend`` / ``n_jobs`` / ``ray_address``: trials in this process (``local``, 1), a local process
    pool (``local``, n > 1) or Ray tasks (``ray``); the fitted models come back to this process.
    """
    from .device import resolve_device

    started = time.perf_counter()  # the budget counts this call's preparation too (the holdout split, the checks)
    if task not in FAMILIES:
        raise ConfigError(f"The 'task' must be 'rating' or 'ranking'; got {task!r}.")
    seconds = parse_budget(budget)
    check_seed(seed, "auto")
    check_interactions(train, "auto()", "train")
    check_interactions(valid, "auto()", "valid", optional=True)
    check_interactions(test, "auto()", "test", optional=True)  # checked now, not after the budget is spent
    if metric is not None and not isinstance(metric, str):
        raise ConfigError(f"The 'metric' parameter of auto must be a metric name such as 'rmse' or 'topk.ndcg@50'; got {metric!r}.",
                          param="metric", owner="auto")
    metric = metric.strip().lower() if metric and metric.strip() else ("rmse" if task == "rating" else "topk.ndcg@50")
    if task == "ranking" and metric in ("rmse", "mae"):
        raise ConfigError(f"The 'metric' parameter of auto must be a ranking metric for a ranking run, such as 'topk.ndcg@50'; got "
                          f"{metric!r}, which scores ratings (for ratings: task='rating', --task rating).", param="metric", owner="auto")
    if task == "ranking" and "." not in metric:  # a bare metric is the conventional family's: say so everywhere
        metric = f"topk.{metric}"
    known = {f.name: f for f in FAMILIES[task]}
    bad = [n for n in (families or []) if n not in known]
    if bad:
        raise ConfigError(f"Unknown {task} families {bad}; choose among {sorted(known)}.")
    chosen_fams = [f.for_data(train.timestamps is not None) for f in known.values()
                   if (f.name in families if families else f.default)]  # always cheapest first
    for fam in chosen_fams:  # every family's fixed settings and the metric are checked before any fit
        if not fam.search_arch:  # (a searched architecture exists only once its trial has searched it)
            MODELS[fam.model](**fam.fixed, monitor=metric)
    resolve_device(device)
    pool = executor(backend, n_jobs, ray_address, owner="auto")  # checks the options (starts Ray for the ray backend)
    if test is not None and len(test) == 0:  # refused before the budget is spent, not when the test is scored
        raise DataError("The test data given to auto is empty; give test rows, or leave 'test' out (--test).")
    for name, data in (("train", train), ("valid", valid), ("test", test)):
        if task == "rating" and data is not None and data.ratings is None:
            raise DataError(f"task='rating' needs ratings, but '{name}' has none; add a rating column or use task='ranking'.")
    identity = {"task": task, "metric": metric, "families": [f.name for f in chosen_fams], "seed": seed,
                "train": train.fingerprint(), "valid": None if valid is None else valid.fingerprint(),
                "scored_on": "λOpt's held-out half" if any(f.learns_from_validation for f in chosen_fams) else "all"}
    out = None if out_dir is None else _prepare_out(Path(out_dir), identity, overwrite)
    holdout, given = None, train
    if valid is None:
        train, valid = _holdout(train, task, seed)
        holdout = ("each user's latest 20% of the given training data" if task == "ranking" and train.timestamps is not None
                   else "a seeded random 20% of the given training data")
    data_info = {name: {"rows": len(d), "users": d.n_users, "items": d.n_items} for name, d in (("train", train), ("valid", valid))}
    data_info["validation"] = holdout or "given (valid=..., --valid)"
    data_info["seed"] = seed
    if len(valid) == 0:
        raise DataError("The validation data is empty (e.g. every user has too few interactions for a split); give --valid "
                        "(valid=...) or more data.")
    vu, vi = valid.recode(train.user_vocab, train.item_vocab)
    if not ((vu >= 0) & (vi >= 0)).any():
        raise DataError("No validation row has a user and an item that the training data has; every choice would be blind. "
                        "Give validation data that shares users and items with the training data.")
    full = given if holdout is not None else None  # the refit's data (below, when validation was given)
    previous = _finished(out, ensemble)  # a finished run in this directory: never replaced by a worse model
    if previous is not None and seconds <= max(previous.budget_seconds, previous.seconds.get("total", 0.0), _Run.spent_in(out)):
        warn(f"The auto run in '{out}' finished within its budget ({previous.budget_seconds:g} s); nothing more to do, so "
                      "this returns its result; give a larger budget to continue it, or another output directory (or "
                      "--overwrite; overwrite=True in Python) to start again.")
        previous.test, previous.test_reference = _test_scores(  # the test given now, scored once more
            previous.model, test, task, full if full is not None else Interactions.concat(train, valid))
        return previous
    run = _Run(task, train, valid, metric, seed, seconds, out, chosen_fams, device, progress, ensemble)
    run.t0 = started
    if run.valid_score is not valid:
        data_info["scored_on"] = (f"{len(run.valid_score)} of the {len(valid)} validation rows: the seeded half that λOpt holds "
                                  "out (the other half teaches its Λ); every trial is scored on these")
    with pool:
        run.pool = pool
        try:
            if ensemble and run.resumed:  # first, while the budget has room: the earlier run's best models
                _restore_kept(run)
            _search(run)
        except KeyboardInterrupt:  # the finished trials are recorded; finish with them (a second Ctrl-C stops everything)
            logger.warning("auto: interrupted; choosing among the %d finished trials and refitting", len(run.trials))
            run.interrupted = True
        search_s, picked, t_ens = run.elapsed(), None, 0.0
        if run.best() is not None:  # the blend, and the search on with the time its estimate left (on the same workers)
            picked = _select_ensemble(run) if ensemble else None
            t_ens = run.elapsed() - search_s
            picked, t_more, t_ens2 = _search_on(run, picked, t_ens)
            search_s, t_ens = search_s + t_more, t_ens + t_ens2
    # why a single model ships, when it does (the report says it): the last selection's reason
    ens_note = "ensembles were switched off" if not ensemble else (run.ensemble_why or "no ensemble was selected")
    best = run.best()
    if best is None:
        errors = [t for t in run.trials if t.error]
        if errors:
            raise DataError(f"Every trial failed (e.g. {errors[0].family}: {errors[0].error}); fix the data or the settings "
                            f"that error names.")
        raise ConfigError(f"No trial finished within the budget of {seconds:.0f} s; give a larger budget.")
    # train + validation for the refit; a validation part split off here is the given data again (the split drops
    # cold validation rows, which the refit must not lose)
    full = full if full is not None else Interactions.concat(train, valid)
    ens_info = None
    if picked is not None:
        members, weights, value = picked
        by = {t.number: t for t in run.trials}
        if run.refit_cost(members) < run.left():
            fitted = [_refit(run, by[n], full)[0] for n in members]
            model = Ensemble(fitted, weights=weights, task=task)
            ens_info = {"members": [{"trial": n, "family": by[n].family, "weight": w / sum(weights)} for n, w in zip(members, weights)],
                        "valid": value, "best_single_valid": best.value}
        else:
            ens_note = f"an ensemble scored {value:.4f} on validation, but the budget left no time to refit its members"
            picked = None
    refit_s = 0.0
    if picked is None:
        single = _final_single(run)
        model, refit_s = _refit(run, single, full)
        if single is not best:
            logger.info("auto: #%d %s chosen over #%d %s: it is refit on the validation rows too", single.number, single.family,
                        best.number, best.family)
    else:
        refit_s = run.elapsed() - search_s - t_ens
    total = run.elapsed()
    fit_s = sum(t.fit_seconds for t in run.trials)
    result = AutoResult(model, task, metric, run.direction, run.trials,
                        {"trial": best.number, "family": best.family, "model": best.model, "params": best.params, "valid": best.value,
                         "epochs": best.best_epoch, "refit": run.families[best.family].refit},
                        ens_info, seconds,
                        {"search": search_s, "ensemble": t_ens, "refit": refit_s, "total": total, "trials": fit_s,
                         "overhead": max(0.0, search_s - fit_s)})
    result.ensemble_tried, result.data, result.interrupted = ensemble, data_info, run.interrupted
    if ens_info is not None:
        result.final = {"kind": "ensemble", "valid": ens_info["valid"], "members": ens_info["members"]}
        if run.sign * (ens_info["valid"] - best.value) > 0 and not run.families[best.family].refit:
            result.final["why"] = (f"#{best.number} {best.family} scored better on validation, but it cannot be refit on the "
                                   f"validation rows, which the refit members gain: assumed worth {100 * REFIT_GAIN:.0f}% of the "
                                   "metric (REFIT_GAIN, from measured refits: benchmarks/README.md)")
    else:
        result.final = {"kind": "single", "trial": single.number, "family": single.family, "valid": single.value,
                        "refit": "train + validation" if run.families[single.family].refit else "train only (λOpt learns Λ on validation)",
                        "ensemble": ens_note}
        if single is not best:
            result.final["why"] = (f"#{best.number} {best.family} was better on validation by less than {100 * REFIT_GAIN:.0f}%, "
                                   "but cannot be refit on the validation rows, which the refit model gains (assumed worth "
                                   f"{100 * REFIT_GAIN:.0f}%: REFIT_GAIN, from measured refits: benchmarks/README.md)")
    if previous is not None and run.sign * previous.final["valid"] < run.sign * result.final["valid"]:
        logger.warning("auto: the continued search shipped nothing better on validation (%.4f) than the model this run had "
                       "(%.4f); that model stays", result.final["valid"], previous.final["valid"])
        model = result.model = previous.model
        result.chosen, result.ensemble, result.final = previous.chosen, previous.ensemble, previous.final
    result.test, result.test_reference = _test_scores(model, test, task, full)
    if out is not None:
        model.save(out / "model")
        ranked = sorted(run.trials, key=lambda t: (t.state != "COMPLETE", run.sign * (t.value or 0.0), t.number))  # best first
        (out / "leaderboard.jsonl").write_text("".join(json.dumps(asdict(t)) + "\n" for t in ranked))
        result.out_dir = str(out)
        result.report = str(write_auto_report(result, out / "report.html"))
        (out / "result.json").write_text(json_text(result.to_dict(), indent=2))
        run.save_clock()
    return result


#: What an auto run writes in its directory (removed by ``overwrite=True`` before a new run).
RUN_FILES = ("run.json", "trials.jsonl", "studies.journal", "leaderboard.jsonl", "result.json", "report.html", "model", "clock.json")


def _finished(out: Path | None, ensemble: bool) -> AutoResult | None:
    """The saved result of the run in ``out`` if it finished (not interrupted) with the same ``ensemble`` setting."""
    path = None if out is None else out / "result.json"
    if path is None or not path.exists() or not (out / "model" / "model.json").exists():
        return None
    try:
        d = json.loads(path.read_text())
        if d.get("interrupted") or bool(d.get("ensemble_tried")) != bool(ensemble):
            return None
        fields = {f.name for f in dataclasses.fields(AutoResult)} - {"model", "leaderboard"}
        result = AutoResult(model=Recommender.load(out / "model"), leaderboard=[AutoTrial(**t) for t in d["leaderboard"]],
                            **{k: v for k, v in d.items() if k in fields})
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AutorecsError):  # damaged: the run goes on as a continued one
        return None
    return result


def _prepare_out(out: Path, identity: dict, overwrite: bool) -> Path:
    """The run directory: a new one, the same run continued, or (``overwrite``) an old run cleared.
    Continuing a run on other data or settings is refused."""
    return prepare_run_dir(out, identity, overwrite=overwrite, files=RUN_FILES, kind="auto", run="an auto run",
                           words={"train": "training data", "valid": "validation data", "scored_on": "validation rows scored"})


#: The reference the shipped model's test figures are shown beside: the task's simplest model.
REFERENCE = {"ranking": "popularity", "rating": "baseline"}


def _test_scores(model, test, task, full) -> tuple[dict | None, dict | None]:
    """The final model's test figures and the reference's (fitted on ``full``, the final model's rows), after every
    choice: selection never sees either."""
    if test is None:
        return None, None
    reference = MODELS[REFERENCE[task]]().fit(full, progress=False)
    return (_score(model, test, task, exclude=[full]),
            {"model": REFERENCE[task], "test": _score(reference, test, task, exclude=[full])})


def _score(model, test, task, exclude):
    metrics = evaluate(model, test, exclude=exclude if task == "ranking" else ())
    if task == "rating":
        return {k: metrics[k] for k in ("rmse", "mae", "rmse_std")}
    return {fam: metrics[fam] for fam in ("topk", "lambdaopt") if fam in metrics}
