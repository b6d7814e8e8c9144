"""The library's single logger and progress-bar wrapper."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from contextlib import contextmanager

logger = logging.getLogger("autorecs")
logger.addHandler(logging.NullHandler())

#: Set (to "1") while a front end shows the library's warnings as lines (:func:`warning_lines`); the
#: processes it spawns inherit it and show theirs the same way (:func:`inherit_warning_lines`).
WARNING_LINES_ENV = "AUTORECS_WARNING_LINES"


class _Lines(logging.Formatter):
    """``warning: ...`` for the library's warnings; its progress lines as they are."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        return text if getattr(record, "progress", False) and record.levelno < logging.WARNING else f"warning: {text}"


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` pointing at the caller's own line: the first frame outside this package, whichever
    public function of it was called (a fixed ``stacklevel`` is right from one entry point only)."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 2  # stacklevel 1 is this function, 2 its caller
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(f"warning: {message}\n")


def _install() -> logging.Handler:
    shown = logging.StreamHandler(sys.stderr)  # the library's warnings (a library logs to a NullHandler) as one line each,
    shown.addFilter(lambda r: r.levelno >= logging.WARNING or getattr(r, "progress", False))  # and its progress lines
    shown.setFormatter(_Lines())
    logger.setLevel(min(logger.level or logging.WARNING, logging.INFO))  # progress lines are INFO records
    logger.addHandler(shown)
    warnings.showwarning = _show_warning
    return shown


@contextmanager
def warning_lines():
    """For a front end (the CLI): while inside, the library's logged warnings, its progress lines and Python
    warnings go to stderr as one line each (``warning: ...``), as they happen, here and in spawned workers."""
    if any(isinstance(h.formatter, _Lines) for h in logger.handlers):  # already inside one: nothing to add
        yield
        return
    previous_level, previous_env = logger.level, os.environ.get(WARNING_LINES_ENV)
    with warnings.catch_warnings():  # filters unchanged; showwarning restored on exit
        shown = _install()
        os.environ[WARNING_LINES_ENV] = "1"
        try:
            yield
        finally:
            logger.removeHandler(shown)
            logger.setLevel(previous_level)
            if previous_env is None:
                os.environ.pop(WARNING_LINES_ENV, None)
            else:
                os.environ[WARNING_LINES_ENV] = previous_env


def inherit_warning_lines() -> None:
    """In a spawned worker: show warnings as the front end that started it does (:func:`warning_lines`)."""
    if os.environ.get(WARNING_LINES_ENV) == "1" and not any(isinstance(h.formatter, _Lines) for h in logger.handlers):
        _install()


class _Keep(logging.Handler):
    def __init__(self, kept: list):
        super().__init__(logging.WARNING)
        self.kept = kept

    def emit(self, record: logging.LogRecord) -> None:
        self.kept.append(("log", record.levelno, record.getMessage()))


def kept_warnings(fn, job):
    """``fn(job)`` and the warnings raised inside it (the library's logged ones and Python's), for a worker whose
    output does not reach the front end (a Ray task): :func:`replay` shows them where the results arrive."""
    kept: list = []
    keep, previous = _Keep(kept), logger.level
    logger.addHandler(keep)
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(record=True) as caught:
            result = fn(job)
        kept += [("warning", w.category, str(w.message), w.filename, w.lineno) for w in caught]
    finally:
        logger.removeHandler(keep)
        logger.setLevel(previous)
    return result, kept


def replay(kept: list, registry: dict | None = None) -> None:
    """Show warnings kept by :func:`kept_warnings` here, as this process shows its own; ``registry`` (one dict for
    all the tasks of a search) lets Python's filters show a warning once, as one process would, not once a task."""
    for entry in kept:
        if entry[0] == "log":
            logger.log(entry[1], "%s", entry[2])
        else:
            warnings.warn_explicit(entry[2], entry[1], entry[3], entry[4], registry=registry)


class _NullBar:
    def update(self, advance: int = 1, **fields) -> None:  # noqa: D401 - no-op
        pass


@contextmanager
def progress_bar(total: int | None, description: str, enabled: bool = True):
    """Yield an object with ``update(advance=1, **fields)``; silent when disabled.

    Fields (e.g. ``loss=0.91``) are shown next to the bar.
    """
    if not enabled:
        yield _NullBar()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rich.console import Console

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        transient=False,
        console=Console(stderr=True),
    ) as prog:
        task = prog.add_task(description, total=total, info="")

        class _Bar:
            def update(self, advance: int = 1, **fields) -> None:
                info = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items())
                prog.update(task, advance=advance, info=info)

        yield _Bar()
