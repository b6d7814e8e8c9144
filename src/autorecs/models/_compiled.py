"""What the compiled CPU kernels (:mod:`autorecs.kernels`) take from a model: its regularizer's
coefficients as arrays, and the switches of the compiled paths, shared by BPR-MF and biased MF."""

from __future__ import annotations

import numpy as np

from ..regularization import Regularizer


def penalty_arrays(reg: Regularizer, factors: int, n_users: int, n_items: int, learned=None) -> dict[str, np.ndarray]:
    """The penalty's coefficients as the kernels take them: ``lam_u``, ``lam_i`` as (1 or rows) x K
    float32 arrays, ``s_u``, ``s_i`` the per-row weights n^(β−1) (ones when β = 1), ``lam_bu``,
    ``lam_bi`` the biases' λ (1 or rows), or empty where it is the mean of the row's λ and follows a
    learned Λ.

    ``learned``: λOpt's :class:`~autorecs.lambdaopt.hypergrad.LambdaLearner`, whose Λ the arrays then
    view (the kernels read Λ_t as it is updated in place); else ``reg``'s fixed λ, copied."""
    live = learned is not None

    def lam2d(lam):  # scalar, per-dimension (K,), per-row (rows, 1) or (rows, K): as (1 or rows, K)
        lam = lam.detach() if live else lam.detach().float()
        a = lam.numpy().reshape(lam.shape[0] if lam.dim() == 2 else 1, -1)
        a = a if a.shape[1] == factors else np.broadcast_to(a, (len(a), factors))
        return a if live else np.ascontiguousarray(a)

    def weight(side, n):
        if reg.exponent == 1.0:
            return np.ones(n, np.float32)
        return reg._counts[side].pow(reg.exponent - 1.0).float().numpy()

    def bias(lam):  # the fixed bias λ, or the row λ's mean (empty: follow the learned Λ)
        if live and reg.bias is None:
            return np.zeros(0, np.float32)
        return reg._bias_lam(lam).detach().float().reshape(-1).numpy()

    user, item = (learned.user, learned.item) if live else (reg.user, reg.item)
    return {"lam_u": lam2d(user), "s_u": weight("user", n_users), "lam_i": lam2d(item), "s_i": weight("item", n_items),
            "lam_bu": bias(user), "lam_bi": bias(item)}


def runs_compiled(device, dtype, optimizer, lambdaopt: bool) -> bool:
    """Whether an epoch runs the compiled kernels: on the CPU in float32, and with λOpt only for the
    optimizers whose step the compiled Λ-steps simulate (Adam without amsgrad, SGD without momentum;
    weight decay added to the gradient, not decoupled; not maximizing)."""
    import torch

    from ..optim import is_adam, kernels_available

    if device.type != "cpu" or dtype != torch.float32 or not kernels_available():
        return False
    if not lambdaopt:
        return True
    group = optimizer.param_groups[0]
    if group.get("maximize") or (group.get("decoupled_weight_decay") and group.get("weight_decay")):
        return False
    if is_adam(optimizer):
        return not group["amsgrad"]
    return type(optimizer) is torch.optim.SGD and not group["momentum"] and not group.get("nesterov")


def lambda_step_buffers(learner, n_users: int, n_items: int) -> tuple[list, list, tuple, list]:
    """What a compiled Λ-step reuses from step to step: the dL/dΛ tables as (rows, columns) float32
    arrays, their views in Λ's shapes (the learner's gradients), a slot per user and item row (-1:
    none) and the rows the last step wrote (zeroed by the next: the tables stay zero elsewhere)."""
    import torch

    grads = [np.zeros((t.shape[0] if t.dim() == 2 else 1, t.shape[-1] if t.dim() else 1), np.float32)
             for t in (learner.user, learner.item)]
    as_grad = [torch.from_numpy(g).reshape(t.shape) for g, t in zip(grads, (learner.user, learner.item))]
    slots = np.full(n_users, -1, np.int64), np.full(n_items, -1, np.int64)
    return grads, as_grad, slots, [np.zeros(0, np.int64), np.zeros(0, np.int64)]


def optimizer_moments(optimizer, param, adam: bool, owner: str) -> tuple[np.ndarray, np.ndarray, float]:
    """``(m, v, t)`` of ``param`` in ``optimizer`` at step t, as arrays: zeros before its first step;
    empty for SGD (the kernels read no moments then)."""
    from ..exceptions import ConfigError

    if not any(p is param for p in optimizer.param_groups[0]["params"]):
        raise ConfigError(f"{owner}'s λOpt step: the parameters are not the optimizer's; train through fit().")
    if not adam:
        empty = np.zeros((0,) * param.dim(), np.float32) if param.dim() else np.zeros((), np.float32)
        return empty, empty, 0.0
    state = optimizer.state.get(param, {})
    if "exp_avg" not in state:  # before the first step (the first batch only)
        zeros = np.zeros(param.shape, np.float32)
        return zeros, zeros, 0.0
    return state["exp_avg"].numpy(), state["exp_avg_sq"].numpy(), float(state["step"])


class CompiledPaths:
    """The switches of a model with compiled CPU kernels and a tensor path (BPR-MF, biased MF); the model
    has ``device_``, ``P``, ``_opt`` and ``_lam_hook``."""

    #: Whether the CPU uses the compiled batch kernels (False: the tensor path, as on a GPU; for tests).
    _compiled = True
    #: Whether Adam's step on the CPU is :class:`autorecs.optim.Adam`'s compiled one (it pays where the
    #: gradient tables are reused from step to step; False: PyTorch's, as on a GPU).
    _compiled_optimizer = True
    #: This epoch's compiled Λ-step (the model's ``_compiled_lambda``), or None: the tensor path.
    _lambda_kernel = None

    def _compiles(self) -> bool:
        """Whether this epoch runs the compiled kernels (:func:`runs_compiled`)."""
        return self._compiled and runs_compiled(self.device_, self.P.dtype, self._opt, self._lam_hook is not None)
