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


def _sqrt(x: torch.Tensor) -> torch.Tensor:
    """sqrt with the same values and a zero (not infinite) derivative at 0.

    A row that no batch has touched yet has a zero second moment and a zero gradient; its
    simulated update is exactly 0 and so is its true derivative, but autograd's sqrt'(0) = inf
    times 0 would give NaN and poison Λ.
    """
    pos = x > 0
    return torch.where(pos, torch.where(pos, x, torch.ones_like(x)).sqrt(), torch.zeros_like(x))


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
    theta = param.detach() if rows is None else param.detach()[rows]
    state = optimizer.state.get(param, {})
    pick = (lambda t: t) if rows is None else (lambda t: t[rows])
    wd = group.get("weight_decay", 0.0)
    if wd:
        grad = grad + wd * theta
    if group.get("maximize", False):
        raise ConfigError("simulated_step() does not support maximize=True optimizers.")
    if isinstance(optimizer, torch.optim.Adam) and type(optimizer) is torch.optim.Adam:
        if group.get("amsgrad", False):
            raise ConfigError("simulated_step() supports Adam without amsgrad; set amsgrad=False.")
        beta1, beta2 = group["betas"]
        step = float(state["step"]) if "step" in state else 0.0
        m = pick(state["exp_avg"]) if "exp_avg" in state else torch.zeros_like(theta)
        v = pick(state["exp_avg_sq"]) if "exp_avg_sq" in state else torch.zeros_like(theta)
        t = step + 1
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad * grad
        bias1, bias2 = 1 - beta1**t, 1 - beta2**t
        denom = (_sqrt(v) / (bias2**0.5)) + group["eps"]
        return theta - (group["lr"] / bias1) * m / denom
    if type(optimizer) is torch.optim.Adagrad:
        step = float(state["step"]) if "step" in state else 0.0
        s = pick(state["sum"]) if "sum" in state else torch.full_like(theta, group.get("initial_accumulator_value", 0.0))
        clr = group["lr"] / (1 + step * group.get("lr_decay", 0.0))
        s = s + grad * grad
        return theta - clr * grad / (_sqrt(s) + group["eps"])
    if type(optimizer) is torch.optim.SGD:
        if group.get("momentum", 0.0) or group.get("nesterov", False):
            raise ConfigError("simulated_step() supports SGD without momentum; set momentum=0.")
        return theta - group["lr"] * grad
    raise ConfigError(f"simulated_step() supports SGD, Adam and Adagrad; got {type(optimizer).__name__}.")
