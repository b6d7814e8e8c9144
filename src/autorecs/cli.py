"""The ``autorecs`` command line: a thin layer over the library.

Every command that measures something takes ``--json`` and then prints exactly
one JSON object on stdout; progress goes to stderr.  Errors raised on purpose
print one sentence and exit non-zero (``--debug`` shows the traceback).
"""

from __future__ import annotations

import json
import shlex
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .data import DATASETS, Columns, fetch, list_datasets, load, read_frame, read_interactions, split, write_frame, write_interactions
from .data.readers import check_table_path
from .data.splits import protocol_shares
from .config import json_text, parse_key_values, read_config_file
from .evaluation import evaluate
from .exceptions import AutorecsError, ConfigError, DataError, check_output_dir, check_writable
from .models import MODELS, Recommender

_HELP = {"help_option_names": ["-h", "--help"]}
EXIT_CODES = {0: "success", 1: "an unexpected autorecs error", 2: "a bad option, parameter or command line (ConfigError)",
              3: "bad input data or a damaged model directory (DataError)", 4: "a built-in data set is unavailable",
              5: "a model used before fitting", 6: "training diverged (NaN/inf; lower the learning rate)", 130: "interrupted (Ctrl-C)"}
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, context_settings=_HELP,
                  help="Automated machine learning for recommender systems.",
                  epilog="Exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()) + ".")
datasets_app = typer.Typer(no_args_is_help=True, context_settings=_HELP, help="Built-in data sets (fetched into a local cache, never redistributed).")
app.add_typer(datasets_app, name="datasets")
out = Console()
err = Console(stderr=True)


def _flag_type(display):
    """Typer's help shows a '<bool>' type beside on/off flags, which take no value: show none."""
    def display_type_rich(self, ctx):
        return None if getattr(self, "is_flag", False) else display(self, ctx)
    return display_type_rich


_option = getattr(typer.core, "TyperOption", None)
if hasattr(_option, "display_type_rich"):  # a Typer internal (0.29's); other versions keep their own help
    _option.display_type_rich = _flag_type(_option.display_type_rich)

#: Default model per task.
DEFAULT_MODEL = {"rating": "biased-mf", "ranking": "bpr-mf"}


def _emit_json(obj) -> None:
    """One JSON object on stdout; NaN and infinities (not JSON) are written as null."""
    sys.stdout.write(json_text(obj, indent=2) + "\n")


@dataclass(frozen=True)
class _Input:
    """How to read the interaction files a command is given: column names and the duplicates policy."""

    columns: Columns
    duplicates: str = "last"
    ids: str = "auto"


def _read(path_or_name: str, spec: _Input, *, flag: str = "--train", need_ratings: bool = False) -> "object":
    columns = spec.columns
    if path_or_name not in DATASETS and not Path(path_or_name).exists():
        raise DataError(f"The {flag} argument '{path_or_name}' is neither a file nor a built-in data set ({', '.join(sorted(DATASETS))}); "
                        "check the path or the name.")
    data = load(path_or_name) if path_or_name in DATASETS else read_interactions(path_or_name, columns, duplicates=spec.duplicates,
                                                                                 ids=spec.ids)
    if need_ratings and columns.rating is None:
        raise ConfigError("--task rating needs ratings, but --rating-col is 'none'; name the rating column with --rating-col, "
                          "or use --task ranking for implicit data.")
    if need_ratings and data.ratings is None:
        raise DataError(f"--task rating needs ratings, but {flag} '{path_or_name}' has no column '{columns.rating}' (nor a known "
                        "alias); name its rating column with --rating-col, or use --task ranking for implicit data.")
    return data


def _columns(user_col: str, item_col: str, rating_col: Optional[str], timestamp_col: Optional[str], duplicates: str = "last",
             ids: str = "auto") -> _Input:
    from .data.interactions import DUPLICATE_POLICIES, ID_OPTIONS

    if duplicates not in DUPLICATE_POLICIES:
        raise ConfigError(f"The '--duplicates' option must be one of {', '.join(DUPLICATE_POLICIES)}; got {duplicates!r}.")
    if ids not in ID_OPTIONS:
        raise ConfigError(f"The '--ids' option must be auto (ids as numbers where they look like numbers) or text (as written, "
                          f"e.g. 007); got {ids!r}.")
    none = lambda v: None if v in (None, "", "none", "None") else v  # noqa: E731
    return _Input(Columns(user=user_col, item=item_col, rating=none(rating_col), timestamp=none(timestamp_col)), duplicates, ids)


def _column_flags(user_col: str, item_col: str, rating_col: str, timestamp_col: str, duplicates: str, ids: str) -> str:
    """The column options given that differ from their defaults, as they would be typed (for a printed command)."""
    given = (("--user-col", user_col, "user"), ("--item-col", item_col, "item"), ("--rating-col", rating_col, "rating"),
             ("--timestamp-col", timestamp_col, "timestamp"), ("--duplicates", duplicates, "last"), ("--ids", ids, "auto"))
    return "".join(f" {flag} {shlex.quote(str(value))}" for flag, value, default in given if value != default)


UserCol = typer.Option("user", "--user-col", help="Name of the user id column.")
ItemCol = typer.Option("item", "--item-col", help="Name of the item id column.")
RatingCol = typer.Option("rating", "--rating-col", help="Name of the rating column ('none' for implicit data).")
TimeCol = typer.Option("timestamp", "--timestamp-col", help="Name of the timestamp column ('none' if absent).")
DupOpt = typer.Option("last", "--duplicates", help="Repeated (user, item) rows: last (latest by timestamp), first, mean or error.")
IdsOpt = typer.Option("auto", "--ids", help="Read user and item ids as numbers where they look like numbers (auto), or as text, as "
                                          "written (text: 007 and 7 are two ids); spaces around text ids are removed.")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object on stdout instead of tables.")
OverwriteOpt = typer.Option(False, "--overwrite", help="Replace what an existing, non-empty --out directory holds.")
DeviceOpt = typer.Option("cpu", "--device", help="Where to train: cpu, cuda (or cuda:N) or auto (a GPU if PyTorch sees one).")


def _print_version(value: bool) -> None:
    if value:
        out.print(__version__)
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                       help="Print the version and exit.")) -> None:
    """Automated machine learning for recommender systems."""


# ------------------------------------------------------------------ datasets
@datasets_app.command("list")
def datasets_list(as_json: bool = JsonOpt) -> None:
    """List the built-in data sets and whether they are cached."""
    frame = list_datasets()
    if as_json:
        _emit_json({"datasets": frame.to_dict(orient="records")})
        return
    table = Table("name", "rows", "cached", "description")
    for row in frame.itertuples():
        table.add_row(row.name, f"{row.rows:,}", "yes" if row.cached else "no", row.description)
    out.print(table)


@datasets_app.command("fetch")
def datasets_fetch(name: str = typer.Argument(..., help="Data set name, e.g. ml-100k."), force: bool = typer.Option(False, help="Download again even if cached.")) -> None:
    """Download a built-in data set into the cache and verify it."""
    path = fetch(name, force=force)
    files = sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".part"))
    out.print(f"{name}: {', '.join(files)} in {path.parent}")


# -------------------------------------------------------------------- models
@app.command("models")
def models_cmd(
    name: Optional[str] = typer.Argument(None, help="A model name: list its parameters (default: list the models)."),
    as_json: bool = JsonOpt,
) -> None:
    """List the models, or one model's parameters with their defaults (what -p KEY=VALUE takes)."""
    from .models.catalog import model_params, summary

    if name is None:
        rows = [{"name": n, "task": k.task, "summary": summary(k)} for n, k in MODELS.items()]
        if as_json:
            return _emit_json({"models": rows})
        table = Table("model", "task", "what it is")
        for r in rows:
            table.add_row(r["name"], r["task"], r["summary"])
        return out.print(table)
    params = model_params(name)
    if as_json:
        return _emit_json({"model": name, "task": MODELS[name].task, "params": [p.__dict__ for p in params]})
    table = Table("parameter", "type", "default", "meaning", title=f"{name} ({MODELS[name].task}): -p KEY=VALUE")
    for p in params:
        table.add_row(p.name, p.type, repr(p.default), p.help)
    out.print(table)


# --------------------------------------------------------------------- split
@app.command("split")
def split_cmd(
    data: str = typer.Argument(..., help="A built-in data set name or an interaction file."),
    protocol: str = typer.Option("random-50-25-25", help="random-A-B-C, temporal-60-20-20, leave-last-out or global-time-A-B-C."),
    out_dir: Path = typer.Option(..., "--out", help="Directory for train/valid/test files."),
    seed: int = typer.Option(0, help="Seed of random splits."),
    cold: str = typer.Option("drop", help="Valid/test rows with users/items unseen in train: drop or keep."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
    overwrite: bool = OverwriteOpt,
    user_col: str = UserCol, item_col: str = ItemCol, rating_col: str = RatingCol, timestamp_col: str = TimeCol, duplicates: str = DupOpt, ids: str = IdsOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Split interactions by a named protocol and write train/valid/test files."""
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"The '--format' option must be csv or parquet; got {fmt!r}.")
    check_output_dir(out_dir, overwrite=overwrite, what="split directory", flag="--out")
    _, shares = protocol_shares(protocol)  # a bad name refused before the data is read
    empty = [name for name, share in zip(("train", "valid", "test"), shares or ()) if share == 0]
    if empty:
        raise ConfigError(f"The '--protocol' option {protocol!r} gives {' and '.join(empty)} 0%, so that file would be empty; "
                          "give every part a share, e.g. random-80-10-10.")
    table = _read(data, _columns(user_col, item_col, rating_col, timestamp_col, duplicates, ids), flag="DATA")
    with warnings.catch_warnings():  # an empty part is refused below, in the command's own words
        warnings.filterwarnings("ignore", message="Split .* left the")
        parts = split(table, protocol, seed=seed, cold=cold)
    sizes = {name: len(part) for name, part in zip(("train", "valid", "test"), parts)}
    empty = [name for name, n in sizes.items() if n == 0]
    if empty:  # checked before anything is written
        raise DataError(f"The split '{parts.protocol}' of {data!r} leaves {' and '.join(empty)} empty (too few interactions per user, "
                        "or every such row was cold); give more data or another --protocol.")
    files = {name: str(write_interactions(part, out_dir / f"{name}.{fmt}")) for name, part in zip(("train", "valid", "test"), parts)}
    dropped = parts.dropped or {}
    if as_json:
        _emit_json({"protocol": parts.protocol, "files": files, "rows": sizes,
                    "dropped_cold": {**dropped, "reason": "user or item not in train (--cold drop)"}})
    else:
        out.print(f"{parts.protocol}: " + ", ".join(f"{k} {v:,} rows -> {files[k]}" for k, v in sizes.items()))
        if any(dropped.values()):
            out.print(f"dropped {dropped['valid']:,} valid and {dropped['test']:,} test rows whose user or item is not in train "
                      "(--cold keep keeps them)")


# ----------------------------------------------------------------------- fit
def _resolve_model(task: Optional[str], model: Optional[str]):
    """The registered model (name, class, task) for ``--task``/``--model``, with the standard errors."""
    if task is None and model is None:
        raise ConfigError("The '--task' option is needed when --model is not given; use --task rating or --task ranking.")
    if task is not None and task not in ("rating", "ranking"):
        raise ConfigError(f"The '--task' option must be 'rating' or 'ranking'; got {task!r}.")
    name = model or DEFAULT_MODEL[task]
    if name not in MODELS:
        raise ConfigError(f"Unknown model {name!r}; choose one of {sorted(MODELS)} (`autorecs models` lists them).")
    klass = MODELS[name]
    if task is not None and klass.task != task:
        raise ConfigError(f"Model {name!r} is for the {klass.task} task, not {task!r}; pick a {task} model or change --task.")
    return name, klass, klass.task


def _parse_params(config: Optional[Path], params: List[str]) -> dict:
    """--config FILE, then -p KEY=VALUE on top."""
    return {**(read_config_file(config, flag="--config") if config is not None else {}), **parse_key_values(params, flag="--param")}


@app.command("fit")
def fit_cmd(
    train: str = typer.Option(..., help="Training interactions (file or built-in name)."),
    valid: Optional[str] = typer.Option(None, help="Validation interactions, for early stopping and restarts."),
    task: Optional[str] = typer.Option(None, help="rating or ranking; default: the task of --model."),
    model: Optional[str] = typer.Option(None, help=f"One of {sorted(MODELS)}; default biased-mf (rating) / bpr-mf (ranking)."),
    config: Optional[Path] = typer.Option(None, help="JSON, TOML or YAML file of model parameters."),
    arch: Optional[Path] = typer.Option(None, help="An architecture from `autorecs search-ifc` (arch-K*.json), for --model sif."),
    regularization: str = typer.Option("fixed", help="fixed (the λ parameters) or lambdaopt (Λ learned from validation, λOpt)."),
    granularity: Optional[str] = typer.Option(None, help="λOpt granularity: global, D, U, I, UI, DU, DI or DUI (default DUI)."),
    lambda_lr: Optional[float] = typer.Option(None, help="λOpt: step size of the Λ optimizer."),
    lambda_optimizer: Optional[str] = typer.Option(None, help="λOpt: adam or sgd."),
    lambda_clip: Optional[float] = typer.Option(None, help="λOpt: clip each Λ-gradient entry to [-clip, clip]."),
    lambda_every: Optional[int] = typer.Option(None, help="λOpt: a Λ-step every N training batches (default 1)."),
    lambda_batch_size: Optional[int] = typer.Option(None, help="λOpt: validation rows per Λ-step (default: the training batch size)."),
    report: Optional[Path] = typer.Option(None, help="λOpt: write Λ-trajectories per frequency group (PNG + JSON) here."),
    param: List[str] = typer.Option([], "--param", "-p", help="Model parameter KEY=VALUE (repeatable), e.g. -p factors=32."),
    seed: int = typer.Option(0, help="Random seed."),
    device: str = DeviceOpt,
    out_dir: Path = typer.Option(..., "--out", help="Directory to save the fitted model."),
    overwrite: bool = OverwriteOpt,
    user_col: str = UserCol, item_col: str = ItemCol, rating_col: str = RatingCol, timestamp_col: str = TimeCol, duplicates: str = DupOpt, ids: str = IdsOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Train a model and save it."""
    from .fitting import fit_model

    name, klass, task = _resolve_model(task, model)
    check_output_dir(out_dir, overwrite=overwrite, what="model directory", flag="--out")
    if report is not None:
        check_output_dir(report, overwrite=True, what="report directory", flag="--report")
    lopt = {"lambda_lr": lambda_lr, "lambda_optimizer": lambda_optimizer, "lambda_clip": lambda_clip, "lambda_every": lambda_every,
            "lambda_batch_size": lambda_batch_size}
    params = _fit_params(name, klass, _parse_params(config, param), arch, regularization, granularity, lopt, report)
    cols = _columns(user_col, item_col, rating_col if task == "rating" else "none", timestamp_col, duplicates, ids)
    train_data = _read(train, cols, need_ratings=task == "rating")
    valid_data = _read(valid, cols, flag="--valid", need_ratings=task == "rating") if valid else None
    _, rep = fit_model(klass, params, train_data, valid_data, out_dir=out_dir, seed=seed, device=device, progress=not as_json,
                       trajectory_dir=report)
    if as_json:
        return _emit_json(rep.to_dict())
    best = f", best {rep.monitor}={rep.best_valid:.4f} at epoch {rep.best_epoch}" if rep.monitor else ""
    if rep.monitor and rep.best_epoch == rep.params.get("epochs") and not klass.one_step:
        best += f" (its last allowed epoch: more may help, e.g. -p epochs={2 * rep.best_epoch})"
    best += " (interrupted: the best epoch so far was saved)" if rep.interrupted else ""
    out.print(f"{name}: {rep.epochs} epoch{'s' if rep.epochs != 1 else ''} in {rep.seconds['fit']:.1f}s{best}; saved to {out_dir}")


def _fit_params(name, klass, params: dict, arch, regularization: str, granularity, lopt: dict, report) -> dict:
    """The model parameters from fit's flags, each flag combination checked (before any data is read)."""
    if regularization not in ("fixed", "lambdaopt"):
        raise ConfigError(f"The '--regularization' option must be 'fixed' or 'lambdaopt'; got {regularization!r}.")
    if regularization == "lambdaopt":
        if "lambdaopt" not in klass.Config.__dataclass_fields__:
            raise ConfigError(f"--regularization lambdaopt is available for biased-mf, bpr-mf and the interaction-function models; got --model {name}.")
        params = {**params, "lambdaopt": granularity or "DUI", **{k: v for k, v in lopt.items() if v is not None}}
    elif granularity is not None or any(v is not None for v in lopt.values()):
        raise ConfigError("The '--granularity' and '--lambda-*' options need --regularization lambdaopt.")
    if report is not None and regularization != "lambdaopt":
        raise ConfigError("The '--report' option of fit writes λOpt trajectories; add --regularization lambdaopt.")
    if arch is not None:
        if name != "sif":
            raise ConfigError(f"The '--arch' option is for --model sif (a searched interaction function); got --model {name}.")
        params = {**read_config_file(arch, flag="--arch"), **params}
    try:
        klass(**params)  # every value checked now, not after reading the data
    except ConfigError as exc:  # a value that came from a flag is named by its flag
        raise exc.as_option(_FIT_FLAGS) from None
    return params


#: fit's options that set a model parameter (errors about the parameter name the option)
_FIT_FLAGS = {"lambdaopt": "--granularity", "lambda_lr": "--lambda-lr", "lambda_optimizer": "--lambda-optimizer",
              "lambda_clip": "--lambda-clip", "lambda_every": "--lambda-every", "lambda_batch_size": "--lambda-batch-size"}


# ------------------------------------------------------------------ evaluate
@app.command("evaluate")
def evaluate_cmd(
    model_dir: Path = typer.Option(..., "--model", help="Directory written by `autorecs fit`."),
    test: str = typer.Option(..., help="Test interactions."),
    protocol: Optional[str] = typer.Option(None, help="Protocol name to record with the figures (e.g. random-50-25-25)."),
    exclude: List[str] = typer.Option([], help="Interactions to exclude from ranking candidates besides training (e.g. the validation file)."),
    ks: str = typer.Option("10,50,100", help="Cut-offs K for ranking metrics."),
    user_col: str = UserCol, item_col: str = ItemCol, rating_col: str = RatingCol, timestamp_col: str = TimeCol, duplicates: str = DupOpt, ids: str = IdsOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Evaluate a saved model on test data."""
    fitted = Recommender.load(model_dir)
    cutoffs = _parse_ks(ks)
    ids = "text" if ids == "auto" and _text_ids(fitted) else ids  # a model of text ids: its test files as text too (007)
    cols = _columns(user_col, item_col, rating_col if fitted.task == "rating" else "none", timestamp_col, duplicates, ids)
    t0 = time.perf_counter()
    metrics = evaluate(fitted, _read(test, cols), exclude=[_read(e, cols) for e in exclude], ks=cutoffs)
    result = {"model": fitted.name, "task": fitted.task, "protocol": protocol, "seconds": {"evaluate": time.perf_counter() - t0}}
    if fitted.task == "rating":
        result["rating"] = {k: metrics[k] for k in ("rmse", "mae", "rmse_std")}
        result["rows"], result["skipped_rows"] = metrics["rows"], metrics["skipped_rows"]
    else:
        result.update(metrics)
    if as_json:
        _emit_json(result)
        return
    table = Table("family", "metric", "value", title=f"{fitted.name} on {test}" + (f" ({protocol})" if protocol else ""))
    for fam in ("rating", "lambdaopt", "topk"):
        for k, v in result.get(fam, {}).items():
            table.add_row(fam, k, f"{v:.4f}")
    out.print(table)
    skipped = result.get("skipped_rows", 0)
    unknown = "their user or item is not in the model's training data"
    if fitted.task == "rating":
        out.print(f"Scored {result['rows']:,} rows" + (f", {skipped:,} of them by the model's fallback ({unknown})" if skipped else ""))
    else:
        out.print(f"Scored {result['users']:,} users" + (f"; {skipped:,} test rows left out ({unknown})" if skipped else ""))


def _parse_ks(ks: str) -> tuple[int, ...]:
    try:
        cutoffs = tuple(int(k) for k in ks.split(","))
    except ValueError as exc:
        raise ConfigError(f"The '--ks' option takes comma-separated integers; got {ks!r}.") from exc
    if not cutoffs or min(cutoffs) < 1:
        raise ConfigError(f"The '--ks' option takes cut-offs >= 1; got {ks!r}. Use e.g. --ks 10,50.")
    return cutoffs


# ----------------------------------------------------------------- recommend
@app.command("recommend")
def recommend_cmd(
    model_dir: Path = typer.Option(..., "--model", help="Directory written by `autorecs fit`."),
    user: List[str] = typer.Option([], "--user", help="Raw user id (repeatable)."),
    users_file: Optional[Path] = typer.Option(None, "--users-file", help="A CSV/TSV/Parquet file with a user column (--user-col): many users at once."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="Write the lists to this CSV/TSV/Parquet file (user, rank, item, score, popularity, fallback)."),
    n: int = typer.Option(10, "-n", help="Number of items per user."),
    include_seen: bool = typer.Option(False, "--include-seen", help="Also recommend items the user has in training."),
    fallback: str = typer.Option("popular", help="Users the model never saw: 'popular' (the most popular items) or 'error'."),
    user_col: str = UserCol,
    as_json: bool = JsonOpt,
) -> None:
    """Top-N recommendations for users of a saved model."""
    if fallback not in ("popular", "error"):
        raise ConfigError(f"The '--fallback' option must be 'popular' or 'error'; got {fallback!r}.")
    if bool(user) == (users_file is not None):
        raise ConfigError("Give the users either with --user (repeatable) or with --users-file, not both and not neither.")
    if out_file is not None:
        check_table_path(out_file, "--out")
    fitted = Recommender.load(model_dir)
    users = _option_ids(fitted.user_vocab_, user, "--user") if user else _ids_from_file(users_file, user_col, fitted.user_vocab_)
    try:
        recs = fitted.recommend(users, n=n, exclude_seen=not include_seen, fallback=fallback)
    except ConfigError as exc:
        raise exc.as_option({"n": "-n"}) from None
    if out_file is not None:
        path = write_frame(recs.to_frame(users), out_file)
        summary = {"model": fitted.name, "n": n, "users": len(users), "fallback_users": int(recs.fallback.sum()), "out": str(path)}
        return _emit_json(summary) if as_json else out.print(f"{len(users):,} users ({summary['fallback_users']:,} unknown: popular items), "
                                                              f"{n} items each -> {path}")
    rows = [_recommendation_row(u, it, sc, fb) for u, it, sc, fb in zip(users.tolist(), recs.items.tolist(), recs.scores, recs.fallback)]
    if as_json:
        _emit_json({"model": fitted.name, "n": n, "recommendations": rows})
        return
    for r in rows:
        tag = " (unknown user: popular items)" if r["fallback"] else ""
        out.print(f"[bold]{r['user']}[/bold]{tag}: " + ", ".join(str(i) for i in r["items"]))


# ------------------------------------------------------------------- predict
@app.command("predict")
def predict_cmd(
    model_dir: Path = typer.Option(..., "--model", help="Directory written by `autorecs fit`."),
    pairs: Path = typer.Option(..., "--pairs", help="A CSV/TSV/Parquet file of (user, item) pairs to score."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="Write the pairs with a 'score' column to this file."),
    user_col: str = UserCol, item_col: str = ItemCol,
    as_json: bool = JsonOpt,
) -> None:
    """Scores of user-item pairs: predicted ratings (an unknown user or item: the biases the model knows), or ranking
    scores (an unknown user or item: no score, null in --json)."""
    if out_file is not None:
        check_table_path(out_file, "--out")
    fitted = Recommender.load(model_dir)
    frame = read_frame(pairs, text=_text_ids(fitted))
    _need_columns(frame, pairs, {"--user-col": user_col, "--item-col": item_col}, "--pairs")
    users = fitted.user_vocab_.coerce(frame[user_col], source=f"the --pairs column '{user_col}'")
    items = fitted.item_vocab_.coerce(frame[item_col], source=f"the --pairs column '{item_col}'")
    result = pd.DataFrame({user_col: users, item_col: items, "score": fitted.predict(users, items)})  # ids in the model's types
    unknown = int(((fitted.user_vocab_.codes(users) < 0) | (fitted.item_vocab_.codes(items) < 0)).sum())
    if out_file is not None:
        path = write_frame(result, out_file)
        info = {"model": fitted.name, "pairs": len(result), "unknown_pairs": unknown, "out": str(path)}
        return _emit_json(info) if as_json else out.print(f"{len(result):,} pairs scored ({unknown:,} with an unknown user or item) -> {path}")
    if as_json:
        return _emit_json({"model": fitted.name, "unknown_pairs": unknown, "predictions": result.to_dict(orient="records")})
    table = Table(user_col, item_col, "score", title=f"{fitted.name}: {len(result):,} pairs" + (" (first 50; --out writes all)" if len(result) > 50 else ""))
    for row in result.head(50).itertuples(index=False):
        table.add_row(str(row[0]), str(row[1]), f"{row[2]:.4f}")
    out.print(table)


# ------------------------------------------------------------------- similar
@app.command("similar")
def similar_cmd(
    model_dir: Path = typer.Option(..., "--model", help="Directory written by `autorecs fit`."),
    item: List[str] = typer.Option([], "--item", help="Raw item id (repeatable): its most similar items."),
    user: List[str] = typer.Option([], "--user", help="Raw user id (repeatable): its most similar users."),
    n: int = typer.Option(10, "-n", help="Number of neighbours."),
    as_json: bool = JsonOpt,
) -> None:
    """Nearest items (or users) by cosine similarity of the learned factors."""
    if bool(item) == bool(user):
        raise ConfigError("Give either --item ids (similar items) or --user ids (similar users), not both and not neither.")
    fitted = Recommender.load(model_dir)
    side, raw = ("item", item) if item else ("user", user)
    ids = _option_ids(fitted.item_vocab_ if side == "item" else fitted.user_vocab_, raw, f"--{side}")
    try:
        res = fitted.similar_items(ids, n) if side == "item" else fitted.similar_users(ids, n)
    except ConfigError as exc:
        raise exc.as_option({"n": "-n"}) from None
    rows = [{side: q, "similar": list(it), "cosine": [float(v) for v in sc]} for q, it, sc in zip(ids.tolist(), res.items.tolist(), res.scores)]
    if as_json:
        return _emit_json({"model": fitted.name, "side": side, "n": n, "results": rows})
    for r in rows:
        out.print(f"[bold]{r[side]}[/bold]: " + ", ".join(f"{i} ({c:.2f})" for i, c in zip(r["similar"], r["cosine"])))


def _option_ids(vocab, raw: list[str], flag: str) -> np.ndarray:
    """Ids given on the command line, in the model's id type; a wrong one is a bad option (exit 2)."""
    try:
        return vocab.coerce(raw, source=f"the '{flag}' option")
    except DataError as exc:
        raise ConfigError(str(exc)) from None


def _need_columns(frame, path, columns: dict, flag: str) -> None:
    what = f"The {flag} file '{path}'" if not flag.endswith("-file") else f"The {flag} '{path}'"
    missing = {f: c for f, c in columns.items() if c not in frame.columns}
    if missing:
        named = ", ".join(f"'{c}' ({f})" for f, c in missing.items())
        raise DataError(f"{what} has no column {named}; its columns are {list(frame.columns)}; "
                        f"name the right ones with {' / '.join(missing)}.")
    for column in columns.values():  # a blank cell read as NaN turned integer ids into floats ("got '1.0', nan")
        blank = frame[column].isna().to_numpy()
        if blank.any():
            raise DataError(f"{what} has {int(blank.sum())} missing id(s) in column '{column}' (the first at data "
                            f"row {int(blank.argmax()) + 1}, counting from 1); fill or drop those rows.")


def _text_ids(model) -> bool:
    """Whether a model has text ids: a file of ids for it is read as text (``007`` stays ``"007"``; text that spells
    a number still finds an integer id)."""
    return model.user_vocab_.is_text or model.item_vocab_.is_text


def _ids_from_file(path: Path, column: str, vocab) -> np.ndarray:
    frame = read_frame(path, text=vocab.is_text)
    _need_columns(frame, path, {"--user-col": column}, "--users-file")
    ids = vocab.coerce(frame[column], source=f"the --users-file column '{column}'")
    return pd.unique(ids) if len(ids) else ids  # each user once, in the order of the file


def _recommendation_row(user, items, scores, fallback: bool) -> dict:
    """One user's list for --json: model ``scores``, or for a fallback user ``popularity`` (training counts) and no scores."""
    keep = np.isfinite(scores)
    values = [float(s) for s in np.asarray(scores)[keep]]
    row = {"user": user, "items": [i for i, k in zip(items, keep) if k], "fallback": "popular" if fallback else None}
    row.update({"scores": None, "popularity": [int(v) for v in values]} if fallback else {"scores": values})
    return row


# ------------------------------------------------------------------------ cv
@app.command("cv")
def cv_cmd(
    data: str = typer.Option(..., "--data", help="Interactions (file or built-in name) to cross-validate on."),
    task: Optional[str] = typer.Option(None, help="rating or ranking; default: the task of --model."),
    model: Optional[str] = typer.Option(None, help=f"One of {sorted(MODELS)}; default biased-mf (rating) / bpr-mf (ranking)."),
    config: Optional[Path] = typer.Option(None, help="JSON, TOML or YAML file of model parameters."),
    param: List[str] = typer.Option([], "--param", "-p", help="Model parameter KEY=VALUE (repeatable)."),
    folds: int = typer.Option(5, help="Number of folds k (>= 3): each split trains on k-2, stops early on one, tests on one."),
    seed: int = typer.Option(0, help="Seed of the folds and of the fits."),
    ks: str = typer.Option("10,50,100", help="Cut-offs K for ranking metrics."),
    user_col: str = UserCol, item_col: str = ItemCol, rating_col: str = RatingCol, timestamp_col: str = TimeCol, duplicates: str = DupOpt, ids: str = IdsOpt,
    as_json: bool = JsonOpt,
) -> None:
    """k-fold cross-validation of one configuration: every fold's test metrics, their mean and standard deviation."""
    from .crossval import cross_validate

    name, klass, task = _resolve_model(task, model)
    if folds < 3:
        raise ConfigError(f"The '--folds' option must be >= 3 (train, validation and test folds); got {folds}.")
    cutoffs = _parse_ks(ks)
    params = _parse_params(config, param)
    klass(**params)  # checked before reading data
    cols = _columns(user_col, item_col, rating_col if task == "rating" else "none", timestamp_col, duplicates, ids)
    report = cross_validate(lambda: klass(**params), _read(data, cols, flag="--data", need_ratings=task == "rating"), folds=folds,
                            seed=seed, ks=cutoffs, progress=False)
    if as_json:
        return _emit_json(report.to_dict())
    # a column per fold made the table unreadable on a terminal (names cut, numbers '0.…'): the spread instead, folds in --json
    table = Table(title=f"{name}: {folds}-fold cross-validation on {data}")
    table.add_column("metric", no_wrap=True)
    for column in ("mean", "std", "min", "max"):
        table.add_column(column, justify="right", no_wrap=True)
    mean, std = report.mean, report.std
    for key in mean:
        values = [f[key] for f in report.folds]
        table.add_row(key, f"{mean[key]:.4f}", f"{std[key]:.4f}", f"{min(values):.4f}", f"{max(values):.4f}")
    out.print(table)
    out.print(f"fit seconds per fold: {', '.join(f'{t:.2f}' for t in report.fit_seconds)}; every fold's values: --json")


# ---------------------------------------------------------------------- tune
@app.command("tune")
def tune_cmd(
    train: str = typer.Option(..., help="Training interactions (file or built-in name)."),
    valid: str = typer.Option(..., help="Validation interactions: every selection is made on these."),
    test: Optional[str] = typer.Option(None, help="Test interactions, scored once for the chosen configuration."),
    task: Optional[str] = typer.Option(None, help="rating or ranking; default: the task of --model."),
    model: Optional[str] = typer.Option(None, help=f"One of {sorted(MODELS)}; default biased-mf (rating) / bpr-mf (ranking)."),
    space: str = typer.Option(..., help="A TOML/YAML/JSON space file or a built-in space: lambdaopt-grid, sif-grid, mf-tpe."),
    strategy: str = typer.Option("tpe", help="grid, random or tpe; comma-separated to compare several on one figure."),
    trials: Optional[int] = typer.Option(None, help="Budget: the study's total number of trials, counting those of earlier runs of the same study (grid: at most its size; default 20 otherwise)."),
    seconds: Optional[str] = typer.Option(None, help="Budget: wall-clock time of this run, in seconds or as a duration (90s, 10m, 1h30m)."),
    epochs: Optional[int] = typer.Option(None, help="Budget: total training epochs of the study."),
    param: List[str] = typer.Option([], "--param", "-p", help="Fixed model parameter KEY=VALUE (repeatable)."),
    backend: str = typer.Option("local", help="local (this process or a process pool) or ray."),
    ray_address: Optional[str] = typer.Option(None, help="Ray cluster: auto or HOST:PORT (default: a local Ray)."),
    jobs: int = typer.Option(1, help="Trials in parallel (processes, or Ray tasks)."),
    storage: Optional[str] = typer.Option(None, help="Study storage: a journal file path or an SQLAlchemy URL; default autorecs-studies/STUDY.journal."),
    study: Optional[str] = typer.Option(None, help="Study name (re-running the same name continues it)."),
    seed: int = typer.Option(0, help="Seed of samplers and trials."),
    device: str = DeviceOpt,
    prune: bool = typer.Option(False, "--prune", help="Stop unpromising trials early (median pruner; cheaper, can miss slow learners)."),
    report: Optional[Path] = typer.Option(None, help="Directory for the cost figure and results JSON."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Save the chosen configuration's model here (trained again as its trial was)."),
    overwrite: bool = OverwriteOpt,
    test_all: bool = typer.Option(False, "--test-all", help="Also score every trial on --test (reported only; selection uses validation)."),
    user_col: str = UserCol, item_col: str = ItemCol, rating_col: str = RatingCol, timestamp_col: str = TimeCol, duplicates: str = DupOpt, ids: str = IdsOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Grid, random or Bayesian (TPE) search of a model's hyperparameters; resumable."""
    from .search import BUILTIN_SPACES, Budget, SearchSpace, builtin_space
    from .search.compare import tune
    from .search.engine import check_storage_path

    name, klass, task = _resolve_model(task, model)
    if storage is not None and "://" not in storage:
        check_storage_path(storage, flag="--storage")
    if out_dir is not None:
        check_output_dir(out_dir, overwrite=overwrite, what="model directory", flag="--out")
    if report is not None:
        check_output_dir(report, overwrite=True, what="report directory", flag="--report")
    if seconds is not None:
        from .auto import parse_budget

        try:
            seconds = parse_budget(seconds)
        except ConfigError:
            raise ConfigError(f"The '--seconds' option must be a positive number of seconds or a duration such as 90s, 10m or "
                              f"1h30m; got {seconds!r}.") from None
    for flag, value in (("--trials", trials), ("--seconds", seconds), ("--epochs", epochs)):
        if value is not None and not value > 0:
            raise ConfigError(f"The '{flag}' option must be > 0; got {value!r}. Leave it out for no limit of that kind.")
    if test_all and test is None:
        raise ConfigError("The '--test-all' option needs a '--test' file.")
    sp = builtin_space(space, set(klass.Config.__dataclass_fields__)) if space in BUILTIN_SPACES else SearchSpace.from_file(space)
    cols = _columns(user_col, item_col, rating_col if task == "rating" else "none", timestamp_col, duplicates, ids)
    data = [_read(train, cols, need_ratings=task == "rating"), _read(valid, cols, flag="--valid", need_ratings=task == "rating"),
            _read(test, cols, flag="--test") if test else None]
    budget = Budget(trials, seconds, epochs) if any(v is not None for v in (trials, seconds, epochs)) else None
    try:
        rep = tune(name, sp, *data, strategies=[s.strip() for s in strategy.split(",") if s.strip()], budget=budget,
                   fixed=parse_key_values(param), storage=storage, study=study, seed=seed, prune=prune, n_jobs=jobs, backend=backend,
                   ray_address=ray_address, device=device, test_all=test_all, out_dir=out_dir, report_dir=report,
                   on_trial=None if as_json else _show_trial)
    except ConfigError as exc:
        raise exc.as_option({"seed": "--seed", "n_jobs": "--jobs", "backend": "--backend"}) from None
    if as_json:
        return _emit_json(rep.to_dict())
    table = Table("strategy", "trials", "best valid", "test", "train s", "epochs", "wall s", title=f"{name} on {sp.name}")
    for r in rep.studies:
        test_s = "" if r["test"] is None else "\n".join(f"{k} {v:.4f}" for k, v in _headline(r["test"]).items())
        best = "-" if r["best_valid"] is None else f"{r['best_valid']:.4f}"
        table.add_row(r["strategy"], str(r["n_trials"]), best, test_s, f"{r['fit_seconds']:.1f}", str(r["epochs"]), f"{r['wall_seconds']:.1f}")
    out.print(table)
    for r in (r for r in rep.studies if r["best_params"] is not None):
        files = f"--train {shlex.quote(train)} --valid {shlex.quote(valid)}" + _column_flags(
            user_col, item_col, rating_col, timestamp_col, duplicates, ids)
        command = r["fit_command"].replace("--train TRAIN --valid VALID", files)
        out.print(f"{r['strategy']}: best {json.dumps(r['best_params'])}; to train it: {command}", highlight=False, soft_wrap=True)
    for label, value in (("The chosen model is saved in", rep.out), ("Figure and results:", rep.figure)):
        if value:
            out.print(f"{label} {value}")


def _show_trial(strategy: str, t) -> None:
    val = "-" if t.value is None else f"{t.value:.4f}"
    err.print(f"{strategy:>6} #{t.number:<3} {t.state:<8} {val:>8}  {t.fit_seconds:6.1f}s {t.epochs:4d} ep  {t.params}", highlight=False)


def _headline(metrics: dict) -> dict:
    if "rmse" in metrics:
        return {"RMSE": metrics["rmse"]}
    return {"topk NDCG@50": metrics["topk"]["ndcg@50"], "λOpt NDCG@50": metrics["lambdaopt"]["ndcg@50"]}


# ---------------------------------------------------------------------- auto
@app.command("auto")
def auto_cmd(
    train: str = typer.Option(..., help="Training interactions (file or built-in name)."),
    valid: Optional[str] = typer.Option(None, help="Validation interactions (every choice is made on them); default: a seeded split of --train."),
    test: Optional[str] = typer.Option(None, help="Test interactions, scored once at the end (never used to choose)."),
    task: str = typer.Option(..., help="rating or ranking."),
    budget: str = typer.Option("10m", help="Wall-clock budget, refit included: seconds or e.g. 90s, 10m, 1h30m."),
    out_dir: Path = typer.Option(..., "--out", help="Directory for the model, leaderboard.jsonl and report.html; rerun with it to continue."),
    metric: Optional[str] = typer.Option(None, help="Validation metric: rmse or mae (rating); e.g. topk.ndcg@50 (ranking, the default)."),
    families: Optional[str] = typer.Option(None, help="Comma-separated model families to choose among: "
                                           "rating: baseline, knn-baseline, biased-mf-als, biased-mf-adam, biased-mf-lambdaopt, sif; "
                                           "ranking: popularity, item-knn, ease, implicit-als, bpr-mf, bpr-mf-lambdaopt "
                                           "(default: all but bpr-mf-lambdaopt)."),
    ensemble: bool = typer.Option(True, "--ensemble/--no-ensemble", help="Try a greedy ensemble of the best models (kept only if it wins on validation)."),
    backend: str = typer.Option("local", help="local (this process, or a process pool with --jobs) or ray."),
    jobs: int = typer.Option(1, help="Trials in parallel (processes, or Ray tasks)."),
    ray_address: Optional[str] = typer.Option(None, help="Ray cluster: auto or HOST:PORT (default: a local Ray)."),
    seed: int = typer.Option(0, help="Seed of the split, the searches and the fits."),
    device: str = DeviceOpt,
    overwrite: bool = OverwriteOpt,
    user_col: str = UserCol, item_col: str = ItemCol, rating_col: str = RatingCol, timestamp_col: str = TimeCol, duplicates: str = DupOpt, ids: str = IdsOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Choose the best recommender within a time budget: defaults first, then halving across families and TPE within,
    an ensemble if it wins, refit on train + validation; writes the model, a leaderboard and report.html."""
    from .auto import FAMILIES, auto, parse_budget

    if task not in FAMILIES:
        raise ConfigError(f"The '--task' option must be 'rating' or 'ranking'; got {task!r}.")
    if not (out_dir / "run.json").exists():  # a new run: the directory must be free (a run's own directory continues it)
        check_output_dir(out_dir, overwrite=overwrite, what="output directory", flag="--out")
    else:
        check_writable(out_dir, "The '--out' output directory")
    flags = {"budget": "--budget", "monitor": "--metric", "metric": "--metric", "n_jobs": "--jobs", "backend": "--backend", "seed": "--seed"}
    try:
        seconds = parse_budget(budget)
        names = [f.strip() for f in families.split(",") if f.strip()] if families is not None else None
        if names == []:
            raise ConfigError(f"The '--families' option names no family; got {families!r}, so name some or leave it out for the defaults.")
        cols = _columns(user_col, item_col, rating_col if task == "rating" else "none", timestamp_col, duplicates, ids)
        need = task == "rating"
        data = [_read(train, cols, need_ratings=need), _read(valid, cols, flag="--valid", need_ratings=need) if valid else None,
                _read(test, cols, flag="--test", need_ratings=need) if test else None]
        res = auto(data[0], data[1], task=task, budget=seconds, metric=metric, seed=seed, device=device, out_dir=out_dir, test=data[2],
                   families=names, ensemble=ensemble, backend=backend, n_jobs=jobs, ray_address=ray_address, overwrite=overwrite,
                   progress=not as_json)
    except ConfigError as exc:
        raise exc.as_option(flags) from None
    if as_json:
        _emit_json(res.to_dict())
        raise typer.Exit(130 if res.interrupted else 0)
    c, sec = res.chosen, res.seconds
    table = Table("", "value", title=f"autorecs auto: {task}, validation {res.metric}")
    table.add_row("best single trial", f"#{c['trial']} {c['family']}: {c['valid']:.4f}")
    if res.ensemble:
        table.add_row("final model", "ensemble of " + ", ".join(f"#{m['trial']} {m['family']} ({m['weight']:.2f})" for m in res.ensemble["members"])
                      + f": {res.ensemble['valid']:.4f}")
    else:
        f = res.final if res.final.get("kind") == "single" else {"trial": c["trial"], "family": c["family"],
                                                                   "refit": "train + validation" if c["refit"] else ""}
        table.add_row("final model", f"#{f['trial']} {f['family']}" + (", refit on train + validation" if f["refit"] == "train + validation" else ""))
    if (res.final or {}).get("why"):
        table.add_row("why", res.final["why"])
    if res.interrupted:
        table.add_row("interrupted", "Ctrl-C: chosen among the trials finished by then; rerun with the same --out to continue")
    ref = _headline(res.test_reference["test"]) if res.test_reference else {}
    for k, v in _headline(res.test).items() if res.test else ():
        table.add_row(f"test {k}", f"{v:.4f}" + (f" ({res.test_reference['model']}: {ref[k]:.4f})" if k in ref else ""))
    table.add_row("trials", str(len(res.leaderboard)))
    table.add_row("seconds", f"{sec['total']:.1f} (budget {res.budget_seconds:g}; a continued run counts its earlier runs too): "
                             f"search {sec['search']:.1f}, refit {sec['refit']:.1f}")
    out.print(table)
    out.print(f"Model: {out_dir / 'model'} (autorecs evaluate/recommend --model ...); report: {res.report}")
    if res.interrupted:  # a model was written, but the run is not finished: scripts can tell (exit 130)
        raise typer.Exit(130)


# ---------------------------------------------------------------- quickstart
@app.command("quickstart")
def quickstart_cmd(
    out_dir: Path = typer.Option(Path("autorecs-out/quickstart"), "--out", help="Directory for the figure and results."),
    dataset: str = typer.Option("ml-100k", help="Built-in data set."),
    seed: int = typer.Option(0, help="Random seed."),
    as_json: bool = JsonOpt,
) -> None:
    """Fetch ml-100k, split it, train BiasedMF, search an interaction function (SIF), compare BPRMF's λ grid with λOpt, train ImplicitALS; report and plot."""
    from .quickstart import run_quickstart

    check_output_dir(out_dir, overwrite=True, what="output directory", flag="--out")
    result = run_quickstart(dataset=dataset, out_dir=out_dir, seed=seed, progress=not as_json)
    if as_json:
        _emit_json(result)
        return
    protocols = {r["task"]: r["protocol"] for r in result["results"]}
    rating = Table("model", "RMSE", "MAE", "rmse_std", "epochs", "fit s", title=f"Rating prediction, {dataset} {protocols.get('rating', '')} (test)")
    ranking = Table("model", "topk\nNDCG@50", "topk\nRecall@50", "λOpt\nAUC", "λOpt\nHR@50", "λOpt\nNDCG@50", "fit s",
                    title=f"Top-K ranking, {dataset} {protocols.get('ranking', '')} (test)")
    for r in result["results"]:
        m = r["metrics"]
        tail = (str(r["epochs"]), f"{r['seconds']['fit']:.1f}")
        if r["task"] == "rating":
            rating.add_row(r["model"], *(f"{m['rating'][k]:.4f}" for k in ("rmse", "mae", "rmse_std")), *tail)
        else:
            vals = (m["topk"]["ndcg@50"], m["topk"]["recall@50"], m["lambdaopt"]["auc"], m["lambdaopt"]["hr@50"], m["lambdaopt"]["ndcg@50"])
            ranking.add_row(r["model"], *(f"{v:.4f}" for v in vals), tail[1])
    out.print(rating)
    out.print(ranking)
    c = result["comparison"]
    if c:
        pct = lambda k: f"{c[k]['change_percent']:+.1f}%" if c[k]["change_percent"] is not None else "n/a"  # noqa: E731
        out.print(f"{c['model']} against the λ grid: NDCG@100 {c['ndcg@100']['lambdaopt']:.4f} vs {c['ndcg@100']['grid']:.4f} "
                  f"({pct('ndcg@100')}), HR@100 {c['hr@100']['lambdaopt']:.4f} vs {c['hr@100']['grid']:.4f} ({pct('hr@100')}), "
                  f"in {c['fit_seconds']['lambdaopt']:.0f} s against {c['fit_seconds']['grid']:.0f} s for the grid's 8 runs and refit.")
    out.print(f"Learning curves: {result['figure']}\nFull results: {result['results_file']}")


# ---------------------------------------------------------------- search-ifc
@app.command("search-ifc")
def search_ifc_cmd(
    train: str = typer.Option(..., help="Training ratings (file), or a built-in data set (then split by --protocol)."),
    valid: Optional[str] = typer.Option(None, help="Validation ratings (the search and λ are chosen on it)."),
    test: Optional[str] = typer.Option(None, help="Test ratings, scored once per size after retraining."),
    protocol: str = typer.Option("random-50-25-25", help="Split of a built-in --train."),
    dims: str = typer.Option("8", help="Embedding sizes, comma-separated, e.g. 2,4,8,16."),
    strategy: Optional[str] = typer.Option(None, help="sif (one-shot, Algorithm 2), sif-halving, random, tpe or rl; default sif, "
                                                      "and sif-halving for three-way data (better there on ml-100k + hour)."),
    budget: Optional[float] = typer.Option(None, help="Wall-clock seconds per size for random/tpe/rl (default 60)."),
    epochs: Optional[int] = typer.Option(None, help="Search epochs of sif / sif-halving (default 10; the three-way sif-halving "
                                                    "trains its candidates in rounds of 2 epochs instead)."),
    retrain_epochs: Optional[int] = typer.Option(None, help="Most epochs of each retraining run (one per λ; default: the model's, with early stopping)."),
    predictor: str = typer.Option("linear", help="sif / sif-halving on two-way data: linear heads (eq. 5) or mlp (a 3-layer MLP per "
                                                 "operation, Table 7)."),
    biases: bool = typer.Option(True, help="Learned μ + b_u + b_i in every model (--no-biases: the paper's model)."),
    context_col: Optional[str] = typer.Option(None, help="Three-way data: the context column of the files (user, item, context, rating)."),
    context: Optional[str] = typer.Option(None, help="Three-way data from a built-in --train: 'hour' (hour of the rating in 5 periods)."),
    seed: int = typer.Option(0, help="Seed of the split, the search and the retraining."),
    out_dir: Path = typer.Option(..., "--out", help="Directory for arch-K*.json, model-K*/ and report.json (two-way data: also "
                                                    "figures); the same command again continues there."),
    overwrite: bool = OverwriteOpt,
    user_col: str = UserCol, item_col: str = ItemCol, rating_col: str = RatingCol, timestamp_col: str = TimeCol, duplicates: str = DupOpt, ids: str = IdsOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Search the interaction function of a rating model, retrain it with λ tuned on validation, report test RMSE."""
    from .plots import plot_sif_search
    from .sif.pipeline import search_ifc, search_tensor_ifc

    if not (out_dir / "run.json").exists():  # a new search: the directory must be free (a search's own directory continues it)
        check_output_dir(out_dir, overwrite=overwrite, what="output directory", flag="--out")
    else:
        check_writable(out_dir, "The '--out' output directory")
    for flag, value in (("--epochs", epochs), ("--retrain-epochs", retrain_epochs)):
        if value is not None and value < 1:
            raise ConfigError(f"The '{flag}' option must be >= 1; got {value}.")
    sizes = _parse_ints(dims, "--dims")
    if not sizes or min(sizes) < 1:
        raise ConfigError(f"The '--dims' option takes embedding sizes >= 1; got {dims!r}. Example: --dims 4,8.")
    if context_col or context:
        strategy = strategy or "sif-halving"
        if predictor != "linear":
            raise ConfigError(f"The '--predictor {predictor}' option is for two-way data; the three-way searches use linear heads.")
        if epochs is not None and strategy == "sif-halving":
            raise ConfigError("The '--epochs' option sets the one-shot search's epochs (--strategy sif); the three-way sif-halving "
                              "trains its candidates in rounds of 2 epochs, so leave --epochs out or use --strategy sif.")
        tr, va, te = _tensor_data(train, valid, test, context, (user_col, item_col, context_col, rating_col), seed)
        try:
            report = search_tensor_ifc(tr, va, te, dims=sizes, strategy=strategy, seed=seed, out_dir=out_dir, progress=not as_json,
                                       search_epochs=epochs or 10, biases=biases, retrain_epochs=retrain_epochs, overwrite=overwrite)
        except ConfigError as exc:
            raise exc.as_option({"epochs": "--epochs", "seed": "--seed"}) from None
        kind = "one-shot proximal" if strategy == "sif" else "successive halving"
        return _print_ifc(report, as_json, lambda e: e["interaction"], f"three-way SIF ({kind})")
    strategy = strategy or "sif"
    if predictor != "linear" and strategy not in ("sif", "sif-halving"):
        raise ConfigError(f"The '--predictor {predictor}' option is for --strategy sif or sif-halving; got --strategy {strategy}.")
    if epochs is not None and strategy not in ("sif", "sif-halving"):
        raise ConfigError(f"The '--epochs' option sets the sif / sif-halving search's epochs; --strategy {strategy} trains each "
                          "trial 20 epochs within --budget, so leave --epochs out.")
    tr, va, te = _ifc_data(train, valid, test, protocol, seed, _columns(user_col, item_col, rating_col, timestamp_col, duplicates, ids))
    try:
        report = search_ifc(tr, va, te, dims=sizes, strategy=strategy, budget=budget, seed=seed, out_dir=out_dir, progress=not as_json,
                            biases=biases, retrain_epochs=retrain_epochs, overwrite=overwrite, **({"epochs": epochs} if epochs else {}),
                            **({"predictor": predictor} if predictor != "linear" else {}))
    except ConfigError as exc:
        raise exc.as_option({"epochs": "--epochs", "seed": "--seed"}) from None
    report["figures"] = [str(p) for p in plot_sif_search(report, out_dir)]
    _print_ifc(report, as_json, lambda e: e["arch"]["interaction"], None)
    if not as_json:
        out.print(f"architectures, models, report and figures in {out_dir}; retrain one with "
                  f"`autorecs fit --model sif --arch {out_dir}/arch-K{next(iter(report['dims']))}.json ...`")


def _print_ifc(report: dict, as_json: bool, interaction, title) -> None:
    if as_json:
        return _emit_json(report)
    table = Table("K", "interaction", "λ", "valid RMSE", "test RMSE", "search s", "retrain s", title=title)
    for k, e in report["dims"].items():
        t = e.get("test", {})
        table.add_row(str(k), interaction(e), f"{e['reg']:g}", f"{e['valid_rmse']:.4f}", f"{t['rmse']:.4f}" if t else "-",
                      f"{e['search_seconds']:.1f}", f"{e['retrain_seconds']:.1f}")
    out.print(table)


def _ifc_data(train, valid, test, protocol, seed, cols):
    """A built-in --train split by --protocol (--valid/--test replace its parts), or the three files."""
    if train in DATASETS and not Path(train).exists():
        tr, va, te = split(load(train), protocol, seed=seed)
        return tr, (_read(valid, cols, flag="--valid") if valid else va), (_read(test, cols, flag="--test") if test else te)
    if valid is None:
        raise ConfigError("The '--valid' option is required with a training file: the search learns the architecture on it.")
    return _read(train, cols), _read(valid, cols, flag="--valid"), (_read(test, cols, flag="--test") if test else None)


def _tensor_data(train, valid, test, context, columns, seed):
    """Three-way data: a built-in --train with --context hour, or files of user, item, context, rating."""
    from .data.tensor import TensorRatings, hour_context, random_tensor_split

    if context is not None:
        if context != "hour" or train not in DATASETS:
            raise ConfigError(f"The '--context' option takes 'hour' with a built-in --train (e.g. ml-100k); got --context {context} --train {train}.")
        return random_tensor_split(hour_context(load(train)), seed=seed)
    if valid is None:
        raise ConfigError("The '--valid' option is required with a training file: the search is judged on it.")
    tr, va = (TensorRatings.from_frame(read_frame(p), columns) for p in (train, valid))
    return tr, va, (TensorRatings.from_frame(read_frame(test), columns) if test else None)


# --------------------------------------------------------------------- cross
cross_app = typer.Typer(context_settings=_HELP, help="AutoCross: search feature crosses for a labelled table, and apply them.")
app.add_typer(cross_app, name="cross")


def _parse_ints(text: str, option: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"The '{option}' option must be a comma-separated list of ints such as 4,8,16; got {text!r}.") from None


@cross_app.callback(invoke_without_command=True)
def cross_cmd(
    ctx: typer.Context,
    train: Optional[str] = typer.Option(None, help="Training table (CSV/TSV/Parquet), or the built-in 'adult' (its adult-original protocol)."),
    label: Optional[str] = typer.Option(None, help="Label column (0/1). Built-in tables know theirs."),
    valid: Optional[str] = typer.Option(None, help="Validation table; default: a seeded --valid-fraction of --train."),
    test: Optional[str] = typer.Option(None, help="Test table, scored once at the end (never used to select)."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Directory for the model, report.json and cross_search.png."),
    max_crosses: int = typer.Option(10, help="Budget: at most this many crosses."),
    max_seconds: Optional[float] = typer.Option(None, "--budget", help="Budget: stop searching after this many seconds."),
    min_gain: float = typer.Option(1e-4, help="A step must raise validation AUC by more than this..."),
    patience: int = typer.Option(2, help="...within this many steps, or the search stops."),
    bins: str = typer.Option("4,8,16,32,64", help="Granularities (bin counts) tried per numerical column."),
    binning: str = typer.Option("both", help="quantile, uniform or both."),
    exact_levels: int = typer.Option(256, help="Numerical columns with at most this many distinct values also keep one code per value (0: bins only)."),
    categorical: List[str] = typer.Option([], help="Force a column to be categorical (repeatable)."),
    numerical: List[str] = typer.Option([], help="Force a column to be numerical (repeatable)."),
    drop: List[str] = typer.Option([], help="Leave a column out of the features, e.g. an identifier (repeatable)."),
    valid_fraction: float = typer.Option(0.2, help="Share of --train held out for validation when --valid is not given."),
    confirm_fraction: float = typer.Option(0.0, help="Share of the validation rows kept out of candidate ranking to decide the steps (0: none)."),
    refit: bool = typer.Option(True, "--refit/--no-refit", help="Train the final LR and AC+LR again on train + validation rows (penalties as chosen on validation)."),
    backend: str = typer.Option("local", help="local (this process, or a process pool with --jobs) or ray."),
    jobs: int = typer.Option(1, "--jobs", help="Workers evaluating candidates in parallel."),
    ray_address: Optional[str] = typer.Option(None, help="Ray cluster to join ('auto' or HOST:PORT); default: a local Ray."),
    seed: int = typer.Option(0, help="Seed of the validation split and of the search's data blocks."),
    overwrite: bool = OverwriteOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Search crosses on --train, fit LR and AC+LR (tuned on validation), report AUC before/after and latency."""
    if ctx.invoked_subcommand is not None:
        return
    from .ctr.pipeline import TABLE_PROTOCOLS, read_table, save_report, search_and_fit, table_protocol
    from .plots import plot_cross_search

    if train is None or out_dir is None:
        raise ConfigError("`autorecs cross` needs --train FILE (or --train adult) and --out DIR; see `autorecs cross --help`.")
    check_output_dir(out_dir, overwrite=overwrite, what="output directory", flag="--out")
    if train in TABLE_PROTOCOLS and not Path(train).exists():
        tr, va, te, builtin_label = table_protocol(train, seed)
        label = label or builtin_label
        va = read_table(valid) if valid else va
        te = read_table(test) if test else te
    else:
        if label is None:
            raise ConfigError("The '--label' option is required for a table file; name its 0/1 column, e.g. --label click.")
        tr, va, te = read_table(train), read_table(valid) if valid else None, read_table(test) if test else None
    flags = {"max_crosses": "--max-crosses", "max_seconds": "--budget", "min_gain": "--min-gain", "patience": "--patience",
             "bins": "--bins", "binning": "--binning", "exact_levels": "--exact-levels", "valid_fraction": "--valid-fraction",
             "confirm_fraction": "--confirm-fraction", "n_jobs": "--jobs", "backend": "--backend"}
    try:
        model, report = search_and_fit(
            tr, va, te, label, refit=refit, max_crosses=max_crosses, max_seconds=max_seconds, min_gain=min_gain, patience=patience,
            bins=_parse_ints(bins, "--bins"), binning=binning, exact_levels=exact_levels, categorical=categorical or None,
            numerical=numerical or None, drop=drop, valid_fraction=valid_fraction, confirm_fraction=confirm_fraction, backend=backend,
            n_jobs=jobs, ray_address=ray_address, seed=seed, progress=not as_json,
        )
    except ConfigError as exc:
        raise exc.as_option(flags) from None
    model.save(out_dir)
    report["model_dir"] = str(out_dir)
    report["figure"] = str(plot_cross_search(model.autocross.base_valid_auc_, report["steps"], out_dir / "cross_search.png",
                                             kept=len(report["crosses"])))
    report["report_file"] = str(save_report(report, out_dir))
    if as_json:
        _emit_json(report)
        return
    kinds = {k: [c for c, v in report["columns"].items() if v == k] for k in ("categorical", "numerical")}
    out.print("Features: " + "; ".join(f"{k} {', '.join(v)}" for k, v in kinds.items() if v)
              + " (--categorical, --numerical and --drop change this)")
    out.print("Crosses found: " + (", ".join(report["crosses"]) or "none"))
    table = Table("model", "valid AUC (selection)", "test AUC" + (" (refit)" if refit else ""), "test log loss")
    for name in ("lr", "ac+lr"):
        r = report[name]
        t = r.get("test", {})
        table.add_row(name.upper(), f"{r['valid']['auc']:.4f}", f"{t['auc']:.4f}" if t else "-", f"{t['logloss']:.4f}" if t else "-")
    out.print(table)
    out.print(f"search {report['search_seconds']:.1f} s; AC+LR inference {1000 * report['ac+lr']['inference_ms_per_row']:.2f} µs a row "
              f"({1000 * report['ac+lr']['end_to_end_ms_per_row']:.2f} µs with the encoding); model and report in {out_dir}")


@cross_app.command("apply")
def cross_apply_cmd(
    data: str = typer.Argument(..., help="Table to transform (CSV/TSV/Parquet)."),
    model_dir: Path = typer.Option(..., "--model", help="The --out directory of `autorecs cross`."),
    output: Optional[Path] = typer.Option(None, "--out", "--output", help="Where to write; default: DATA's name with '.crossed' before the suffix."),
    as_json: bool = JsonOpt,
) -> None:
    """Write DATA with one column per found cross (its code, 0 = unseen in training) and the AC+LR probability 'score'."""
    from .ctr.pipeline import CrossLR, read_table, write_table

    model = CrossLR.load(model_dir)
    frame = read_table(data)
    crossed = model.autocross.transform_frame(frame)
    crossed["score"] = model.predict_proba(frame)
    path = write_table(crossed, output or Path(data).with_name(Path(data).stem + ".crossed" + Path(data).suffix))
    if as_json:
        _emit_json({"output": str(path), "rows": len(crossed), "crosses": model.autocross.crosses_})
    else:
        out.print(f"{len(crossed):,} rows with {len(model.autocross.crosses_)} cross columns and 'score' -> {path}")


def main(argv: Optional[List[str]] = None) -> int:
    """Console entry point; maps autorecs errors to exit codes without tracebacks."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    from ._progress import warning_lines

    try:
        with warning_lines():  # the library's warnings as one line each on stderr, as they happen (workers' too)
            app(args=args, prog_name="autorecs", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except AutorecsError as exc:
        if debug:
            raise
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
