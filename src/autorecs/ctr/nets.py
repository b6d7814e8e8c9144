"""Neural click-through models on encoded fields, one shared body.

``FieldNet`` sums up to three parts over field embeddings:

* a *wide* part: one weight per code of the wide fields (a logistic regression),
* a second-order *FM* part over the deep fields' embeddings,
* a *deep* part: an MLP over the concatenated embeddings.

The named models are choices of parts: ``deep`` (MLP only), ``wide-deep``
(Wide&Deep: wide part over the given wide fields, e.g. originals plus AutoCross
crosses, deep part over the original fields), ``deepfm`` (first-order wide part
+ FM + MLP, all over the same fields).  Training: Adam on mini-batches of the
log loss, early stopping on validation AUC with the best epoch restored (the
library's :func:`~autorecs.training.train_loop`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .._rng import as_generator, torch_generator
from ..exceptions import NotFittedError, build_config, check_param
from ..metrics.classification import auc
from ..optim import make_optimizer
from ..training import BatchLoss, minibatch_epoch, train_loop

KINDS = ("deep", "wide-deep", "deepfm")


class FieldNet(nn.Module):
    def __init__(self, deep_cards: list[int], wide_cards: list[int], dim: int, hidden: tuple[int, ...], fm: bool, dropout: float):
        super().__init__()
        self.register_buffer("deep_off", torch.tensor(np.r_[0, np.cumsum(deep_cards)[:-1]], dtype=torch.long))
        self.register_buffer("wide_off", torch.tensor(np.r_[0, np.cumsum(wide_cards)[:-1]] if wide_cards else [], dtype=torch.long))
        self.emb = nn.Embedding(int(sum(deep_cards)), dim)
        nn.init.normal_(self.emb.weight, std=0.01)
        self.wide = nn.Embedding(int(sum(wide_cards)), 1) if wide_cards else None
        if self.wide is not None:
            nn.init.zeros_(self.wide.weight)
        self.fm = fm
        layers, width = [], len(deep_cards) * dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        self.mlp = nn.Sequential(*layers, nn.Linear(width, 1)) if hidden else None
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, deep: torch.Tensor, wide: torch.Tensor | None) -> torch.Tensor:
        z = self.bias.expand(deep.shape[0])
        if self.wide is not None:
            z = z + self.wide(wide + self.wide_off).sum((1, 2))
        e = self.emb(deep + self.deep_off)
        if self.fm:
            z = z + 0.5 * (e.sum(1).pow(2) - e.pow(2).sum(1)).sum(1)
        if self.mlp is not None:
            z = z + self.mlp(e.flatten(1)).squeeze(1)
        return z


@dataclass
class NetConfig:
    dim: int = 16
    hidden: tuple[int, ...] = (256, 128)
    dropout: float = 0.2
    lr: float = 1e-3
    weight_decay: float = 1e-6
    batch_size: int = 512
    max_epochs: int = 50
    patience: int = 3
    seed: int = 0


class CTRNet:
    """``CTRNet(kind, **NetConfig fields).fit(codes, cards, y, valid_codes, valid_y, wide=...) -> self``.

    ``deep_fields`` / ``wide_fields`` are column indices of ``codes``; by default
    every column is deep, and for ``wide-deep`` every column is also wide.
    """

    def __init__(self, kind: str = "deep", progress: bool = False, **config):
        check_param(kind in KINDS, "CTRNet", "kind", kind, f"one of {list(KINDS)}")
        self.kind, self.progress = kind, progress
        self.config = build_config(NetConfig, config, "CTRNet")
        self.net = None

    def fit(self, codes, cards, y, valid_codes, valid_y, *, deep_fields=None, wide_fields=None) -> "CTRNet":
        with torch.random.fork_rng(devices=[]):  # initialisation and dropout draw from the global stream: seed a private copy
            return self._fit(codes, cards, y, valid_codes, valid_y, deep_fields=deep_fields, wide_fields=wide_fields)

    def _fit(self, codes, cards, y, valid_codes, valid_y, *, deep_fields=None, wide_fields=None) -> "CTRNet":
        cfg = self.config
        rng = as_generator(cfg.seed)
        torch.manual_seed(int(rng.integers(2**31)))
        n_fields = codes.shape[1]
        self.deep_fields_ = list(range(n_fields)) if deep_fields is None else list(deep_fields)
        if self.kind == "deep":
            self.wide_fields_ = []
        elif self.kind == "deepfm":
            self.wide_fields_ = list(self.deep_fields_)
        else:
            self.wide_fields_ = list(range(n_fields)) if wide_fields is None else list(wide_fields)
        self.net = FieldNet([cards[i] for i in self.deep_fields_], [cards[i] for i in self.wide_fields_], cfg.dim,
                            tuple(cfg.hidden), self.kind == "deepfm", cfg.dropout)
        self._opt = make_optimizer("adam", self.net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self._x = torch.as_tensor(np.asarray(codes), dtype=torch.long)
        self._y = torch.as_tensor(np.asarray(y), dtype=torch.float32)
        self._gen = torch_generator(rng)
        xv, yv = torch.as_tensor(np.asarray(valid_codes), dtype=torch.long), np.asarray(valid_y)
        self.history_ = train_loop(
            self, max_epochs=cfg.max_epochs, validate=lambda: {"valid_auc": auc(self._logits(xv), yv)},
            monitor="valid_auc", mode="max", patience=cfg.patience, progress=self.progress, description=self.kind,
            step_hint=f"lr={cfg.lr}",
        )
        del self._x, self._y
        return self

    def _split(self, x: torch.Tensor):
        return x[:, self.deep_fields_], (x[:, self.wide_fields_] if self.wide_fields_ else None)

    def _train_epoch(self) -> dict[str, float]:
        self.net.train()

        def batch_loss(idx, rows, lambda_due):
            logits = self.net(*self._split(self._x[idx]))
            data = nn.functional.binary_cross_entropy_with_logits(logits, self._y[idx], reduction="sum")
            return BatchLoss(data, torch.zeros((), dtype=data.dtype))

        return minibatch_epoch(len(self._y), self.config.batch_size, batch_loss, self._opt, generator=self._gen)

    def _get_state(self):
        return {k: v.detach().clone() for k, v in self.net.state_dict().items()}

    def _set_state(self, state) -> None:
        self.net.load_state_dict(state)

    @torch.no_grad()
    def _logits(self, x: torch.Tensor) -> np.ndarray:
        self.net.eval()
        return np.concatenate([self.net(*self._split(x[s:s + 65536])).numpy() for s in range(0, len(x), 65536)])

    def predict_proba(self, codes) -> np.ndarray:
        if self.net is None:
            raise NotFittedError(f"This CTRNet({self.kind!r}) is not fitted; call fit(...) first.")
        return 1 / (1 + np.exp(-self._logits(torch.as_tensor(np.asarray(codes), dtype=torch.long))))
