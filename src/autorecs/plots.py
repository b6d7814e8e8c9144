"""Figures (matplotlib, written as PNG; no screen needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .training import History


def _subplots(*grid, figsize, **kw):
    """``(figure, axes)`` as ``pyplot.subplots`` gives them, from matplotlib's object API: no pyplot,
    no global backend or figure registry touched (the caller's matplotlib state stays as it was)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **kw)


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def plot_learning_curves(histories: dict[str, History], path: str | Path, *, title: str = "") -> Path:
    """One panel per model: train loss and the monitored validation metric per epoch."""
    from matplotlib.ticker import MaxNLocator

    fig, axes = _subplots(1, len(histories), figsize=(4.2 * len(histories), 3.4), squeeze=False)
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
    return _save(fig, path)


def plot_search_cost(results, path: str | Path, *, title: str = "") -> Path:
    """Validation metric against cumulative training cost (seconds), one line per search.

    Dots are trials (completed ones); the line is the best value found so far.
    """
    fig, ax = _subplots(figsize=(6.4, 4.2))
    for res in results:
        cost, best, xs, ys = 0.0, None, [], []
        dots = []
        for t in sorted(res.trials, key=lambda t: t.number):
            cost += t.fit_seconds
            if t.state == "COMPLETE" and t.value is not None:
                dots.append((cost, t.value))
                better = best is None or (t.value < best if res.direction == "minimize" else t.value > best)
                best = t.value if better else best
            if best is not None:
                xs.append(cost)
                ys.append(best)
        line = ax.step(xs, ys, where="post", label=f"{res.strategy}: best so far ({len(res.trials)} trials)")[0]
        if dots:
            ax.scatter(*zip(*dots), s=12, alpha=0.5, color=line.get_color(), label=f"{res.strategy}: each trial")
    values = [t.value for r in results for t in r.trials if t.state == "COMPLETE" and t.value is not None]
    if len(values) >= 5:  # keep outliers from flattening the interesting range
        if results[0].direction == "minimize":
            lo, hi = float(np.min(values)), float(np.quantile(values, 0.9))
        else:
            lo, hi = float(np.quantile(values, 0.1)), float(np.max(values))
        pad = 0.05 * (hi - lo) if hi > lo else 0.01
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("cumulative training cost (s)")
    if results:
        better = "lower" if results[0].direction == "minimize" else "higher"
        ax.set_ylabel(f"validation {results[0].metric} ({better} is better)")
    else:
        ax.set_ylabel("validation metric")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return _save(fig, path)


def plot_cross_search(base_auc: float, steps: list[dict], path: str | Path, *, kept: int | None = None, title: str = "") -> Path:
    """Validation AUC against AutoCross search step, each point labelled with the cross added there."""
    x = list(range(len(steps) + 1))
    y = [base_auc] + [s["valid_auc"] for s in steps]
    fig, ax = _subplots(figsize=(7.5, 4.2))
    ax.plot(x, y, marker="o", color="tab:blue")
    ax.annotate("original fields", (0, base_auc), textcoords="offset points", xytext=(4, -6), fontsize=7, ha="left", va="top")
    for xi, s in zip(x[1:], steps):  # labels alternate above and below the line so that neighbours do not collide
        above = xi % 2 == 0
        ax.annotate(s["cross"], (xi, s["valid_auc"]), textcoords="offset points", xytext=(0, 10 if above else -10), fontsize=7,
                    rotation=30 if above else -30, ha="left", va="bottom" if above else "top")
    if kept is not None and kept < len(steps):
        ax.axvline(kept, color="tab:gray", ls="--", lw=1, label=f"kept: first {kept} crosses")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("search step (crosses added)")
    ax.set_ylabel("validation AUC (LR on the current set)")
    ax.set_title(title or "AutoCross beam search")
    ax.set_xticks(x)
    ax.set_xlim(-0.3, len(steps) + 2.5)  # room for the last label
    lo, hi = min(y), max(y)
    pad = max(hi - lo, 1e-3)
    ax.set_ylim(lo - 0.6 * pad, hi + 0.6 * pad)  # room for the labels above and below
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_sif_search(report: dict, out_dir: str | Path) -> list[Path]:
    """Per embedding size: the searched transforms g over the embedding range (the SIF paper's Fig. 6b),
    α per operation over search epochs (one-shot strategies), and validation/test RMSE against seconds."""
    import torch

    from .models.transform import ElementwiseMLP

    paths = []
    for k, e in report["dims"].items():
        arch, curve = e["arch"], e["curve"]
        fig, axes = _subplots(1, 3, figsize=(13, 3.6))
        x = torch.linspace(-1.5, 1.5, 200)
        for side, color in (("user", "tab:blue"), ("item", "tab:orange")):
            g = ElementwiseMLP.from_list(arch[f"transform_{side}"], arch["transform_hidden"], arch["transform_activation"],
                                         arch.get("transform_residual", True))
            with torch.no_grad():
                axes[0].plot(x.numpy(), g(x).numpy(), color=color, label=f"g for {side}s")
        axes[0].plot(x.numpy(), x.numpy(), color="tab:gray", ls=":", lw=1, label="identity")
        axes[0].set_xlabel("embedding entry")
        axes[0].set_title(f"searched transform g, operation {arch['interaction']}"
                          + ("\n(retraining chose the identity instead)" if arch.get("transform") in ("identity", "none") else ""), fontsize=9)
        axes[0].legend(fontsize=8)
        if curve and "alpha" in curve[0] and report["strategy"] == "sif":
            alphas = np.array([c["alpha"] for c in curve])
            from .sif.search import NONADDITIVE_OPS, SEARCH_OPS

            ops = NONADDITIVE_OPS if alphas.shape[1] == len(NONADDITIVE_OPS) else SEARCH_OPS
            for j, op in enumerate(ops[: alphas.shape[1]]):
                axes[1].plot(range(1, len(alphas) + 1), alphas[:, j], marker=".", label=op)
            axes[1].set_xlabel("search epoch")
            axes[1].set_ylabel("α")
            axes[1].legend(fontsize=8)
        else:
            axes[1].axis("off")
        secs = [c["seconds"] for c in curve]
        axes[2].plot(secs, np.minimum.accumulate([c["valid_rmse"] for c in curve]), label="validation (best so far)")
        if curve and curve[0].get("test_rmse") is not None:
            axes[2].plot(secs, [c["test_rmse"] for c in curve], ls="--", label="test of that epoch/trial (figure only)")
        axes[2].set_xlabel("search seconds")
        axes[2].set_ylabel("RMSE")
        axes[2].legend(fontsize=8)
        fig.suptitle(f"{report['strategy']}, K={k}")
        paths.append(_save(fig, Path(out_dir) / f"sif-{report['strategy']}-K{k}.png"))
    return paths


def plot_lambda_trajectories(traj, path: str | Path, *, title: str = "") -> Path:
    """λ per frequency group against epoch (mean ± std; the λOpt paper's Fig. 7), the final λ of every
    user and item against its number of training interactions, and mean λ by frequency group and
    epoch as a heat map (Fig. 8)."""
    from matplotlib.ticker import MaxNLocator

    fig, axes = _subplots(2, 3, figsize=(15, 7))
    for row, side in enumerate(("user", "item")):
        ax = axes[row][0]
        epochs = [r["epoch"] for r in traj.records]
        n_groups = len(traj.records[0][side]) if traj.records else 0
        for k in range(n_groups):
            mean = np.array([r[side][k]["mean"] for r in traj.records])
            std = np.array([r[side][k]["std"] for r in traj.records])
            line, = ax.plot(epochs, mean, label=f"group {k} (≤ {traj.records[-1][side][k]['max_count']} interactions)")
            ax.fill_between(epochs, mean - std, mean + std, color=line.get_color(), alpha=0.15)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"λ of {side}s (mean per group; band ± 1 std)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7)
        ax2 = axes[row][1]
        if side in traj.final:
            from matplotlib.ticker import NullFormatter

            ax2.scatter(np.maximum(traj.counts[side], 1), traj.final[side], s=4, alpha=0.4)
            ax2.set_xscale("log")
            ax2.xaxis.set_minor_formatter(NullFormatter())
        ax2.set_xlabel(f"training interactions per {side}")
        ax2.set_ylabel("final λ")
        ax3 = axes[row][2]
        if n_groups:
            grid = np.array([[r[side][k]["mean"] for r in traj.records] for k in range(n_groups)])
            im = ax3.imshow(grid, aspect="auto", origin="lower", cmap="viridis",
                            extent=(epochs[0] - 0.5, epochs[-1] + 0.5, -0.5, n_groups - 0.5))
            ax3.set_yticks(range(n_groups), [f"≤ {traj.records[-1][side][k]['max_count']}" for k in range(n_groups)], fontsize=7)
            fig.colorbar(im, ax=ax3, label="mean λ")
        ax3.set_xlabel("epoch")
        ax3.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax3.set_ylabel(f"{side} group (training interactions)")
    fig.suptitle(title or "λOpt: learned regularization by frequency")
    return _save(fig, path)


def plot_group_gains(gains: dict, path: str | Path, *, title: str = "") -> Path:
    """Relative gain over a baseline per frequency group of users and items (the λOpt paper's Fig. 6).

    ``gains`` as from :func:`autorecs.lambdaopt.group_gains`; one bar group per frequency group,
    one bar per metric.
    """
    fig, axes = _subplots(1, 2, figsize=(10, 3.8))
    for ax, side in zip(axes, ("user", "item")):
        res = gains[side]
        metrics = [m for m in res if m not in ("min_count", "max_count")]
        x = np.arange(len(res["max_count"]))
        width = 0.8 / max(len(metrics), 1)
        for n, m in enumerate(metrics):
            ax.bar(x + (n - (len(metrics) - 1) / 2) * width, 100 * np.asarray(res[m]), width, label=m.upper())
        lo = res.get("min_count") or [1] + [c + 1 for c in res["max_count"][:-1]]
        ax.set_xticks(x, [f"{a}-{b}" for a, b in zip(lo, res["max_count"])], fontsize=8)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel(f"training interactions per {side} (group)")
        ax.set_ylabel("gain over baseline (%)")
        ax.legend(fontsize=8)
    fig.suptitle(title or "Gain per frequency group")
    return _save(fig, path)
