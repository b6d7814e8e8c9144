"""PyTorch optimizers by name, shared by the mini-batch solvers."""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.optim.optimizer as _torch_optimizer


class Adam(torch.optim.Adam):
    """:class:`torch.optim.Adam`, the same rule, options and state, whose step on the CPU runs one
    compiled pass per float32 parameter (:func:`autorecs.kernels.adam_step`) instead of PyTorch's
    step: on BPR-MF's ml-1m tables one memory-bound pass per table, faster than PyTorch's fused
    kernel, with less Python per step (benchmarks/README.md, the peers table).  Anything the kernel does not do (a GPU,
    float64, sparse gradients, amsgrad, maximize, AdamW's decoupled decay, a tensor learning rate)
    takes PyTorch's step, for the whole optimizer; the two share their state, so either continues
    the other."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._arrays: dict[torch.Tensor, tuple] = {}  # parameter -> (its tensors' addresses, their flat arrays)

    def __setstate__(self, state: dict) -> None:  # copies and pickles keep PyTorch's fields only
        super().__setstate__(state)
        self.__dict__.setdefault("_arrays", {})

    def step(self, closure=None):
        """One Adam step.  The compiled pass runs without PyTorch's per-step wrapper (a profiler record
        and the hook loops: about as long as the pass itself on small tables) where nothing would see
        the difference: no step hooks, no profiler running.  Otherwise the step goes through
        :meth:`_hooked_step`, PyTorch's wrapper around this same rule."""
        if closure is None and not self._observed():
            plan = self._plan()
            if plan is not None:
                self._run(plan)
                return None
        return self._hooked_step(closure)

    step.hooked = True  # PyTorch wraps a class's step once, unless it says so: the wrapper is _hooked_step

    def _observed(self) -> bool:
        """Whether a step hook or the autograd profiler would see this step."""
        return bool(self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks
                    or _torch_optimizer._global_optimizer_pre_hooks or _torch_optimizer._global_optimizer_post_hooks
                    or torch.autograd._profiler_enabled())

    @torch.optim.Optimizer.profile_hook_step
    @torch.no_grad()
    def _hooked_step(self, closure=None):
        plan = None if closure is not None else self._plan()
        if plan is None:
            return self._torch_step(closure)
        self._run(plan)
        return None

    @staticmethod
    def _run(plan: list) -> None:
        from .kernels import adam_step, match_torch_threads

        match_torch_threads()
        for arrays, hyper in plan:
            adam_step(*arrays, *hyper)

    def _torch_step(self, closure):
        """PyTorch's own step, without its wrapper (:meth:`_hooked_step` ran the hooks already)."""
        step = torch.optim.Adam.step
        if getattr(step, "hooked", False):
            step = step.__wrapped__
        return step(self, closure)

    def _plan(self) -> list | None:
        """``(arrays, hyperparameters)`` of :func:`~autorecs.kernels.adam_step` for each parameter with
        a gradient, or None where PyTorch's step must run (checked before the state is touched, so
        PyTorch's step creates the state it wants, e.g. on a GPU)."""
        if not kernels_available():  # e.g. an optimizer copied onto a machine without numba
            return None
        plan = []
        for group in self.param_groups:
            if (group["amsgrad"] or group["maximize"] or group["capturable"] or group["differentiable"]
                    or (group.get("decoupled_weight_decay") and group["weight_decay"]) or torch.is_tensor(group["lr"])):
                return None
            beta1, beta2 = group["betas"]
            hyper = (float(group["lr"]), float(beta1), float(beta2), float(group["eps"]), float(group["weight_decay"]))
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if not (g.layout is torch.strided and _flat_cpu_float32(p) and _flat_cpu_float32(g) and g.shape == p.shape):
                    return None
                state = self.state[p]
                if len(state) == 0:  # as PyTorch's Adam initialises it on the CPU
                    state["step"] = torch.zeros((), dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                tensors = (p, g, state["exp_avg"], state["exp_avg_sq"], state["step"])
                key = tuple(t.data_ptr() for t in tensors)
                cached = self._arrays.get(p)
                if cached is None or cached[0] != key:
                    if not (all(_flat_cpu_float32(t) and t.shape == p.shape for t in tensors[2:4])
                            and _flat_cpu_float32(tensors[4]) and tensors[4].numel() == 1):
                        return None
                    cached = self._arrays[p] = (key, tuple(t.detach().view(-1).numpy() for t in tensors))
                plan.append((cached[1], hyper))
        return plan


def _flat_cpu_float32(t: torch.Tensor) -> bool:
    return t.device.type == "cpu" and t.dtype == torch.float32 and t.is_contiguous()


OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adagrad": torch.optim.Adagrad}


def is_adam(optimizer) -> bool:
    """Whether ``optimizer`` follows Adam's rule exactly: :class:`torch.optim.Adam` or :class:`Adam`
    (not a subclass with another rule, such as AdamW)."""
    return type(optimizer) in (torch.optim.Adam, Adam)


class SparseAdam(torch.optim.SparseAdam):
    """:class:`torch.optim.SparseAdam` (Adam on the rows a step's sparse gradient names: "lazy Adam";
    the other rows and their moments stay as they are), the same rule and state, with the step of a
    float32 vector or matrix on the CPU in one compiled pass (:func:`autorecs.kernels.sparse_adam_rows`)
    instead of PyTorch's coalesce, masks and sparse adds.  Gradients must be sparse COO tensors with
    one sparse dimension (rows); they need not be coalesced."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr=lr, betas=betas, eps=eps)
        self._scratch: dict[torch.Tensor, tuple[np.ndarray, np.ndarray]] = {}

    @torch.no_grad()
    def step(self, closure=None):
        if closure is not None:
            raise TypeError("SparseAdam.step() takes no closure here; compute the loss and gradients first.")
        fallback = []
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if (g.is_sparse and g.sparse_dim() == 1 and p.device.type == "cpu" and p.dtype == torch.float32 and kernels_available()
                        and p.dim() in (1, 2) and not group["maximize"]):
                    self._compiled_step(p, g, group)
                else:
                    fallback.append(p)
        if fallback:  # PyTorch's own step for the others (the compiled ones hide their gradients meanwhile)
            done = {p: p.grad for group in self.param_groups for p in group["params"]
                    if p.grad is not None and all(p is not q for q in fallback)}
            for p in done:
                p.grad = None
            try:
                super().step()
            finally:
                for p, g in done.items():
                    p.grad = g

    def _compiled_step(self, p: torch.Tensor, g: torch.Tensor, group: dict) -> None:
        from .kernels import sparse_adam_rows

        state = self.state[p]
        if len(state) == 0:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["step"] += 1
        if p not in self._scratch:
            self._scratch[p] = (np.zeros((len(p), p[0].numel()), np.float32), np.full(len(p), -1, np.int64))
        acc, stamp = self._scratch[p]
        two_d = (lambda t: t.reshape(len(t), -1).numpy())
        beta1, beta2 = group["betas"]
        sparse_adam_rows(two_d(p.data), two_d(state["exp_avg"]), two_d(state["exp_avg_sq"]), g._indices()[0].numpy(),
                         two_d(g._values()), acc, stamp, state["step"], float(group["lr"]), beta1, beta2, group["eps"], state["step"])


@functools.cache
def kernels_available() -> bool:
    """Whether the compiled kernels (:mod:`autorecs.kernels`, numba) import here.  numba is a dependency;
    where it is missing anyway (a bare machine that runs ``src`` as is) every model takes its tensor path."""
    try:
        from . import kernels  # noqa: F401
    except ImportError:
        return False
    return True


def make_optimizer(name: str, params, *, lr: float, weight_decay: float = 0.0, compiled: bool = False) -> torch.optim.Optimizer:
    """The named optimizer; the fused single-kernel implementation where this PyTorch has it
    (same update rule, about 2x faster per step on embedding tables).  ``sparse_adam``:
    :class:`SparseAdam` (sparse row gradients; no weight decay).  ``compiled``: Adam as :class:`Adam`
    (for large tables whose gradient tensors are reused from step to step; with autograd's fresh
    gradients every step, or many small tensors, PyTorch's fused step is as fast or faster)."""
    params = list(params)
    if name == "sparse_adam":
        if weight_decay:
            raise ValueError("sparse_adam has no weight decay; put the penalty in the loss.")
        return SparseAdam(params, lr=lr)
    klass = Adam if name == "adam" and compiled and kernels_available() else OPTIMIZERS[name]
    try:
        return klass(params, lr=lr, weight_decay=weight_decay, fused=True)
    except (TypeError, RuntimeError):
        return klass(params, lr=lr, weight_decay=weight_decay)
