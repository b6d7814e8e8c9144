"""The library's single logger and progress-bar wrapper."""

from __future__ import annotations

import logging
from contextlib import contextmanager

logger = logging.getLogger("autorecs")
logger.addHandler(logging.NullHandler())


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
