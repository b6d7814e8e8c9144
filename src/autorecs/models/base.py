"""The shared recommender protocol and what every model gets for free.

A model defines a typed ``Config`` dataclass and five hooks:

- ``_prepare(train)``: turn training interactions into tensors (once per fit);
- ``_init_params(rng)``: fresh parameters (once per restart);
- ``_train_epoch() -> dict``: one epoch (or ALS sweep), returning at least ``"loss"``;
- ``_get_state()`` / ``_set_state(state)``: a copy of / restore the parameters (dict of tensors);
- ``_score_codes(user_codes) -> Tensor``: scores of every item for some users.

The base class owns ids, seeds, restarts, the epoch loop (progress, early
stopping, callbacks), ``predict``/``recommend`` with raw ids, and ``save``/``load``.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from .._progress import logger, warn
from .._rng import as_generator, torch_generator
from ..data.interactions import Interactions, check_interactions
from ..data.vocab import Vocabulary
from ..device import resolve_device
from ..exceptions import (AutorecsError, ConfigError, DataError, NotFittedError, check_int, check_output_dir, check_param, check_switches,
                          damage_reason)
from ..metrics.registry import RANKING_METRICS, RATING_METRICS, is_known, lower_is_better
from ..training import Callback, History, train_loop

FORMAT_VERSION = 1
_MODEL_FILES = ("model.json", "history.json", "weights.npz", "ids.npz")


def _replace_dir(new: Path, path: Path) -> None:
    """Move what was written in directory ``new`` to ``path``: a rename when ``path`` does not exist.
    Otherwise the old ``model.json`` goes first (so an interruption leaves no loadable half-old model),
    then every written file or sub-directory replaces its old copy, stale model files of the old model
    (e.g. an ensemble's extra ``member-N``) are removed, and ``model.json`` comes last; other files in
    ``path`` are left alone."""
    if not path.exists():
        new.rename(path)
        return
    (path / "model.json").unlink(missing_ok=True)
    written = set(os.listdir(new))
    for old in os.listdir(path):
        if old not in written and (old in _MODEL_FILES or old.startswith("member-")):
            shutil.rmtree(path / old) if (path / old).is_dir() else (path / old).unlink()
    for name in sorted(written, key=lambda f: f == "model.json"):
        if (path / name).is_dir():
            shutil.rmtree(path / name)
        os.replace(new / name, path / name)


@dataclass
class FitConfig:
    """Options of the training loop shared by every model."""

    epochs: int = 50
    """Maximum number of epochs (ALS: sweeps)."""
    patience: int = 5
    """Stop after this many epochs without a validation improvement (needs validation data)."""
    n_init: int = 1
    """Restarts from fresh random initialisations; the best on validation (else train loss) is kept."""
    monitor: str = ""
    """Validation metric for early stopping and restarts; empty = the model's default."""

    def validate(self) -> None:
        owner = type(self).__qualname__.removesuffix("Config")
        for name in ("epochs", "patience", "n_init"):
            check_int(owner, name, getattr(self, name))
        check_switches(self, owner)

    @classmethod
    def from_dict(cls, params: dict) -> "FitConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(params) - names)
        if unknown:
            owner = cls.__qualname__.removesuffix("Config")
            raise ConfigError(f"{owner} has no parameter(s) {unknown}; valid names are {sorted(names)}.")
        # NumPy scalars (a grid's or a data frame's values) as Python's: the config is saved as JSON
        return cls(**{k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()})


def check_monitor(owner: str, task: str, monitor: str) -> None:
    """The early-stopping metric must be one the validation of ``task`` computes; checked at construction."""
    if not monitor or is_known(task, monitor):
        return
    if task == "rating":
        valid = " or ".join(repr(m) for m in RATING_METRICS)
    else:
        valid = "FAMILY.METRIC, e.g. 'topk.ndcg@50', 'topk.mrr', 'lambdaopt.auc' (" + "; ".join(
            f"{f}: {', '.join(m)}" for f, m in RANKING_METRICS.items()) + ")"
    raise ConfigError(f"The 'monitor' parameter of {owner} must be {valid}; got {monitor!r}.", param="monitor", owner=owner)


def _id_array(ids, owner: str, name: str, flat: bool = True) -> np.ndarray:
    """Raw ids as an array without coercing mixed types (``[1, "x"]`` stays ``[1, "x"]``); ``flat``: one id per
    entry (``recommend``, ``similar_*``), else any shape (``predict``'s pairs)."""
    def bad() -> ConfigError:  # built only when raised (a repr of a million ids is not free)
        shown = type(ids).__name__ if ids is None or not hasattr(ids, "__len__") else " ".join(repr(ids)[:80].split())[:60]
        kinds = "a list or 1-D array of them" if flat else "a list or array of them"
        return ConfigError(f"The '{name}' argument of {owner} must be ids: one id, or {kinds}; got {shown}.", param=name, owner=owner)

    if ids is None:
        raise bad()
    if isinstance(ids, np.ndarray):
        arr = ids
    elif np.isscalar(ids):
        arr = pd.Index([ids]).to_numpy()
    else:
        try:
            arr = pd.Index(list(ids)).to_numpy()
        except TypeError:  # not iterable, or nested lists (unhashable)
            raise bad() from None
    nested = (arr.dtype == object and pd.api.types.infer_dtype(arr.ravel(), skipna=True).startswith("mixed")  # C-speed first
              and any(isinstance(v, (list, tuple, dict, set, np.ndarray)) for v in arr.flat))
    if (flat and arr.ndim > 1) or nested:
        raise bad()
    return arr


class Recommendations:
    """Result of :meth:`Recommender.recommend`: unpacks as ``items, scores``.

    ``items`` and ``scores`` are ``(n_users, n)`` arrays (raw item ids; users for ``similar_users``);
    ``fallback[k]`` is True where user ``k`` was unknown and got the popularity
    ranking instead (its ``scores`` are then training interaction counts, not model
    scores).  A score of ``-inf`` marks padding (fewer than ``n`` unseen items remain).
    ``queries``: the ids asked for, a row each (``query_name``: what they are; ``result_name``: what the
    rows hold).
    """

    def __init__(self, items: np.ndarray, scores: np.ndarray, fallback: np.ndarray, queries=None, query_name: str = "user",
                 result_name: str = "item", similar: bool = False):
        self.items, self.scores, self.fallback = items, scores, fallback
        self.queries, self.query_name, self.result_name = queries, query_name, result_name
        self.similar = similar  # similar_*: the rows are neighbours (columns similar_item / similar_user)

    def __iter__(self):
        return iter((self.items, self.scores))

    def __getitem__(self, i):
        """``items, scores = recs`` and ``recs[0]`` (the items), as for a pair."""
        return (self.items, self.scores)[i]

    def __repr__(self) -> str:
        # a row per query: users for recommend, items or users for similar_*
        return f"Recommendations({self.items.shape[0]} rows x {self.items.shape[1]} items, {int(self.fallback.sum())} fallback)"

    def to_frame(self, queries=None, query_name: str | None = None) -> pd.DataFrame:
        """One row per (query, rank): the query (column ``query_name``: ``user`` for recommend and similar_users,
        ``item`` for similar_items), ``rank`` (1 = best), the result (``item``; ``similar_item`` / ``similar_user``
        for similar_*), ``score`` (the model's), ``popularity`` (training interactions, for fallback rows only, whose
        ``score`` is empty) and ``fallback``; padding (score ``-inf``) left out.  ``queries``: the ids asked for
        (default: those the recommendations were made for)."""
        queries = self.queries if queries is None else queries
        if queries is None:
            raise ConfigError("to_frame() needs the ids these recommendations were made for (queries=...).")
        queries = np.asarray(queries, dtype=object if np.asarray(queries).dtype.kind not in "iuf" else None).reshape(-1)
        n_q, n = self.items.shape
        if len(queries) != n_q:
            raise ConfigError(f"to_frame() got {len(queries)} queries for {n_q} rows of recommendations; give the ids they were made "
                              "for, in their order (or none: the object knows them).")
        query_name = query_name or self.query_name
        result = f"similar_{self.result_name}" if self.similar else self.result_name
        if query_name in (result, "rank", "score", "popularity", "fallback"):
            raise ConfigError(f"to_frame()'s query_name {query_name!r} is the name of another of its columns; choose another.")
        values = self.scores.reshape(-1).astype(np.float64)
        fallback = np.repeat(self.fallback, n)
        frame = pd.DataFrame({
            query_name: np.repeat(queries, n),
            "rank": np.tile(np.arange(1, n + 1), n_q),
            result: self.items.reshape(-1),
            "score": np.where(fallback, np.nan, values),
            "popularity": np.where(fallback, values, np.nan),
            "fallback": fallback,
        })
        return frame[np.isfinite(values)].reset_index(drop=True)


class Recommender:
    """Base of every model; see the module docstring for the hooks."""

    name: ClassVar[str] = ""
    task: ClassVar[str] = "rating"  # "rating" or "ranking"
    Config: ClassVar[type[FitConfig]] = FitConfig
    default_monitor: ClassVar[str] = "rmse"
    #: what the divergence message names as the step size
    step_hint_fields: ClassVar[tuple[str, ...]] = ("learning_rate",)
    #: whether ``fit(device="cuda")`` is supported (the others train on the CPU only)
    supports_device: ClassVar[bool] = False
    #: closed-form models: the fit does not depend on the seed
    deterministic: ClassVar[bool] = False
    #: solved in one step (an "epoch" is that step): ``epochs`` must be 1
    one_step: ClassVar[bool] = False
    device_: torch.device = torch.device("cpu")

    def __init__(self, **params):
        self.config = self._checked(self.Config.from_dict(params))

    def __init_subclass__(cls, **kwargs):
        """Each model's constructor signature names its hyperparameters (the ``Config`` fields, with their
        defaults) besides its own keyword arguments, so that ``help()``, ``inspect.signature`` and editors show
        them instead of ``**params``."""
        super().__init_subclass__(**kwargs)
        own = [p for p in inspect.signature(cls.__init__).parameters.values()
               if p.name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD]
        taken = {p.name for p in own}
        mine = cls.Config.__dict__.get("__annotations__", {})  # the model's own hyperparameters first, then the shared ones
        ordered = sorted(dataclasses.fields(cls.Config), key=lambda f: f.name not in mine)
        def default(f):
            if f.default is not dataclasses.MISSING:
                return f.default
            return f.default_factory() if f.default_factory is not dataclasses.MISSING else inspect.Parameter.empty

        fields = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, annotation=f.type, default=default(f))
                  for f in ordered if f.name not in taken and f.init]
        positional = [p for p in own if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        cls.__signature__ = inspect.Signature(positional + fields + [p for p in own if p.kind is inspect.Parameter.KEYWORD_ONLY])

    def trains_on_gpu(self) -> bool:
        """Whether this configuration can train on a GPU (``fit(device="cuda")``); models whose
        GPU path excludes some settings (λOpt, exact solves) answer for their configuration."""
        return self.supports_device

    def _checked(self, config: FitConfig) -> FitConfig:
        """``config`` validated as a whole (each value, the monitor, what this model supports)."""
        config.validate()
        check_monitor(type(self).__name__, self.task, config.monitor)
        if self.deterministic:
            check_param(config.n_init == 1, type(self).__name__, "n_init", config.n_init, "1",
                        "Restarts draw new random initialisations; this model is fitted in closed form.")
        if self.one_step:
            check_param(config.epochs == 1, type(self).__name__, "epochs", config.epochs, "1",
                        "It is solved in one step, so more epochs change nothing; leave 'epochs' out.")
        return config

    # ------------------------------------------------------------------ params
    #: Constructor keywords that take objects rather than hyperparameters (e.g. ``regularizer``):
    #: not in ``get_params`` (which is JSON data, saved with the model), carried over by :func:`clone`.
    object_params: ClassVar[tuple[str, ...]] = ()

    def get_params(self, deep: bool = True) -> dict:
        """The hyperparameters (the ``Config`` fields) as a dict; ``deep`` is accepted for scikit-learn."""
        return dataclasses.asdict(self.config)

    def resolved_params(self) -> dict:
        """The hyperparameters left None whose value the last ``fit`` chose from its data (reported as
        ``<field>_``, e.g. BPRMF's ``batch_size_``): pass them to train the same model on other data (a
        refit on train + validation) with the schedule that was validated.  They describe the last fit:
        after :meth:`set_params` they hold until the next ``fit``."""
        return {f: getattr(self, f + "_") for f, v in self.get_params().items() if v is None and hasattr(self, f + "_")}

    def set_params(self, **params) -> "Recommender":
        """Change hyperparameters (validated as in the constructor; on a bad value nothing changes).
        A fitted model keeps its fitted state until the next ``fit``."""
        self.config = self._checked(self.Config.from_dict({**self.get_params(), **params}))
        return self

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != getattr(self.Config(), k)}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    @property
    def item_popularity_(self) -> np.ndarray:
        """Training interactions per item (the fallback ranking for unknown users)."""
        return np.asarray(self.seen_.sum(0)).ravel().astype(np.float32)

    @property
    def monitor(self) -> str:
        return self.config.monitor or self.default_monitor

    # --------------------------------------------------------------------- fit
    def fit(
        self,
        train: Interactions,
        valid: Interactions | None = None,
        *,
        seed: int | np.random.Generator | None = None,
        progress: bool = True,
        callbacks: Sequence[Callback] = (),
        device: str | torch.device | None = None,
    ) -> "Recommender":
        """Train on ``train``; with ``valid``, early-stop and pick restarts on it. Returns ``self``.

        ``device``: ``"cpu"`` (default), ``"cuda"`` or ``"auto"`` (see :mod:`autorecs.device`); a
        run-time option, not saved with the model."""
        check_interactions(train, "fit()", "train")
        check_interactions(valid, "fit()", "valid", optional=True)
        if len(train) == 0:
            raise DataError("The training data is empty; give at least one interaction.")
        if self.task == "rating" and train.ratings is None:
            raise DataError(f"{type(self).__name__} predicts ratings, but the training data has no rating column; add one or use a ranking model.")
        dev = resolve_device(device)
        if dev.type != "cpu" and not self.supports_device:
            raise ConfigError(f"{type(self).__name__} trains on the CPU only; got device={device!r}. Use device='cpu'.")
        self.device_ = dev
        rng = as_generator(seed)
        self._tgen = torch_generator(rng)
        self.user_vocab_ = train.user_vocab
        self.item_vocab_ = train.item_vocab
        self.seen_ = train.csr("ones")
        self.train_mean_ = float(train.ratings.mean()) if train.ratings is not None else 0.0
        self.train_std_ = float(train.ratings.std()) if train.ratings is not None else 1.0
        self._prepare(train)
        if valid is not None and len(valid):
            valid = self._prepare_validation(valid) or valid
        elif valid is not None and self.config.epochs > 1:  # given, but empty (e.g. a split of too little data)
            warn(f"The validation data given to {type(self).__name__}.fit is empty: it trains all {self.config.epochs} epochs "
                          "without early stopping; give validation rows, or valid=None to say so.")

        validate, monitor, mode = self._validation(valid) if valid is not None and len(valid) else (None, None, "min")
        # a field left None (a default that follows the data) shows what this fit resolved it to: ``<field>_``
        resolved = {f: getattr(self.config, f) for f in self.step_hint_fields}
        hint = ", ".join(f"{f}={getattr(self, f + '_', None) if v is None else v}" for f, v in resolved.items())
        best = None
        t0 = time.perf_counter()
        for restart in range(self.config.n_init):
            self._init_params(rng)
            hist = train_loop(
                self,
                max_epochs=self.config.epochs,
                validate=validate,
                monitor=monitor,
                mode=mode,
                patience=self.config.patience,
                callbacks=callbacks,
                progress=progress,
                description=f"{type(self).__name__}" + (f" {restart + 1}/{self.config.n_init}" if self.config.n_init > 1 else ""),
                step_hint=hint,
            )
            value = hist.best_value if hist.best_value is not None else hist.epochs[-1]["loss"]
            better = best is None or (value < best[0] if (mode == "min" or monitor is None) else value > best[0])
            logger.info("restart %d: %s=%.5g", restart, monitor or "loss", value)
            if better:
                best = (value, self._get_state(), hist)
            if hist.interrupted:  # the fit says so, whichever restart it keeps
                best[2].interrupted = True
                break
        self._set_state(best[1])
        self.history_: History = best[2]
        self.fit_seconds_ = time.perf_counter() - t0
        self.fitted_ = True
        self._fitted_params = self.get_params()  # what the weights belong to: save() writes these
        return self

    def _validation(self, valid: Interactions):
        """The per-epoch validation function, the monitored key and its direction."""
        from ..evaluation import Evaluator

        family, _, metric = self.monitor.rpartition(".")
        if self.task == "rating":
            ev = Evaluator(self, valid, task="rating")
            validate = lambda: {f"valid_{k}": v for k, v in ev(self).items() if k in RATING_METRICS}  # noqa: E731
        else:
            family = family or "topk"
            k = int(metric.split("@")[1]) if "@" in metric else 10
            ev = Evaluator(self, valid, task="ranking", ks=(k,), families=(family,), metrics=(metric,))
            validate = lambda: {f"valid_{m}": v for m, v in ev(self)[family].items()}  # noqa: E731
        return validate, f"valid_{metric}", ("min" if lower_is_better(metric) else "max")

    # ------------------------------------------------------------------- hooks
    def _prepare(self, train: Interactions) -> None:
        raise NotImplementedError

    def _prepare_validation(self, valid: Interactions) -> Interactions | None:
        """Optional: use validation data during training (λOpt does); return the part left
        for early stopping and restarts (None: all of it)."""

    def _init_params(self, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _train_epoch(self) -> dict[str, float]:
        raise NotImplementedError

    def _get_state(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _set_state(self, state: dict[str, torch.Tensor]) -> None:
        raise NotImplementedError

    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        raise NotImplementedError

    def _predict_codes(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Scores of (user, item) code pairs; codes may be -1 (unknown). Default: NaN for unknowns."""
        out = np.full(len(users), np.nan, np.float32)
        known = np.flatnonzero((users >= 0) & (items >= 0))
        for s in range(0, len(known), 1024):
            rows = known[s : s + 1024]
            cols = torch.from_numpy(items[rows].astype(np.int64))[:, None]
            out[rows] = self._score_codes(users[rows]).gather(1, cols)[:, 0].numpy()
        return out

    # ----------------------------------------------------------------- using
    def _check_fitted(self) -> None:
        if not getattr(self, "fitted_", False):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit() or load() first.")

    def predict(self, users, items) -> np.ndarray:
        """Predicted scores (ratings for rating models) of raw (user, item) pairs.

        Unknown users/items: rating models fall back to the global mean plus the
        known biases; ranking models give NaN.
        """
        self._check_fitted()
        owner = type(self).__name__ + ".predict"
        users, items = _id_array(users, owner, "users", flat=False), _id_array(items, owner, "items", flat=False)
        if users.shape != items.shape:
            raise DataError(f"predict(): 'users' has shape {users.shape} but 'items' has {items.shape}; give one pair per position.")
        with torch.no_grad():
            return self._predict_codes(self.user_vocab_.codes(users.ravel()), self.item_vocab_.codes(items.ravel())).reshape(users.shape)

    def recommend(self, users, n: int = 10, exclude_seen: bool = True, fallback: str = "popular") -> Recommendations:
        """Top-``n`` items for each raw user id (batch-first).

        Users the model never saw get the most popular training items with ``fallback="popular"``
        (``Recommendations.fallback`` flags them), or are refused with ``fallback="error"``.
        """
        self._check_fitted()
        owner = type(self).__name__ + ".recommend"
        check_int(owner, "n", n)
        check_param(fallback in ("popular", "error"), owner, "fallback", fallback, "'popular' or 'error'")
        check_param(isinstance(exclude_seen, (bool, np.bool_)), owner, "exclude_seen", exclude_seen, "True or False")
        users = np.atleast_1d(_id_array(users, owner, "users"))
        codes = self.user_vocab_.codes(users)
        n_items = len(self.item_vocab_)
        n = min(int(n), n_items)
        out_idx = np.zeros((len(users), n), np.int64)
        out_scores = np.zeros((len(users), n), np.float32)
        fallback_rows = codes < 0
        if fallback == "error" and fallback_rows.any():
            unknown = users[fallback_rows]
            shown = ", ".join(repr(u.item() if hasattr(u, "item") else u) for u in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            raise DataError(f"{len(unknown)} user(s) are not in the model's training data ({shown}); ask for the "
                            "popular fallback (fallback='popular'; --fallback popular) to give them the most popular items.")
        fallback = fallback_rows
        if fallback.any():
            pop = torch.from_numpy(self.item_popularity_).topk(n)
            out_idx[fallback], out_scores[fallback] = pop.indices.numpy(), pop.values.numpy()
        known = np.flatnonzero(~fallback)
        batch = max(1, 2_000_000 // max(n_items, 1))
        with torch.no_grad():
            for s in range(0, len(known), batch):
                rows = known[s : s + batch]
                scores = self._score_codes(codes[rows]).float()
                if exclude_seen:
                    seen = self.seen_[codes[rows]]
                    r = np.repeat(np.arange(len(rows)), np.diff(seen.indptr))
                    scores[torch.from_numpy(r), torch.from_numpy(seen.indices.astype(np.int64))] = float("-inf")
                top = scores.topk(n, dim=1)
                out_idx[rows], out_scores[rows] = top.indices.numpy(), top.values.numpy()
        return Recommendations(self.item_vocab_.ids(out_idx), out_scores, fallback, queries=users)

    # ---------------------------------------------------------- similarities
    def _factors(self, side: str) -> torch.Tensor | None:
        """The learned ``"user"`` or ``"item"`` factor table (rows = codes), or None for a model without one."""
        table = getattr(self, "P" if side == "user" else "Q", None)
        return None if table is None else table.detach()

    def _similarity_rows(self, side: str, codes: torch.Tensor) -> torch.Tensor | None:
        """Similarities of some users (items) to all users (items): cosine of the factors by default."""
        table = self._factors(side)
        if table is None:
            return None
        unit = torch.nn.functional.normalize(table.float().cpu(), dim=1)
        return unit[codes] @ unit.T

    def similar_items(self, items, n: int = 10) -> Recommendations:
        """The ``n`` items most similar to each raw item id (cosine of the factors, or the model's own
        item similarities for item-based models), itself excluded."""
        return self._similar("item", items, n)

    def similar_users(self, users, n: int = 10) -> Recommendations:
        """The ``n`` users whose factors are most similar (cosine) to each raw user id's, itself excluded."""
        return self._similar("user", users, n)

    def _similar(self, side: str, ids, n: int) -> Recommendations:
        self._check_fitted()
        owner = f"{type(self).__name__}.similar_{side}s"
        check_int(owner, "n", n)
        vocab = self.user_vocab_ if side == "user" else self.item_vocab_
        ids = np.atleast_1d(_id_array(ids, owner, f"{side}s"))
        codes = vocab.codes(ids)
        if (codes < 0).any():
            unknown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in ids[codes < 0][:5])
            raise DataError(f"{owner}: {int((codes < 0).sum())} id(s) are not in the model's training data ({unknown}); "
                            f"give {side} ids the model was trained on.")
        n = min(int(n), len(vocab) - 1)
        q = torch.from_numpy(codes.astype(np.int64))
        with torch.no_grad():
            sims = self._similarity_rows(side, q)
            if sims is None:
                raise ConfigError(f"{type(self).__name__} has no {side} representation to compare; similar_{side}s needs a model "
                                  f"with learned {side} factors or {side} similarities.")
            sims = sims.float().clone()
            sims[torch.arange(len(q)), q] = float("-inf")  # not itself
            top = sims.topk(max(n, 0), dim=1)
        return Recommendations(vocab.ids(top.indices.numpy()), top.values.numpy(), np.zeros(len(ids), bool), queries=ids,
                               query_name=side, result_name=side, similar=True)

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path, *, overwrite: bool = True) -> Path:
        """Write weights (``.npz``), JSON config and id maps to directory ``path``; no pickled code.

        The files are written into a sibling temporary directory first and then moved into
        ``path`` (``model.json`` last), so an interrupted save never leaves a half-written model.  With ``overwrite=False`` an
        existing non-empty ``path`` is refused.
        """
        self._check_fitted()
        path = Path(path)
        check_output_dir(path, overwrite=overwrite, what="model directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the model directory gets the usual permissions
        try:
            self._write(tmp)
            _replace_dir(tmp, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return path

    def _write(self, path: Path) -> None:
        params = getattr(self, "_fitted_params", None) or self.get_params()
        changed = {k: (v, self.get_params()[k]) for k, v in params.items() if self.get_params().get(k) != v}
        if changed:
            shown = ", ".join(f"{k}={a!r}, not {b!r}" for k, (a, b) in changed.items())
            warn(f"{type(self).__name__} is saved with the parameters its weights were fitted with ({shown} as set since); "
                          "fit it again to save the new ones.")
        meta = {
            "format": FORMAT_VERSION,
            "model": self.name,
            "task": self.task,
            "params": params,
            "train_mean": self.train_mean_,
            "train_std": self.train_std_,
            "fit_seconds": getattr(self, "fit_seconds_", None),
        }
        learned = self._learned_lambda()
        if learned is not None:
            meta["learned_lambda"] = learned
        resolved = self.resolved_params()
        if resolved:  # defaults the fit chose from its data (the params keep None)
            meta["resolved"] = resolved
        (path / "model.json").write_text(json.dumps(meta, indent=2))
        if getattr(self, "history_", None) is not None:
            (path / "history.json").write_text(json.dumps(self.history_.to_dict(), indent=2))
        np.savez(path / "weights.npz", **{k: v.detach().cpu().numpy() for k, v in self._get_state().items()})
        seen = self.seen_
        np.savez(
            path / "ids.npz",
            users=self.user_vocab_.to_array(),
            items=self.item_vocab_.to_array(),
            seen_indptr=seen.indptr,
            seen_indices=seen.indices,
        )

    def _learned_lambda(self) -> dict | None:
        """λOpt models: a summary of the Λ they learned (the ``params`` hold only the starting λ; the
        full tensors are ``lam_user`` / ``lam_item`` in ``weights.npz``)."""
        if not getattr(self.config, "lambdaopt", "") or getattr(self, "lam_user", None) is None:
            return None
        out = {"granularity": self.config.lambdaopt, "note": "params hold the starting λ; these are the learned ones"}
        for side in ("user", "item"):
            lam = getattr(self, f"lam_{side}").detach().cpu().double()
            out[side] = {"shape": list(lam.shape), "mean": float(lam.mean()), "min": float(lam.min()), "max": float(lam.max())}
        return out

    @classmethod
    def load(cls, path: str | Path) -> "Recommender":
        """Load a model saved by :meth:`save` (``Recommender.load`` picks the class from the file)."""
        from . import LOADABLE, MODELS

        path = Path(path)
        meta_file = path / "model.json"
        if not meta_file.is_file():
            hint = (f"; it is an `autorecs auto` run, whose model is in its 'model' folder: load '{path / 'model'}'"
                    if (path / "model" / "model.json").is_file() else
                    f"; give the directory that holds it: '{path.parent}'" if path.name == "model.json" and path.is_file() else
                    "; pass the --out directory of `autorecs fit` (model.save's directory)")
            raise DataError(f"'{path}' is not a saved autorecs model (no model.json){hint}.")
        try:
            meta = json.loads(meta_file.read_text())
            if meta.get("model") == "tensor-ifc":
                raise DataError(f"'{path}' holds a three-way TensorIFC model (user, item, context), which these commands do not "
                                "serve; load it with autorecs.models.tensor_ifc.TensorIFC.load.")
            klass = LOADABLE[meta["model"]] if meta.get("model") in LOADABLE else MODELS[meta["model"]]
        except (json.JSONDecodeError, KeyError) as exc:
            raise DataError(f"'{meta_file}' is not a valid autorecs model file ({exc}); refit the model.") from exc
        if cls is not Recommender and not issubclass(klass, cls):
            raise DataError(f"'{path}' holds a {klass.__name__}, not a {cls.__name__}; use Recommender.load().")
        try:
            params = dict(meta["params"])
            if getattr(klass, "one_step", False) and isinstance(params.get("epochs"), int):
                params["epochs"] = 1  # saved before one-step models refused more (the extra epochs repeated the one step)
            model = klass(**params)
            model._read_state(path, meta)
            for name, value in (meta.get("resolved") or {}).items():  # defaults its fit chose from the data
                if meta["params"].get(name, 0) is None:
                    setattr(model, name + "_", value)
        except AutorecsError:
            raise
        except Exception as exc:  # noqa: BLE001  (a damaged file: missing, truncated or from another model)
            raise DataError(f"The model directory '{path}' is damaged ({damage_reason(exc)}); "
                            "refit the model or restore the directory from a copy.") from exc
        model.fit_seconds_ = meta.get("fit_seconds")
        model.fitted_ = True
        model._fitted_params = model.get_params()
        return model

    def _read_state(self, path: Path, meta: dict) -> None:
        """Ids, seen items, weights and history from a saved directory, checked for consistency."""
        with np.load(path / "ids.npz", allow_pickle=False) as ids:
            self.user_vocab_ = Vocabulary(ids["users"])
            self.item_vocab_ = Vocabulary(ids["items"])
            n_u, n_i = len(self.user_vocab_), len(self.item_vocab_)
            self.seen_ = sp.csr_matrix(
                (np.ones(len(ids["seen_indices"]), np.float32), ids["seen_indices"], ids["seen_indptr"]), shape=(n_u, n_i)
            )
        self.train_mean_, self.train_std_ = meta["train_mean"], meta["train_std"]
        with np.load(path / "weights.npz", allow_pickle=False) as weights:
            self._set_state({k: torch.from_numpy(weights[k]) for k in weights.files})
        hist_file = path / "history.json"
        self.history_ = History(**json.loads(hist_file.read_text())) if hist_file.exists() else None
        if n_u:  # the weights must belong to these ids: one user's scores over every item, and a score for the last user
            probe = self._score_codes(np.zeros(1, np.int64))
            if tuple(probe.shape) != (1, n_i):
                raise ValueError(f"the weights score {tuple(probe.shape)[-1]} items but ids.npz lists {n_i}")
            try:
                self._score_codes(np.array([n_u - 1], np.int64))
            except IndexError as exc:
                raise ValueError(f"the weights hold fewer users than the {n_u} that ids.npz lists") from exc


def clone(model: Recommender) -> Recommender:
    """An unfitted copy of ``model`` with the same hyperparameters and a deep copy of its object
    parameters (``object_params``, e.g. a ``regularizer``), as scikit-learn's ``clone``."""
    import copy

    objects = {k: copy.deepcopy(getattr(model, k, None)) for k in type(model).object_params}
    return type(model)(**model.get_params(), **{k: v for k, v in objects.items() if v is not None})
