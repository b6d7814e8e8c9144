"""AC+LR end to end: search crosses, tune the LR on validation, report, save, apply.

Used by ``autorecs cross`` and by the benchmark, so both report the same figures.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.builtin import DATASETS, load_table
from ..data.readers import read_frame, write_frame
from ..config import json_text
from ..exceptions import DataError, damage_reason
from ..metrics.classification import classification_metrics
from .autocross import AutoCross, split_frame
from .logistic import FieldLogisticRegression, tune_cross_l2, tune_l2

#: Built-in tables and their protocol: (label column, validation fraction of the training file).
TABLE_PROTOCOLS = {"adult": ("income", 0.2)}


def table_protocol(name: str, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """``(train, valid, test, label)`` of a built-in table, e.g. ``adult`` -> the ``adult-original`` protocol:
    a seeded 20% of the original training file is validation, the original test file is test."""
    if name not in TABLE_PROTOCOLS:
        raise DataError(f"No built-in table named {name!r}; choose one of {sorted(TABLE_PROTOCOLS)} or pass a file.")
    label, fraction = TABLE_PROTOCOLS[name]
    frames = load_table(name)
    train, valid = split_frame(frames["train"], fraction, seed)
    return train, valid, frames["test"], label


def read_table(path_or_name: str) -> pd.DataFrame:
    """A CSV / TSV / Parquet file as a DataFrame (:func:`autorecs.data.read_frame`), naming the built-in tables if it is missing."""
    path = Path(path_or_name)
    if not path.exists():
        hint = f" (built-in tables: {sorted(n for n, d in DATASETS.items() if d.kind == 'table')})"
        raise DataError(f"No file at '{path}'{hint}; pass an existing CSV or Parquet file.")
    return read_frame(path)


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """A table to CSV / TSV / Parquet by its suffix (:func:`autorecs.data.readers.write_frame`)."""
    return write_frame(frame, path)


def latency_ms_per_row(fn, repeats: int = 5) -> float:
    """Best-of-``repeats`` wall time of ``fn()`` (one batch), in milliseconds; divide by rows yourself."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


class CrossLR:
    """AC+LR: an :class:`AutoCross` transformer and the logistic regression on its fields."""

    def __init__(self, autocross: AutoCross, lr: FieldLogisticRegression):
        self.autocross, self.lr = autocross, lr

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.lr.predict_proba(self.autocross.transform(frame))

    def save(self, path: str | Path) -> Path:
        path = self.autocross.save(path)
        np.savez(path / "lr.npz", coef=self.lr.coef_, intercept=self.lr.intercept_, l2=self.lr.l2,
                 cardinalities=np.asarray(self.lr.cardinalities_),
                 field_scale=np.asarray(self.lr.field_scale if self.lr.field_scale is not None else [1.0] * len(self.lr.cardinalities_)))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "CrossLR":
        ac = AutoCross.load(path)
        if not (Path(path) / "lr.npz").exists():
            raise DataError(f"No AC+LR weights at '{path}' (lr.npz is missing); pass the --out directory of `autorecs cross`.")
        try:
            with np.load(Path(path) / "lr.npz", allow_pickle=False) as d:
                lr = FieldLogisticRegression(float(d["l2"]), field_scale=d["field_scale"].tolist() if "field_scale" in d else None)
                lr.coef_, lr.intercept_, lr.cardinalities_ = d["coef"], float(d["intercept"]), d["cardinalities"].tolist()
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise DataError(f"The AutoCross model directory '{path}' is damaged ({damage_reason(exc)}); run `autorecs cross` "
                            "again or restore the directory from a copy.") from exc
        if len(lr.cardinalities_) != len(ac.cardinalities_) or len(lr.coef_) != sum(ac.cardinalities_):
            raise DataError(f"The AutoCross model directory '{path}' is damaged: lr.npz does not match autocross.json (another "
                            "model's weights?); run `autorecs cross` again.")
        return cls(ac, lr)


def refit_lr(model: FieldLogisticRegression, codes: np.ndarray, valid_codes: np.ndarray, y, valid_y) -> FieldLogisticRegression:
    """The same LR (penalties chosen on validation) trained again on training and validation rows together."""
    return FieldLogisticRegression(model.l2, field_scale=model.field_scale).fit(
        np.vstack([codes, valid_codes]), model.cardinalities_, np.concatenate([y, valid_y]))


def search_and_fit(train: pd.DataFrame, valid: pd.DataFrame | None, test: pd.DataFrame | None, label: str,
                   refit: bool = True, **autocross_options) -> tuple[CrossLR, dict]:
    """Search crosses, tune LR (originals only) and AC+LR (originals + crosses) on validation; report both.

    LR's ``l2`` is chosen over :data:`~autorecs.ctr.logistic.L2_GRID`; AC+LR keeps it for the originals
    and chooses the crosses' penalty multiplier (:func:`~autorecs.ctr.logistic.tune_cross_l2`).
    With ``refit`` (the default, as scikit-learn's searches do) both are then trained again on training
    plus validation rows with the chosen penalties; the crosses, encoding and penalties stay as chosen.
    The reported validation AUCs are those of the selection (before the refit); with ``test``, the
    report holds the final models' test metrics and, under ``test_before_refit``, the train-only ones.

    Without ``valid``, AutoCross's seeded ``valid_fraction`` of ``train`` is held out here too, so the LRs
    are tuned on exactly the rows the search was judged on.
    """
    ac = AutoCross(label, **autocross_options)
    for name, frame in (("training", train), ("validation", valid), ("test", test)):  # checked before the search, not after it
        if frame is None:
            continue
        missing = [c for c in train.columns if c not in frame.columns and c not in ac.encoder.drop]
        if missing:
            raise DataError(f"The {name} table lacks the column(s) {missing} that the training table has (the label is "
                            f"{label!r}); its columns are {list(frame.columns)}.")
        ac.labels(frame, name)
    if valid is None:
        train, valid = split_frame(train, ac.valid_fraction, ac.seed)
    ac.fit(train, valid)
    X, Xv = ac.transform(train), ac.transform(valid)
    y, yv = ac.labels(train), ac.labels(valid)
    n_base = len(ac.encoder.fields)
    cards = ac.cardinalities_
    t0 = time.perf_counter()
    lr, lr_grid = tune_l2(X[:, :n_base], cards[:n_base], y, Xv[:, :n_base], yv)
    t1 = time.perf_counter()
    aclr, aclr_grid = tune_cross_l2(X, cards, y, Xv, yv, n_base, lr.l2)
    scale = max(aclr_grid, key=aclr_grid.get)
    t2 = time.perf_counter()
    selected = {"lr": lr, "ac+lr": aclr}
    if refit:
        lr = refit_lr(lr, X[:, :n_base], Xv[:, :n_base], y, yv)
        aclr = refit_lr(aclr, X, Xv, y, yv)
    t3 = time.perf_counter()
    report = {
        "columns": ac.encoder.column_types(train),
        "crosses": ac.crosses_,
        "granularities": ac.granularities_,
        "steps": [{"step": h.step, "cross": h.cross, "valid_auc": h.valid_auc, "candidates": h.candidates, "seconds": h.seconds}
                  for h in ac.history_],
        "search_seconds": ac.search_seconds_,
        "lr_fit_seconds": t3 - t0,
        "refit_seconds": t3 - t2,
        "interrupted": ac.interrupted_,
        "refit": refit,
        "rows": {"train": len(train), "valid": len(valid), "test": None if test is None else len(test)},
        "lr": {"l2": lr.l2, "valid": {"auc": lr_grid[lr.l2]}, "fit_seconds": t1 - t0},
        "ac+lr": {"l2": aclr.l2, "cross_l2_scale": scale, "valid": {"auc": aclr_grid[scale]}, "fit_seconds": t2 - t1},
    }
    if test is not None:
        Xt, yt = ac.transform(test), ac.labels(test)
        report["lr"]["test"] = classification_metrics(lr.predict_proba(Xt[:, :n_base]), yt)
        report["ac+lr"]["test"] = classification_metrics(aclr.predict_proba(Xt), yt)
        if refit:
            report["lr"]["test_before_refit"] = classification_metrics(selected["lr"].predict_proba(Xt[:, :n_base]), yt)
            report["ac+lr"]["test_before_refit"] = classification_metrics(selected["ac+lr"].predict_proba(Xt), yt)
    batch = test if test is not None else valid
    codes = ac.transform(batch)
    report["lr"]["inference_ms_per_row"] = latency_ms_per_row(lambda: lr.predict_proba(codes[:, :n_base])) / len(batch)
    report["ac+lr"]["inference_ms_per_row"] = latency_ms_per_row(lambda: aclr.predict_proba(codes)) / len(batch)
    report["ac+lr"]["end_to_end_ms_per_row"] = latency_ms_per_row(lambda: aclr.predict_proba(ac.transform(batch)), 3) / len(batch)
    return CrossLR(ac, aclr), report


def save_report(report: dict, out_dir: str | Path) -> Path:
    path = Path(out_dir) / "report.json"
    path.write_text(json_text(report, indent=1))
    return path
