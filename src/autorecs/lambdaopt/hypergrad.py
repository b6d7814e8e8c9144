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

from ..regularization import Regularizer
from .granularity import lambda_shapes
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
    # detached views, not copies: nothing writes to the tables during the Λ-step
    leaves = {k: tables[k].detach().requires_grad_(True) for k in names}
    penalty = penalty_fn(leaves)
    pgrads = torch.autograd.grad(penalty, [leaves[k] for k in names], create_graph=True, allow_unused=True)
    new = {}
    for k, pg in zip(names, pgrads):
        rows = val_rows.get(k)  # None: the whole tensor (e.g. a global bias)
        g = data_grads[k] if rows is None else data_grads[k][rows]
        if pg is not None:
            g = g + (pg if rows is None else pg[rows])
        new[k] = simulated_step(optimizer, tables[k], g, rows)
    return val_loss_fn(new)


class LambdaLearner:
    """The learned Λ of one model: tensors of the granularity's shapes, their optimizer (Adam or SGD),
    gradient clipping and the projection Λ ≥ 0 (paper Section 3.2, eq. 8, slack version)."""

    def __init__(self, granularity: str, n_users: int, n_items: int, factors: int, *, init_user: float, init_item: float,
                 lr: float, clip: float, like: Regularizer, optimizer: str = "adam"):
        su, si = lambda_shapes(granularity, n_users, n_items, factors)
        self.user = torch.full(su, float(init_user), requires_grad=True)
        self.item = torch.full(si, float(init_item), requires_grad=True)
        self.clip = clip
        from ..models._optim import make_optimizer

        self._opt = make_optimizer(optimizer, [self.user, self.item], lr=lr)  # fused kernels where available
        # a regularizer whose Λ are the leaves above (autograd flows into them); same bias rule, exponent and counts
        self._graph = Regularizer(0.0, 0.0, bias=like.bias, exponent=like.exponent)
        self._graph._counts = like._counts
        self._graph.user, self._graph.item = self.user, self.item

    def current(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Λ_t, detached (for the real Θ-step)."""
        return self.user.detach().clone(), self.item.detach().clone()

    def step(self, optimizer, tables, penalty_fn, val_rows, val_loss_fn) -> float:
        """One Λ-step; ``tables[k].grad`` must hold the unregularized data gradient.

        ``penalty_fn(reg, leaves)`` is the batch penalty (scaled as in the real loss) under ``reg``.
        """
        data_grads = {k: t.grad.detach() for k, t in tables.items()}  # read (rows gathered), never written, before the real step
        loss = validation_loss_after_step(optimizer, tables, data_grads, lambda L: penalty_fn(self._graph, L), val_rows, val_loss_fn)
        g_user, g_item = torch.autograd.grad(loss, [self.user, self.item], allow_unused=True)
        self.user.grad = torch.zeros_like(self.user) if g_user is None else g_user.clamp(-self.clip, self.clip)
        self.item.grad = torch.zeros_like(self.item) if g_item is None else g_item.clamp(-self.clip, self.clip)
        self._opt.step()
        with torch.no_grad():
            self.user.clamp_(min=0.0)
            self.item.clamp_(min=0.0)
        return float(loss.detach())
