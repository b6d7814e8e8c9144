"""One-shot proximal search of the three-way interaction function (SIF paper, Section 3.4,
with the search of Algorithm 2).

A supernet holds the three embedding tables (user, item, context), the biases, one linear
head ``w_m`` (``||w_m||₂ ≤ 1``) per operation of :data:`~autorecs.models.ops.TRIPLE_OPS` and the
architecture weights ``α`` (one per operation).  As in the matrix search
(:mod:`autorecs.sif.search`):

1. **warm-up** (``warmup_epochs``): α frozen, every training batch trains one operation drawn
   uniformly (single-path), so that every head has learned before the operations are compared;
2. then each iteration takes an **α-step on a validation batch**, the gradient of the validation
   squared error at the discrete ``ᾱ = prox_C1(α)`` (one-hot at the largest α), divided per
   operation by the RMS of its output, followed by ``prox_C2`` (clip to [0, 1]); and a **weight
   step on a training batch** with ``ᾱ`` (the shared embeddings and the selected head learn).

The α-gradient needs every operation's output but no backward pass: with the prediction
``μ + Σ b + Σ_m ᾱ_m h_m`` and ``h_m = w_mᵀ O_m(u, v, s)``, ``∂L/∂ᾱ_m = 2·mean(err · h_m)``.

Engineering choices: no element-wise transform (the three-way models of
:mod:`autorecs.models.tensor_ifc` have none, and the matrix search's transforms never won the
retraining on ml-100k); the penalty is the library's frequency-scaled L2, as in
:class:`~autorecs.models.tensor_ifc.TensorIFC`.  The winner is retrained by
:func:`autorecs.sif.pipeline.search_tensor_ifc` with λ chosen on validation.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from .._progress import progress_bar
from .._rng import as_generator, torch_generator
from ..data.tensor import TensorRatings
from ..exceptions import ConfigError, DataError, build_config, check_float, check_int, check_param, check_switches
from ..metrics.rating import rmse
from ..optim import make_optimizer
from ..training import BatchLoss, minibatch_epoch
from ..models.ops import TRIPLE_OPS, apply_triple, triple_width


@dataclass
class TensorSearchConfig:
    ops: tuple[str, ...] | None = None
    """Candidate operations (names of TRIPLE_OPS); None: all 65."""
    factors: int = 8
    biases: bool = True
    reg: float = 0.3
    reg_exponent: float = 0.6
    learning_rate: float = 0.003
    """Adam step of embeddings, biases and heads."""
    arch_lr: float = 0.01
    """Gradient step on α."""
    batch_size: int = 1024
    init_std: float = 0.1
    epochs: int = 10
    warmup_epochs: int = 3
    """Epochs (of ``epochs``) of single-path weight steps with α frozen."""

    def validate(self) -> None:
        owner = "TensorSIFSearch"
        check_switches(self, owner, cli=False)
        self.ops = tuple(TRIPLE_OPS) if self.ops is None else tuple(self.ops)
        bad = [o for o in self.ops if o not in TRIPLE_OPS]
        check_param(not bad and len(self.ops) >= 1, owner, "ops", list(self.ops), "a non-empty list of TRIPLE_OPS names",
                    "e.g. ['multiply(multiply(u,v),s)', 'max(plus(u,v),s)'].")
        for name in ("factors", "batch_size", "epochs"):
            check_int(owner, name, getattr(self, name))
        check_int(owner, "warmup_epochs", self.warmup_epochs, low=0)
        if isinstance(self.epochs, int) and self.epochs <= self.warmup_epochs:
            raise ConfigError(f"The 'epochs' parameter of {owner} must be more than the search's {self.warmup_epochs} warm-up epochs "
                              f"(warmup_epochs); got {self.epochs}. α is frozen through the warm-up, so a search that ends there "
                              "picks an operation from untrained architecture weights; give more epochs.", param="epochs", owner=owner)
        for name in ("learning_rate", "arch_lr", "init_std"):
            check_float(owner, name, getattr(self, name), low_open=True)
        check_float(owner, "reg", self.reg, fix="Use 0 for no regularization.")
        check_float(owner, "reg_exponent", self.reg_exponent, 0.0, 1.0)


class _Supernet(nn.Module):
    def __init__(self, cfg: TensorSearchConfig, shape, mean: float, gen: torch.Generator):
        super().__init__()
        k = cfg.factors
        self.ops = cfg.ops
        self.E = nn.ParameterList([nn.Parameter(torch.randn(n, k, generator=gen) * cfg.init_std) for n in shape])
        self.b = nn.ParameterList([nn.Parameter(torch.zeros(n), requires_grad=cfg.biases) for n in shape])
        self.mu = nn.Parameter(torch.tensor(mean), requires_grad=cfg.biases)
        heads = [torch.randn(triple_width(op, k), generator=gen) for op in cfg.ops]
        self.heads = nn.ParameterList([nn.Parameter(w / w.norm()) for w in heads])

    def base(self, x: torch.Tensor) -> torch.Tensor:
        return self.mu + sum(b[x[:, m]] for m, b in enumerate(self.b))

    def head(self, m: int, x: torch.Tensor) -> torch.Tensor:
        """Operation ``m``'s output ``w_mᵀ O_m(u, v, s)`` per row."""
        return apply_triple(self.ops[m], *(E[x[:, j]] for j, E in enumerate(self.E))) @ self.heads[m]

    def all_heads(self, x: torch.Tensor) -> torch.Tensor:
        e = [E[x[:, j]] for j, E in enumerate(self.E)]
        return torch.stack([apply_triple(op, *e) @ w for op, w in zip(self.ops, self.heads)], -1)


@torch.no_grad()
def alpha_gradient(net: _Supernet, x: torch.Tensor, y: torch.Tensor, selected: int) -> tuple[torch.Tensor, torch.Tensor]:
    """∂/∂ᾱ of the mean squared error of ``μ + Σ b + Σ_m ᾱ_m h_m`` at the one-hot ``ᾱ`` of ``selected``
    (= 2·mean(err·h_m) per operation), and every operation's output ``h`` (rows x operations)."""
    parts = net.all_heads(x)
    err = net.base(x) + parts[:, selected] - y
    return 2 * (err[:, None] * parts).mean(0), parts


class TensorSIFSearch:
    """``TensorSIFSearch(**TensorSearchConfig fields).fit(train, valid) -> dict`` (the winner, α, per-epoch history)."""

    def __init__(self, **params):
        self.config = build_config(TensorSearchConfig, params, "TensorSIFSearch")
        self.config.validate()

    def fit(self, train: TensorRatings, valid: TensorRatings, *, seed=0, progress: bool = True) -> dict:
        c = self.config
        if len(train) == 0 or valid is None or len(valid) == 0:
            raise DataError("The tensor SIF search needs training and validation ratings; one of them is empty.")
        gen = torch_generator(as_generator(seed))
        t0 = time.perf_counter()
        net = _Supernet(c, train.shape, float(train.values.mean()), gen)
        opt = make_optimizer("adam", [p for p in net.parameters() if p.requires_grad], lr=c.learning_rate)
        x, y = torch.from_numpy(train.codes), torch.from_numpy(train.values.astype(np.float32))
        vx = torch.from_numpy(valid.recode(train.vocabs))
        known = (vx >= 0).all(1)
        if not known.any():
            raise DataError("The validation data share no (user, item, context) ids with the training data; the search needs some.")
        vx, vy = vx[known], torch.from_numpy(valid.values[known.numpy()].astype(np.float32))
        lo, hi = float(train.values.min()), float(train.values.max())
        counts = [np.bincount(train.codes[:, m], minlength=n).clip(min=1) for m, n in enumerate(train.shape)]
        scale = [torch.from_numpy(n.astype(np.float32)).pow(c.reg_exponent - 1.0) for n in counts]
        n_ops = len(c.ops)
        alpha = (torch.full((n_ops,), 1.0 / n_ops) + 1e-3 * torch.randn(n_ops, generator=gen)).clamp(0, 1)
        history, interrupted = [], False
        state = {"alpha": alpha, "m": 0}

        def weight_loss(xb, yb, m) -> BatchLoss:
            pred = net.base(xb) + net.head(m, xb)
            penalty = c.reg * sum(((E[xb[:, j]].pow(2).sum(1) + net.b[j][xb[:, j]].pow(2)) * scale[j][xb[:, j]]).sum()
                                  for j, E in enumerate(net.E))
            return BatchLoss((pred - yb).pow(2).sum(), penalty)

        def arch_step(xb, yb, alpha):
            grad, parts = alpha_gradient(net, xb, yb, int(torch.argmax(alpha)))
            grad = grad / parts.pow(2).mean(0).sqrt().clamp_min(1e-8)  # per unit of each operation's output scale
            return (alpha - c.arch_lr * grad).clamp(0.0, 1.0)

        def valid_rmse(m) -> float:
            with torch.no_grad():
                return rmse((net.base(vx) + net.head(m, vx)).clamp(lo, hi).numpy(), vy.numpy())

        with progress_bar(c.epochs, "tensor SIF search (proximal)", enabled=progress) as bar:
            try:
                for epoch in range(1, c.epochs + 1):
                    warm = epoch <= c.warmup_epochs
                    draws = {}  # this epoch's validation rows and warm-up paths, drawn after the order

                    def begin(perm, draws=draws):
                        draws["vidx"] = torch.randint(len(vy), (len(y),), generator=gen)
                        draws["paths"] = torch.randint(n_ops, ((len(y) + c.batch_size - 1) // c.batch_size,), generator=gen)

                    def batch_loss(b, rows, lambda_due, warm=warm, draws=draws):
                        """α-step on a validation batch (after the warm-up), then the trained head's loss."""
                        if not warm:
                            v = draws["vidx"][rows]
                            state["alpha"] = arch_step(vx[v], vy[v], state["alpha"])
                        state["m"] = int(draws["paths"][rows.start // c.batch_size]) if warm else int(torch.argmax(state["alpha"]))
                        return weight_loss(x[b], y[b], state["m"])

                    def project():
                        with torch.no_grad():
                            net.heads[state["m"]].div_(net.heads[state["m"]].norm().clamp_min(1.0))

                    minibatch_epoch(len(y), c.batch_size, batch_loss, opt, generator=gen, begin=begin, after_step=project)
                    alpha = state["alpha"]
                    m = int(torch.argmax(alpha))
                    value = valid_rmse(m)
                    if not np.isfinite(value):
                        raise ConfigError(f"The tensor SIF search diverged at epoch {epoch} with learning_rate={c.learning_rate}; lower it.")
                    history.append({"epoch": epoch, "selected": c.ops[m], "valid_rmse": value, "seconds": time.perf_counter() - t0,
                                    "alpha_max": float(alpha.max())})
                    bar.update(1, op=c.ops[m], valid_rmse=value)
            except KeyboardInterrupt:
                interrupted = True
                if not history:
                    raise
        alpha = state["alpha"]  # as left by the last batch (an interrupt may end an epoch early)
        order = torch.argsort(alpha, descending=True)[:5].tolist()
        return {"interaction": c.ops[int(torch.argmax(alpha))], "history": history, "seconds": time.perf_counter() - t0,
                "top_alpha": {c.ops[m]: float(alpha[m]) for m in order}, "interrupted": interrupted,
                "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(c).items() if k != "ops"}}
