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
