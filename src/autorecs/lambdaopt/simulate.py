"""One optimizer step, simulated as a differentiable function of the gradient.

λOpt (Chen et al., KDD 2019, Section 3.2) needs the *assumed* next parameters
Θ̄_{t+1} = f(Θ_t, g) of the optimizer actually in use, differentiable in the
gradient g (which depends on Λ through the penalty).  :func:`simulated_step`
reproduces PyTorch's own update rules for SGD, Adam and Adagrad exactly
(tested against ``optimizer.step()``), reading but never writing the real
optimizer's state:

- SGD (no momentum):  θ̄ = θ − lr·g
- Adam: m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  t = step + 1;
  θ̄ = θ − (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + ε)
  (ε *outside* the square root, as in PyTorch; the paper's eq. 12 writes it inside)
- Adagrad: s = s + g²;  θ̄ = θ − lr/(1+(t−1)·lr_decay) · g / (sqrt(s) + ε)

Only the given rows are simulated: every rule is element-wise, so the rows a
validation batch touches are exactly those of the full update.  Weight decay
is added to the gradient as PyTorch does (g + wd·θ).
"""

from __future__ import annotations

import torch

from ..exceptions import ConfigError
from ..optim import is_adam


class _AdamStep(torch.autograd.Function):
    """θ̄ = θ − (lr/b1)·m/(sqrt(v)/sqrt(b2) + ε) as a function of g, with its derivative in closed form.

    One fused node instead of a dozen: the Λ-step's cost is dominated by such element-wise
    passes over the simulated rows.  With D = sqrt(v)/sqrt(b2) + ε,
    d θ̄/dg = −(lr/b1)·[(1−β1)·D − m·(1−β2)·g/(sqrt(b2)·sqrt(v))] / D², and since
    v = β2·v0 + (1−β2)·g² and m = β1·m0 + (1−β1)·g the bracket is
    (1−β1)·ε + [(1−β1)·β2·v0 − β1·(1−β2)·m0·g] / (sqrt(b2)·sqrt(v)): written so, without the
    cancellation of two nearly equal terms (at the first step the derivative is ~ε/g², which the
    difference form computes from float32 noise).  The second term is 0 where v = 0 (then g = 0:
    a row no batch has touched yet; autograd's sqrt′(0) = ∞ would give NaN).
    """

    @staticmethod
    def forward(ctx, grad, theta, m0, v0, beta1, beta2, lr, eps, t):
        bias1, bias2 = 1 - beta1**t, 1 - beta2**t
        m = m0 * beta1 + grad * (1 - beta1)
        root = (v0 * beta2 + grad * grad * (1 - beta2)).sqrt()
        denom = root / (bias2**0.5) + eps
        ctx.save_for_backward(grad, m0, v0, root, denom)
        ctx.consts = (beta1, beta2, lr / bias1, bias2**0.5, eps)
        return theta - (lr / bias1) * m / denom

    @staticmethod
    def backward(ctx, out):
        grad, m0, v0, root, denom = ctx.saved_tensors
        beta1, beta2, step, c2, eps = ctx.consts
        rest = ((1 - beta1) * beta2 * v0 - beta1 * (1 - beta2) * m0 * grad) / (c2 * root.clamp_min(torch.finfo(root.dtype).tiny))
        bracket = (1 - beta1) * eps + torch.where(root > 0, rest, 0.0)
        return out * (-step) * bracket / (denom * denom), None, None, None, None, None, None, None, None


class _AdagradStep(torch.autograd.Function):
    """θ̄ = θ − clr·g/(sqrt(s0 + g²) + ε), derivative in closed form without cancellation, as above:
    −clr·(ε + s0/sqrt(s0 + g²)) / (sqrt(s0 + g²) + ε)² (the second term 0 where s0 + g² = 0)."""

    @staticmethod
    def forward(ctx, grad, theta, s0, clr, eps):
        root = (s0 + grad * grad).sqrt()
        denom = root + eps
        ctx.save_for_backward(s0, root, denom)
        ctx.consts = (clr, eps)
        return theta - clr * grad / denom

    @staticmethod
    def backward(ctx, out):
        s0, root, denom = ctx.saved_tensors
        clr, eps = ctx.consts
        bracket = eps + torch.where(root > 0, s0 / root.clamp_min(torch.finfo(root.dtype).tiny), 0.0)
        return out * (-clr) * bracket / (denom * denom), None, None, None, None


def _group(optimizer: torch.optim.Optimizer, param: torch.Tensor) -> dict:
    for group in optimizer.param_groups:
        if any(p is param for p in group["params"]):
            return group
    raise ConfigError("simulated_step(): the parameter is not managed by this optimizer; pass the model's own optimizer.")


def simulated_step(optimizer: torch.optim.Optimizer, param: torch.Tensor, grad: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
    """θ̄ for ``param[rows]`` (all rows when ``rows`` is None) after one step with gradient ``grad``.

    ``grad`` has the shape of ``param[rows]`` and may carry an autograd graph (e.g.
    through Λ); the result is differentiable in it.  The optimizer's state is copied
    (read-only); the real parameters and state are untouched.
    """
    group = _group(optimizer, param)
    theta = param.detach() if rows is None else param.detach().index_select(0, rows)
    state = optimizer.state.get(param, {})
    pick = (lambda t: t) if rows is None else (lambda t: t.index_select(0, rows))  # index_select: faster than t[rows]
    wd = group.get("weight_decay", 0.0)
    if wd:
        grad = grad + wd * theta
    if group.get("maximize", False):
        raise ConfigError("simulated_step() does not support maximize=True optimizers.")
    if wd and group.get("decoupled_weight_decay", False):
        raise ConfigError("simulated_step() supports weight decay added to the gradient (Adam), not decoupled (AdamW); "
                          "set decoupled_weight_decay=False or weight_decay=0.")
    if is_adam(optimizer):
        if group.get("amsgrad", False):
            raise ConfigError("simulated_step() supports Adam without amsgrad; set amsgrad=False.")
        beta1, beta2 = group["betas"]
        step = float(state["step"]) if "step" in state else 0.0
        m = pick(state["exp_avg"]) if "exp_avg" in state else torch.zeros_like(theta)
        v = pick(state["exp_avg_sq"]) if "exp_avg_sq" in state else torch.zeros_like(theta)
        return _AdamStep.apply(grad, theta, m, v, beta1, beta2, group["lr"], group["eps"], step + 1)
    if type(optimizer) is torch.optim.Adagrad:
        step = float(state["step"]) if "step" in state else 0.0
        s = pick(state["sum"]) if "sum" in state else torch.full_like(theta, group.get("initial_accumulator_value", 0.0))
        clr = group["lr"] / (1 + step * group.get("lr_decay", 0.0))
        return _AdagradStep.apply(grad, theta, s, clr, group["eps"])
    if type(optimizer) is torch.optim.SGD:
        if group.get("momentum", 0.0) or group.get("nesterov", False):
            raise ConfigError("simulated_step() supports SGD without momentum; set momentum=0.")
        return theta - group["lr"] * grad
    raise ConfigError(f"simulated_step() supports SGD, Adam and Adagrad; got {type(optimizer).__name__}.")
