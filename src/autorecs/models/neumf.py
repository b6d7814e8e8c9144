"""NeuMF: neural matrix factorization (He et al., WWW 2017) for top-K ranking.

A baseline of the λOpt paper (Table 2), set up as it was there: the GMF part starts from a
BPR-MF trained to convergence, then the whole model trains with an MLP tower beside it:

    x_ui = h_gᵀ (p_u ⊙ q_i) + h_mᵀ MLP([p'_u ; q'_i]) + b_i

``mlp_layers`` ReLU layers halve the width from 2K; h_g starts at 1 and h_m at 0, so training
starts exactly at the pre-trained MF's scores.  DECISION: trained with the BPR loss and the
same negative sampling as BPRMF (NeuMF's paper uses log loss on sampled negatives), so the
comparison isolates the interaction function; both embedding tables get BPRMF's
per-occurrence L2 penalty, the MLP weights none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..exceptions import check_int
from ..training import BatchLoss, minibatch_epoch
from ..optim import make_optimizer
from .bpr import PretrainedBPR, PretrainedBPRConfig

#: user x item x hidden cells per scoring chunk (float32)
_SCORE_CELLS = 8_000_000


@dataclass
class NeuMFConfig(PretrainedBPRConfig):
    """Hyperparameters of :class:`NeuMF` (BPRMF's plus the MLP depth)."""

    mlp_layers: int = 2
    """Hidden ReLU layers of the MLP tower (width 2K, K, K/2, ...; at least 1 unit)."""

    def validate(self) -> None:
        super().validate()
        check_int("NeuMF", "mlp_layers", self.mlp_layers)


class NeuMF(PretrainedBPR):
    """GMF + MLP towers on BPR (see module docs)."""

    name = "neumf"
    Config = NeuMFConfig

    def _init_params(self, rng) -> None:
        super()._init_params(rng)  # P, Q, bi (pre-trained when asked) and their optimizer
        c, g = self.config, self._tgen
        self.Pm = torch.nn.Parameter(torch.randn(len(self.user_vocab_), c.factors, generator=g) * c.init_std)
        self.Qm = torch.nn.Parameter(torch.randn(len(self.item_vocab_), c.factors, generator=g) * c.init_std)
        widths = [2 * c.factors] + [max(c.factors // 2**k, 1) for k in range(c.mlp_layers)]
        self.mlp = torch.nn.ModuleList()
        for a, b in zip(widths[:-1], widths[1:]):
            layer = torch.nn.Linear(a, b)
            with torch.no_grad():
                bound = 1.0 / np.sqrt(a)
                layer.weight.uniform_(-bound, bound, generator=g)
                layer.bias.zero_()
            self.mlp.append(layer)
        self.h_g = torch.nn.Parameter(torch.ones(c.factors))
        self.h_m = torch.nn.Parameter(torch.zeros(widths[-1]))
        params = [self.P, self.Q, self.Pm, self.Qm, self.h_g, self.h_m, *self.mlp.parameters()] + ([self.bi] if c.item_bias else [])
        self._opt = make_optimizer(c.optimizer, params, lr=c.learning_rate)

    def _tower(self, pm: torch.Tensor, qm: torch.Tensor) -> torch.Tensor:
        """MLP output for (..., K) user and item rows; the first layer is split so that a user
        block against all items never materialises the concatenation."""
        first = self.mlp[0]
        k = pm.shape[-1]
        h = F.relu(pm @ first.weight[:, :k].T + qm @ first.weight[:, k:].T + first.bias)
        for layer in self.mlp[1:]:
            h = F.relu(layer(h))
        return h @ self.h_m

    def _logits(self, u, i) -> torch.Tensor:
        x = (self.P[u] * self.Q[i]) @ self.h_g + self._tower(self.Pm[u], self.Qm[i])
        return x + self.bi[i] if self.config.item_bias else x

    def _train_epoch(self) -> dict[str, float]:
        def batch_loss(idx, rows, lambda_due):
            u, i, j = self._batch_triples(rows)
            data = -F.logsigmoid(self._logits(u, i) - self._logits(u, j)).sum()
            penalty = self._batch_penalty(self._reg, self._tables(), u, i, j) + self._batch_penalty(
                self._reg, {"P": self.Pm, "Q": self.Qm}, u, i, j)
            return BatchLoss(data, penalty)

        return minibatch_epoch(len(self._u), self.config.batch_size, batch_loss, self._opt, generator=self._tgen,
                               begin=self._epoch_triples)

    _STATE = ("P", "Q", "bi", "Pm", "Qm", "h_g", "h_m")

    def _get_state(self) -> dict[str, torch.Tensor]:
        state = {k: getattr(self, k).detach().clone() for k in self._STATE}
        for n, layer in enumerate(self.mlp):
            state[f"mlp{n}.weight"], state[f"mlp{n}.bias"] = layer.weight.detach().clone(), layer.bias.detach().clone()
        return state

    def _set_state(self, state) -> None:
        for k in self._STATE:
            setattr(self, k, torch.nn.Parameter(state[k].clone()))
        n_layers = sum(1 for k in state if k.endswith(".weight"))
        self.mlp = torch.nn.ModuleList()
        for n in range(n_layers):
            w, b = state[f"mlp{n}.weight"], state[f"mlp{n}.bias"]
            layer = torch.nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                layer.weight.copy_(w)
                layer.bias.copy_(b)
            self.mlp.append(layer)

    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        u = torch.from_numpy(np.asarray(users, np.int64))
        gmf = (self.P[u] * self.h_g) @ self.Q.T + self.bi[None, :]
        n_items, width = self.Qm.shape[0], self.mlp[0].weight.shape[0]
        step = max(1, _SCORE_CELLS // max(n_items * width, 1))
        mlp = torch.cat([self._tower(self.Pm[u[s : s + step], None, :], self.Qm[None, :, :]) for s in range(0, len(u), step)])
        return gmf + mlp
