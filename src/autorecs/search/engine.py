"""The search engine: grid, random and Bayesian (TPE) searches over a model's hyperparameters.

Built on Optuna's samplers and storages behind the ask/tell loop every search shares
(``trials.py``: each worker runs :func:`~autorecs.trials.run_trials` on an
:class:`~autorecs.trials.OptunaStrategy`), so that every search reports its cost in
the same units: fit seconds and training epochs per trial.

- Studies live in a storage (an Optuna journal file by default): re-running the
  same search continues it; finished trials are never lost, and a trial that was
  running when the process died is queued again.
- Budgets: number of trials, wall-clock seconds, total training epochs.
- Optionally (``prune=True``), bad trials are stopped through the training loop's
  per-epoch reports (Optuna's median pruner).  Off by default: on ml-100k it cut a
  30-trial TPE search's cost 7x but also its quality (test RMSE 0.941 against 0.929),
  because slow-but-good learning rates look bad in early epochs (benchmarks/README.md).
- Trials can run in this process, in a local process pool (``n_jobs``) or as Ray
  tasks (``backend="ray"``); the storage is the single source of truth.
"""

from __future__ import annotations

import dataclasses

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

from .._progress import logger, warn
from .._rng import check_seed, sampler_seed
from ..data.interactions import Interactions, check_interactions
from ..exceptions import ConfigError, DataError
from ..executor import BACKENDS
from ..trials import Budget, OptunaStrategy, TrialResult, quiet_optuna, run_trials
from .space import SearchSpace

STRATEGIES = ("grid", "random", "tpe")


@dataclass
class TuneResult:
    """What a search found and what it cost."""

    study: str
    strategy: str
    metric: str
    direction: str
    trials: list[TrialResult]
    best: TrialResult | None
    model_params: dict[str, Any]
    wall_seconds: float
    test: dict | None = None
    extra: dict = field(default_factory=dict)
    model: ClassVar = None
    """The chosen trial refit (set by :meth:`Tuner.run` with ``test`` or ``refit``; never serialized)."""

    @property
    def fit_seconds(self) -> float:
        return float(sum(t.fit_seconds for t in self.trials))

    @property
    def epochs(self) -> int:
        return int(sum(t.epochs for t in self.trials))

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(fit_seconds=self.fit_seconds, epochs=self.epochs, n_trials=len(self.trials))
        return d

    def __repr__(self) -> str:
        best = "none" if self.best is None else f"#{self.best.number} ({self.best.value:.4g} on validation) {self.model_params}"
        return (f"TuneResult(study={self.study!r}, strategy={self.strategy!r}, metric={self.metric!r}, trials={len(self.trials)}, "
                f"best={best}" + ("" if self.test is None else f", test={self.test}") + f", wall_seconds={self.wall_seconds:.1f})")


def _storage(path: str | Path | None, study: str):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if isinstance(path, str) and "://" in path:
        return optuna.storages.RDBStorage(path)
    path = Path(path) if path is not None else Path("autorecs-studies") / f"{study}.journal"
    path.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path)))


def check_storage_path(path: str | Path, flag: str | None = None) -> None:
    """A journal file path must be a file in an existing, writable directory (only a missing last
    directory level is created); refused in one sentence otherwise."""
    path = Path(path)
    name = f"The '{flag}' path" if flag else "The storage path"
    parent = path.parent
    if path.is_dir():
        raise ConfigError(f"{name} '{path}' is a directory; give a journal file inside it, e.g. '{path / 'study.journal'}'.")
    if not parent.exists():
        if not parent.parent.exists():
            raise ConfigError(f"{name} '{path}' is in '{parent}', and neither it nor '{parent.parent}' exists; create the directory first.")
        if not os.access(parent.parent, os.W_OK):
            raise ConfigError(f"{name} '{path}' needs the directory '{parent}', which cannot be created in '{parent.parent}' (not writable); choose another path.")
    elif not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"{name} '{path}' is not writable; choose a path in a directory you can write to.")


def _check_identity(study, identity: dict, storage) -> None:
    """A study continues only on the same model, space, fixed parameters and data it was started with."""
    known = study.user_attrs.get("identity")
    if known is None:
        study.set_user_attr("identity", identity)
        return
    if known.get("digest") == identity["digest"]:
        return
    differs = [k for k in ("data", "space", "fixed", "model") if known.get(k) != identity[k]]
    what = {"data": "other data", "space": "another search space", "fixed": "other fixed parameters", "model": "another model"}
    raise ConfigError(f"The study '{study.study_name}' in '{storage}' was started on {' and '.join(what[k] for k in differs)}; "
                      "give it another study name (study=..., --study), or leave the name out to get one per data set and space.")


def startup_trials(trials: int | None) -> int:
    """TPE's random start-up trials: Optuna's 10, or with a budget of trials a third of it (at least 3), so that a
    small budget reaches TPE at all (8 trials were all random start-up, and the "TPE" example scored worse than the
    model's defaults); 30 trials and more keep Optuna's 10."""
    return 10 if trials is None else max(3, min(10, int(trials) // 3))


def _sampler(strategy: str, space: SearchSpace, seed: int, trials: int | None = None):
    import optuna

    if strategy in ("grid", "random"):  # grid points are enqueued (see _enqueue_grid)
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials(trials))


@dataclass
class _Job:
    """Everything a worker needs to run trials (picklable, for process pools and Ray)."""

    model: str
    space: SearchSpace
    fixed: dict
    strategy: str
    study: str
    storage: str | None
    seed: int
    prune: bool
    budget: Budget
    started: float
    """When the search's run began (``time.time()``), for the seconds budget of every worker."""
    train: Interactions
    valid: Interactions
    test: Interactions | None = None
    """Set only with ``test_all``: every completed trial is also scored on test (reported, never used to select)."""
    exclude: tuple = ()
    device: str | None = None
    """Where every trial trains (a run-time option: not part of the study's parameters)."""
    worker: int = 0
    """Which of the search's workers runs this job (its sampler's seed differs: :func:`autorecs._rng.sampler_seed`)."""


def _strategy(job: _Job, direction: str) -> OptunaStrategy:
    """The job's study behind ask/tell, shared with the other workers through its storage.  A trial
    draws its values from the space and records the model's hyperparameters (``model_params``)."""
    import optuna

    def suggest(trial) -> dict:
        values = job.space.sample(trial)
        trial.set_user_attr("model_params", {**job.space.fixed, **job.fixed, **job.space.model_params(values)})
        return values

    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=10) if job.prune else None
    trials = job.budget.trials
    strategy = OptunaStrategy(_sampler(job.strategy, job.space, job.seed, trials), suggest, storage=_storage(job.storage, job.study),
                              study_name=job.study, direction=direction, pruner=pruner, shared=True)
    seed = sampler_seed(job.seed, job.worker, len(strategy.study.get_trials(deepcopy=False)))
    if seed != job.seed:  # another worker, or a study resumed: its own random points
        strategy.study.sampler = _sampler(job.strategy, job.space, seed, trials)
    return strategy


def _direction(metric: str) -> str:
    from ..metrics.registry import direction

    return direction(metric)


def _objective(job: _Job, klass):
    """Train one trial's model, reporting each epoch's validation score (so that a pruner can stop
    it); with ``job.test``, score it on test too (not a pruned one)."""

    def objective(values: dict, number: int, report) -> tuple[float, dict]:
        pruned = []

        def on_epoch(model, epoch, logs):
            key = "valid_" + model.monitor.rpartition(".")[2]
            if key in logs and report(float(logs[key]), epoch):
                pruned.append(epoch)
                return True
            return None

        t0 = time.perf_counter()
        model = klass(**{**job.space.fixed, **job.fixed, **job.space.model_params(values)})
        model.fit(job.train, job.valid, seed=job.seed + number, progress=False, callbacks=[on_epoch], device=job.device)
        if model.history_.interrupted:  # Ctrl-C inside the training: not a result; the search stops, the trial runs again on resume
            raise KeyboardInterrupt
        info = {"epochs": len(model.history_.epochs), "fit_seconds": time.perf_counter() - t0}
        if not pruned and job.test is not None:
            from ..evaluation import evaluate

            info["test"] = evaluate(model, job.test, exclude=job.exclude)
        return model.history_.best_value, info

    return objective


def run_worker(job: _Job, on_trial: Callable[[TrialResult], None] | None = None) -> int:
    """Run trials until the budget is spent; returns how many this worker ran."""
    with quiet_optuna():
        return _work(job, on_trial)


def _work(job: _Job, on_trial: Callable[[TrialResult], None] | None) -> int:
    from ..models import MODELS

    klass = MODELS[job.model]
    strategy = _strategy(job, _direction(klass(**{**job.space.fixed, **job.fixed}).monitor))
    ran: list[TrialResult] = []

    def record(t: TrialResult) -> None:
        ran.append(t)
        if on_trial is not None:
            on_trial(t)

    run_trials(strategy, _objective(job, klass), job.budget, on_trial=record, started=job.started)
    return len(ran)


def _requeue_stale(study) -> int:
    """Trials left RUNNING by a killed process: mark them failed and queue their parameters again,
    once.  A retry that dies too stays a failed trial with its reason (charged to the budget), so a
    configuration that always kills its worker (say, by running out of memory) cannot stall a search."""
    from optuna.trial import TrialState

    stale = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING]
    for t in stale:
        if "retry_of" in t.user_attrs:  # a result (OptunaStrategy's record: fit_seconds) with its reason
            study._storage.set_trial_user_attr(t._trial_id, "error", "the process running this trial died twice (killed, or out of memory)")
            study._storage.set_trial_user_attr(t._trial_id, "fit_seconds", 0.0)
        elif t.params:
            study.enqueue_trial(t.params, user_attrs={"retry_of": t.number}, skip_if_exists=False)
        study.tell(t.number, state=TrialState.FAIL)  # without fit_seconds: not a result, not charged
    return len(stale)


def _run_workers(job: _Job, n_jobs: int, strategy: OptunaStrategy, pool) -> None:
    """``n_jobs`` worker loops on an executor (process pool or Ray tasks) until the budget is spent.
    A worker that dies (SIGKILL, the OOM killer, a crashed Ray worker) raises WorkerLost: its running
    trials are failed and queued again once (:func:`_requeue_stale`), fresh workers take over, and
    the study completes its budget."""
    from ..executor import WorkerLost

    restarts = 0
    while True:
        try:
            pool.map(run_worker, [dataclasses.replace(job, worker=k) for k in range(n_jobs)])
            return
        except WorkerLost as exc:
            restarts += 1
            failed = _requeue_stale(strategy.study)
            logger.warning("%s: %d running trial(s) failed and queued again once; starting %d fresh workers", exc, failed, n_jobs)
            if restarts > 2 * n_jobs + (job.budget.trials or 20) or strategy.spent(job.budget, [], job.started):
                return


def _enqueue_grid(strategy: OptunaStrategy, space: SearchSpace) -> None:
    """Queue every grid point not yet tried."""
    import itertools

    grid = space.grid()
    strategy.enqueue(dict(zip(grid, values)) for values in itertools.product(*grid.values()))


class Tuner:
    """Search the hyperparameters of a registered model on a train/validation split.

    >>> Tuner("biased-mf", builtin_space("lambdaopt-grid", "biased-mf"), strategy="grid").run(train, valid, test)  # doctest: +SKIP

    ``model``: a registry name (``autorecs models`` lists them) or a registered class such as ``BiasedMF``.
    """

    def __init__(
        self,
        model: str | type,
        space: SearchSpace,
        *,
        strategy: str = "tpe",
        budget: Budget | None = None,
        fixed: dict | None = None,
        storage: str | Path | None = None,
        study: str | None = None,
        seed: int = 0,
        prune: bool = False,
        n_jobs: int = 1,
        backend: str = "local",
        ray_address: str | None = None,
        device: str | None = None,
    ):
        """``device``: where every trial trains (``"cpu"``, ``"cuda"``, ``"auto"``; see :mod:`autorecs.device`)."""
        from ..device import resolve_device
        from ..models import MODELS

        from .spaces import model_name

        model = model_name(model)  # a name, or a registered class
        if strategy not in STRATEGIES:
            raise ConfigError(f"The 'strategy' must be one of {STRATEGIES}; got {strategy!r}.")
        if backend not in BACKENDS:
            raise ConfigError(f"The 'backend' must be one of {BACKENDS}; got {backend!r}.")
        if not (isinstance(n_jobs, int) and n_jobs >= 1):
            raise ConfigError(f"The 'n_jobs' parameter must be an int >= 1; got {n_jobs!r}.")
        klass = MODELS[model]
        if resolve_device(device).type != "cpu" and not klass.supports_device:
            raise ConfigError(f"{klass.__name__} trains on the CPU only; got device={device!r}. Use device='cpu'.")
        self.device = None if device is None else str(device)
        fields = {f for f in klass.Config.__dataclass_fields__}
        if isinstance(space, dict):  # a space written as a dict (TOML/JSON's shape): read as SearchSpace.from_dict reads it
            space = SearchSpace.from_dict(space)
        elif not isinstance(space, SearchSpace):
            raise ConfigError(f"The 'space' of Tuner must be a SearchSpace (or a dict in its format, or builtin_space(...)); got "
                              f"{type(space).__name__}.")
        space.check_model(fields, klass.__name__)
        fixed = dict(fixed or {})
        bad = sorted(set(fixed) - fields)
        if bad:
            raise ConfigError(f"Fixed hyperparameters {bad} are not hyperparameters of {klass.__name__}; its hyperparameters are {sorted(fields)}.")
        if strategy == "grid":
            space.grid()  # fails early with a clear message
        self.model, self.klass, self.space, self.strategy = model, klass, space, strategy
        self.budget = budget or Budget(trials=space.grid_size if strategy == "grid" else 20)
        if strategy == "grid" and (self.budget.trials is None or self.budget.trials > space.grid_size):
            self.budget = Budget(space.grid_size, self.budget.seconds, self.budget.epochs)
        if storage is not None and "://" not in str(storage):
            check_storage_path(storage)
        self._study_arg, self._storage_arg = study, storage
        self.study, self.storage = study, storage  # resolved by run(): the default name includes the data's fingerprint
        check_seed(seed, "Tuner")
        self.fixed, self.seed, self.prune = fixed, seed, prune
        self.n_jobs, self.backend, self.ray_address = n_jobs, backend, ray_address
        probe = klass(**{**space.fixed, **fixed})  # validate the fixed hyperparameters now
        if resolve_device(device).type != "cpu" and not probe.trains_on_gpu():  # e.g. λOpt, or BiasedMF's exact ALS solves
            raise ConfigError(f"{klass.__name__} with {({**space.fixed, **fixed})} trains on the CPU only; got device={device!r}. "
                              "Use device='cpu'.")
        space.check_values(lambda params: klass(**{**params, **fixed}))  # and every value the space can produce

    def _identity(self, train, valid, exclude) -> dict:
        """What a study is about: the model, the space, the fixed parameters and the data (fingerprints)."""
        parts = {
            "model": self.model,
            "space": self.space.to_dict(),
            "fixed": {k: self.fixed[k] for k in sorted(self.fixed)},
            "data": {"train": train.fingerprint(), "valid": valid.fingerprint(), "exclude": [e.fingerprint() for e in exclude]},
        }
        text = json.dumps(parts, sort_keys=True, default=str)
        return {**json.loads(text), "digest": hashlib.blake2b(text.encode(), digest_size=8).hexdigest()}

    def run(self, train: Interactions, valid: Interactions, test: Interactions | None = None, *, exclude=None, test_all: bool = False,
            on_trial=None, refit: bool = False) -> TuneResult:
        """Run (or continue) the search; evaluate the best trial's model on ``test`` once.

        ``exclude``: interactions left out of the test ranking besides the training ones; default for ranking models
        ``[valid]`` (as ``autorecs tune`` and ``auto`` score: a user's validation items are not test candidates), for
        rating models none.

        With ``test`` or ``refit``, the best trial's model is trained again (same seed, same
        data) and returned as ``result.model``, e.g. to save it.

        With ``test_all`` every completed trial is scored on ``test`` too (for analysis
        figures; selection still uses validation only).
        """
        with quiet_optuna():
            return self._run(train, valid, test, exclude=exclude, test_all=test_all, on_trial=on_trial, refit=refit)

    def _run(self, train, valid, test, *, exclude, test_all, on_trial, refit) -> TuneResult:
        from ..evaluation import evaluate

        t0 = time.time()
        check_interactions(train, "Tuner.run()", "train")
        check_interactions(valid, "Tuner.run()", "valid")
        check_interactions(test, "Tuner.run()", "test", optional=True)
        if exclude is not None and not isinstance(exclude, (Interactions, list, tuple)):  # a data frame: list() gave its columns
            check_interactions(exclude, "Tuner.run()", "exclude")
        exclude = ([valid] if self.klass.task == "ranking" else []) if exclude is None else \
            [exclude] if isinstance(exclude, Interactions) else list(exclude)
        for part in exclude:
            check_interactions(part, "Tuner.run()", "exclude")
        if self.klass.task == "rating" and train.ratings is None:  # every trial would fail, the budget spent on nothing
            raise DataError(f"{self.klass.__name__} predicts ratings, but the training data has no rating column; add one or tune a "
                            "ranking model.")
        if test is not None and len(test) == 0:  # refused before any trial, not when the test is scored
            raise DataError("The test data given to Tuner.run is empty; give test rows, or leave 'test' out (--test).")
        identity = self._identity(train, valid, exclude if test_all else [])  # exclude touches trials only with test_all
        self.study = self._study_arg or f"{self.model}-{self.space.name}-{self.strategy}-{identity['digest'][:8]}"
        storage = self._storage_arg
        if storage is None or "://" not in str(storage):  # absolute, so that worker processes find it
            storage = str((Path(storage) if storage is not None else Path("autorecs-studies") / f"{self.study}.journal").resolve())
        self.storage = storage
        job = _Job(self.model, self.space, self.fixed, self.strategy, self.study, None if self.storage is None else str(self.storage),
                   self.seed, self.prune, self.budget, t0, train, valid, test if test_all else None, tuple(exclude), self.device)
        probe = self.klass(**{**self.space.fixed, **self.fixed})
        direction = _direction(probe.monitor)
        strategy = _strategy(job, direction)
        _check_identity(strategy.study, identity, self.storage)
        requeued = _requeue_stale(strategy.study)
        if self.strategy == "grid":
            _enqueue_grid(strategy, self.space)
        if requeued:
            logger.warning("%d trial(s) interrupted earlier were queued again", requeued)
        earlier = len(strategy.history())
        if self.backend == "local" and self.n_jobs == 1:
            run_worker(job, on_trial)
        else:
            from ..executor import executor

            with executor(self.backend, self.n_jobs, self.ray_address, owner="Tuner") as pool:
                _run_workers(job, self.n_jobs, strategy, pool)
        trials = strategy.history()
        if earlier and len(trials) == earlier:
            warn(f"The study '{self.study}' in '{self.storage}' had spent its budget ({self.budget.describe()}) in earlier runs "
                          f"on the same model, space and data, so this run trained nothing and returns its {earlier} trials; raise "
                          "the budget to continue it, or name another study (study=..., --study) to search afresh.")
        done = [t for t in trials if t.state == "COMPLETE"]
        best = None
        if done:
            best = (min if direction == "minimize" else max)(done, key=lambda t: t.value)
        params = {**self.space.fixed, **self.fixed, **self.space.model_params(best.params)} if best else {}
        result = TuneResult(self.study, self.strategy, probe.monitor, direction, trials, best, params, time.time() - t0)
        result.extra["earlier_trials"] = earlier  # trials of earlier runs of a continued study (not in wall_seconds)
        if best is not None and (test is not None or refit):
            # the chosen trial again, with its own seed (training is deterministic on CPU), scored once on test
            t1 = time.perf_counter()
            model = self.klass(**params).fit(train, valid, seed=self.seed + best.number, progress=False, device=self.device)
            if model.history_.interrupted:  # a refit cut short is not the chosen trial's model
                raise KeyboardInterrupt
            if test is not None:
                result.test = evaluate(model, test, exclude=exclude)
            result.extra["refit_seconds"] = time.perf_counter() - t1
            result.extra["refit_valid"] = model.history_.best_value
            best.test = result.test
            result.model = model  # plain attribute, not a field: to_dict() never serializes a model
        return result
