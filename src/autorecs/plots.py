"""Figures (matplotlib, written as PNG; no screen needed)."""

from __future__ import annotations

from pathlib import Path

from .training import History


def plot_learning_curves(histories: dict[str, History], path: str | Path, *, title: str = "") -> Path:
    """One panel per model: train loss and the monitored validation metric per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    path = Path(path)
    fig, axes = plt.subplots(1, len(histories), figsize=(4.2 * len(histories), 3.4), squeeze=False)
    for ax, (name, hist) in zip(axes[0], histories.items()):
        epochs = hist.column("epoch")
        ax.plot(epochs, hist.column("loss"), color="tab:gray", label="train loss")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("train loss")
        ax.set_title(name)
        if hist.monitor:
            ax2 = ax.twinx()
            ax2.plot(epochs, hist.column(hist.monitor), color="tab:blue", marker=".", label=hist.monitor)
            ax2.set_ylabel(hist.monitor, color="tab:blue")
            if hist.best_epoch:
                ax2.axvline(hist.best_epoch, color="tab:blue", ls=":", lw=1)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
