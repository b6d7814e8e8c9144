"""The epoch loop, owned by the library.

A model supplies ``_train_epoch() -> dict`` (with at least ``"loss"``) and
``_get_state()`` / ``_set_state()``; :func:`train_loop` supplies the progress
bar, callbacks, validation, early stopping with restore of the best weights,
divergence detection and the per-epoch history.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

from ._progress import logger, progress_bar
from .exceptions import ConfigError, DivergenceError

#: A loss above this multiple of the first epoch's loss counts as divergence.
DIVERGENCE_FACTOR = 1e4


class Callback(Protocol):
    """Called after every epoch with the model, the epoch number (from 1) and its logs.

    Returning ``True`` stops training (used, e.g., by search pruners).
    """

    def __call__(self, model: Any, epoch: int, logs: dict[str, float]) -> bool | None: ...


@dataclass
class History:
    """Per-epoch records: ``epoch``, ``loss``, the validation metrics and ``seconds``."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    monitor: str | None = None
    best_epoch: int | None = None
    best_value: float | None = None
    stopped_early: bool = False
    interrupted: bool = False
    """True when Ctrl-C ended training; the best (or last) completed epoch is kept."""

    def column(self, name: str) -> list[float]:
        return [e.get(name, math.nan) for e in self.epochs]

    def to_dict(self) -> dict:
        return {
            "epochs": self.epochs,
            "monitor": self.monitor,
            "best_epoch": self.best_epoch,
            "best_value": self.best_value,
            "stopped_early": self.stopped_early,
            "interrupted": self.interrupted,
        }


def train_loop(
    model,
    *,
    max_epochs: int,
    validate: Callable[[], dict[str, float]] | None = None,
    monitor: str | None = None,
    mode: str = "min",
    patience: int = 5,
    min_delta: float = 0.0,
    callbacks: Sequence[Callback] = (),
    progress: bool = True,
    description: str = "training",
    step_hint: str = "learning_rate",
) -> History:
    """Run up to ``max_epochs`` epochs of ``model._train_epoch()``.

    With ``validate`` and ``monitor``, the best epoch's state is restored at the
    end and training stops after ``patience`` epochs without an improvement of
    more than ``min_delta``.  Ctrl-C (KeyboardInterrupt) after at least one
    completed epoch stops training gracefully: the best validated state so far
    (without validation: the current state) is kept and ``history.interrupted``
    is set.
    """
    history = History(monitor=monitor)
    best_state = None
    sign = 1.0 if mode == "min" else -1.0
    first_loss = None
    bad_epochs = 0
    with progress_bar(max_epochs, description, enabled=progress) as bar:
        try:
            for epoch in range(1, max_epochs + 1):
                t0 = time.perf_counter()
                logs = dict(model._train_epoch())
                loss = float(logs.get("loss", math.nan))
                first_loss = loss if first_loss is None else first_loss
                if not math.isfinite(loss) or (first_loss > 0 and loss > DIVERGENCE_FACTOR * first_loss):
                    raise DivergenceError(
                        f"Training diverged at epoch {epoch} (train loss {loss:.4g}) with {step_hint}; "
                        "lower it (e.g. by 10x) or raise the regularization."
                    )
                if validate is not None:
                    logs.update(validate())
                    if monitor is not None and monitor not in logs:
                        raise ConfigError(
                            f"The monitored metric {monitor!r} is not among the validation metrics "
                            f"{sorted(k for k in logs if k.startswith('valid_'))}; choose one of those."
                        )
                logs["seconds"] = time.perf_counter() - t0
                logs["epoch"] = epoch
                history.epochs.append(logs)
                stop = False
                if monitor is not None and monitor in logs:
                    value = float(logs[monitor])
                    if not math.isfinite(value):
                        raise DivergenceError(f"Validation {monitor} is {value} at epoch {epoch} with {step_hint}; lower it.")
                    if history.best_value is None or sign * (history.best_value - value) > min_delta:
                        history.best_value, history.best_epoch = value, epoch
                        best_state = model._get_state()
                        bad_epochs = 0
                    else:
                        bad_epochs += 1
                        stop = bad_epochs >= patience
                bar.update(1, loss=loss, **({monitor: logs[monitor]} if monitor in logs else {}))
                logger.debug("epoch %d %s", epoch, logs)
                for cb in callbacks:
                    stop = bool(cb(model, epoch, logs)) or stop
                if stop:
                    history.stopped_early = epoch < max_epochs
                    break
        except KeyboardInterrupt:
            if not history.epochs:
                raise
            history.interrupted = True
            logger.warning("interrupted after %d epochs; keeping the best state so far", len(history.epochs))
    if best_state is not None:
        model._set_state(best_state)
    return history
