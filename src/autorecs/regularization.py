"""L2 regularization as a component the models ask for their penalty.

A :class:`Regularizer` holds one coefficient tensor for user rows and one for
item rows.  Their shape sets the granularity, so learned fine-grained
coefficients (λOpt) plug in without touching the models:

=========  ===============  =====================================
shape      granularity      meaning
=========  ===============  =====================================
``()``     global           one λ for every row and dimension
``(K,)``   D                one λ per latent dimension
``(n, 1)`` U or I           one λ per user (item) row
``(n, K)`` DU / DI          one λ per row and dimension
=========  ===============  =====================================

Convention: the penalty is charged per occurrence, i.e. for a mini-batch it is
``Σ_(u,i) in batch λ_u ⊙ p_u² + λ_i ⊙ q_i²`` (biases with the row's mean λ),
added to the *summed* batch loss.  Over an epoch this is the objective
``Σ_(u,i)∈T loss + Σ_u n_u λ_u ||p_u||² + Σ_i n_i λ_i ||q_i||²`` whose exact
minimiser the ALS solvers compute (frequency-weighted ridge), so a λ means the
same for every solver.
"""

from __future__ import annotations

import torch

from .exceptions import check_param


def _as_lambda(value, name: str) -> torch.Tensor:
    t = torch.as_tensor(value, dtype=torch.float32)
    check_param(bool(torch.all(t >= 0)) and bool(torch.all(torch.isfinite(t))), "Regularizer", name, value if t.dim() == 0 else f"tensor of shape {tuple(t.shape)}", "finite and >= 0", "Use 0 for no regularization.")
    return t


class Regularizer:
    """Per-occurrence L2 penalty for user and item parameters (see module docs)."""

    def __init__(self, user=0.0, item=0.0, bias=None):
        self.user = _as_lambda(user, "user")
        self.item = _as_lambda(item, "item")
        #: λ for bias terms; None = the mean of the row's factor λ.
        self.bias = None if bias is None else _as_lambda(bias, "bias")

    def _rows(self, side: str, rows: torch.Tensor | None) -> torch.Tensor:
        lam = self.user if side == "user" else self.item
        if lam.dim() == 2 and rows is not None:
            return lam[rows]
        return lam

    def penalty(self, side: str, rows: torch.Tensor, factors: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        """Sum of ``λ ⊙ factors²`` (plus ``λ̄ · bias²``) over the given rows of ``side`` ("user" or "item")."""
        lam = self._rows(side, rows)
        total = (lam * factors.pow(2)).sum() if lam.dim() else lam * factors.pow(2).sum()
        if bias is not None:
            lam_b = self._bias_rows(lam)
            total = total + (lam_b * bias.pow(2)).sum()
        return total

    def ridge(self, side: str, n_rows: int, factors: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-row ridge diagonals ``(n_rows, K)`` for factors and ``(n_rows,)`` for biases, before frequency weighting."""
        lam = self._rows(side, None)
        diag = lam.expand(n_rows, factors) if lam.dim() == 2 else lam.expand(factors).expand(n_rows, factors)
        return diag, self._bias_rows(diag).expand(n_rows)

    def _bias_rows(self, lam: torch.Tensor) -> torch.Tensor:
        if self.bias is not None:
            return self.bias
        return lam.mean(-1) if lam.dim() == 2 else lam.mean()

    def to_dict(self) -> dict:
        as_py = lambda t: float(t) if t.dim() == 0 else t.tolist()  # noqa: E731
        return {"user": as_py(self.user), "item": as_py(self.item), "bias": None if self.bias is None else as_py(self.bias)}
