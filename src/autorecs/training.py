"""The training loops, owned by the library: one epoch loop and one mini-batch loop.

A model supplies ``_train_epoch() -> dict`` (with at least ``"loss"``) and
``_get_state()`` / ``_set_state()``; :func:`train_loop` supplies the progress
bar, callbacks, validation, early stopping with restore of the best weights,
divergence detection and the per-epoch history.

A mini-batch model's ``_train_epoch`` is one call of :func:`minibatch_epoch`: the
model supplies a batch loss (:class:`BatchLoss`) and the trainer owns the
shuffling, batching, the optimizer step, projections, and λOpt's Λ-steps
(:class:`LambdaHook`, the one implementation every model with λOpt uses).
Closed-form solvers (ALS) supply one sweep as their epoch instead.
"""

from __future__ import annotations

import math
import os
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import torch

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
            logger.info("interrupted after %d epochs; keeping the best state so far", len(history.epochs))  # callers say it
    if best_state is not None:
        model._set_state(best_state)
    return history


# ------------------------------------------------------------------ the mini-batch loop
@dataclass
class BatchLoss:
    """A model's loss on one mini-batch, as :func:`minibatch_epoch` takes it.

    ``data`` and ``penalty`` are *summed* over the batch (the trainer divides by its
    size).  With autograd, ``inputs`` are the tensors of the graph whose data
    gradient λOpt's Λ-step needs (e.g. the gathered rows); a model that writes its
    gradients in closed form sets the parameters' ``.grad`` itself and returns the
    data part of them in ``grads`` (then no backward pass runs).  ``context`` goes
    back to the model's Λ-step; ``extra`` are further summed quantities to report
    per epoch (divided by the epoch's size).
    """

    data: torch.Tensor
    penalty: torch.Tensor
    inputs: Sequence[torch.Tensor] = ()
    grads: Sequence[torch.Tensor] | None = None
    params: Sequence[torch.Tensor] | None = None
    """The leaves the backward pass fills (default: every leaf of the graph)."""
    context: Any = None
    extra: dict[str, torch.Tensor] = field(default_factory=dict)


class LambdaHook:
    """λOpt inside :func:`minibatch_epoch` (Chen et al. 2019, Algorithm 1).

    Before every batch the real loss's regularizer ``reg`` gets the current Λ_t;
    on every ``options.lambda_every``-th batch, after the backward pass (Θ and the
    optimizer state still at step t), ``step(context, data_grads, v)`` takes the
    model's Λ-step with the validation rows ``vidx[v]`` of this epoch's draws;
    then the real step follows.  ``begin(vidx)`` (optional) sees each epoch's draws
    first (BPR samples its validation negatives there).
    """

    def __init__(self, options, learner, reg, n_valid: int, generator: torch.Generator,
                 step: Callable[[Any, Sequence[torch.Tensor], slice], None], begin: Callable[[torch.Tensor], None] | None = None):
        self.options, self.learner, self.reg, self.n_valid, self.generator = options, learner, reg, n_valid, generator
        self._step, self._begin = step, begin
        self.vidx: torch.Tensor | None = None
        self._at: Callable[[int], slice] | None = None

    def begin_epoch(self, n: int, batch_size: int) -> None:
        self.vidx, self._at = self.options.validation_draws(self.n_valid, n, batch_size, self.generator)
        if self._begin is not None:
            self._begin(self.vidx)

    def due(self, batch: int) -> bool:
        return batch % self.options.lambda_every == 0

    def use_current(self) -> None:
        self.reg.user, self.reg.item = self.learner.user.detach(), self.learner.item.detach()  # Λ_t

    def step(self, context, grads, start: int) -> None:
        self._step(context, grads, self._at(start))

    def logs(self) -> dict[str, float]:
        return {"lambda_user_mean": float(self.learner.user.detach().mean()),
                "lambda_item_mean": float(self.learner.item.detach().mean())}


#: ``AUTORECS_CUDA_GRAPHS=1`` lets :func:`minibatch_epoch` replay graphable steps as CUDA graphs (see there).
CUDA_GRAPHS_ENV = "AUTORECS_CUDA_GRAPHS"


def cuda_graphs_enabled() -> bool:
    """Whether ``$AUTORECS_CUDA_GRAPHS`` is ``1``.  Off by default: the CUDA-graph steps are written to
    PyTorch's rules and their pieces tested on the CPU, but no GPU has run them yet (benchmarks/README.md,
    "On a GPU")."""
    return os.environ.get(CUDA_GRAPHS_ENV, "0") == "1"


def graph_safe_optimizer(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer.step()`` can be captured in a CUDA graph as it is: plain SGD (no step
    count), or Adam with the fused kernel (its step count lives on the GPU, so a replay advances it).
    Anything whose state the step updates on the host (e.g. a non-fused Adam's step count) would be
    frozen at its captured value, so it runs eagerly; so does an optimizer with a tensor learning rate
    or with step hooks (PyTorch's or global ones: they would run at the capture only)."""
    from torch.optim import optimizer as torch_optimizer

    from .optim import is_adam

    hooks = (getattr(optimizer, "_optimizer_step_pre_hooks", None), getattr(optimizer, "_optimizer_step_post_hooks", None),
             getattr(torch_optimizer, "_global_optimizer_pre_hooks", None), getattr(torch_optimizer, "_global_optimizer_post_hooks", None))
    if any(hooks):  # they would run once, at the capture, never at a replay
        return False
    groups = optimizer.param_groups
    if any(g.get("differentiable") or torch.is_tensor(g["lr"]) for g in groups):  # a tensor rate: a host read, or baked in
        return False
    if type(optimizer) is torch.optim.SGD:
        return True
    return is_adam(optimizer) and all(g.get("fused") for g in groups)


@contextmanager
def _capturable(optimizer: torch.optim.Optimizer):
    """Adam refuses a capture unless its groups say ``capturable``; the fused step's arithmetic is the
    same either way, so the flag is set for the capture only (eager steps would warn with it)."""
    saved = [g.get("capturable") for g in optimizer.param_groups]
    for g in optimizer.param_groups:
        if "capturable" in g:
            g["capturable"] = True
    try:
        yield
    finally:
        for g, value in zip(optimizer.param_groups, saved):
            if value is not None:
                g["capturable"] = value


class _GraphedStep:
    """One whole mini-batch step captured as a CUDA graph: replaying it costs one launch instead of a
    few dozen, which is what a step of a small model costs on a GPU.  ``step(idx, rows)`` is the eager
    step on the batch's training rows ``idx`` at the epoch's positions ``rows``; the capture records it
    with static tensors of both (the positions as a tensor, not a slice) on ``stream`` (the warm-up's),
    and each call writes the next batch's into them and replays.  Valid while every tensor the step
    touches stays where it is (:func:`minibatch_epoch` captures anew each epoch)."""

    def __init__(self, step: Callable[[torch.Tensor, torch.Tensor], None], idx: torch.Tensor, start: int,
                 optimizer: torch.optim.Optimizer, stream):
        self.idx = idx.clone()
        self.base = torch.arange(len(idx), device=idx.device)
        self.rows = self.base + start
        self.graph = torch.cuda.CUDAGraph()
        with _capturable(optimizer), torch.cuda.graph(self.graph, stream=stream):
            step(self.idx, self.rows)

    def __call__(self, idx: torch.Tensor, start: int) -> None:
        self.idx.copy_(idx)
        torch.add(self.base, start, out=self.rows)
        self.graph.replay()


#: Set on an optimizer whose step failed to capture: the rest of its fit trains eagerly.
_NO_GRAPHS = "_autorecs_no_cuda_graphs"


def _graphs_wanted(device, optimizer: torch.optim.Optimizer) -> bool:
    return (cuda_graphs_enabled() and torch.device(device).type == "cuda" and not getattr(optimizer, _NO_GRAPHS, False)
            and graph_safe_optimizer(optimizer))


def _warm_up(step: Callable[[], None], device):
    """Run ``step`` on a side stream of ``device``, as PyTorch asks before a capture (the allocator and
    lazy state, e.g. cuBLAS's workspace, warmed there); returns the stream, for the capture."""
    side = torch.cuda.Stream(device=device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        step()
    torch.cuda.current_stream(device).wait_stream(side)
    return side


def _capture(step, idx, start, optimizer, stream, device) -> _GraphedStep | None:
    """:class:`_GraphedStep`, or None after a failed capture: then the stream is the one before (PyTorch's
    graph context can leave its capture stream current when ending the capture raises), the device is
    synchronised, and the optimizer's fit goes on without graphs, with one warning."""
    cuda = torch.device(device).type == "cuda"
    try:
        with torch.cuda.stream(torch.cuda.current_stream(device)) if cuda else nullcontext():  # restored on the way out
            return _GraphedStep(step, idx, start, optimizer, stream)
    except Exception as exc:  # noqa: BLE001 -- a capture runs nothing: the step is taken eagerly instead
        setattr(optimizer, _NO_GRAPHS, True)
        try:
            if cuda:
                torch.cuda.synchronize(device)
        except Exception:  # noqa: BLE001 -- the warning below says what failed first
            pass
        logger.warning("CUDA graph capture failed (%s: %s); this fit trains without CUDA graphs", type(exc).__name__, exc)
        return None


def minibatch_epoch(
    n: int,
    batch_size: int,
    batch_loss: Callable[[torch.Tensor, slice | torch.Tensor, bool], BatchLoss],
    optimizer: torch.optim.Optimizer,
    *,
    generator: torch.Generator,
    device: torch.device | str = "cpu",
    begin: Callable[[torch.Tensor], None] | None = None,
    after_step: Callable[[], None] | None = None,
    lambda_hook: LambdaHook | None = None,
    graphable: bool = False,
) -> dict[str, float]:
    """One epoch of mini-batch steps over ``n`` training rows in a fresh random order.

    ``begin(perm)`` sees the epoch's order first (e.g. to draw negatives for it);
    ``batch_loss(idx, rows, lambda_due)`` gets the batch's training rows ``idx =
    perm[rows]`` and whether a Λ-step follows; ``after_step()`` runs after every
    optimizer step (projections, clamps).  Returns ``{"loss": objective / n}`` plus
    the per-row means of ``extra`` and, with λOpt, the mean Λ.

    ``graphable``: the model promises that its batch reads only ``idx`` and ``rows`` (a slice, or in a
    replay a tensor of the same positions), from tensors that stay in place for the epoch, writes its
    gradients in closed form into the same
    ``.grad`` tensors every step, and never waits on the GPU.  Then, on a GPU with
    :func:`cuda_graphs_enabled`, no λOpt and a :func:`graph_safe_optimizer`, the epoch's full batches
    after the first two (one eager, one a warm-up on a side stream, as PyTorch asks) replay one
    captured step (:class:`_GraphedStep`), captured anew each epoch (the models' gradient tables are
    the epoch's); a capture that fails leaves the rest of the fit eager, with one warning.
    """
    perm = torch.randperm(n, generator=generator).to(device)
    if begin is not None:
        begin(perm)
    if lambda_hook is not None:
        lambda_hook.begin_epoch(n, batch_size)
    total = torch.zeros((), dtype=torch.float64, device=device)
    extra: dict[str, torch.Tensor] = {}

    def step(idx: torch.Tensor, rows: slice | torch.Tensor, s: int = 0, due: bool = False) -> None:
        if lambda_hook is not None:
            lambda_hook.use_current()
        out = batch_loss(idx, rows, due)
        grads = out.grads
        if grads is None:  # autograd (a model that writes its gradients sets every parameter's .grad itself)
            optimizer.zero_grad(set_to_none=True)
            if due:
                grads = torch.autograd.grad(out.data / len(idx), list(out.inputs), retain_graph=True)
            ((out.data + out.penalty) / len(idx)).backward(inputs=None if out.params is None else list(out.params))
        if due:  # Θ and the optimizer state are still at step t: Λ_t -> Λ_{t+1}, then the real step
            lambda_hook.step(out.context, grads, s)
        optimizer.step()
        if after_step is not None:
            after_step()
        total.add_(out.data.detach()).add_(out.penalty.detach())  # in float64, no cast kernel
        for key, value in out.extra.items():
            if key not in extra:  # created by the first (eager) step, never inside a capture
                extra[key] = torch.zeros((), dtype=torch.float64, device=device)
            extra[key].add_(value.detach())

    graphs = graphable and lambda_hook is None and _graphs_wanted(device, optimizer)
    graphed, stream = None, None
    with torch.cuda.device(device) if graphs and torch.device(device).type == "cuda" else nullcontext():  # the model's GPU
        for k, s in enumerate(range(0, n, batch_size)):
            rows = slice(s, s + batch_size)
            idx = perm[rows]
            due = lambda_hook is not None and lambda_hook.due(k)
            if graphs and k >= 1 and len(idx) == batch_size:
                if stream is None:  # a real step, the warm-up a capture needs
                    stream = _warm_up(lambda: step(idx, rows, s), device)
                    continue
                if graphed is None:
                    graphed = _capture(step, idx, s, optimizer, stream, device)
                    graphs = graphed is not None
                if graphed is not None:
                    graphed(idx, s)
                    continue
            step(idx, rows, s, due)
    logs = {"loss": float(total) / n, **{key: float(v) / n for key, v in extra.items()}}
    if lambda_hook is not None:
        logs.update(lambda_hook.logs())
    return logs
