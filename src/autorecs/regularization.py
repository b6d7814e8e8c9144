"""L2 regularization as a component the models ask for their penalty.

A :class:`Regularizer` holds one coefficient tensor for user rows and one for
item rows.  Their shape sets the granularity, so learned fine-grained
coefficients (λOpt) plug in without touching the models:

==========  ===============  =====================================
shape       granularity      meaning
==========  ===============  =====================================
``()``      global           one λ for every row and dimension
``(K,)``    D                one λ per latent dimension
``(n, 1)``  U or I           one λ per user (item) row
``(n, K)``  DU / DI          one λ per row and dimension
==========  ===============  =====================================

Objective.  With ``n_u`` the user's number of training interactions and
exponent ``β`` (``exponent``), the penalty in the epoch objective is

    Σ_u n_u^β λ_u ⊙ ||p_u||²  +  Σ_i n_i^β λ_i ⊙ ||q_i||²   (+ the same for biases)

added to the *summed* loss.  ``β = 1`` (the default) is the classic
per-occurrence penalty of SGD matrix factorization and of the λOpt paper: a
mini-batch is charged ``λ_u ||p_u||²`` for every row it contains.  ``β = 0`` is
the lecture's uniform penalty.  In between, rarely seen rows are regularized
relatively more.  Mini-batch solvers charge each occurrence ``n^(β−1) λ``, so
that over an epoch they minimise the same objective whose exact minimiser the
ALS solvers compute; a λ therefore means the same for every solver.

Biases use ``bias`` if given, else the mean of the row's factor λ.
"""

from __future__ import annotations

import numpy as np
import torch

from .exceptions import check_param


def row_slots(rows: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Position of each ``index`` entry in the sorted unique ``rows``, or ``len(rows)`` where absent."""
    pos = torch.searchsorted(rows, index).clamp(max=len(rows) - 1)
    return torch.where(rows.index_select(0, pos) == index, pos, len(rows))


def _as_lambda(value, name: str) -> torch.Tensor:
    t = torch.as_tensor(value)
    if not t.is_floating_point():  # plain numbers and ints: float32; float64 tensors keep their precision
        t = t.to(torch.float32)
    elif t.dtype not in (torch.float32, torch.float64):
        t = t.to(torch.float32)
    shown = value if t.dim() == 0 else f"tensor of shape {tuple(t.shape)}"
    check_param(bool(torch.all(t >= 0)) and bool(torch.all(torch.isfinite(t))), "Regularizer", name, shown, "finite and >= 0", "Use 0 for no regularization.")
    return t


class Regularizer:
    """Frequency-weighted L2 penalty for user and item parameters (see module docs)."""

    def __init__(self, user=0.0, item=0.0, bias=None, exponent: float = 1.0):
        self.user = _as_lambda(user, "user")
        self.item = _as_lambda(item, "item")
        self.bias = None if bias is None else _as_lambda(bias, "bias")
        check_param(isinstance(exponent, (int, float)) and 0 <= exponent <= 1, "Regularizer", "exponent", exponent, "a float in [0, 1]")
        self.exponent = float(exponent)
        self._counts: dict[str, torch.Tensor] = {}
        self._occurrences: dict[str, torch.Tensor] = {}  # the bound counts as given (0 stays 0)
        self._scales: dict = {}  # (side, dtype) -> (the counts it was computed from, 2·n^(β−1)): _occurrence_scale

    def bind(self, user_counts, item_counts) -> "Regularizer":
        """Give the training counts n_u, n_i (needed when ``exponent != 1`` and for :meth:`ridge`)."""
        for side, counts in (("user", user_counts), ("item", item_counts)):
            self._occurrences[side] = torch.as_tensor(np.asarray(counts, np.float64))
            self._counts[side] = self._occurrences[side].clamp(min=1.0)
        return self

    def to(self, device) -> "Regularizer":
        """Move the coefficients and counts to ``device`` (in place; returns ``self``)."""
        self.user, self.item = self.user.to(device), self.item.to(device)
        self.bias = None if self.bias is None else self.bias.to(device)
        self._counts = {k: v.to(device) for k, v in self._counts.items()}
        self._occurrences = {k: v.to(device) for k, v in self._occurrences.items()}
        return self

    def _lam(self, side: str, rows: torch.Tensor | None) -> torch.Tensor:
        lam = self.user if side == "user" else self.item
        # index_select (backward: index_add_) is several times faster than lam[rows] (backward: index_put_)
        return lam.index_select(0, rows) if (lam.dim() == 2 and rows is not None) else lam

    def _bias_lam(self, lam: torch.Tensor) -> torch.Tensor:
        if self.bias is not None:
            return self.bias
        return lam if lam.dim() == 0 else lam.mean(-1) if lam.dim() == 2 else lam.mean()

    def penalty(self, side: str, rows: torch.Tensor, factors: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        """Penalty charged to one mini-batch for the given occurrences of rows of ``side`` ("user"/"item")."""
        return self.penalty_rows(side, factors, bias, rows).sum()

    def total(self, side: str, factors: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        """The penalty of one pass over every bound occurrence, from the whole table: equal to
        ``penalty(side, rows, table[rows], ...)`` with ``rows`` each row repeated ``n_r`` times, at the
        cost of one pass over the table instead of over the occurrences."""
        n = self._occurrences[side].to(factors.dtype)
        return (n * self.penalty_rows(side, factors, bias)).sum()

    def penalty_rows(self, side: str, factors: torch.Tensor, bias: torch.Tensor | None = None,
                     rows: torch.Tensor | None = None) -> torch.Tensor:
        """The penalty one occurrence of each row is charged (``(len(factors),)``): ``factors`` (and
        ``bias``) are the rows ``rows`` of the table, or the whole table when ``rows`` is None."""
        lam = self._lam(side, rows)
        sq = factors.pow(2)
        if lam.dim() == 2:
            per_row = (lam * sq).sum(-1)
        elif lam.dim() == 1:
            per_row = sq @ lam
        else:
            per_row = lam * sq.sum(-1)
        if bias is not None:
            per_row = per_row + self._bias_lam(lam) * bias.pow(2)
        if self.exponent != 1.0:
            counts = self._counts[side] if rows is None else self._counts[side].index_select(0, rows)
            per_row = per_row * counts.to(per_row.dtype).pow(self.exponent - 1.0)
        return per_row

    def occurrence_grad(self, side: str, rows: torch.Tensor, factors: torch.Tensor,
                        bias: torch.Tensor | None = None, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Gradient of :meth:`penalty` with respect to each occurrence's gathered ``factors`` (and ``bias``):
        ``2·n^(β−1)·λ_row ⊙ θ``, one row per entry of ``rows`` (summing them onto the table rows gives
        the penalty's gradient), times ``scale`` (e.g. 1 / batch size for a mean loss: folded into the
        coefficients, not a pass of its own).  Half of ``Σ grad ⊙ θ`` is ``scale`` times the penalty.
        In ``factors``' dtype (a λ given as a float64 array included)."""
        lam = self._lam(side, rows).to(factors.dtype)
        if self.exponent != 1.0:
            count_scale = self._occurrence_scale(side, factors.dtype).index_select(0, rows)
            if scale != 1.0:
                count_scale = count_scale * scale
            coef = count_scale * lam if lam.dim() == 0 else count_scale[:, None] * lam
            g_factors = (coef[:, None] if lam.dim() == 0 else coef) * factors
            if bias is None:
                g_bias = None
            elif lam.dim() == 0 and self.bias is None:  # the factors' λ: the same coefficient
                g_bias = coef * bias
            else:
                g_bias = count_scale * self._bias_lam(lam).to(factors.dtype) * bias
        else:
            g_factors = (2.0 * scale * lam) * factors
            g_bias = None if bias is None else (2.0 * scale * self._bias_lam(lam).to(factors.dtype)) * bias
        return g_factors, g_bias

    def _occurrence_scale(self, side: str, dtype: torch.dtype) -> torch.Tensor:
        """``2·n^(β−1)`` of every row of ``side``, in ``dtype``: computed once per bound counts (a
        batch then gathers it: one kernel instead of four, which on a GPU is what a step costs)."""
        counts = self._counts[side]
        cached = self._scales.get((side, dtype))
        if cached is None or cached[0] is not counts:
            cached = self._scales[(side, dtype)] = (counts, 2.0 * counts.to(dtype).pow(self.exponent - 1.0))
        return cached[1]

    def penalty_grad(self, side: str, idx: torch.Tensor, rows: torch.Tensor, factors: torch.Tensor,
                     bias: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Gradient of ``penalty(side, idx, ...)`` with respect to the parameter rows ``rows``.

        ``rows`` are sorted, unique table rows and ``factors`` (``bias``) their current values;
        ``idx`` the batch's occurrences (ids not in ``rows`` are ignored).  Closed form,
        2·c_r·n_r^(β−1)·λ_r ⊙ θ_r with c_r the occurrences of r in ``idx``, differentiable in Λ
        (λOpt's Λ-step needs it without a second backward pass).
        """
        weight = torch.bincount(row_slots(rows, idx), minlength=len(rows) + 1)[:-1].to(factors.dtype)
        if self.exponent != 1.0:
            weight = weight * self._counts[side].index_select(0, rows).to(factors.dtype).pow(self.exponent - 1.0)
        lam = self._lam(side, rows)
        g_factors = 2.0 * weight[:, None] * lam * factors
        g_bias = None if bias is None else 2.0 * weight * self._bias_lam(lam) * bias
        return g_factors, g_bias

    def ridge(self, side: str, factors: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Ridge diagonals of the exact row solves: ``(n_rows, K)`` for factors, ``(n_rows,)`` for biases."""
        counts = self._counts[side].double()
        n_rows = len(counts)
        lam = self._lam(side, None).double()
        diag = lam.expand(n_rows, factors) if lam.dim() == 2 else lam.expand(factors).expand(n_rows, factors)
        weight = counts.pow(self.exponent)
        return diag * weight[:, None], self._bias_lam(diag).double() * weight

    def to_dict(self) -> dict:
        as_py = lambda t: float(t) if t.dim() == 0 else t.tolist()  # noqa: E731
        return {"user": as_py(self.user), "item": as_py(self.item), "bias": None if self.bias is None else as_py(self.bias), "exponent": self.exponent}
