"""Biased matrix factorization for explicit ratings.

    r̂_ui = μ + b_u + b_i + p_u · q_i

Objective (see :mod:`autorecs.regularization` for the λ convention):

    Σ_(u,i)∈T (r_ui − r̂_ui)² + Σ_u n_u λ_u (b_u² + ||p_u||²) + Σ_i n_i λ_i (b_i² + ||q_i||²)

Solvers: ``sgd``, ``adam``, ``adagrad`` (mini-batch, PyTorch; the batch loss is
the mean over the batch of squared error plus the per-occurrence penalty) and
``als`` (exact alternating ridge solves for [p_u, b_u] then [q_i, b_i], then the
closed-form μ, as in the MF lecture).  ``weight_decay`` adds the optimizers'
plain weight decay on every parameter (gradient solvers only).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from ..exceptions import check_float, check_int, check_param
from ..lambdaopt.options import LambdaOptOptions
from ..regularization import Regularizer
from ._als import cg_solve, pair_dots, ridge_solve, torch_csr, with_values
from ..training import BatchLoss, minibatch_epoch
from ..optim import make_optimizer
from ._compiled import CompiledPaths, lambda_step_buffers, optimizer_moments, penalty_arrays
from ._lambdaopt import lambda_hook, prepare_lambda_validation
from .base import FitConfig, Recommender

SOLVERS = ("als", "sgd", "adam", "adagrad")


@dataclass
class BiasedMFConfig(FitConfig, LambdaOptOptions):
    """Hyperparameters of :class:`BiasedMF` (λOpt: the validation squared error teaches Λ, from reg_user/reg_item;
    gradient solvers only)."""

    factors: int = 64
    """Latent dimension K."""
    solver: str = "als"
    """One of ``als``, ``sgd``, ``adam``, ``adagrad``."""
    reg_user: float = 0.9
    """λ for user factors and biases (scaled by n_u^reg_exponent)."""
    reg_item: float = 0.9
    """λ for item factors and biases (scaled by n_i^reg_exponent)."""
    reg_bias: float | None = None
    """λ for user and item biases; None = the same as their factors'."""
    reg_exponent: float = 0.6
    """β in the penalty Σ n^β λ ||θ||² (1 = per occurrence; 0 = uniform); see autorecs.regularization.
    The defaults (β = 0.6, λ = 0.9, K = 64) were chosen on the *validation* split of ml-100k
    random-50-25-25, seeds 0-2 (benchmarks/README.md)."""
    cg_steps: int = 3
    """ALS only: n >= 1 runs n conjugate-gradient steps per row and sweep, warm-started from the
    previous sweep, in float32 on PyTorch's sparse kernels; 0 solves every row exactly (batched
    Cholesky, float64).  On ml-100k and ml-1m both reach the same validation and test RMSE to
    4 decimals, CG 4-8x faster (benchmarks/README.md)."""
    learning_rate: float = 0.005
    """Step size of the gradient solvers.  The batch loss is a mean, so plain ``sgd``
    needs about ``batch_size`` times the per-example rate of classic SGD-MF."""
    batch_size: int = 1024
    """Mini-batch size of the gradient solvers."""
    weight_decay: float = 0.0
    """Plain (optimizer) weight decay on all parameters; gradient solvers only."""
    init_std: float = 0.1
    """Standard deviation of the normal initialisation of the factors."""
    clip: bool = True
    """Clip predicted ratings to the training ratings' range (as Surprise does)."""
    epochs: int = 100
    patience: int = 5

    def validate(self) -> None:
        super().validate()
        owner = "BiasedMF"
        check_int(owner, "factors", self.factors)
        check_int(owner, "batch_size", self.batch_size)
        check_int(owner, "cg_steps", self.cg_steps, low=0)
        check_param(self.solver in SOLVERS, owner, "solver", self.solver, f"one of {SOLVERS}")
        for name in ("reg_user", "reg_item", "weight_decay"):
            check_float(owner, name, getattr(self, name), fix="Use 0 for no regularization.")
        if self.reg_bias is not None:
            check_float(owner, "reg_bias", self.reg_bias, fix="Use None (on the command line: -p reg_bias=null) for the factors' λ.")
        check_float(owner, "reg_exponent", self.reg_exponent, 0.0, 1.0)
        check_float(owner, "learning_rate", self.learning_rate, low_open=True)
        check_float(owner, "init_std", self.init_std, low_open=True)
        self.validate_lambdaopt(owner)
        if self.lambdaopt:
            check_param(self.solver != "als", owner, "solver", self.solver, "sgd, adam or adagrad with lambdaopt",
                        "λOpt simulates an optimizer step and ALS has none, so choose one: solver='adam' (-p solver=adam).")


class BiasedMF(CompiledPaths, Recommender):
    """Biased matrix factorization, μ + b_u + b_i + p_uᵀq_i, by ALS, SGD, Adam or Adagrad (see module docs).

    ``regularizer`` (an :class:`~autorecs.regularization.Regularizer`) overrides the global λ."""

    name = "biased-mf"
    task = "rating"
    Config = BiasedMFConfig
    default_monitor = "rmse"
    supports_device = True

    object_params = ("regularizer",)

    def __init__(self, *, regularizer: Regularizer | None = None, **params):
        super().__init__(**params)
        self.regularizer = regularizer

    @property
    def step_hint_fields(self):  # type: ignore[override]
        return ("solver", "reg_user", "reg_item") if self.config.solver == "als" else ("solver", "learning_rate")

    def _cpu_only(self) -> tuple | None:
        """Why this configuration trains on the CPU only, as :func:`check_param`'s arguments after the
        owner; None when it can train on a GPU."""
        c = self.config
        if c.lambdaopt:
            return "lambdaopt", c.lambdaopt, "empty on a GPU", "λOpt trains on the CPU only; use device='cpu'."
        if c.solver == "als" and c.cg_steps == 0:
            return "cg_steps", c.cg_steps, ">= 1 on a GPU", "The exact ALS solves (cg_steps=0) run on the CPU only; use device='cpu'."
        return None

    def trains_on_gpu(self) -> bool:
        return self.supports_device and self._cpu_only() is None

    # -------------------------------------------------------------- training
    def _prepare(self, train) -> None:
        c, dev = self.config, self.device_
        if dev.type != "cpu" and (why := self._cpu_only()) is not None:
            check_param(False, "BiasedMF", *why)
        self.rating_range = torch.tensor([train.ratings.min(), train.ratings.max()], dtype=torch.float32)
        self._val = None
        reg = copy.deepcopy(self.regularizer) if self.regularizer is not None else Regularizer(c.reg_user, c.reg_item, c.reg_bias, c.reg_exponent)
        self._reg = reg.bind(np.bincount(train.users, minlength=train.n_users), np.bincount(train.items, minlength=train.n_items)).to(dev)
        self._u = torch.from_numpy(train.users.astype(np.int64)).to(dev)
        self._i = torch.from_numpy(train.items.astype(np.int64)).to(dev)
        self._r = torch.from_numpy(train.ratings.astype(np.float32)).to(dev)
        if c.solver == "als":
            self._R = sp.csr_matrix((train.ratings.astype(np.float64), (train.users, train.items)), shape=(train.n_users, train.n_items))
            self._ones_u = self._R.copy()
            self._ones_u.data[:] = 1.0
            self._R_t = self._R.T.tocsr()
            self._ones_i = self._ones_u.T.tocsr()
            # ratings in user-major CSR order, for the sweep's loss (one pass over the stored cells)
            self._pattern = torch_csr(self._R, device=dev)
            self._pattern_rows = torch.repeat_interleave(torch.arange(train.n_users, device=dev),
                                                         self._pattern.crow_indices().diff())
            if c.cg_steps:  # the same matrices as PyTorch CSR tensors, float32
                self._R_cg = {"user": self._pattern, "item": torch_csr(self._R_t, device=dev)}
                self._ones_cg = {side: with_values(m, torch.ones_like(m.values())) for side, m in self._R_cg.items()}

    def _init_params(self, rng) -> None:
        c = self.config
        n_u, n_i = len(self.user_vocab_), len(self.item_vocab_)
        g, dev = self._tgen, self.device_
        self.mu = torch.nn.Parameter(torch.tensor(self.train_mean_, dtype=torch.float32, device=dev))
        self.bu = torch.nn.Parameter(torch.zeros(n_u, device=dev))
        self.bi = torch.nn.Parameter(torch.zeros(n_i, device=dev))
        self.P = torch.nn.Parameter((torch.randn(n_u, c.factors, generator=g) * c.init_std).to(dev))
        self.Q = torch.nn.Parameter((torch.randn(n_i, c.factors, generator=g) * c.init_std).to(dev))
        if c.solver != "als":
            # the compiled batches hand over the same gradient tables every step: Adam's compiled step pays there
            self._opt = make_optimizer(c.solver, [self.mu, self.bu, self.bi, self.P, self.Q], lr=c.learning_rate,
                                       weight_decay=c.weight_decay, compiled=self._compiled_optimizer and dev.type == "cpu")
        self._lam_hook = lambda_hook(self, rng, self._val, init_user=c.reg_user, init_item=c.reg_item)
        self._lam = None if self._lam_hook is None else self._lam_hook.learner

    def _prepare_validation(self, valid):
        self._val, held_out = prepare_lambda_validation(self, valid)
        return held_out

    def _train_epoch(self) -> dict[str, float]:
        return self._als_sweep() if self.config.solver == "als" else self._gradient_epoch()

    def _gradient_epoch(self) -> dict[str, float]:
        """One epoch of mini-batch steps with the gradient in closed form (no autograd graph).  On the
        CPU the batch's loss and gradients come from one compiled pass
        (:func:`autorecs.kernels.mf_batch_grads`, summed onto gradient tables kept zero outside the
        batch's rows by :func:`~autorecs.kernels.add_rows`), and with λOpt the Λ-step too
        (:meth:`_compiled_lambda`) where :meth:`_compiles` says so; elsewhere (a GPU) tensor ops
        (:meth:`_tensor_batch`)."""
        kernel = self._compiled_batch() if self._compiles() else None
        self._lambda_kernel = None if kernel is None or self._lam_hook is None else self._compiled_lambda()
        grads = None if kernel is not None else {name: torch.zeros_like(t) for name, t in self._tables().items()}

        def batch_loss(idx, rows, lambda_due):
            u, i, r = self._u.index_select(0, idx), self._i.index_select(0, idx), self._r.index_select(0, idx)
            if kernel is not None:
                data, penalty, c = kernel(u, i, r)
                return BatchLoss(torch.tensor(data), torch.tensor(penalty), grads=(c,) if lambda_due else (), context=(u, i))
            return self._tensor_batch(u, i, r, lambda_due, grads)

        try:
            return minibatch_epoch(len(self._r), self.config.batch_size, batch_loss, self._opt, generator=self._tgen,
                                   device=self.device_, lambda_hook=self._lam_hook, graphable=kernel is None)
        finally:
            self._lambda_kernel = None  # it holds the epoch's arrays

    def _tensor_batch(self, u, i, r, lambda_due: bool, grads: dict[str, torch.Tensor]) -> BatchLoss:
        """One batch with tensor ops, the gradient in closed form: with e = r̂ − r, the data term's
        gradient at the gathered rows is 2e·q_i (p_u), 2e·p_u (q_i), 2e (b_u, b_i, μ); the penalty's is
        :meth:`Regularizer.occurrence_grad`'s.  Both, over the batch size, are summed onto the
        tables ``grads`` (reused from step to step) with one ``index_add_`` each, which become the
        parameters' ``.grad``.  On a GPU about half the kernels of autograd's gathers and their
        backward (an index_put, a sort, per table); with ``lambda_due`` the data part at the gathered
        rows goes to λOpt's Λ-step."""
        reg, b = self._reg, len(u)
        P, Q, bu_t, bi_t = (t.detach() for t in (self.P, self.Q, self.bu, self.bi))
        pu, qi, bu, bi = P.index_select(0, u), Q.index_select(0, i), bu_t.index_select(0, u), bi_t.index_select(0, i)
        e = (pu * qi).sum(1) + bu + bi + self.mu.detach() - r
        c = e * (2.0 / b)  # d(mean e²)/dr̂
        g_pu, g_bu = reg.occurrence_grad("user", u, pu, bu, scale=1.0 / b)
        g_qi, g_bi = reg.occurrence_grad("item", i, qi, bi, scale=1.0 / b)
        penalty = (torch.vdot(g_pu.flatten(), pu.flatten()) + torch.vdot(g_qi.flatten(), qi.flatten())
                   + torch.vdot(g_bu, bu) + torch.vdot(g_bi, bi)) * (0.5 * b)
        cc = c[:, None]
        data_grads = ()
        if lambda_due:  # the data part alone (of the mean loss), for the Λ-step: μ, p_u, q_i, b_u, b_i
            data_grads = (c.sum(), cc * qi, cc * pu, c, c)
        g_pu.addcmul_(cc, qi)
        g_qi.addcmul_(cc, pu)
        g_bu.add_(c)
        g_bi.add_(c)
        self.P.grad = grads["P"].zero_().index_add_(0, u, g_pu)
        self.Q.grad = grads["Q"].zero_().index_add_(0, i, g_qi)
        self.bu.grad = grads["bu"].zero_().index_add_(0, u, g_bu)
        self.bi.grad = grads["bi"].zero_().index_add_(0, i, g_bi)
        self.mu.grad = torch.sum(c, 0, out=grads["mu"])
        return BatchLoss(torch.vdot(e, e), penalty, grads=data_grads, context=(u, i))

    def _compiled_batch(self):
        """``kernel(u, i, r) -> (data, penalty, c)``: the batch's summed squared error and penalty, and
        per-rating 2·error, from :func:`autorecs.kernels.mf_batch_grads`; the gradients go onto the
        parameters' ``.grad`` (tables reused from step to step, zero outside the batch's rows)."""
        from ..kernels import add_rows, match_torch_threads, mf_batch_grads

        match_torch_threads()
        K, size = self.config.factors, self.config.batch_size
        pen = penalty_arrays(self._reg, K, len(self.P), len(self.Q), self._lam)
        args = (pen["lam_u"], pen["s_u"], pen["lam_i"], pen["s_i"], pen["lam_bu"], pen["lam_bi"])
        P, Q, bu, bi = (t.detach().numpy() for t in (self.P, self.Q, self.bu, self.bi))
        mu = self.mu.detach()
        grads = {name: torch.zeros_like(t) for name, t in self._tables().items()}
        g2d = {name: g.reshape(len(g), -1).numpy() for name, g in grads.items() if name != "mu"}
        g_u, g_i = np.empty((size, K), np.float32), np.empty((size, K), np.float32)
        g_bu, g_bi, dx = np.empty(size, np.float32), np.empty(size, np.float32), np.empty(size, np.float32)
        last = [np.zeros(0, np.int64)] * 2  # the previous batch's users and items: the only non-zero rows

        def kernel(u, i, r):
            n = len(u)
            un, iN = u.numpy(), i.numpy()
            data, penalty, g_mu = mf_batch_grads(P, Q, bu, bi, float(mu), un, iN, r.numpy(), *args,
                                                 g_u[:n], g_i[:n], g_bu[:n], g_bi[:n], dx[:n])
            add_rows(g2d["P"], last[0], un, g_u[:n])
            add_rows(g2d["bu"], last[0], un, g_bu[:n].reshape(n, 1))
            add_rows(g2d["Q"], last[1], iN, g_i[:n])
            add_rows(g2d["bi"], last[1], iN, g_bi[:n].reshape(n, 1))
            last[:] = un, iN
            grads["mu"].fill_(g_mu)
            for name, param in self._tables().items():
                param.grad = grads[name]
            return data, penalty, dx[:n]

        return kernel

    def _compiled_lambda(self):
        """``step((u, i), c, v)``: λOpt's Λ-step from :func:`autorecs.kernels.mf_lambda_grads` (the same
        arithmetic as :meth:`_lambda_step`'s tensor path), then the learner's update of Λ."""
        from ..kernels import mf_lambda_grads
        from ..optim import is_adam

        opt, lam, c = self._opt, self._lam, self.config
        group = opt.param_groups[0]
        adam = is_adam(opt)
        beta1, beta2 = group["betas"] if adam else (0.0, 0.0)
        pen = penalty_arrays(self._reg, c.factors, len(self.P), len(self.Q), lam)
        args = (pen["lam_u"], pen["s_u"], pen["lam_i"], pen["s_i"], pen["lam_bu"], pen["lam_bi"])
        P, Q, bu, bi = (t.detach().numpy() for t in (self.P, self.Q, self.bu, self.bi))
        mu = self.mu.detach()
        grads, as_grad, slots, clear = lambda_step_buffers(lam, len(P), len(Q))
        tables = self._tables()

        def moments(name):
            return optimizer_moments(opt, tables[name], adam, "BiasedMF")

        def step(batch, dx, v):
            u, i = batch
            vu, vi, vr = (a[self._lam_hook.vidx[v]].numpy() for a in self._val)
            (mp, vp, t), (mq, vq, _), (mbu, vbu, _), (mbi, vbi, _), (mmu, vmu, _) = (moments(k) for k in ("P", "Q", "bu", "bi", "mu"))
            _, clear[0], clear[1] = mf_lambda_grads(
                P, Q, bu, bi, float(mu), mp, vp, mq, vq, mbu, vbu, mbi, vbi, float(mmu), float(vmu), adam, float(group["lr"]),
                beta1, beta2, float(group.get("eps", 0.0)), t + 1.0, float(group["weight_decay"]), u.numpy(), i.numpy(), dx,
                vu, vi, vr, *args, *grads, *clear, *slots, float(c.lambda_clip))
            lam.apply(*as_grad)

        return step

    def _tables(self) -> dict[str, torch.nn.Parameter]:
        return {"mu": self.mu, "bu": self.bu, "bi": self.bi, "P": self.P, "Q": self.Q}

    def _lambda_step(self, batch, grads, v) -> None:
        """One λOpt Λ-step with the validation squared error (see autorecs.lambdaopt).

        ``batch``: the batch's (users, items); ``grads``: the data gradient at μ and at the gathered
        rows ``P[u], Q[i], b_u[u], b_i[i]``; ``v``: this batch's slice of the epoch's validation draws."""
        if self._lambda_kernel is not None:  # this epoch runs the compiled kernels: grads is (2·error per rating,)
            return self._lambda_kernel(batch, grads[0], v)
        from ..lambdaopt.hypergrad import rating_lambda_step

        u, i = batch
        vidx = self._lam_hook.vidx[v]
        grads = dict(zip(("mu", "P", "Q", "bu", "bi"), grads))
        rating_lambda_step(self._lam, self._opt, self._tables(), grads, u, i, tuple(a[vidx] for a in self._val),
                           lambda p, q: (p * q).sum(1))

    @torch.no_grad()
    def _als_sweep(self) -> dict[str, float]:
        self.P.data, self.bu.data = self._als_half_step("user", self._R, self._ones_u, self.Q, self.bi)
        self.Q.data, self.bi.data = self._als_half_step("item", self._R_t, self._ones_i, self.P, self.bu)
        # μ: mean residual (cells in CSR order: one sampled product instead of gathering P[u], Q[i])
        R, rows, cols = self._pattern, self._pattern_rows, self._pattern.col_indices()
        fit = self.bu.index_select(0, rows) + self.bi.index_select(0, cols) + pair_dots(R, self.P.detach(), self.Q.detach())
        resid = R.values() - fit
        self.mu.data = resid.double().mean().float()
        err = (resid - self.mu).double().pow(2).sum()
        pen = self._reg.total("user", self.P, self.bu) + self._reg.total("item", self.Q, self.bi)
        return {"loss": float(err + pen) / len(self._r)}

    def _als_half_step(self, side, R, ones, other_factors, other_bias) -> tuple[torch.Tensor, torch.Tensor]:
        """[factors, bias] of every row of ``side``: targets r − μ − b_other, features [q, 1];
        exact, or ``cg_steps`` conjugate-gradient steps from the current values."""
        K = self.config.factors
        diag_f, diag_b = self._reg.ridge(side, K)
        if self.config.cg_steps:
            r = self._R_cg[side]
            target = with_values(r, r.values() - self.mu.detach() - other_bias.detach()[r.col_indices()])
            x = torch.cat([other_factors.detach(), torch.ones(len(other_factors), 1, device=self.device_)], 1)
            mine = (self.P, self.bu) if side == "user" else (self.Q, self.bi)
            x0 = torch.cat([mine[0].detach(), mine[1].detach()[:, None]], 1)
            diag = torch.cat([diag_f, diag_b[:, None]], 1).float()
            sol = cg_solve(self._ones_cg[side], target, x0, x, diag, self.config.cg_steps)
            return sol[:, :K].contiguous(), sol[:, K].contiguous()
        target = R.copy()
        target.data -= float(self.mu) + other_bias.detach().double().numpy()[R.indices]
        x = torch.cat([other_factors.detach().double(), torch.ones(len(other_factors), 1, dtype=torch.float64)], 1)
        sol = ridge_solve(ones, target, x, torch.cat([diag_f, diag_b[:, None]], 1))
        return sol[:, :K].float(), sol[:, K].float()

    def _get_state(self) -> dict[str, torch.Tensor]:
        state = {k: getattr(self, k).detach().clone() for k in ("mu", "bu", "bi", "P", "Q")}
        state["rating_range"] = self.rating_range.clone()
        if getattr(self, "_lam", None) is not None:
            state["lam_user"], state["lam_item"] = self._lam.current()
        return state

    def _set_state(self, state) -> None:
        self.rating_range = state["rating_range"].clone()
        for k in ("mu", "bu", "bi", "P", "Q"):
            setattr(self, k, torch.nn.Parameter(state[k].to(self.device_).clone()))
        for k in ("lam_user", "lam_item"):  # learned Λ (λOpt): kept for inspection
            if k in state:
                setattr(self, k, state[k].clone())

    # ------------------------------------------------------------- inference
    @torch.no_grad()
    def _score_codes(self, users: np.ndarray) -> torch.Tensor:
        u = torch.from_numpy(np.asarray(users, np.int64)).to(self.P.device)
        return (self.mu + self.bu[u, None] + self.bi[None, :] + self.P[u] @ self.Q.T).cpu()

    @torch.no_grad()
    def _predict_codes(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        ku, ki = users >= 0, items >= 0
        dev = self.P.device
        u = torch.from_numpy(np.where(ku, users, 0).astype(np.int64)).to(dev)
        i = torch.from_numpy(np.where(ki, items, 0).astype(np.int64)).to(dev)
        ku_t, ki_t = torch.from_numpy(ku).to(dev), torch.from_numpy(ki).to(dev)
        both = (ku_t & ki_t).float()
        pred = self.mu + self.bu[u] * ku_t + self.bi[i] * ki_t + both * (self.P[u] * self.Q[i]).sum(1)
        if self.config.clip:
            pred = pred.clamp(float(self.rating_range[0]), float(self.rating_range[1]))
        return pred.cpu().numpy()
