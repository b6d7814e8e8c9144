"""Interaction-function models for explicit ratings, one shared body (SIF paper, eq. 5):

    r̂_ui = [μ + b_u + b_i] + Σ_{m in ops} w_mᵀ O_m(g(p_u; p), g(q_i; q)),   ||w_m||₂ ≤ 1

``interaction`` names the operation(s) ``O`` from :data:`autorecs.models.ops.OPS`
(``multiply`` is the inner product / AltGrad; ``min+max`` sums two heads), or one of
the predictors that are not a single operation:

* ``ncf``: NCF as in the paper's comparison, GMF plus a one-layer MLP,
  ``wᵀ [p⊙q ; relu(H [p; q] + c)]``;
* ``wide-deep``: a true wide part (linear in the one-hot user and item ids, i.e. the
  biases, always on) plus a deep part, a two-layer ReLU MLP on ``[p; q]``;
* ``fm``: the second-order factorization machine on one-hot user and item ids,
  ``w0 + w_u + w_i + <p_u, q_i>`` (with two fields this is biased MF with the head fixed to ones).

``g`` is the element-wise transform (:mod:`autorecs.models.transform`); ``transform="mlp"``
with ``transform_user``/``transform_item`` uses a searched one (fixed), and
``train_transform=True`` learns it on the training data (SIF(no-auto)).

Engineering choices, documented because they differ from the paper's code:

* ``biases=True`` adds learned μ + b_u + b_i to every interaction function; ``biases=False`` is
  the paper's model on centred ratings (μ fixed to the training mean; the paper z-scores them).
* The L2 penalty is the library's :class:`~autorecs.regularization.Regularizer` (per
  occurrence, scaled by n^(β−1), β = ``reg_exponent``), so λ means the same as in
  :class:`BiasedMF` and λOpt can drive it; the paper's λ grid {0, ..., 1e-4} belongs to
  its own loss scaling (un-squared batch norms on z-scored ratings) and does not transfer.
* ``lambdaopt=`` learns Λ of the embeddings and biases (the penalized parameters) as in
  :mod:`autorecs.lambdaopt`.  The simulated step covers P, Q, b_u, b_i and μ; heads,
  transforms and MLP weights enter the validation loss at their current values (they carry
  no penalty, so Λ reaches the loss only through the simulated rows), and the ||w|| ≤ 1
  projection is not part of the simulated step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..exceptions import check_float, check_int, check_param
from ..lambdaopt.options import LambdaOptOptions
from ..regularization import Regularizer
from .ops import OPS
from .transform import ACTIVATIONS, ElementwiseMLP
from ..training import BatchLoss, minibatch_epoch
from ._lambdaopt import lambda_hook, prepare_lambda_validation
from ..optim import make_optimizer
from .base import FitConfig, Recommender

PREDICTORS = ("ncf", "wide-deep", "fm")
SOLVERS = ("adam", "adagrad", "sgd")


def _unit_ball(w: torch.Tensor) -> None:
    with torch.no_grad():
        w.div_(w.norm().clamp_min(1.0))


@dataclass
class IFCConfig(FitConfig, LambdaOptOptions):
    """Hyperparameters of :class:`InteractionMF` and its named variants (λOpt: the validation squared error
    teaches Λ for the embeddings and biases, starting from ``reg``)."""

    interaction: str = "multiply"
    """An operation of autorecs.models.ops.OPS, several joined by '+', or one of ncf, wide-deep, fm."""
    factors: int = 8
    """Embedding size K."""
    biases: bool = True
    """Add μ + b_u + b_i (False: the paper's model without biases)."""
    reg: float = 0.3
    """λ on embeddings and biases, per occurrence scaled by n^(reg_exponent − 1) (as BiasedMF)."""
    reg_exponent: float = 0.6
    """β in the penalty Σ n^β λ ||θ||² over users and items with n training ratings (1 = per occurrence, 0 = uniform), as BiasedMF's."""
    solver: str = "adam"
    """The optimizer of the mini-batches: adam, adagrad or sgd."""
    learning_rate: float = 0.003
    """Step size of the solver."""
    batch_size: int = 1024
    """Ratings per mini-batch."""
    init_std: float = 0.1
    """Standard deviation of the normal initialisation of the embeddings."""
    predictor: str = "linear"
    """``linear``: one head w_m per operation with ||w_m||₂ ≤ 1 (eq. 5); ``mlp``: a three-layer MLP
    (width → ``predictor_hidden`` ReLU units → 1) per operation instead, unconstrained (the paper's Table 7)."""
    predictor_hidden: int = 10
    """Hidden units of the ``mlp`` predictor."""
    transform: str = "identity"
    """The element-wise transform g: ``identity`` (g(x) = x; ``none`` is accepted for it, as older
    saved models say) or ``mlp`` (a searched or trained transform)."""
    transform_hidden: int = 5
    """Hidden units of the transform's h (``transform="mlp"``)."""
    transform_activation: str = "sigmoid"
    """Activation of h's hidden layer (autorecs.models.transform.ACTIVATIONS)."""
    transform_residual: bool = True
    """g(x) = x + h(x) (True) or the paper's g = h (False); see autorecs.models.transform."""
    transform_user: list[float] | None = None
    """Parameters of g for users (a searched architecture); None = random init (train_transform) ."""
    transform_item: list[float] | None = None
    """Parameters of g for items, as ``transform_user``."""
    train_transform: bool = False
    """Learn g on the training data (SIF(no-auto)); else g stays as given."""
    clip: bool = True
    """Clip predictions to the training ratings' range."""
    epochs: int = 100
    patience: int = 5

    def ops(self) -> list[str]:
        return [] if self.interaction in PREDICTORS else self.interaction.split("+")

    def validate(self) -> None:
        super().validate()
        owner = "InteractionMF"
        self.validate_lambdaopt(owner)
        valid_ops = all(o in OPS for o in self.ops()) and len(set(self.ops())) == len(self.ops())
        check_param(self.interaction in PREDICTORS or valid_ops, owner, "interaction", self.interaction,
                    f"one of {sorted(OPS)} (several joined by '+') or one of {list(PREDICTORS)}")
        check_int(owner, "factors", self.factors)
        check_int(owner, "batch_size", self.batch_size)
        check_int(owner, "transform_hidden", self.transform_hidden)
        check_param(self.predictor in ("linear", "mlp"), owner, "predictor", self.predictor, "'linear' or 'mlp'")
        check_int(owner, "predictor_hidden", self.predictor_hidden)
        if self.predictor == "mlp":
            check_param(self.interaction not in PREDICTORS, owner, "predictor", self.predictor,
                        f"'linear' for {self.interaction} (it has its own predictor)")
        check_float(owner, "reg", self.reg, fix="Use 0 for no regularization.")
        check_float(owner, "reg_exponent", self.reg_exponent, 0.0, 1.0)
        check_float(owner, "learning_rate", self.learning_rate, low_open=True)
        check_float(owner, "init_std", self.init_std, low_open=True)
        check_param(self.solver in SOLVERS, owner, "solver", self.solver, f"one of {SOLVERS}")
        if self.transform == "none":
            self.transform = "identity"
        check_param(self.transform in ("identity", "mlp"), owner, "transform", self.transform, "'identity' or 'mlp'")
        check_param(self.transform_activation in ACTIVATIONS, owner, "transform_activation", self.transform_activation, f"one of {sorted(ACTIVATIONS)}")
        if self.transform == "mlp" and not self.train_transform:
            check_param(self.transform_user is not None and self.transform_item is not None, owner, "transform_user",
                        self.transform_user, "a list of floats (with transform_item) unless train_transform=True",
                        "Pass an architecture found by `autorecs search-ifc` (--arch FILE).")
        if self.interaction in ("fm", "wide-deep"):
            check_param(self.transform == "identity", owner, "transform", self.transform, "'identity' for fm and wide-deep")


class IFCNet(nn.Module):
    """Parameters and the forward pass shared by every interaction function."""

    def __init__(self, cfg: IFCConfig, n_users: int, n_items: int, mean: float, gen: torch.Generator):
        super().__init__()
        k = cfg.factors
        self.cfg, self.ops = cfg, cfg.ops()
        self.P = nn.Parameter(torch.randn(n_users, k, generator=gen) * cfg.init_std)
        self.Q = nn.Parameter(torch.randn(n_items, k, generator=gen) * cfg.init_std)
        use_bias = cfg.biases or cfg.interaction in ("fm", "wide-deep")
        self.mu = nn.Parameter(torch.tensor(mean), requires_grad=use_bias)  # without biases: ratings centred, as the paper z-scores them
        self.bu = nn.Parameter(torch.zeros(n_users), requires_grad=use_bias)
        self.bi = nn.Parameter(torch.zeros(n_items), requires_grad=use_bias)
        self.heads = nn.ParameterList()
        self.mlp_heads = nn.ModuleList()
        for op in self.ops:
            if cfg.predictor == "mlp":
                h = cfg.predictor_hidden
                self.mlp_heads.append(nn.Sequential(nn.Linear(OPS[op].width(k), h), nn.ReLU(), nn.Linear(h, 1)))
            else:
                w = torch.randn(OPS[op].width(k), generator=gen)
                self.heads.append(nn.Parameter(w / w.norm()))
        if cfg.interaction == "ncf":
            self.hidden = nn.Linear(2 * k, k)
            self.heads.append(nn.Parameter(torch.randn(2 * k, generator=gen) / (2 * k) ** 0.5))
        elif cfg.interaction == "wide-deep":
            self.deep = nn.Sequential(nn.Linear(2 * k, 2 * k), nn.ReLU(), nn.Linear(2 * k, k), nn.ReLU())
            self.heads.append(nn.Parameter(torch.randn(k, generator=gen) / k**0.5))
        with torch.no_grad():  # seeded init of the MLP layers (nn.Linear draws from the global RNG)
            for mod in self.modules():
                if isinstance(mod, nn.Linear):
                    bound = 1 / mod.in_features**0.5
                    mod.weight.copy_((torch.rand(mod.weight.shape, generator=gen) * 2 - 1) * bound)
                    mod.bias.copy_((torch.rand(mod.bias.shape, generator=gen) * 2 - 1) * bound)
        self.g_user = self.g_item = None
        if cfg.transform == "mlp":
            if cfg.transform_user is not None:
                self.g_user = ElementwiseMLP.from_list(cfg.transform_user, cfg.transform_hidden, cfg.transform_activation, cfg.transform_residual)
                self.g_item = ElementwiseMLP.from_list(cfg.transform_item, cfg.transform_hidden, cfg.transform_activation, cfg.transform_residual)
            else:
                self.g_user = ElementwiseMLP(cfg.transform_hidden, cfg.transform_activation, gen, cfg.transform_residual)
                self.g_item = ElementwiseMLP(cfg.transform_hidden, cfg.transform_activation, gen, cfg.transform_residual)
            for p in list(self.g_user.parameters()) + list(self.g_item.parameters()):
                p.requires_grad_(cfg.train_transform)

    def head(self, m: int, x: torch.Tensor) -> torch.Tensor:
        """The predictor of operation ``m`` on its output ``x`` (batch, width) -> (batch,)."""
        return self.mlp_heads[m](x).squeeze(-1) if self.cfg.predictor == "mlp" else x @ self.heads[m]

    def interact(self, pu: torch.Tensor, qi: torch.Tensor) -> torch.Tensor:
        """The interaction term for aligned rows of user and item embeddings."""
        kind = self.cfg.interaction
        if kind == "fm":
            return (pu * qi).sum(-1)
        if kind == "ncf":
            x = torch.cat([pu * qi, torch.relu(self.hidden(torch.cat([pu, qi], -1)))], -1)
            return x @ self.heads[0]
        if kind == "wide-deep":
            return self.deep(torch.cat([pu, qi], -1)) @ self.heads[0]
        if self.g_user is not None:
            pu, qi = self.g_user(pu), self.g_item(qi)
        return sum(self.head(m, OPS[op].fn(pu, qi)) for m, op in enumerate(self.ops))

    def forward(self, u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        return self.mu + self.bu[u] + self.bi[i] + self.interact(self.P[u], self.Q[i])

    def project(self) -> None:
        """||w_m||₂ ≤ 1 for every linear head (eq. 5); the transform's weights too when trained."""
        if self.cfg.interaction != "fm":
            for w in self.heads:
                _unit_ball(w)
        if self.g_user is not None and self.cfg.train_transform:
            self.g_user.project(), self.g_item.project()


class InteractionMF(Recommender):
    """Rating prediction with a chosen interaction function (see module docs)."""

    name = "ifc"
    task = "rating"
    Config = IFCConfig
    default_monitor = "rmse"

    def _prepare(self, train) -> None:
        c = self.config
        self.rating_range = torch.tensor([train.ratings.min(), train.ratings.max()], dtype=torch.float32)
        self._reg = Regularizer(c.reg, c.reg, None, c.reg_exponent).bind(
            np.bincount(train.users, minlength=train.n_users), np.bincount(train.items, minlength=train.n_items))
        self._u = torch.from_numpy(train.users.astype(np.int64))
        self._i = torch.from_numpy(train.items.astype(np.int64))
        self._r = torch.from_numpy(train.ratings.astype(np.float32))
        self._val = None

    def _prepare_validation(self, valid):
        self._val, held_out = prepare_lambda_validation(self, valid)
        return held_out

    def _init_params(self, rng) -> None:
        c = self.config
        self.net = IFCNet(c, len(self.user_vocab_), len(self.item_vocab_), self.train_mean_, self._tgen)
        self._opt = make_optimizer(c.solver, [p for p in self.net.parameters() if p.requires_grad], lr=c.learning_rate)
        self._lam_hook = lambda_hook(self, rng, self._val, init_user=c.reg, init_item=c.reg)
        self._lam = None if self._lam_hook is None else self._lam_hook.learner

    def _train_epoch(self) -> dict[str, float]:
        net, reg = self.net, self._reg
        biased = net.bu.requires_grad
        net.train()

        def batch_loss(idx, rows, lambda_due):
            u, i, r = self._u[idx], self._i[idx], self._r[idx]
            pu, qi, bu, bi = net.P[u], net.Q[i], net.bu[u], net.bi[i]  # one gather per table and batch
            err = (net.mu + bu + bi + net.interact(pu, qi) - r).pow(2).sum()
            penalty = reg.penalty("user", u, pu, bu if biased else None) + reg.penalty("item", i, qi, bi if biased else None)
            return BatchLoss(err, penalty, inputs=[pu, qi] + ([net.mu, bu, bi] if biased else []), context=(u, i))

        return minibatch_epoch(len(self._r), self.config.batch_size, batch_loss, self._opt, generator=self._tgen,
                               after_step=net.project, lambda_hook=self._lam_hook)

    def _lambda_step(self, batch, grads, v) -> None:
        """One λOpt Λ-step with the validation squared error (see module docs and autorecs.lambdaopt);
        arguments as :meth:`autorecs.models.BiasedMF._lambda_step`."""
        from ..lambdaopt.hypergrad import rating_lambda_step

        u, i = batch
        vidx = self._lam_hook.vidx[v]
        net = self.net
        biased = net.bu.requires_grad
        names = ("P", "Q", "mu", "bu", "bi") if biased else ("P", "Q")
        tables = {k: getattr(net, k) for k in names}
        # without biases the prediction is the fixed training mean + the interaction
        interact = net.interact if biased else (lambda p, q: net.mu.detach() + net.interact(p, q))
        rating_lambda_step(self._lam, self._opt, tables, dict(zip(names, grads)), u, i, tuple(a[vidx] for a in self._val), interact)

    def _get_state(self) -> dict[str, torch.Tensor]:
        state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
        state["rating_range"] = self.rating_range.clone()
        if getattr(self, "_lam", None) is not None:
            state["lam_user"], state["lam_item"] = self._lam.current()
        return state

    def _factors(self, side: str) -> torch.Tensor:
        return (self.net.P if side == "user" else self.net.Q).detach()

    def _set_state(self, state) -> None:
        state = dict(state)
        self.rating_range = state.pop("rating_range").clone()
        if "lam_user" in state:  # learned Λ: kept for inspection, not trained further
            self.lam_user, self.lam_item = state.pop("lam_user"), state.pop("lam_item")
        if not hasattr(self, "net"):  # loading: build the body first
            n_u, n_i = state["P"].shape[0], state["Q"].shape[0]
            self.net = IFCNet(self.config, n_u, n_i, 0.0, torch.Generator())
        self.net.load_state_dict(state)

    @torch.no_grad()
    def _pairs(self, u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        self.net.eval()
        pred = self.net(u, i)
        if self.config.clip:
            pred = pred.clamp(float(self.rating_range[0]), float(self.rating_range[1]))
        return pred

    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        n_items = self.net.Q.shape[0]
        u = torch.from_numpy(np.asarray(users, np.int64))
        rows = []
        chunk = max(1, 2**21 // max(n_items, 1))
        for s in range(0, len(u), chunk):
            uu = u[s:s + chunk]
            rows.append(self._pairs(uu.repeat_interleave(n_items), torch.arange(n_items).repeat(len(uu))).view(len(uu), n_items))
        return torch.cat(rows) if rows else torch.zeros(0, n_items)

    @torch.no_grad()
    def _predict_codes(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        ku, ki = users >= 0, items >= 0
        u = torch.from_numpy(np.where(ku, users, 0).astype(np.int64))
        i = torch.from_numpy(np.where(ki, items, 0).astype(np.int64))
        pred = self._pairs(u, i).numpy().copy()
        # unknown user or item: the biases we have (or the training mean)
        net = self.net
        fallback = float(net.mu) + np.where(ku, net.bu[u].numpy(), 0) + np.where(ki, net.bi[i].numpy(), 0)
        return np.where(ku & ki, pred, fallback).astype(np.float32)


@dataclass
class AltGradConfig(IFCConfig):
    interaction: str = "multiply"


class AltGrad(InteractionMF):
    """Inner product with a linear head (matrix factorization): the paper's AltGrad."""

    name, Config = "altgrad", AltGradConfig


@dataclass
class NCFConfig(IFCConfig):
    interaction: str = "ncf"


class NCF(InteractionMF):
    """NCF: GMF plus a one-layer MLP (the paper's comparison)."""

    name, Config = "ncf", NCFConfig


@dataclass
class WideDeepConfig(IFCConfig):
    interaction: str = "wide-deep"


class WideDeep(InteractionMF):
    """Wide&Deep on user and item ids: wide = id biases, deep = two-layer ReLU MLP."""

    name, Config = "wide-deep", WideDeepConfig


@dataclass
class FMConfig(IFCConfig):
    interaction: str = "fm"


class FM(InteractionMF):
    """Second-order factorization machine on one-hot user and item ids."""

    name, Config = "fm", FMConfig


@dataclass
class SIFConfig(IFCConfig):
    transform: str = "mlp"


class SIF(InteractionMF):
    """A searched interaction function (operation + element-wise transforms), retrained from scratch.

    Build it from ``autorecs search-ifc`` output: ``SIF(**arch, reg=...)`` or ``fit --model sif --arch FILE``.
    """

    name = "sif"
    Config = SIFConfig


IFC_MODELS = (InteractionMF, AltGrad, NCF, WideDeep, FM, SIF)
