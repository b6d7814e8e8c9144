"""The Λ-step of λOpt: validation loss after a simulated optimizer step, as a function of Λ.

With Θ_t the parameters before the real step, g_data = ∂l̃_{S_T}/∂Θ_t the gradient
of the *unregularized* training-batch loss, and Ω(Θ | Λ) the batch penalty exactly as
the real loss charges it (same rows, same 1/batch scaling, counted once):

    ḡ = g_data + ∂Ω/∂Θ_t            (paper eq. 4-5; depends on Λ)
    Θ̄_{t+1} = f(Θ_t, ḡ)              (the real optimizer's rule, :func:`simulated_step`)
    L(Λ) = l_{S_V}(Θ̄_{t+1})           (validation loss on a validation batch)

``G = ∂L/∂Λ`` then comes from autograd.  Only the rows the validation batch reads are
simulated, and ∂Ω/∂Θ at them comes in closed form from the regularizer (differentiable in
Λ, no second backward pass): no step of the Λ update touches a whole parameter table.
"""

from __future__ import annotations

from typing import Callable

import torch

from ..regularization import Regularizer, row_slots
from .granularity import lambda_shapes
from .simulate import simulated_step


def rows_gradient(index: torch.Tensor, grad: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Per-occurrence gradients ``grad`` (one per entry of ``index``, e.g. of ``P[u]``) summed onto
    the sorted unique ``rows``; occurrences of other rows are dropped.  Shape ``(len(rows), ...)``."""
    out = grad.new_zeros((len(rows) + 1,) + tuple(grad.shape[1:]))  # the last row collects the other rows
    return out.index_add_(0, row_slots(rows, index), grad)[:-1]


def validation_loss_after_step(
    optimizer: torch.optim.Optimizer,
    tables: dict[str, torch.nn.Parameter],
    data_grads: dict[str, torch.Tensor],
    penalty_grads: dict[str, torch.Tensor],
    val_rows: dict[str, torch.Tensor | None],
    val_loss_fn: Callable[[dict[str, torch.Tensor]], torch.Tensor],
) -> torch.Tensor:
    """L(Λ) as above; differentiable in every Λ tensor that ``penalty_grads`` depend on.

    ``tables`` are the model's parameter tables (Θ_t, unchanged); ``val_rows[name]`` the
    sorted unique rows of each table the validation loss reads (None: the whole tensor,
    e.g. a global bias); ``data_grads[name]`` the gradient of the unregularized batch loss
    at those rows (shape of ``tables[name][rows]``; :func:`rows_gradient` builds it from
    per-occurrence gradients); ``penalty_grads[name]`` the gradient of the batch penalty at
    those rows as a function of Λ (:meth:`~autorecs.regularization.Regularizer.penalty_grad`;
    absent = no penalty); ``val_loss_fn(new)`` the validation loss from ``new[name]`` =
    Θ̄_{t+1}[val_rows[name]].  Nothing here touches a whole table or needs a second
    backward pass, so a Λ-step costs in proportion to the batch, not to the number of users.
    """
    new = {}
    for k in tables:
        g = data_grads[k] if k not in penalty_grads else data_grads[k] + penalty_grads[k]
        new[k] = simulated_step(optimizer, tables[k], g, val_rows.get(k))
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
        from ..optim import make_optimizer

        self._opt = make_optimizer(optimizer, [self.user, self.item], lr=lr)  # fused kernels where available
        # a regularizer whose Λ are the leaves above (autograd flows into them); same bias rule, exponent and counts
        self._graph = Regularizer(0.0, 0.0, bias=like.bias, exponent=like.exponent)
        self._graph._counts = like._counts
        self._graph.user, self._graph.item = self.user, self.item

    def current(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Λ_t, detached (for the real Θ-step)."""
        return self.user.detach().clone(), self.item.detach().clone()

    def step(self, optimizer, tables, data_grads, penalty_grads_fn, val_rows, val_loss_fn) -> float:
        """One Λ-step at Θ_t (before the real step); arguments as :func:`validation_loss_after_step`,
        except ``penalty_grads_fn(reg)``: the penalty gradients (scaled as in the real loss) under ``reg``.
        """
        loss = validation_loss_after_step(optimizer, tables, data_grads, penalty_grads_fn(self._graph), val_rows, val_loss_fn)
        g_user, g_item = torch.autograd.grad(loss, [self.user, self.item], allow_unused=True)
        self.apply(torch.zeros_like(self.user) if g_user is None else g_user.clamp(-self.clip, self.clip),
                   torch.zeros_like(self.item) if g_item is None else g_item.clamp(-self.clip, self.clip))
        return float(loss.detach())

    def apply(self, g_user: torch.Tensor, g_item: torch.Tensor) -> None:
        """Λ_{t+1} from the clipped gradients ``g_user``, ``g_item`` (the Λ tensors' shapes): the Λ
        optimizer's step, then the projection Λ ≥ 0 (in place: views of Λ see the new values)."""
        self.user.grad, self.item.grad = g_user, g_item
        self._opt.step()
        with torch.no_grad():
            self.user.clamp_(min=0.0)
            self.item.clamp_(min=0.0)


def rating_lambda_step(learner: LambdaLearner, optimizer, tables: dict, grads: dict, u, i, val, interact) -> float:
    """The Λ-step of a rating model μ + b_u + b_i + interact(p_u, q_i) with the validation squared error.

    ``tables``: the trained parameters among ``P``, ``Q`` and (with biases) ``mu``, ``bu``, ``bi``;
    ``grads``: the batch's data gradient, at ``mu`` (whole) and at the gathered rows ``P[u]``, ``Q[i]``,
    ``bu[u]``, ``bi[i]`` (same keys); ``val``: the validation batch (users, items, ratings);
    ``interact(p, q)``: the model's interaction term for aligned rows.  Untrained biases count as constants.
    """
    vu, vi, vr = val
    urows, uinv = torch.unique(vu, return_inverse=True)
    irows, iinv = torch.unique(vi, return_inverse=True)
    biased = "bu" in tables
    side = {"P": ("user", u, urows), "bu": ("user", u, urows), "Q": ("item", i, irows), "bi": ("item", i, irows)}
    now = {k: tables[k].detach().index_select(0, side[k][2]) for k in ("P", "Q", "bu", "bi") if k in tables}

    def val_loss(new):
        bias = new["mu"] + new["bu"].index_select(0, uinv) + new["bi"].index_select(0, iinv) if biased else 0.0
        return (bias + interact(new["P"].index_select(0, uinv), new["Q"].index_select(0, iinv)) - vr).pow(2).mean()

    def penalty_grads(reg):
        gp, gbu = reg.penalty_grad("user", u, urows, now["P"], now.get("bu"))
        gq, gbi = reg.penalty_grad("item", i, irows, now["Q"], now.get("bi"))
        out = {"P": gp, "Q": gq, **({"bu": gbu, "bi": gbi} if biased else {})}
        return {k: v / len(u) for k, v in out.items()}

    rows = {k: (None if k == "mu" else side[k][2]) for k in tables}
    data = {k: (grads[k] if k == "mu" else rows_gradient(side[k][1], grads[k], side[k][2])) for k in tables}
    return learner.step(optimizer, tables, data, penalty_grads, rows, val_loss)
