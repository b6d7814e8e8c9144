"""One-shot search of the interaction function (SIF paper, Algorithm 2).

A supernet holds the embeddings, one linear head ``w_m`` per operation of the space,
the architecture weights ``α`` (one per operation) and the element-wise transforms
``g(·; p)``, ``g(·; q)``.  Each iteration:

1. on a **validation** mini-batch, with the discrete ``ᾱ = prox_C1(α)`` (ones at the
   ``k`` largest entries, zeros elsewhere), compute the validation squared error of
   ``Σ_m ᾱ_m w_mᵀ O_m(g(u), g(v))`` and its gradient with respect to ``ᾱ`` (the NASP
   step: the gradient at the discrete point updates the continuous ``α``), then
   ``α ← prox_C2(α − η ∇)`` (clip to [0, 1]); ``p``, ``q`` take an Adam step and are
   projected (:meth:`ElementwiseMLP.project`);
2. on a **training** mini-batch, with ``ᾱ = prox_C1(α)``, update the embeddings, biases
   and heads on the training loss (squared error + the library's L2 penalty), and
   project every head onto ``||w_m||₂ ≤ 1``.

``use_validation=False`` gives SIF(no-auto): step 1 uses training batches.  The result
is an architecture dict (operation(s), transforms) that :class:`~autorecs.models.SIF`
retrains from scratch; :func:`retrain` tunes λ for it on validation.

Engineering choices: the paper's ``prox_C1(z) = z_i e_i`` would scale the prediction by
``α_i``; like the authors' code we use the indicator (1 at the selected entries), so
the heads keep their meaning when the selection changes.  Validation batches are drawn
with replacement, one per training batch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .._progress import progress_bar
from .._rng import as_generator, torch_generator
from ..data.interactions import Interactions
from ..exceptions import ConfigError, DataError, build_config, check_float, check_int, check_param, check_switches
from ..metrics.rating import rmse
from ..optim import make_optimizer
from ..models.ifc import IFCConfig, IFCNet
from ..regularization import Regularizer
from ..training import BatchLoss, minibatch_epoch
from ..halving import better_half
from ..models.ops import OPS, SEARCH_OPS

NONADDITIVE_OPS = ("multiply", "min", "max")
from ..models.transform import ACTIVATIONS


@dataclass
class SearchConfig:
    """Hyperparameters of the one-shot search."""

    factors: int = 8
    ops: tuple[str, ...] | None = None
    """Candidate operations; None = SEARCH_OPS without biases, the non-additive ones (multiply, min,
    max) with biases: plus and concat give w_uᵀg(u) + w_vᵀg(v), a user term plus an item term, which
    the biases already are (measured on ml-100k, K=8: retrained plus/concat score as biases alone)."""
    k: int = 1
    """Operations kept by prox_C1 (the C_k variant of the paper's Table 5)."""
    transform_hidden: int = 5
    transform_activation: str = "sigmoid"
    transform_residual: bool = True
    predictor: str = "linear"
    """``linear`` heads (eq. 5) or ``mlp`` (a 3-layer MLP per operation; the paper's Table 7)."""
    predictor_hidden: int = 10
    epochs: int = 10
    batch_size: int = 1024
    learning_rate: float = 0.003
    """Adam step of embeddings, biases and heads."""
    arch_lr: float = 0.01
    """Gradient step on α."""
    transform_lr: float = 0.003
    """Adam step of the transforms p, q."""
    reg: float = 0.3
    reg_exponent: float = 0.6
    biases: bool = True
    init_std: float = 0.1
    use_validation: bool = True
    """False: SIF(no-auto), the architecture is learned on training batches too."""
    warmup_epochs: int | None = None
    """Epochs (of ``epochs``) of weight steps only, α, p, q frozen, each batch training one operation
    drawn uniformly (single-path sampling), so that every head is trained when the operations are
    first compared.  None: 3 for ``proximal``, 0 for ``halving`` (its candidates are trained apart).
    DECISION: without it the first α-steps, taken at untrained heads, pick an operation that then is
    the only one trained (ml-100k K=8: min on seeds 1 and 2, retrained valid RMSE 0.9369 mean over
    seeds 0-2); with 3 warm-up epochs multiply on all three (valid 0.9315)."""
    normalize_arch_grad: bool = True
    """Divide each operation's α-gradient by the RMS of its output: the raw gradient favours
    operations with large outputs (plus, concat) over small ones (multiply of small embeddings)."""
    strategy: str = "proximal"
    """``proximal``: Algorithm 2, one supernet with weight sharing and α.  ``halving``: every candidate
    operation gets its own embeddings and transforms, all trained in the same pass over the data with
    the same train/validation alternation (transforms learned on validation batches); every
    ``rung_epochs`` the worse half by validation RMSE is dropped."""
    rung_epochs: int = 2
    weight_step: str = "discrete"
    """``discrete``: the training step uses ᾱ (Algorithm 2 as printed: only the selected heads learn);
    ``mixed``: it uses the continuous α (as the authors' code does).  On ml-100k (K=8, seed 0)
    discrete selected multiply and retrained to 0.933 test RMSE, mixed selected min (0.939)."""

    def validate(self) -> None:
        owner = "SIFSearch"
        check_switches(self, owner, cli=False)
        if self.ops is None:
            self.ops = NONADDITIVE_OPS if self.biases else SEARCH_OPS
        self.ops = tuple(self.ops)
        if self.warmup_epochs is None:
            self.warmup_epochs = 3 if self.strategy == "proximal" else 0
        check_int(owner, "warmup_epochs", self.warmup_epochs, low=0)
        if self.strategy == "proximal" and isinstance(self.epochs, int) and self.epochs <= self.warmup_epochs:
            raise ConfigError(f"The 'epochs' parameter of {owner} must be more than the search's {self.warmup_epochs} warm-up epochs "
                              f"(warmup_epochs); got {self.epochs}. α is frozen through the warm-up, so a search that ends there "
                              "picks an operation from untrained architecture weights; give more epochs.",
                              param="epochs", owner=owner)
        check_param(self.predictor in ("linear", "mlp"), owner, "predictor", self.predictor, "'linear' or 'mlp'")
        for name in ("factors", "k", "transform_hidden", "predictor_hidden", "epochs", "batch_size"):
            check_int(owner, name, getattr(self, name))
        bad = [o for o in self.ops if o not in OPS]
        check_param(not bad and len(self.ops) >= 1, owner, "ops", list(self.ops), f"a non-empty list of {sorted(OPS)}")
        check_param(self.k <= len(self.ops), owner, "k", self.k, f"at most the number of operations ({len(self.ops)})")
        check_param(self.transform_activation in ACTIVATIONS, owner, "transform_activation", self.transform_activation, f"one of {sorted(ACTIVATIONS)}")
        for name in ("learning_rate", "arch_lr", "transform_lr", "init_std"):
            check_float(owner, name, getattr(self, name), low_open=True)
        check_float(owner, "reg", self.reg)
        check_param(self.strategy in ("proximal", "halving"), owner, "strategy", self.strategy, "'proximal' or 'halving'")
        check_int(owner, "rung_epochs", self.rung_epochs)
        check_param(self.weight_step in ("discrete", "mixed"), owner, "weight_step", self.weight_step, "'discrete' or 'mixed'")


@dataclass
class SearchStep:
    epoch: int
    alpha: list[float]
    """``proximal``: α per operation; ``halving``: validation RMSE per candidate (NaN once dropped)."""
    selected: str
    valid_rmse: float
    seconds: float
    test_rmse: float | None = None


@dataclass
class SearchResult:
    arch: dict
    history: list[SearchStep] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False


def _codes(data: Interactions, users, items, what: str):
    u, i = data.recode(users, items)
    keep = (u >= 0) & (i >= 0)
    if not keep.any():
        raise DataError(f"The {what} data share no users and items with the training data; the search needs some.")
    return (torch.from_numpy(u[keep].astype(np.int64)), torch.from_numpy(i[keep].astype(np.int64)),
            torch.from_numpy(data.ratings[keep].astype(np.float32)))


class SIFSearch:
    """``SIFSearch(**SearchConfig fields).fit(train, valid) -> SearchResult`` (also kept as ``result_``)."""

    def __init__(self, **params):
        self.config = build_config(SearchConfig, params, "SIFSearch")
        self.config.validate()

    def _parts(self, net: IFCNet, u, i) -> torch.Tensor:
        """(batch, n_ops): each operation's head output."""
        pu, qi = net.g_user(net.P[u]), net.g_item(net.Q[i])
        return torch.stack([net.head(m, OPS[op].fn(pu, qi)) for m, op in enumerate(net.ops)], -1)

    def _mixed(self, net: IFCNet, u, i, onehot: torch.Tensor) -> torch.Tensor:
        return net.mu + net.bu[u] + net.bi[i] + self._parts(net, u, i) @ onehot

    def _arch_step(self, net, topt, alpha, users, items, ratings, idx) -> torch.Tensor:
        """α ← prox_C2(α − η ∂L_val/∂ᾱ) at ᾱ = prox_C1(α); an Adam step on p, q, then their projection."""
        onehot = self._discrete(alpha).requires_grad_(True)
        u, i = users[idx], items[idx]
        parts = self._parts(net, u, i)
        loss = (net.mu + net.bu[u] + net.bi[i] + parts @ onehot - ratings[idx]).pow(2).mean()
        transforms = list(net.g_user.parameters()) + list(net.g_item.parameters())
        topt.zero_grad(set_to_none=True)
        grads = torch.autograd.grad(loss, [onehot, *transforms])
        for p, g in zip(transforms, grads[1:]):
            p.grad = g
        topt.step()
        net.g_user.project(), net.g_item.project()
        grad = grads[0]
        if self.config.normalize_arch_grad:  # per unit of each operation's output scale
            grad = grad / parts.detach().pow(2).mean(0).sqrt().clamp_min(1e-8)
        return (alpha - self.config.arch_lr * grad).clamp(0.0, 1.0)

    def _discrete(self, alpha: torch.Tensor) -> torch.Tensor:
        onehot = torch.zeros_like(alpha)
        onehot[torch.topk(alpha, min(self.config.k, len(alpha))).indices] = 1.0
        return onehot

    def fit(self, train: Interactions, valid: Interactions, *, seed=0, progress: bool = True,
            test: Interactions | None = None, deadline: float | None = None) -> SearchResult:
        """Search on ``train``/``valid``.  ``test``, if given, is scored per epoch for figures only (never selects).
        ``deadline`` (``time.time()``): no epoch starts after it; the search ends with what it found so far
        (at least one epoch)."""
        c = self.config
        if train.ratings is None or valid is None or valid.ratings is None:
            raise DataError("SIF searches on explicit ratings: pass training and validation data with a rating column.")
        rng = as_generator(seed)
        gen = torch_generator(rng)
        t0 = time.perf_counter()
        users, items = train.user_vocab, train.item_vocab
        tu, ti, tr = (torch.from_numpy(a) for a in (train.users.astype(np.int64), train.items.astype(np.int64), train.ratings.astype(np.float32)))
        vu, vi, vr = _codes(valid, users, items, "validation")
        test_codes = _codes(test, users, items, "test") if test is not None else None
        lo, hi = float(train.ratings.min()), float(train.ratings.max())
        reg = Regularizer(c.reg, c.reg, None, c.reg_exponent).bind(np.bincount(train.users, minlength=len(users)),
                                                                   np.bincount(train.items, minlength=len(items)))
        groups = [c.ops] if c.strategy == "proximal" else [(op,) for op in c.ops]
        cands = [self._candidate(ops, len(users), len(items), float(train.ratings.mean()), gen) for ops in groups]
        alive = list(range(len(cands)))
        history: list[SearchStep] = []
        interrupted = False
        arch_u, arch_i, arch_r = (vu, vi, vr) if c.use_validation else (tu, ti, tr)

        def eval_rmse(cand, codes) -> float:
            with torch.no_grad():
                pred = self._mixed(cand["net"], codes[0], codes[1], self._discrete(cand["alpha"])).clamp(lo, hi)
            return rmse(pred.numpy(), codes[2].numpy())

        with progress_bar(c.epochs, "SIF search", enabled=progress) as bar:
            try:
                for epoch in range(1, c.epochs + 1):
                    arch_idx = []

                    def batch_loss(b, rows, lambda_due, epoch=epoch, arch_idx=arch_idx):
                        """Every live candidate: (1) an architecture step on a validation batch (after the
                        warm-up), (2) its loss on the training batch (in the warm-up, on one operation drawn
                        uniformly).  Candidates share no parameters, so the summed loss steps each alone."""
                        total = []
                        for k in alive:
                            cand = cands[k]
                            if epoch > c.warmup_epochs:
                                cand["alpha"] = self._arch_step(cand["net"], cand["topt"], cand["alpha"], arch_u, arch_i, arch_r, arch_idx[0][rows])
                            path = None
                            if epoch <= c.warmup_epochs and len(cand["ops"]) > 1:
                                path = torch.nn.functional.one_hot(torch.randint(len(cand["ops"]), (), generator=gen), len(cand["ops"])).float()
                            total.append(self._weight_loss(cand, reg, tu[b], ti[b], tr[b], path))
                        return BatchLoss(sum(t[0] for t in total), sum(t[1] for t in total),
                                         params=[w for k in alive for w in cands[k]["weights"]])

                    minibatch_epoch(len(tr), c.batch_size, batch_loss, _Together([cands[k]["opt"] for k in alive]), generator=gen,
                                    begin=lambda perm, arch_idx=arch_idx: arch_idx.append(torch.randint(len(arch_r), (len(tr),), generator=gen)),
                                    after_step=lambda: [self._project_heads(cands[k]["net"]) for k in alive])
                    scores = {k: eval_rmse(cands[k], (vu, vi, vr)) for k in alive}
                    best = min(alive, key=lambda k: (scores[k], k))
                    if not np.isfinite(scores[best]):
                        raise ConfigError(f"The SIF search diverged at epoch {epoch} with learning_rate={c.learning_rate}; lower it.")
                    step = SearchStep(epoch, cands[best]["alpha"].tolist() if c.strategy == "proximal" else
                                      [scores.get(k, float("nan")) for k in range(len(cands))],
                                      self._selected(cands[best]), scores[best], time.perf_counter() - t0,
                                      eval_rmse(cands[best], test_codes) if test_codes is not None else None)
                    history.append(step)
                    bar.update(1, op=step.selected, valid_rmse=step.valid_rmse)
                    if c.strategy == "halving" and len(alive) > 1 and epoch % c.rung_epochs == 0:
                        alive = better_half(alive, scores, order=range(len(cands)))  # the one halving rule (autorecs.halving)
                    if deadline is not None and time.time() >= deadline:
                        break
            except KeyboardInterrupt:
                interrupted = True
                if not history:
                    raise
        winner = cands[min(alive, key=lambda k: (eval_rmse(cands[k], (vu, vi, vr)), k))]
        net = winner["net"]
        arch = {"interaction": self._selected(winner), "factors": c.factors, "biases": c.biases,
                "transform": "mlp", "transform_hidden": c.transform_hidden, "transform_activation": c.transform_activation,
                "transform_residual": c.transform_residual, "predictor": c.predictor, "predictor_hidden": c.predictor_hidden,
                "transform_user": net.g_user.to_list(), "transform_item": net.g_item.to_list()}
        self.net_ = net
        self.result_ = SearchResult(arch, history, time.perf_counter() - t0, interrupted)
        return self.result_

    def _candidate(self, ops, n_users, n_items, mean, gen) -> dict:
        c = self.config
        cfg = IFCConfig(interaction="+".join(ops), factors=c.factors, biases=c.biases, reg=c.reg, reg_exponent=c.reg_exponent,
                        init_std=c.init_std, transform="mlp", transform_hidden=c.transform_hidden, transform_activation=c.transform_activation,
                        transform_residual=c.transform_residual, train_transform=True, predictor=c.predictor,
                        predictor_hidden=c.predictor_hidden)
        net = IFCNet(cfg, n_users, n_items, mean, gen)
        weights = [p for n, p in net.named_parameters() if p.requires_grad and not n.startswith("g_")]
        alpha = (torch.full((len(ops),), 1.0 / len(ops)) + 1e-3 * torch.randn(len(ops), generator=gen)).clamp(0, 1)
        return {"ops": ops, "net": net, "weights": weights, "alpha": alpha if len(ops) > 1 else torch.ones(1),
                "opt": make_optimizer("adam", weights, lr=c.learning_rate),
                "topt": make_optimizer("adam", list(net.g_user.parameters()) + list(net.g_item.parameters()), lr=c.transform_lr)}

    def _weight_loss(self, cand, reg, u, i, r, path: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The candidate's summed squared error and penalty on a training batch (its weights' loss)."""
        net, c = cand["net"], self.config
        mix = path if path is not None else self._discrete(cand["alpha"]) if c.weight_step == "discrete" else cand["alpha"]
        err = (self._mixed(net, u, i, mix) - r).pow(2).sum()
        bias_u, bias_i = (net.bu[u], net.bi[i]) if c.biases else (None, None)
        penalty = reg.penalty("user", u, net.P[u], bias_u) + reg.penalty("item", i, net.Q[i], bias_i)
        return err, penalty

    @staticmethod
    def _project_heads(net) -> None:
        with torch.no_grad():
            for w in net.heads:
                w.div_(w.norm().clamp_min(1.0))

    def _selected(self, cand: dict) -> str:
        return "+".join(op for op, on in zip(cand["ops"], self._discrete(cand["alpha"]).tolist()) if on > 0)


class _Together:
    """Several optimizers stepped as one (halving's candidates each keep their own)."""

    def __init__(self, optimizers):
        self.optimizers = list(optimizers)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        for opt in self.optimizers:
            opt.step()
