"""The λ hypergradient agrees with finite differences of a *real* optimizer step."""

import copy

import pytest
import torch
import torch.nn.functional as F

from autorecs import Regularizer
from autorecs.lambdaopt import validation_loss_after_step
from autorecs.optim import make_optimizer

N_U, N_I, K = 5, 7, 3
TRAIN = (torch.tensor([0, 1, 1, 3, 4, 0]), torch.tensor([1, 2, 5, 0, 6, 3]), torch.tensor([4, 0, 3, 2, 1, 6]))
VALID = (torch.tensor([0, 2, 3, 1]), torch.tensor([2, 1, 5, 6]), torch.tensor([3, 4, 0, 0]))


def _lambdas(granularity):
    g = torch.Generator().manual_seed(1)
    shape = {"global": (), "D": (K,), "UI": None, "DUI": None}[granularity]
    if granularity == "UI":
        return torch.rand(N_U, 1, generator=g, dtype=torch.float64) * 0.5, torch.rand(N_I, 1, generator=g, dtype=torch.float64) * 0.5
    if granularity == "DUI":
        return torch.rand(N_U, K, generator=g, dtype=torch.float64) * 0.5, torch.rand(N_I, K, generator=g, dtype=torch.float64) * 0.5
    return torch.rand(shape, generator=g, dtype=torch.float64) * 0.5, torch.rand(shape, generator=g, dtype=torch.float64) * 0.5


def _bpr(P, Q, u, i, j):
    return -F.logsigmoid((P[u] * (Q[i] - Q[j])).sum(1)).sum()


def _penalty(reg, P, Q, batch):
    u, i, j = batch
    return reg.penalty("user", u, P[u]) + reg.penalty("item", i, Q[i]) + reg.penalty("item", j, Q[j])


def _setup(name, warm):
    g = torch.Generator().manual_seed(0)
    P = torch.nn.Parameter(torch.randn(N_U, K, generator=g, dtype=torch.float64) * 0.3)
    Q = torch.nn.Parameter(torch.randn(N_I, K, generator=g, dtype=torch.float64) * 0.3)
    opt = make_optimizer(name, [P, Q], lr=0.05)
    reg0 = Regularizer(0.1, 0.1).bind(torch.ones(N_U), torch.ones(N_I))
    for _ in range(warm):  # fill the optimizer state with real steps
        opt.zero_grad()
        ((_bpr(P, Q, *TRAIN) + _penalty(reg0, P, Q, TRAIN)) / len(TRAIN[0])).backward()
        opt.step()
    return P, Q, opt


def _real_val_loss(P, Q, opt, lam_u, lam_i, exponent):
    """Take a real optimizer step on copies with penalty Λ, then the validation BPR loss."""
    P2, Q2 = torch.nn.Parameter(P.detach().clone()), torch.nn.Parameter(Q.detach().clone())
    opt2 = type(opt)([P2, Q2], **{k: v for k, v in opt.defaults.items() if k not in ("fused", "foreach", "differentiable", "capturable")})
    state = copy.deepcopy(opt.state_dict())
    opt2.load_state_dict(state)
    reg = Regularizer(lam_u, lam_i, exponent=exponent).bind(torch.arange(1, N_U + 1), torch.arange(1, N_I + 1))
    opt2.zero_grad()
    ((_bpr(P2, Q2, *TRAIN) + _penalty(reg, P2, Q2, TRAIN)) / len(TRAIN[0])).backward()
    opt2.step()
    return float(_bpr(P2.detach(), Q2.detach(), *VALID))


@pytest.mark.parametrize("name", ["sgd", "adam", "adagrad"])
@pytest.mark.parametrize("granularity", ["global", "D", "UI", "DUI"])
@pytest.mark.parametrize("exponent", [1.0, 0.5])
def test_hypergradient_matches_finite_differences(name, granularity, exponent):
    P, Q, opt = _setup(name, warm=2)
    lam_u, lam_i = _lambdas(granularity)
    lam_u.requires_grad_(True)
    lam_i.requires_grad_(True)
    reg = Regularizer(lam_u.detach(), lam_i.detach(), exponent=exponent).bind(torch.arange(1, N_U + 1), torch.arange(1, N_I + 1))
    reg.user, reg.item = lam_u, lam_i  # keep the autograd graph through Λ
    B = len(TRAIN[0])
    P.grad = Q.grad = None
    (_bpr(P, Q, *TRAIN) / B).backward()  # the unregularized data gradient
    vu, vi, vj = VALID
    rows = {"P": torch.unique(vu), "Q": torch.unique(torch.cat([vi, vj]))}
    data = {"P": P.grad[rows["P"]].clone(), "Q": Q.grad[rows["Q"]].clone()}  # the data gradient at the simulated rows

    def val_loss(new):
        pos = {int(r): k for k, r in enumerate(rows["P"])}
        qos = {int(r): k for k, r in enumerate(rows["Q"])}
        Pn = new["P"][torch.tensor([pos[int(x)] for x in vu])]
        qi = new["Q"][torch.tensor([qos[int(x)] for x in vi])]
        qj = new["Q"][torch.tensor([qos[int(x)] for x in vj])]
        return -F.logsigmoid((Pn * (qi - qj)).sum(1)).sum()

    u, i, j = TRAIN
    gp, _ = reg.penalty_grad("user", u, rows["P"], P.detach()[rows["P"]])
    gq, _ = reg.penalty_grad("item", torch.cat([i, j]), rows["Q"], Q.detach()[rows["Q"]])
    loss = validation_loss_after_step(opt, {"P": P, "Q": Q}, data, {"P": gp / B, "Q": gq / B}, rows, val_loss)
    assert loss.item() == pytest.approx(_real_val_loss(P, Q, opt, lam_u.detach(), lam_i.detach(), exponent), rel=1e-9)
    gu, gi = torch.autograd.grad(loss, [lam_u, lam_i])
    eps = 1e-6
    for lam, grad, side in ((lam_u, gu, "user"), (lam_i, gi, "item")):
        flat = lam.detach().reshape(-1)
        for k in range(min(flat.numel(), 4)):
            plus, minus = flat.clone(), flat.clone()
            plus[k] += eps
            minus[k] -= eps
            args = lambda f: (f.reshape(lam.shape), lam_i.detach()) if side == "user" else (lam_u.detach(), f.reshape(lam.shape))  # noqa: E731
            fd = (_real_val_loss(P, Q, opt, *args(plus), exponent) - _real_val_loss(P, Q, opt, *args(minus), exponent)) / (2 * eps)
            assert grad.reshape(-1)[k].item() == pytest.approx(fd, rel=1e-4, abs=1e-8), (side, k)


@pytest.mark.parametrize("granularity", ["global", "DUI"])
def test_squared_loss_hypergradient_with_a_whole_tensor_parameter(granularity):
    """BiasedMF's case: a squared validation loss and a global bias simulated whole (rows=None)."""
    g = torch.Generator().manual_seed(2)
    P = torch.nn.Parameter(torch.randn(N_U, K, generator=g, dtype=torch.float64) * 0.3)
    Q = torch.nn.Parameter(torch.randn(N_I, K, generator=g, dtype=torch.float64) * 0.3)
    mu = torch.nn.Parameter(torch.tensor(3.0, dtype=torch.float64))
    opt = make_optimizer("adam", [P, Q, mu], lr=0.05)
    u, i = TRAIN[0], TRAIN[1]
    r = torch.tensor([4.0, 3.0, 5.0, 1.0, 2.0, 4.0], dtype=torch.float64)
    vu, vi = VALID[0], VALID[1]
    vr = torch.tensor([5.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    lam_u, lam_i = _lambdas(granularity)

    def err(P_, Q_, mu_):
        return (mu_ + (P_[u] * Q_[i]).sum(1) - r).pow(2).sum()

    def real(lu, li):
        P2, Q2, m2 = (torch.nn.Parameter(t.detach().clone()) for t in (P, Q, mu))
        opt2 = torch.optim.Adam([P2, Q2, m2], lr=0.05)
        opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
        reg = Regularizer(lu, li).bind(torch.ones(N_U), torch.ones(N_I))
        opt2.zero_grad()
        ((err(P2, Q2, m2) + reg.penalty("user", u, P2[u]) + reg.penalty("item", i, Q2[i])) / len(u)).backward()
        opt2.step()
        return float((m2.detach() + (P2.detach()[vu] * Q2.detach()[vi]).sum(1) - vr).pow(2).mean())

    (err(P, Q, mu) / len(u)).backward()
    lu, li = lam_u.clone().requires_grad_(True), lam_i.clone().requires_grad_(True)
    reg = Regularizer(0.0, 0.0).bind(torch.ones(N_U), torch.ones(N_I))
    reg.user, reg.item = lu, li
    urows, uinv = torch.unique(vu, return_inverse=True)
    irows, iinv = torch.unique(vi, return_inverse=True)
    data = {"P": P.grad[urows].clone(), "Q": Q.grad[irows].clone(), "mu": mu.grad.clone()}

    def val_loss(new):
        return (new["mu"] + (new["P"][uinv] * new["Q"][iinv]).sum(1) - vr).pow(2).mean()

    pen = {"P": reg.penalty_grad("user", u, urows, P.detach()[urows])[0] / len(u), "Q": reg.penalty_grad("item", i, irows, Q.detach()[irows])[0] / len(u)}
    loss = validation_loss_after_step(opt, {"P": P, "Q": Q, "mu": mu}, data, pen, {"P": urows, "Q": irows, "mu": None}, val_loss)
    assert loss.item() == pytest.approx(real(lam_u, lam_i), rel=1e-9)
    gu, _ = torch.autograd.grad(loss, [lu, li])
    eps = 1e-6
    flat = lam_u.reshape(-1)
    for k in range(min(flat.numel(), 3)):
        plus, minus = flat.clone(), flat.clone()
        plus[k] += eps
        minus[k] -= eps
        fd = (real(plus.reshape(lam_u.shape), lam_i) - real(minus.reshape(lam_u.shape), lam_i)) / (2 * eps)
        assert gu.reshape(-1)[k].item() == pytest.approx(fd, rel=1e-4, abs=1e-9)


def test_rows_gradient_sums_occurrences_onto_the_given_rows_only():
    from autorecs.lambdaopt import rows_gradient

    idx = torch.tensor([4, 0, 1, 4])
    occ = torch.tensor([[1.0, 0.0], [5.0, 5.0], [0.0, 2.0], [3.0, 3.0]])
    torch.testing.assert_close(rows_gradient(idx, occ, torch.tensor([1, 4])), torch.tensor([[0.0, 2.0], [4.0, 3.0]]))
