"""The Λ-step of λOpt: validation loss after a simulated optimizer step, as a function of Λ.

With Θ_t the parameters before the real step, g_data = ∂l̃_{S_T}/∂Θ_t the gradient
of the *unregularized* training-batch loss, and Ω(Θ | Λ) the batch penalty exactly as
the real loss charges it (same rows, same 1/batch scaling, counted once):

    ḡ = g_data + ∂Ω/∂Θ_t            (paper eq. 4-5; depends on Λ)
    Θ̄_{t+1} = f(Θ_t, ḡ)              (the real optimizer's rule, :func:`simulated_step`)
    L(Λ) = l_{S_V}(Θ̄_{t+1})           (validation loss on a validation batch)

``G = ∂L/∂Λ`` then comes from autograd.  Only the rows the validation batch reads are
simulated.
"""

from __future__ import annotations

from typing import Callable

import torch

from .simulate import simulated_step


def validation_loss_after_step(
    optimizer: torch.optim.Optimizer,
    tables: dict[str, torch.nn.Parameter],
    data_grads: dict[str, torch.Tensor],
    penalty_fn: Callable[[dict[str, torch.Tensor]], torch.Tensor],
    val_rows: dict[str, torch.Tensor],
    val_loss_fn: Callable[[dict[str, torch.Tensor]], torch.Tensor],
) -> torch.Tensor:
    """L(Λ) as above; differentiable in every Λ tensor that ``penalty_fn`` uses.

    ``tables`` are the model's parameter tables (Θ_t, unchanged); ``data_grads`` their
    full-shape gradients of the unregularized batch loss; ``penalty_fn(leaves)`` returns
    the batch penalty computed from ``leaves`` (copies of the tables); ``val_rows[name]``
    the rows of each table the validation loss reads; ``val_loss_fn(new)`` the
    validation loss from ``new[name]`` = Θ̄_{t+1}[val_rows[name]].
    """
    names = list(tables)
    leaves = {k: tables[k].detach().clone().requires_grad_(True) for k in names}
    penalty = penalty_fn(leaves)
    pgrads = torch.autograd.grad(penalty, [leaves[k] for k in names], create_graph=True, allow_unused=True)
    new = {}
    for k, pg in zip(names, pgrads):
        rows = val_rows[k]
        g = data_grads[k][rows]
        if pg is not None:
            g = g + pg[rows]
        new[k] = simulated_step(optimizer, tables[k], g, rows)
    return val_loss_fn(new)
