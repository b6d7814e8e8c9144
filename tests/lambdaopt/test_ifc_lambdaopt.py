"""λOpt on the interaction-function models (SIF issue): same Λ-step, squared validation loss."""

import copy

import numpy as np
import pytest
import torch

from autorecs import Regularizer
from autorecs.data import split
from autorecs.lambdaopt import validation_loss_after_step
from autorecs.models import InteractionMF


@pytest.fixture(scope="module")
def parts(ratings_data):
    return split(ratings_data, "random-80-10-10", seed=0)


@pytest.mark.parametrize("biases", [True, False])
def test_lambda_lr_zero_is_fixed_training_and_learning_moves_lambda(parts, biases):
    kw = dict(interaction="min", factors=4, epochs=3, reg=0.1, biases=biases)
    fixed = InteractionMF(**kw).fit(parts.train, parts.valid, seed=0, progress=False)
    frozen = InteractionMF(**kw, lambdaopt="DUI", lambda_lr=0.0).fit(parts.train, parts.valid, seed=0, progress=False)
    torch.testing.assert_close(frozen.net.P, fixed.net.P, rtol=1e-5, atol=1e-6)
    learned = InteractionMF(**kw, lambdaopt="DUI", lambda_lr=0.05).fit(parts.train, parts.valid, seed=0, progress=False)
    assert torch.all(learned.lam_user >= 0) and not torch.allclose(learned.lam_user, torch.full_like(learned.lam_user, 0.1))
    assert "lambda_user_mean" in learned.history_.epochs[0]


@pytest.mark.parametrize("biases", [True, False])
def test_the_lambda_step_simulates_the_real_step_of_the_penalized_tables(parts, biases):
    """Known answer: L(Λ) of the Λ-step equals the validation error after a real Adam step of P, Q, μ, b on copies."""
    m = InteractionMF(interaction="max", factors=4, epochs=1, reg=0.1, lambdaopt="DU", lambda_lr=0.01, biases=biases)
    m.fit(parts.train, parts.valid, seed=0, progress=False)
    m._init_params(np.random.default_rng(0))
    m._train_epoch()  # mid-training: the optimizer state and Λ are not trivial
    rating = {(int(a), int(b)): float(c) for a, b, c in zip(m._u, m._i, m._r)}  # one training rating per pair
    checked, original = [], m._lambda_step

    def check(batch, grads, v):
        u, i = batch
        vidx = m._lam_hook.vidx[v]
        if not checked:
            captured = {}
            m._lam.step = lambda *args: captured.setdefault("args", args) and 0.0
            original(batch, grads, v)
            del m._lam.step
            opt, tables, data, penalty_grads_fn, rows, val_loss = captured["args"]
            lu, li = (t.detach() * 2.0 for t in m._lam.current())
            graph = Regularizer(lu, li, exponent=m._reg.exponent)
            graph._counts = m._reg._counts
            simulated = float(validation_loss_after_step(opt, tables, data, penalty_grads_fn(graph), rows, val_loss).detach())
            # Adam is element-wise: stepping the penalized tables alone gives their real update
            copies = {k: torch.nn.Parameter(t.detach().clone()) for k, t in tables.items()}
            opt2 = torch.optim.Adam(list(copies.values()), lr=opt.defaults["lr"])
            for k, t in tables.items():
                opt2.state[copies[k]] = copy.deepcopy(opt.state[t])
            P, Q = copies["P"], copies["Q"]
            mu, bu, bi = (copies[k] if k in copies else getattr(m.net, k).detach() for k in ("mu", "bu", "bi"))
            r = torch.tensor([rating[(int(a), int(b))] for a, b in zip(u, i)])
            err = (mu + bu[u] + bi[i] + m.net.interact(P[u], Q[i]) - r).pow(2).sum()
            pen = graph.penalty("user", u, P[u], bu[u] if biases else None) + graph.penalty("item", i, Q[i], bi[i] if biases else None)
            ((err + pen) / len(u)).backward()
            opt2.step()
            vu, vi, vr = (a[vidx] for a in m._val)
            with torch.no_grad():
                real = (mu + bu[vu] + bi[vi] + m.net.interact(P[vu], Q[vi]) - vr).pow(2).mean()
            checked.append((simulated, float(real)))
        return original(batch, grads, v)

    m._lambda_step = check
    m._train_epoch()
    assert len(checked) == 1
    assert checked[0][0] == pytest.approx(checked[0][1], rel=1e-5)
