"""Search an interaction function, retrain it, report it: what ``autorecs search-ifc`` and the
benchmark run, so both print the same figures."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .._progress import logger
from .._rng import check_seed
from ..config import json_text
from ..evaluation import evaluate
from ..exceptions import ConfigError, build_config, prepare_run_dir
from .baselines import STRATEGIES as BASELINES
from .baselines import best_trial, run_baseline
from .search import SearchConfig, SIFSearch

STRATEGIES = ("sif", "sif-halving", *BASELINES)
#: What a search writes in its directory (removed by ``overwrite=True`` before a new one).
RUN_FILES = ("run.json", "report.json", "arch-K*.json", "model-K*", "*-K*.journal", "*-K*.jsonl", "sif-*-K*.png")


def _prepare_out(out_dir, identity: dict, overwrite: bool) -> Path | None:
    """The search's directory: new, the same search continued (the baselines' journals resume), or with ``overwrite``
    an earlier search's files removed; one holding another search (other sizes, settings or data) is refused, so its
    report never sits beside another search's architectures."""
    if out_dir is None:
        return None
    return prepare_run_dir(out_dir, identity, overwrite=overwrite, files=RUN_FILES, kind="search-ifc", run="a search-ifc run",
                           words={"train": "training data", "valid": "validation data", "test": "test data"})


def _fingerprint(data) -> str | None:
    return None if data is None else data.fingerprint()
#: λ grid of the retraining (the library's per-occurrence λ; see autorecs.models.ifc)
IFC_REG_GRID = (0.03, 0.1, 0.3, 1.0)


def retrain(arch: dict, train, valid, *, seed: int = 0, grid=IFC_REG_GRID, try_identity: bool = True, **overrides):
    """Train :class:`SIF` with ``arch`` from scratch for every λ in ``grid``; keep the best on validation.

    With ``try_identity`` the identity transform (``h = 0`` of the residual transform, a point of the
    search space) competes on validation too: the one-step transform updates of the search are noisy,
    and on ml-100k the searched transform alone retrained worse than none (valid 0.9307 vs 0.9279, K=8).
    Returns ``(model, {"reg": ..., "transform": ..., "valid_rmse": {"λ[/identity]": value}, "seconds": ...})``.
    """
    from ..models import SIF

    t0 = time.perf_counter()
    best, best_value, scores = None, None, {}
    variants = [("searched", arch)]
    if try_identity and arch.get("transform") == "mlp":
        variants.append(("identity", {**arch, "transform": "identity"}))
    for label, a in variants:
        for reg in grid:
            model = SIF(**{**a, **overrides, "reg": reg}).fit(train, valid, seed=seed, progress=False)
            value = float(model.history_.best_value)
            scores[f"{reg:g}" + ("" if label == "searched" else "/identity")] = value
            if best is None or value < best_value:
                best, best_value = model, value
    return best, {"reg": best.config.reg, "transform": best.config.transform, "valid_rmse": scores, "best_valid": best_value,
                  "seconds": time.perf_counter() - t0}


def five_star_topk(model, test) -> dict:
    """The SIF paper's Table 3 figures: each user's **test items** ranked by predicted rating, ratings of
    5 relevant, the others not (``topk`` definitions: Hit@K, NDCG@K with binary gain), averaged over the
    users with at least one 5 among their known test items."""
    import scipy.sparse as sp
    import torch

    from ..metrics.ranking import ranking_metrics

    u, i = test.recode(model.user_vocab_, model.item_vocab_)
    keep = (u >= 0) & (i >= 0)
    u, i, r = u[keep], i[keep], test.ratings[keep]
    shape = (len(model.user_vocab_), len(model.item_vocab_))
    candidates = sp.csr_matrix((np.ones(len(u), np.float32), (u, i)), shape=shape)
    truth = sp.csr_matrix((np.ones(int((r == 5).sum()), np.float32), (u[r == 5], i[r == 5])), shape=shape)
    if truth.nnz == 0:
        return {}

    def scores(users: np.ndarray) -> torch.Tensor:
        s = model._score_codes(users).clone()
        s[torch.from_numpy(candidates[users].toarray() == 0)] = -1e30  # not a test item of this user: ranked last
        return s

    m = ranking_metrics(scores, truth, None, ks=(5, 10), families=("topk",))["topk"]
    return {k: m[k] for k in ("hit@5", "hit@10", "ndcg@5", "ndcg@10")}


def search_ifc(train, valid, test=None, *, dims=(8,), strategy: str = "sif", budget: float | None = None, seed: int = 0,
               out_dir: str | Path | None = None, progress: bool = True, trial_epochs: int = 20, retrain_epochs: int | None = None,
               overwrite: bool = False, **search_options) -> dict:
    """For each embedding size in ``dims``: search (``strategy``), retrain with λ tuned on validation, score on ``test``.

    ``budget`` is the baselines' wall-clock budget per size in seconds (default: 60).  The test split is
    used once per size, after retraining (the per-epoch/per-trial test curves are for figures only).
    ``out_dir``: where the architectures, models and report go; the same search again continues there (a larger
    ``budget`` resumes the baselines' studies), another one needs a new directory or ``overwrite``.
    """
    if strategy not in STRATEGIES:
        raise ConfigError(f"The '--strategy' option must be one of {STRATEGIES}; got {strategy!r}.")
    check_seed(seed, "search_ifc")
    one_shot = strategy in ("sif", "sif-halving")
    if not one_shot:  # the baselines train each trial trial_epochs epochs; the search epochs are the sif strategies'
        search_options = {k: v for k, v in search_options.items() if k != "epochs"}
    # every size's settings checked before the directory is claimed (a refused search left a run.json behind)
    searches = {int(k): (SIFSearch(**search_options, factors=int(k), strategy="proximal" if strategy == "sif" else "halving")
                         if one_shot else build_config(SearchConfig, {**search_options, "factors": int(k)}, "SIFSearch"))
                for k in dims}
    for search in searches.values():
        getattr(search, "config", search).validate()
    out = _prepare_out(out_dir, {"search": strategy, "dims": [int(k) for k in dims], "seed": seed, "trial_epochs": trial_epochs,
                                 "retrain_epochs": retrain_epochs, "options": search_options, "train": _fingerprint(train),
                                 "valid": _fingerprint(valid), "test": _fingerprint(test)}, overwrite)
    report = {"strategy": strategy, "seed": seed, "dims": {}}
    for k in dims:
        t0 = time.perf_counter()
        if one_shot:
            result = searches[int(k)].fit(train, valid, seed=seed, progress=progress, test=test)
            arch, curve = result.arch, [{"seconds": h.seconds, "valid_rmse": h.valid_rmse, "test_rmse": h.test_rmse,
                                         "selected": h.selected, "alpha": h.alpha} for h in result.history]
        else:
            cfg = searches[int(k)]
            base = {"factors": cfg.factors, "biases": cfg.biases, "transform_hidden": cfg.transform_hidden,
                    "transform_activation": cfg.transform_activation, "transform_residual": cfg.transform_residual}
            storage = None if out is None else out / f"{strategy}-K{k}.{'journal' if strategy != 'rl' else 'jsonl'}"
            trials = run_baseline(strategy, train, valid, test, ops=cfg.ops, base=base, budget_seconds=budget or 60.0,
                                  trial_epochs=trial_epochs, seed=seed, storage=storage)
            arch = best_trial(trials).params
            curve = [{"seconds": t.elapsed, "valid_rmse": t.value, "test_rmse": (t.test or {}).get("rmse"), "selected": t.params["interaction"]}
                     for t in trials if t.state == "COMPLETE"]
        search_s = time.perf_counter() - t0
        model, info = retrain(arch, train, valid, seed=seed, **({} if retrain_epochs is None else {"epochs": retrain_epochs}))
        arch = {**arch, "transform": info["transform"]}
        entry = {"arch": arch, "search_seconds": search_s, "retrain_seconds": info["seconds"], "reg": info["reg"],
                 "valid_rmse": info["best_valid"], "retrain_valid": info["valid_rmse"], "curve": curve}
        if test is not None:
            entry["test"] = {**{k2: v for k2, v in evaluate(model, test).items() if k2 in ("rmse", "mae", "rmse_std")},
                             **five_star_topk(model, test)}
        report["dims"][int(k)] = entry
        logger.info("K=%d: %s, valid %.4f%s", k, arch["interaction"], entry["valid_rmse"],
                    f", test {entry['test']['rmse']:.4f}" if test is not None else "")
        if out is not None:
            (out / f"arch-K{k}.json").write_text(json.dumps({**arch, "reg": info["reg"]}, indent=1))
            model.save(out / f"model-K{k}")
    if out is not None:
        (out / "report.json").write_text(json_text(report, indent=1))
    return report


def search_tensor_ifc(train, valid, test=None, *, dims=(8,), strategy: str = "sif-halving", seed: int = 0,
                      out_dir: str | Path | None = None, progress: bool = True, ops=None, rung_epochs: int = 2,
                      search_epochs: int = 10, retrain_epochs: int | None = None, overwrite: bool = False, **config) -> dict:
    """Three-way data: search the operation (``sif``: the one-shot proximal search of
    :mod:`autorecs.sif.tensor_search`; ``sif-halving``: successive halving over the operations),
    then retrain the winner with λ chosen on validation (the grid of :data:`IFC_REG_GRID`), scored once on ``test``.

    DECISION: halving is the default here: on ml-100k + hour (K=8, seeds 0-2) it found better operations
    (test RMSE 0.9425 ± 0.0020) than the one-shot search (0.9462 ± 0.0025), at 11x the search time
    (17.7 s against 1.6 s; benchmarks/README.md)."""
    from ..models.tensor_ifc import TensorIFC, halving_search
    from .tensor_search import TensorSIFSearch

    if strategy not in ("sif", "sif-halving"):
        raise ConfigError(f"Three-way data support --strategy sif or sif-halving; got {strategy!r}.")
    check_seed(seed, "search_tensor_ifc")
    shared = {f: v for f, v in config.items() if f in ("biases", "reg_exponent", "init_std", "batch_size", "learning_rate")}
    searches = {int(k): TensorSIFSearch(ops=ops, factors=int(k), epochs=search_epochs, **shared)  # checked before the directory
                for k in dims} if strategy == "sif" else {}
    out = _prepare_out(out_dir, {"search": strategy + " (tensor)", "dims": [int(k) for k in dims], "seed": seed, "ops": ops,
                                 "rung_epochs": rung_epochs, "search_epochs": search_epochs, "retrain_epochs": retrain_epochs,
                                 "options": config, "train": _fingerprint(train), "valid": _fingerprint(valid),
                                 "test": _fingerprint(test)}, overwrite)
    report = {"strategy": strategy + " (tensor)", "seed": seed, "dims": {}}
    for k in dims:
        if strategy == "sif":
            found = searches[int(k)].fit(train, valid, seed=seed, progress=progress)
        else:
            found = halving_search(train, valid, ops=ops, rung_epochs=rung_epochs, seed=seed, progress=progress, **{**config, "factors": int(k)})
        t0 = time.perf_counter()
        best, scores = None, {}
        for reg in IFC_REG_GRID:
            limit = {} if retrain_epochs is None else {"epochs": retrain_epochs}
            m = TensorIFC(**{**config, "factors": int(k), "interaction": found["interaction"], "reg": reg, **limit}).fit(
                train, valid, seed=seed, progress=False)
            scores[f"{reg:g}"] = float(m.history_.best_value)
            if best is None or scores[f"{reg:g}"] < best.history_.best_value:
                best = m
        entry = {"interaction": found["interaction"], "search_seconds": found["seconds"], "retrain_seconds": time.perf_counter() - t0,
                 "reg": best.config.reg, "valid_rmse": float(best.history_.best_value), "retrain_valid": scores}
        if strategy == "sif":
            entry.update(history=found["history"], top_alpha=found["top_alpha"])
        else:
            entry["rounds"] = [{k2: v for k2, v in r.items() if k2 != "scores"} for r in found["rounds"]]
        if test is not None:
            entry["test"] = best.evaluate(test)
        report["dims"][int(k)] = entry
        if out is not None:  # the operation and λ found (TensorIFC(interaction=..., reg=...) trains it again), and the model
            (out / f"arch-K{k}.json").write_text(json.dumps({"interaction": found["interaction"], "reg": best.config.reg}, indent=1))
            best.save(out / f"model-K{k}")
    if out is not None:
        (out / "report.json").write_text(json_text(report, indent=1))
    return report
