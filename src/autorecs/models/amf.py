"""AMF: BPR-MF with adversarial personalized ranking (APR; He et al., SIGIR 2018).

A baseline of the λOpt paper (Table 2), used as it was there: BPR-MF trained to convergence,
then adversarial training.  Each mini-batch adds the BPR loss under the worst-case
perturbation of the embedding tables within an ε-ball per row (the fast-gradient approximation):

    Δ = ε · Γ / ||Γ||  (row-wise),   Γ = ∂ l_BPR(batch) / ∂(P, Q)
    loss = l_BPR(Θ) + λ_adv · l_BPR(Θ + Δ) + per-occurrence L2 (as BPRMF)

Δ is a constant (no gradient through it), normalized per table row as in the authors' code
(rows the batch does not touch get Δ = 0).  Defaults ε = 0.5, λ_adv = 1 are the APR paper's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..exceptions import check_float
from ..training import BatchLoss, minibatch_epoch
from .bpr import PretrainedBPR, PretrainedBPRConfig


@dataclass
class AMFConfig(PretrainedBPRConfig):
    """Hyperparameters of :class:`AMF` (BPRMF's plus the adversary's)."""

    adv_eps: float = 0.5
    """ε, the norm of each row's perturbation."""
    adv_reg: float = 1.0
    """λ_adv, the weight of the adversarial BPR loss."""

    def validate(self) -> None:
        super().validate()
        check_float("AMF", "adv_eps", self.adv_eps)
        check_float("AMF", "adv_reg", self.adv_reg)


class AMF(PretrainedBPR):
    """Adversarial matrix factorization (see module docs)."""

    name = "amf"
    Config = AMFConfig

    def _bpr_logits(self, P, Q, u, i, j) -> torch.Tensor:
        x = (P[u] * (Q[i] - Q[j])).sum(1)
        if self.config.item_bias:
            x = x + self.bi[i] - self.bi[j]
        return x

    def adversarial_perturbation(self, u, i, j, data: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(Δ_P, Δ_Q) for one batch of triples: ε times the row-normalized gradient of its BPR loss (constants).

        ``data``: that loss if already computed (its graph is kept for the caller's backward)."""
        if data is None:
            data = -F.logsigmoid(self._bpr_logits(self.P, self.Q, u, i, j)).sum()
        gP, gQ = torch.autograd.grad(data, [self.P, self.Q], retain_graph=True)
        return self.config.adv_eps * F.normalize(gP, dim=1), self.config.adv_eps * F.normalize(gQ, dim=1)

    def _train_epoch(self) -> dict[str, float]:
        c = self.config
        tables = self._tables()

        def batch_loss(idx, rows, lambda_due):
            u, i, j = self._batch_triples(rows)
            data = -F.logsigmoid(self._bpr_logits(self.P, self.Q, u, i, j)).sum()
            adv = torch.zeros((), dtype=data.dtype)
            if c.adv_reg > 0 and c.adv_eps > 0:
                dP, dQ = self.adversarial_perturbation(u, i, j, data)
                adv = -F.logsigmoid(self._bpr_logits(self.P + dP, self.Q + dQ, u, i, j)).sum()
            penalty = self._batch_penalty(self._reg, tables, u, i, j)
            # "loss" is the objective trained (BPR + adv_reg · adversarial + penalty); "adv_loss" the adversarial term
            return BatchLoss(data + c.adv_reg * adv, penalty, extra={"adv_loss": adv})

        return minibatch_epoch(len(self._u), c.batch_size, batch_loss, self._opt, generator=self._tgen, begin=self._epoch_triples)
