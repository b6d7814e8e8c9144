"""BPR-MF: matrix factorization for implicit feedback with the BPR loss.

    x_ui = p_u · q_i + b_i,     loss = −Σ log σ(x_ui − x_uj) + per-occurrence L2

One uniformly sampled negative ``j`` per training positive per epoch, never an
item the user has in training.  The penalty covers p_u, q_i, q_j (and biases)
of each triple; see :mod:`autorecs.regularization`.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..exceptions import ConfigError, DataError, check_float, check_int, check_param
from ..lambdaopt.options import LambdaOptOptions
from ..regularization import Regularizer
from ..optim import OPTIMIZERS, is_adam, make_optimizer
from ..training import BatchLoss, minibatch_epoch
from ._compiled import CompiledPaths, lambda_step_buffers, optimizer_moments, penalty_arrays
from ._lambdaopt import lambda_hook, prepare_lambda_validation
from .base import FitConfig, Recommender

#: Resampling rounds before giving up on users who have (almost) every item.
_MAX_RESAMPLE = 50
#: Below this many user x item cells, negative sampling checks a dense bitmap of the training pairs.
_DENSE_SEEN_CELLS = 64_000_000
#: What ``BPRMFConfig.optimizer`` accepts.
OPTIMIZER_CHOICES = (*OPTIMIZERS, "sparse_adam")
#: The batch and learning rate the defaults were chosen at (ml-100k), and the largest default batch.
BASE_BATCH, BASE_RATE, MAX_DEFAULT_BATCH = 1024, 0.002, 65536


def default_batch_size(n_positives: int, lambdaopt: bool = False) -> int:
    """:attr:`BPRMFConfig.batch_size`'s default: the power of two nearest to ``n_positives / 64``,
    within [1,024, 65,536]; 1,024 with λOpt."""
    if lambdaopt or n_positives <= 64 * BASE_BATCH:
        return BASE_BATCH
    return int(min(MAX_DEFAULT_BATCH, 2 ** round(math.log2(n_positives / 64))))


@dataclass
class BPRMFConfig(FitConfig, LambdaOptOptions):
    """Hyperparameters of :class:`BPRMF` (λOpt: the validation BPR loss teaches Λ, starting from ``reg``)."""

    factors: int = 64
    """Latent dimension K."""
    optimizer: str = "adam"
    """One of ``sgd``, ``adam``, ``adagrad``, or ``sparse_adam``: Adam on the rows each batch
    touches ("lazy Adam", :class:`torch.optim.SparseAdam`'s rule; not with λOpt, whose Λ-step
    simulates a dense step).  On ml-1m ``sparse_adam`` reached a slightly better test NDCG@50 than
    ``adam`` but needed about 1.7x the epochs, so it fits no faster (benchmarks/README.md)."""
    learning_rate: float | None = None
    """None: 0.002 · √(batch / 1,024), for the default or a given batch (0.002 at 1,024; the rate
    :attr:`BPRMF.learning_rate_` reports)."""
    reg: float = 0.01
    """λ for user and item factors (per occurrence in a triple).  Defaults (K, learning
    rate, λ) chosen on the validation split of ml-100k temporal-60-20-20 (benchmarks/README.md)."""
    item_bias: bool = True
    """Learn an item bias b_i."""
    batch_size: int | None = None
    """Training triples per step.  None: 1,024 where the defaults were chosen (ml-100k, 54k
    positives: ~53 steps an epoch) and on smaller data; on larger data about as many steps an
    epoch, the power of two nearest to positives / 64, at most 65,536 (ml-1m: 8,192, which fits it
    in 13.6 s against 21.2 s at 1,024, at the same test NDCG@50, benchmarks/README.md); with λOpt 1,024, the
    schedule its results were measured at (a Λ-step every batch).  :attr:`BPRMF.batch_size_`
    reports the batch used."""
    init_std: float = 0.1
    """Standard deviation of the normal initialisation of the factors."""
    epochs: int = 200
    patience: int = 10
    monitor: str = "topk.ndcg@50"

    def validate(self) -> None:
        super().validate()
        self.validate_lambdaopt("BPRMF")
        check_int("BPRMF", "factors", self.factors)
        if self.batch_size is not None:
            check_int("BPRMF", "batch_size", self.batch_size)
        check_param(self.optimizer in OPTIMIZER_CHOICES, "BPRMF", "optimizer", self.optimizer, f"one of {OPTIMIZER_CHOICES}")
        if self.lambdaopt and self.optimizer == "sparse_adam":
            raise ConfigError("BPRMF: λOpt simulates a dense optimizer's step, so optimizer='sparse_adam' cannot learn Λ; "
                              "use optimizer='adam'.")
        check_float("BPRMF", "reg", self.reg, fix="Use 0 for no regularization.")
        if self.learning_rate is not None:
            check_float("BPRMF", "learning_rate", self.learning_rate, low_open=True)
        check_float("BPRMF", "init_std", self.init_std, low_open=True)


class BPRMF(CompiledPaths, Recommender):
    """Bayesian personalised ranking matrix factorization (see module docs)."""

    name = "bpr-mf"
    task = "ranking"
    Config = BPRMFConfig
    default_monitor = "topk.ndcg@50"
    step_hint_fields = ("optimizer", "learning_rate")
    supports_device = True

    object_params = ("regularizer",)

    def __init__(self, *, regularizer: Regularizer | None = None, **params):
        super().__init__(**params)
        self.regularizer = regularizer

    def trains_on_gpu(self) -> bool:
        return self.supports_device and not self.config.lambdaopt

    def _prepare(self, train) -> None:
        if self.config.lambdaopt and self.device_.type != "cpu":
            raise ConfigError(f"λOpt (lambdaopt={self.config.lambdaopt!r}) trains on the CPU only; use device='cpu'.")
        reg = copy.deepcopy(self.regularizer) if self.regularizer is not None else Regularizer(self.config.reg, self.config.reg)
        self._reg = reg.bind(np.bincount(train.users, minlength=train.n_users), np.bincount(train.items, minlength=train.n_items))
        self._reg.to(self.device_)
        c = self.config
        self.batch_size_ = c.batch_size or default_batch_size(len(train.users), bool(c.lambdaopt))
        self.learning_rate_ = c.learning_rate if c.learning_rate is not None else BASE_RATE * math.sqrt(self.batch_size_ / BASE_BATCH)
        self._u = torch.from_numpy(train.users.astype(np.int64))
        self._i = torch.from_numpy(train.items.astype(np.int64))
        self._n_items = train.n_items
        self._triples = None  # the epoch's (user, positive, negative) in its order (_epoch_triples)
        self._keys = torch.sort(self._u * self._n_items + self._i).values
        self._seen_dense = None
        if train.n_users * train.n_items <= _DENSE_SEEN_CELLS:
            self._seen_dense = torch.zeros(train.n_users, train.n_items, dtype=torch.bool)
            self._seen_dense[self._u, self._i] = True
        self._val = None

    def _prepare_validation(self, valid):
        self._val, held_out = prepare_lambda_validation(self, valid)
        return held_out

    def _init_params(self, rng) -> None:
        c = self.config
        g, dev = self._tgen, self.device_
        self.P = torch.nn.Parameter((torch.randn(len(self.user_vocab_), c.factors, generator=g) * c.init_std).to(dev))
        self.Q = torch.nn.Parameter((torch.randn(len(self.item_vocab_), c.factors, generator=g) * c.init_std).to(dev))
        self.bi = torch.nn.Parameter(torch.zeros(len(self.item_vocab_), device=dev))
        params = [self.P, self.Q] + ([self.bi] if c.item_bias else [])
        self._opt = make_optimizer(c.optimizer, params, lr=self.learning_rate_, compiled=self._compiled_optimizer and dev.type == "cpu")
        self._lam_hook = lambda_hook(self, rng, self._val, init_user=c.reg, init_item=c.reg, begin=self._validation_triples)
        self._lam = None if self._lam_hook is None else self._lam_hook.learner
        if self._lam is not None:
            self.lam_user, self.lam_item = self._lam.user, self._lam.item

    def sample_negatives(self, users: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Uniform items that each user has not interacted with in training."""
        gen = generator or self._tgen
        neg = torch.randint(self._n_items, users.shape, generator=gen)
        todo = torch.arange(len(users))
        seen = self._seen_dense
        for _ in range(_MAX_RESAMPLE):
            if seen is not None:  # a lookup in the dense bitmap of training pairs
                clash = seen[users[todo], neg[todo]]
            else:  # a binary search in the sorted keys u * n_items + i
                keys = users[todo] * self._n_items + neg[todo]
                pos = torch.searchsorted(self._keys, keys).clamp(max=len(self._keys) - 1)
                clash = self._keys[pos] == keys
            if not clash.any():
                break
            todo = todo[clash]
            neg[todo] = torch.randint(self._n_items, todo.shape, generator=gen)
        return neg

    def _epoch_triples(self, perm: torch.Tensor) -> None:
        """This epoch's (user, positive, negative) in the order ``perm``, negatives drawn on the CPU (the
        seeded stream), written into a (3, positives) buffer that stays on the device for the whole fit:
        a batch reads its columns ``rows`` (:meth:`_batch_pairs`), a slice, or, in a CUDA graph replay,
        a tensor of the same positions."""
        perm = perm.cpu()
        users = self._u.index_select(0, perm)
        neg = self.sample_negatives(users)
        if self._triples is None:
            self._triples = torch.empty(3, len(self._u), dtype=torch.int64, device=self.device_)
        for row, values in zip(self._triples, (users, self._i.index_select(0, perm), neg)):
            row.copy_(values)

    def _batch_pairs(self, rows: slice | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The users of this epoch's triples ``rows``, and their positives then negatives."""
        t = self._triples[:, rows]
        return t[0], t[1:].reshape(-1)

    def _batch_triples(self, rows: slice | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """This epoch's triples ``rows``: (users, positives, negatives)."""
        t = self._triples[:, rows]
        return t[0], t[1], t[2]

    def _validation_triples(self, vidx: torch.Tensor) -> None:
        """λOpt: the epoch's validation draws as triples (one fresh negative each)."""
        vu, vi = self._val[0][vidx], self._val[1][vidx]
        self._vtriples = (vu, vi, self.sample_negatives(vu, self._lam_hook.generator))

    def _train_epoch(self) -> dict[str, float]:
        """One epoch of mini-batch steps with the gradient in closed form.

        For a triple, d(−log σ(x))/dx = −σ(−x); the data gradient at the gathered rows and the
        penalty's per-occurrence gradient (:meth:`Regularizer.occurrence_grad`) are summed onto
        the tables with one ``index_add_`` per table, or, for ``sparse_adam``, handed to it as
        sparse row gradients.  No autograd graph: the epoch costs a few passes over the batch's
        rows, and the same data gradients feed λOpt's Λ-step.  On the CPU the batch's loss and
        gradients come from compiled passes (:func:`autorecs.kernels.bpr_batch_grads`,
        :func:`~autorecs.kernels.add_rows`, which also keeps the gradient tables zero outside the
        batch's rows instead of clearing them whole): the same arithmetic, an ml-1m epoch 0.81 -> 0.54 s
        on one thread; with λOpt the Λ-step too (:meth:`_compiled_lambda`) where :meth:`_compiles` says so.
        """
        bias = self.config.item_bias
        P, Q, bi = self.P.detach(), self.Q.detach(), self.bi.detach()
        sparse = isinstance(self._opt, torch.optim.SparseAdam)
        grads = None if sparse else {"P": torch.zeros_like(P), "Q": torch.zeros_like(Q), "bi": torch.zeros_like(bi)}
        kernel = self._compiled_batch() if self._compiles() else None
        self._lambda_kernel = None if kernel is None or self._lam_hook is None else self._compiled_lambda()
        if kernel is not None and not sparse:
            from ..kernels import add_rows

            # (parameter, its gradient table, as a 2-D array, which of the batch's row sets indexes it: users 0, items 1)
            tables = [(self.P, grads["P"], 0), (self.Q, grads["Q"], 1)] + ([(self.bi, grads["bi"], 1)] if bias else [])
            dense = [(param, g, g.reshape(len(g), -1).numpy(), side) for param, g, side in tables]
            last = [np.zeros(0, np.int64)] * 2  # the previous batch's users and items: the only non-zero rows

        def set_sparse_grads(u, ij, g_pu, g_qij, g_bij):
            self.P.grad = torch.sparse_coo_tensor(u[None], g_pu, P.shape, check_invariants=False)
            self.Q.grad = torch.sparse_coo_tensor(ij[None], g_qij, Q.shape, check_invariants=False)
            if bias:
                self.bi.grad = torch.sparse_coo_tensor(ij[None], g_bij, bi.shape, check_invariants=False)

        def batch_loss(idx, rows, lambda_due):
            u, ij = self._batch_pairs(rows)
            b = len(u)
            if kernel is None:
                return self._tensor_batch(u, ij, lambda_due, grads, set_sparse_grads if sparse else None)
            i, j = ij[:b], ij[b:]
            data, penalty, g_pu, g_qij, g_bij, c = kernel(u, i, j)
            if sparse:
                set_sparse_grads(u, ij, g_pu, g_qij, g_bij)
            else:
                rows_ = (u.numpy(), ij.numpy())
                for (param, g, gn, side), vals in zip(dense, (g_pu, g_qij, g_bij)):
                    add_rows(gn, last[side], rows_[side], vals.numpy().reshape(len(vals), -1))
                    param.grad = g
                last[:] = rows_
            return BatchLoss(torch.tensor(data), torch.tensor(penalty), grads=(c,) if lambda_due else (), context=(u, i, j))

        try:
            return minibatch_epoch(len(self._u), self.batch_size_, batch_loss, self._opt, generator=self._tgen,
                                   device=self.device_, begin=self._epoch_triples, lambda_hook=self._lam_hook,
                                   graphable=kernel is None and not sparse)
        finally:
            self._lambda_kernel = None  # it holds the epoch's arrays

    def _tensor_batch(self, u, ij, lambda_due: bool, grads, set_sparse) -> BatchLoss:
        """One batch with tensor ops (a GPU's path), the gradient in closed form.  With x = p_u·(q_i − q_j)
        + b_i − b_j and w = σ(−x) / batch size, the mean loss's data gradient is −w·(q_i − q_j) at p_u,
        −w·p_u at q_i, +w·p_u at q_j (and −w, +w at b_i, b_j); the penalty's is
        :meth:`Regularizer.occurrence_grad`'s, scaled likewise.  Summed onto the tables ``grads`` with
        one ``index_add_`` each (or handed to ``set_sparse`` for ``sparse_adam``); with ``lambda_due``
        the data part at the gathered rows goes to λOpt's Λ-step.  ``ij``: positives then negatives."""
        reg, bias, b = self._reg, self.config.item_bias, len(u)
        P, Q, bi = self.P.detach(), self.Q.detach(), self.bi.detach()
        pu, qij = P.index_select(0, u), Q.index_select(0, ij)  # index_select: ~4x faster than P[u] here
        dn = qij[b:] - qij[:b]  # q_j − q_i
        nx = (pu * dn).sum(1)  # −x
        bij = bi.index_select(0, ij) if bias else None
        if bias:
            nx = nx + bij[b:] - bij[:b]
        w = torch.sigmoid(nx).mul_(1.0 / b)
        g_pu, _ = reg.occurrence_grad("user", u, pu, scale=1.0 / b)
        g_qij, g_bij = reg.occurrence_grad("item", ij, qij, bij, scale=1.0 / b)
        penalty = torch.vdot(g_pu.flatten(), pu.flatten()) + torch.vdot(g_qij.flatten(), qij.flatten())
        if bias:
            penalty = penalty + torch.vdot(g_bij, bij)
        wc = w[:, None]
        data_grads = ()
        if lambda_due:  # the data part alone (of the mean loss), for the Λ-step
            data_grads = [wc * dn, torch.cat([-wc * pu, wc * pu])] + ([torch.cat([-w, w])] if bias else [])
        g_pu.addcmul_(wc, dn)
        g_qij[:b].addcmul_(wc, pu, value=-1.0)
        g_qij[b:].addcmul_(wc, pu)
        if bias:
            g_bij[:b] -= w
            g_bij[b:] += w
        if set_sparse is not None:
            set_sparse(u, ij, g_pu, g_qij, g_bij)
        else:
            self.P.grad = grads["P"].zero_().index_add_(0, u, g_pu)  # the buffers are reused: no allocation per batch
            self.Q.grad = grads["Q"].zero_().index_add_(0, ij, g_qij)
            if bias:
                self.bi.grad = grads["bi"].zero_().index_add_(0, ij, g_bij)
        # −log σ(x) = softplus(−x); the penalty is half of Σ grad ⊙ θ, here over the batch size
        return BatchLoss(F.softplus(nx).sum(), penalty * (0.5 * b), grads=data_grads, context=(u, ij[:b], ij[b:]))

    def _penalty_arrays(self):
        """The penalty's coefficients as the kernels take them: ``(lam_u, s_u, lam_i, s_i, lam_b)``
        (:func:`autorecs.models._compiled.penalty_arrays`; the item bias's λ only: BPR-MF has no user bias)."""
        a = penalty_arrays(self._reg, self.config.factors, len(self.P), len(self.Q), self._lam)
        return a["lam_u"], a["s_u"], a["lam_i"], a["s_i"], a["lam_bi"]

    def _compiled_batch(self):
        """``kernel(u, i, j) -> (data, penalty, g_u, g_ij, g_b, c)``: the batch's loss, per-occurrence
        gradients and per-triple d(−log σ(x))/dx from :func:`autorecs.kernels.bpr_batch_grads`."""
        from ..kernels import bpr_batch_grads, match_torch_threads

        match_torch_threads()
        c = self.config
        P, Q, bi = (t.detach().numpy() for t in (self.P, self.Q, self.bi))
        args = (*self._penalty_arrays(), bool(c.item_bias))
        size, K = self.batch_size_, P.shape[1]
        g_u, g_ij, g_b = np.empty((size, K), np.float32), np.empty((2 * size, K), np.float32), np.empty(2 * size, np.float32)
        dx = np.empty(size, np.float32)

        def kernel(u, i, j):
            n = len(u)
            data, penalty = bpr_batch_grads(P, Q, bi, u.numpy(), i.numpy(), j.numpy(), *args, g_u[:n], g_ij[: 2 * n], g_b[: 2 * n], dx[:n])
            return (data, penalty, torch.from_numpy(g_u[:n]), torch.from_numpy(g_ij[: 2 * n]), torch.from_numpy(g_b[: 2 * n]),
                    dx[:n])

        return kernel

    def _compiled_lambda(self):
        """``step((u, i, j), c, v)``: λOpt's Λ-step from :func:`autorecs.kernels.bpr_lambda_grads` (the
        same arithmetic as :meth:`_lambda_step`'s tensor path), then the learner's update of Λ."""
        from ..kernels import bpr_lambda_grads

        c, opt, lam = self.config, self._opt, self._lam
        group = opt.param_groups[0]
        adam = is_adam(opt)
        beta1, beta2 = group["betas"] if adam else (0.0, 0.0)
        P, Q, bi = (t.detach().numpy() for t in (self.P, self.Q, self.bi))
        args = (*self._penalty_arrays(), bool(c.item_bias))
        grads, as_grad, slots, clear = lambda_step_buffers(lam, len(P), len(Q))
        untrained = (np.zeros(0, np.float32),) * 2 + (0.0,)

        def moments(param):
            if param is self.bi and not c.item_bias:  # not trained
                return untrained
            return optimizer_moments(opt, param, adam, "BPRMF")

        def step(batch, dx, v):
            u, i, j = batch
            vu, vi, vj = (t[v].numpy() for t in self._vtriples)
            (mp, vp, t), (mq, vq, _), (mb, vb, _) = moments(self.P), moments(self.Q), moments(self.bi)
            _, clear[0], clear[1] = bpr_lambda_grads(
                P, Q, bi, mp, vp, mq, vq, mb, vb, adam, float(group["lr"]), beta1, beta2, float(group.get("eps", 0.0)), t + 1.0,
                float(group["weight_decay"]), u.numpy(), i.numpy(), j.numpy(), dx, vu, vi, vj, *args, *grads, *clear, *slots,
                float(c.lambda_clip))
            lam.apply(*as_grad)

        return step

    def _batch_penalty(self, reg, tables, u, i, j) -> torch.Tensor:
        """The batch penalty from whole ``tables`` (for models built on BPRMF)."""
        P, Q = tables["P"], tables["Q"]
        bi = tables.get("bi")
        return (
            reg.penalty("user", u, P[u])
            + reg.penalty("item", i, Q[i], None if bi is None else bi[i])
            + reg.penalty("item", j, Q[j], None if bi is None else bi[j])
        )

    def _tables(self) -> dict[str, torch.nn.Parameter]:
        return {"P": self.P, "Q": self.Q, **({"bi": self.bi} if self.config.item_bias else {})}

    def _lambda_step(self, batch, grads, v) -> None:
        """One λOpt Λ-step at (Θ_t, Λ_t) with the validation BPR loss (see autorecs.lambdaopt).

        ``batch``: the batch's users, positives and negatives ``(u, i, j)``; ``grads``: the data gradient
        at the gathered rows ``P[u]``, ``Q[ij]`` (and ``bi[ij]``), ``ij`` the positives then the negatives
        (in a compiled epoch: the per-triple d(−log σ(x))/dx); ``v``: this batch's slice of the epoch's
        validation triples."""
        if self._lambda_kernel is not None:  # this epoch runs the compiled kernels
            return self._lambda_kernel(batch, grads[0], v)
        from ..lambdaopt import rows_gradient

        u, i, j = batch
        ij = torch.cat([i, j])
        vu, vi, vj = (t[v] for t in self._vtriples)
        urows, uinv = torch.unique(vu, return_inverse=True)
        irows, iinv = torch.unique(torch.cat([vi, vj]), return_inverse=True)
        ipos, ineg = iinv[: len(vi)], iinv[len(vi) :]
        bias = self.config.item_bias

        def val_loss(new):
            q = new["Q"]
            x = (new["P"].index_select(0, uinv) * (q.index_select(0, ipos) - q.index_select(0, ineg))).sum(1)
            if bias:
                x = x + new["bi"].index_select(0, ipos) - new["bi"].index_select(0, ineg)
            return -F.logsigmoid(x).mean()

        P, Q = self.P.detach().index_select(0, urows), self.Q.detach().index_select(0, irows)
        bi = self.bi.detach().index_select(0, irows) if bias else None

        def penalty_grads(reg):
            (gp, _), (gq, gb) = reg.penalty_grad("user", u, urows, P), reg.penalty_grad("item", ij, irows, Q, bi)
            return {"P": gp / len(u), "Q": gq / len(u), **({"bi": gb / len(u)} if bias else {})}

        rows = {"P": urows, "Q": irows, "bi": irows}
        data = {"P": rows_gradient(u, grads[0], urows), "Q": rows_gradient(ij, grads[1], irows)}
        if bias:
            data["bi"] = rows_gradient(ij, grads[2], irows)
        tables = self._tables()
        self._lam.step(self._opt, tables, data, penalty_grads, {k: rows[k] for k in tables}, val_loss)

    def _get_state(self) -> dict[str, torch.Tensor]:
        names = ("P", "Q", "bi") + (("lam_user", "lam_item") if self.config.lambdaopt else ())
        return {k: getattr(self, k).detach().clone() for k in names}

    def _set_state(self, state) -> None:
        for k, v in state.items():
            if k.startswith("lam_"):
                setattr(self, k, v.clone())  # learned Λ: kept for inspection, not trained further
            else:
                setattr(self, k, torch.nn.Parameter(v.to(self.device_).clone()))

    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        u = torch.from_numpy(np.asarray(users, np.int64)).to(self.P.device)
        return (self.P[u] @ self.Q.T + self.bi[None, :]).cpu()


@dataclass
class PretrainedBPRConfig(BPRMFConfig):
    """A BPRMF config plus the pre-training switch of models that start from a trained BPR-MF."""

    learning_rate: float = BASE_RATE
    batch_size: int = BASE_BATCH
    """Training triples per step (these models' own loops keep BPR-MF's former fixed default)."""
    pretrain: bool = True
    """First train a plain BPR-MF with these hyperparameters to convergence (early stopping on
    validation) and start from its P, Q, b; False starts from random initialisation."""

    def validate(self) -> None:
        super().validate()
        owner = type(self).__name__.removesuffix("Config")
        check_int(owner, "batch_size", self.batch_size)  # no size-following default here: their own loops take it as is
        check_float(owner, "learning_rate", self.learning_rate, low_open=True)
        check_param(not self.lambdaopt, type(self).__name__.removesuffix("Config"), "lambdaopt", self.lambdaopt, "empty",
                    "This model is a fixed-λ baseline; use BPRMF for λOpt.")
        check_param(self.optimizer != "sparse_adam", type(self).__name__.removesuffix("Config"), "optimizer", self.optimizer,
                    "a dense optimizer ('adam', 'sgd' or 'adagrad')", "Its own loop trains with autograd's dense gradients.")
        check_param(isinstance(self.pretrain, bool), type(self).__name__.removesuffix("Config"), "pretrain", self.pretrain, "True or False")


class PretrainedBPR(BPRMF):
    """Base of models that continue from a BPR-MF trained to convergence (AMF, NeuMF).

    ``fit`` first fits :class:`BPRMF` with the shared hyperparameters and the same random
    stream (``pretrain_history_``, ``pretrain_seconds_``), then the model's own loop starts
    from its P, Q and b (``_init_params`` copies them in).  ``fit_seconds_`` counts both phases.
    """

    Config = PretrainedBPRConfig
    supports_device = False
    _compiled_optimizer = False  # their own loops: autograd's fresh gradient tensors every step

    object_params = ("regularizer", "pretrained")

    def __init__(self, *, pretrained: BPRMF | None = None, regularizer: Regularizer | None = None, **params):
        """``pretrained``: a BPRMF already fitted on the same training data with the same ``factors``
        and ``item_bias``, used instead of pre-training one (e.g. the model a λ grid search chose)."""
        super().__init__(regularizer=regularizer, **params)
        if pretrained is not None:
            pretrained._check_fitted()
            name = type(self).__name__
            check_param(type(pretrained) is BPRMF, name, "pretrained", type(pretrained).__name__, "a fitted BPRMF")
            for f in ("factors", "item_bias"):
                check_param(getattr(pretrained.config, f) == getattr(self.config, f), name, f"pretrained.{f}",
                            getattr(pretrained.config, f), f"equal to {f}={getattr(self.config, f)!r}")
        self.pretrained = pretrained

    def fit(self, train, valid=None, *, seed=None, progress: bool = True, callbacks=(), device=None):
        from .._rng import as_generator
        from ..device import resolve_device

        if resolve_device(device).type != "cpu":  # before the pre-training starts
            raise ConfigError(f"{type(self).__name__} trains on the CPU only; got device={device!r}. Use device='cpu'.")

        rng = as_generator(seed)
        self._pretrained = None
        self.pretrain_seconds_ = 0.0
        if self.pretrained is not None:
            p = self.pretrained
            if not (p.user_vocab_ == train.user_vocab and p.item_vocab_ == train.item_vocab):
                raise DataError(f"{type(self).__name__}: the 'pretrained' BPRMF was fitted on other users or items than this "
                                "training data; fit it on the same data or leave 'pretrained' out.")
            self._pretrained = p._get_state()
            self.pretrain_history_, self.pretrain_seconds_ = p.history_, p.fit_seconds_
        elif self.config.pretrain:
            fields = set(BPRMFConfig.__dataclass_fields__)
            base = BPRMF(**{k: v for k, v in self.get_params().items() if k in fields})
            base.fit(train, valid, seed=rng, progress=progress)
            self._pretrained = base._get_state()
            self.pretrain_history_, self.pretrain_seconds_ = base.history_, base.fit_seconds_
        super().fit(train, valid, seed=rng, progress=progress, callbacks=callbacks)
        self.fit_seconds_ += self.pretrain_seconds_
        return self

    def _init_params(self, rng) -> None:
        super()._init_params(rng)
        if self._pretrained is not None:
            with torch.no_grad():
                for k in ("P", "Q", "bi"):
                    getattr(self, k).copy_(self._pretrained[k])
