import numpy as np
import pytest

from autorecs import BiasedMF, Regularizer, evaluate
from autorecs.data import split
from autorecs.exceptions import ConfigError, DataError, DivergenceError


@pytest.mark.parametrize(
    "solver,kw",
    [("als", {}), ("als", dict(cg_steps=0)), ("adam", dict(learning_rate=0.02, batch_size=256)), ("adagrad", dict(learning_rate=0.1, batch_size=256)),
     # plain SGD needs a larger start to leave the saddle at 0 within `patience` epochs
     ("sgd", dict(learning_rate=0.5, batch_size=128, init_std=0.3))],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_recovers_a_low_rank_matrix(ratings_data, solver, kw, seed):
    """Known answer: ratings are rank 3 plus noise σ=0.1, so test RMSE must be far below the rating spread."""
    s = split(ratings_data, "random-80-10-10", seed=0)
    m = BiasedMF(factors=3, solver=solver, reg_user=0.01, reg_item=0.01, epochs=200, patience=10, clip=False, **kw)
    m.fit(s.train, s.valid, seed=seed, progress=False)
    r = evaluate(m, s.test)
    assert r["rmse"] < 0.35 * s.train.ratings.std(), r


@pytest.mark.parametrize("cg_steps", [0, 1, 3])
def test_als_decreases_the_objective_every_sweep(ratings_data, cg_steps):
    """Exact solves, and CG steps from the previous sweep's values (CG never raises a row's quadratic)."""
    m = BiasedMF(factors=3, reg_user=0.05, reg_item=0.05, epochs=8, cg_steps=cg_steps).fit(ratings_data, seed=0, progress=False)
    losses = m.history_.column("loss")
    assert all(b <= a * (1 + 1e-6) for a, b in zip(losses, losses[1:])), losses


def test_als_cg_reaches_the_exact_solvers_rmse(ratings_data):
    s = split(ratings_data, "random-80-10-10", seed=0)
    rmse = {k: evaluate(BiasedMF(factors=3, epochs=30, cg_steps=k).fit(s.train, s.valid, seed=0, progress=False), s.test)["rmse"]
            for k in (0, 3)}
    assert rmse[3] == pytest.approx(rmse[0], rel=0.01), rmse


def test_negative_lambda_is_rejected_with_the_fix():
    with pytest.raises(ConfigError, match=r"The 'reg_user' parameter of BiasedMF must be a float in \[0, inf\); got -1.*Use 0"):
        BiasedMF(reg_user=-1)
    with pytest.raises(ConfigError, match="'solver'.*one of"):
        BiasedMF(solver="lbfgs")
    with pytest.raises(ConfigError, match="Regularizer"):
        Regularizer(user=-0.1)


def test_divergence_names_the_learning_rate(ratings_data):
    with pytest.raises(DivergenceError, match="learning_rate=1000"):
        BiasedMF(solver="sgd", learning_rate=1000.0, epochs=5).fit(ratings_data, seed=0, progress=False)


def test_implicit_data_is_refused_with_a_clear_message(implicit_data):
    import pandas as pd
    from autorecs import Interactions

    d = Interactions.from_frame(pd.DataFrame({"user": [1, 2], "item": [1, 1]}))
    with pytest.raises(DataError, match="no rating column"):
        BiasedMF().fit(d, progress=False)


def test_unknown_users_get_mean_plus_item_bias(ratings_data):
    m = BiasedMF(factors=2, epochs=3).fit(ratings_data, seed=0, progress=False)
    item = ratings_data.item_vocab.ids([0])[0]
    p = m.predict(np.array(["ghost", "ghost"], dtype=object), np.array([item, "ghost-item"], dtype=object))
    assert p[0] == pytest.approx(float(m.mu.detach() + m.bi.detach()[0]), abs=1e-5) and p[1] == pytest.approx(float(m.mu.detach()), abs=1e-5)


def test_per_row_and_per_dimension_lambda_plug_in(ratings_data):
    """The regularizer accepts λ tensors of every granularity without model changes."""
    import torch

    n_u, n_i, K = ratings_data.n_users, ratings_data.n_items, 3
    for user, item in [(torch.full((K,), 0.05), torch.full((K,), 0.05)), (torch.full((n_u, 1), 0.05), torch.full((n_i, K), 0.05))]:
        for solver in ("als", "adam"):
            m = BiasedMF(factors=K, solver=solver, epochs=3, learning_rate=0.01, regularizer=Regularizer(user, item))
            a = m.fit(ratings_data, seed=0, progress=False).history_.column("loss")
            b = BiasedMF(factors=K, solver=solver, epochs=3, learning_rate=0.01, reg_user=0.05, reg_item=0.05, reg_exponent=1.0).fit(ratings_data, seed=0, progress=False).history_.column("loss")
            np.testing.assert_allclose(a, b, rtol=1e-4)


@pytest.mark.parametrize("exponent,lam", [(1.0, 0.3), (0.5, 1.5), (0.0, 8.0)])
def test_als_and_gradient_solvers_minimise_the_same_objective(ratings_data, exponent, lam):
    """Converged ALS is a stationary point of the mini-batch objective (summed over one epoch)."""

    m = BiasedMF(factors=2, reg_user=lam, reg_item=lam * 0.7, reg_exponent=exponent, epochs=100, clip=False)
    m.fit(ratings_data, seed=0, progress=False)
    P, Q, bu, bi, mu = (t.detach().double().clone().requires_grad_() for t in (m.P, m.Q, m.bu, m.bi, m.mu))
    u, i, r = m._u, m._i, m._r.double()
    err = (mu + bu[u] + bi[i] + (P[u] * Q[i]).sum(1) - r).pow(2).sum()
    objective = err + m._reg.penalty("user", u, P[u], bu[u]) + m._reg.penalty("item", i, Q[i], bi[i])
    objective.backward()
    for name, t in (("P", P), ("Q", Q), ("bu", bu), ("bi", bi), ("mu", mu)):
        assert float(t.grad.abs().max()) < 2e-2, (name, float(t.grad.abs().max()))


@pytest.mark.parametrize("regularizer", ["global", "exponent and bias λ", "per-row", "per-row, exponent", "float64 (n, 1)"])
def test_the_tensor_paths_closed_form_gradients_are_autograds(ratings_data, regularizer):
    """Known answer for the GPU's batch (:meth:`BiasedMF._tensor_batch`): its loss, the gradients it puts on
    the parameters and the data gradients it hands λOpt equal autograd's of Σ(r̂ − r)² + penalty, over the
    batch size, on a batch with repeated users and items."""
    import torch

    train = ratings_data
    k = 4
    g = torch.Generator().manual_seed(2)
    reg = {"global": None, "exponent and bias λ": Regularizer(0.02, 0.03, bias=0.01, exponent=0.5),
           "per-row": Regularizer(torch.rand(train.n_users, k, generator=g) * 0.1, torch.full((k,), 0.05)),
           "per-row, exponent": Regularizer(torch.rand(train.n_users, k, generator=g) * 0.1, torch.full((k,), 0.05), exponent=0.6),
           "float64 (n, 1)": Regularizer(np.full((train.n_users, 1), 0.05), 0.02, bias=np.float64(0.01))}[regularizer]
    m = BiasedMF(solver="adam", factors=k, epochs=1, batch_size=64, regularizer=reg)
    m._compiled = False  # the tensor path trains too (a float64 λ once made it fail)
    m.fit(train, seed=0, progress=False)
    idx = torch.randint(len(m._u), (200,), generator=g)
    u, i, r = m._u[idx], m._i[idx], m._r[idx]
    assert len(set(u.tolist())) < 200 and len(set(i.tolist())) < 200  # repeats: the sums onto a row matter
    grads = {name: torch.full_like(t, 7.0) for name, t in m._tables().items()}  # stale values must not leak in
    out = m._tensor_batch(u, i, r, True, grads)
    got = {name: t.grad.clone() for name, t in m._tables().items()}

    pu, qi, bu, bi = m.P[u], m.Q[i], m.bu[u], m.bi[i]
    data = (m.mu + bu + bi + (pu * qi).sum(1) - r).pow(2).sum()
    penalty = m._reg.penalty("user", u, pu, bu) + m._reg.penalty("item", i, qi, bi)
    assert float(out.data) == pytest.approx(float(data), rel=1e-5)
    assert float(out.penalty) == pytest.approx(float(penalty), rel=1e-5)
    want = torch.autograd.grad((data + penalty) / 200, list(m._tables().values()), retain_graph=True)
    for (name, w) in zip(m._tables(), want):
        assert torch.allclose(got[name], w, atol=1e-6, rtol=1e-5), name
    want_data = torch.autograd.grad(data / 200, (m.mu, pu, qi, bu, bi))
    for name, a, w in zip(("mu", "P", "Q", "bu", "bi"), out.grads, want_data):
        assert torch.allclose(a, w, atol=1e-6, rtol=1e-5), name
