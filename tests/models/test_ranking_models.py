import numpy as np
import pytest
import scipy.sparse as sp
import torch

from autorecs import BPRMF, ImplicitALS, evaluate
from autorecs.data import split
from autorecs.models._als import ridge_solve


@pytest.mark.parametrize("make", [lambda: BPRMF(factors=4, epochs=60, learning_rate=0.02, patience=60), lambda: ImplicitALS(factors=4, epochs=10),
                                  lambda: ImplicitALS(factors=4, epochs=10, solver="cholesky")])
def test_block_structure_known_answer(implicit_data, make):
    """Two user groups like disjoint item halves: every recommendation must come from the user's half."""
    m = make().fit(implicit_data, seed=0, progress=False)
    users = [f"u{u}" for u in range(10)]
    items, _ = m.recommend(users, n=5)
    for u, row in zip(range(10), items):
        half = {f"i{i}" for i in range((u % 2) * 20, (u % 2) * 20 + 20)}
        assert set(row) <= half, (u, row)


def test_ridge_solve_matches_dense_solution(rng):
    n_rows, n_cols, d = 17, 9, 3
    dense = (rng.random((n_rows, n_cols)) < 0.5) * rng.uniform(1, 3, (n_rows, n_cols))
    dense[0] = 0  # an empty row
    C = sp.csr_matrix(dense)
    Y = C.copy()
    Y.data = rng.normal(size=len(Y.data))
    x = torch.from_numpy(rng.normal(size=(n_cols, d)))
    diag = torch.from_numpy(rng.uniform(0.1, 1, (n_rows, d)))
    base = torch.from_numpy(np.eye(d) * 0.5)
    got = ridge_solve(C, Y, x, diag, base=base).numpy()
    for r in range(n_rows):
        cols = C[r].indices
        X = x.numpy()[cols]
        A = 0.5 * np.eye(d) + X.T @ (C[r].data[:, None] * X) + np.diag(diag[r].numpy())
        np.testing.assert_allclose(got[r], np.linalg.solve(A, X.T @ Y[r].data), rtol=1e-6, atol=1e-9)


def test_ranking_validation_and_test_families(implicit_data):
    s = split(implicit_data, "random-60-20-20", seed=0)
    m = ImplicitALS(factors=4, epochs=4).fit(s.train, s.valid, seed=0, progress=False)
    assert m.history_.monitor == "valid_ndcg@50"
    r = evaluate(m, s.test, exclude=[s.valid], ks=(10, 50))
    assert set(r) >= {"lambdaopt", "topk", "users"}
    assert 0.5 < r["lambdaopt"]["auc"] <= 1 and 0 <= r["topk"]["ndcg@50"] <= 1


@pytest.mark.parametrize("regularizer", ["global", "exponent", "per-row", "per-row, exponent", "float64 (n, 1)"])
@pytest.mark.parametrize("item_bias", [True, False])
def test_bpr_tensor_paths_closed_form_gradients_are_autograds(implicit_data, regularizer, item_bias):
    """Known answer for the GPU's batch (:meth:`BPRMF._tensor_batch`): its loss, the gradients it puts on the
    parameters and the data gradients it hands λOpt equal autograd's of Σ −log σ(x) + penalty (every
    occurrence of u, i, j), over the batch size, on a batch with repeated users and items."""
    from autorecs import Regularizer

    k = 4
    g = torch.Generator().manual_seed(3)
    m = BPRMF(factors=k, epochs=1, batch_size=64, item_bias=item_bias, init_std=0.5).fit(implicit_data, seed=0, progress=False)
    m._reg = {"global": m._reg, "exponent": Regularizer(0.02, 0.03, exponent=0.5),
              "per-row": Regularizer(torch.rand(len(m.P), k, generator=g) * 0.1, torch.full((k,), 0.05)),
              "per-row, exponent": Regularizer(torch.rand(len(m.P), k, generator=g) * 0.1, torch.full((k,), 0.05), exponent=0.6),
              "float64 (n, 1)": Regularizer(np.full((len(m.P), 1), 0.05), 0.02, bias=np.float64(0.01))}[regularizer]
    if regularizer != "global":
        m._reg.bind(np.bincount(m._u.numpy(), minlength=len(m.P)), np.bincount(m._i.numpy(), minlength=len(m.Q)))
    with torch.no_grad():
        m.bi.normal_(generator=g)
    idx = torch.randint(len(m._u), (150,), generator=g)
    u, ij = m._batch_pairs(idx)
    i, j = ij[:150], ij[150:]
    tables = m._tables()
    grads = {name: torch.full_like(t, 7.0) for name, t in tables.items()}  # stale values must not leak in
    out = m._tensor_batch(u, ij, True, grads, None)
    got = {name: t.grad.clone() for name, t in tables.items()}

    pu, qij = m.P[u], m.Q[ij]
    bij = m.bi[ij] if item_bias else torch.zeros(300)
    x = (pu * (qij[:150] - qij[150:])).sum(1) + bij[:150] - bij[150:]
    data = -torch.nn.functional.logsigmoid(x).sum()
    penalty = m._batch_penalty(m._reg, tables, u, i, j)
    assert float(out.data) == pytest.approx(float(data), rel=1e-5)
    assert float(out.penalty) == pytest.approx(float(penalty), rel=1e-5)
    want = torch.autograd.grad((data + penalty) / 150, list(tables.values()), retain_graph=True)
    for name, w in zip(tables, want):
        assert torch.allclose(got[name], w, atol=1e-6, rtol=1e-5), name
    want_data = torch.autograd.grad(data / 150, [pu, qij] + ([bij] if item_bias else []))
    for a, w in zip(out.grads, want_data):
        assert torch.allclose(a, w, atol=1e-6, rtol=1e-5)
