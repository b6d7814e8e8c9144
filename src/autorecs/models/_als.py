"""Vectorised ridge solves shared by the ALS solvers.

For every row ``r`` of a sparse matrix, solve

    (G0 + Σ_j c_rj x_j x_jᵀ + diag(d_r)) w_r = Σ_j y_rj x_j

exactly.  The per-row Gram sums are one sparse-times-dense product
``C @ (x ⊗ x)`` over row chunks (bounded memory), then a batched Cholesky solve.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

#: Rows per chunk: keeps the (rows, d, d) Gram block to about 64 MB at d = 65.
_CELLS = 8_000_000
_JITTER = 1e-8


def ridge_solve(
    weights: sp.csr_matrix,
    targets: sp.csr_matrix,
    x: torch.Tensor,
    diag: torch.Tensor,
    base: torch.Tensor | None = None,
) -> torch.Tensor:
    """Solve the row-wise ridge systems above.

    ``weights`` (C) and ``targets`` (Y) are ``(n_rows, n_cols)`` CSR with the same
    pattern, ``x`` is ``(n_cols, d)``, ``diag`` is ``(n_rows, d)`` and ``base``
    (G0) an optional shared ``(d, d)`` matrix.  Returns ``(n_rows, d)`` float64.
    """
    x = x.to(torch.float64)
    n_rows, d = weights.shape[0], x.shape[1]
    xx = (x[:, :, None] * x[:, None, :]).reshape(len(x), d * d).numpy()
    xn = x.numpy()
    out = torch.empty(n_rows, d, dtype=torch.float64)
    chunk = max(1, _CELLS // (d * d))
    eye = torch.eye(d, dtype=torch.float64)
    for s in range(0, n_rows, chunk):
        e = min(s + chunk, n_rows)
        gram = torch.from_numpy(np.asarray(weights[s:e] @ xx)).reshape(e - s, d, d)
        if base is not None:
            gram += base.to(torch.float64)
        gram += torch.diag_embed(diag[s:e].to(torch.float64)) + _JITTER * eye
        rhs = torch.from_numpy(np.asarray(targets[s:e] @ xn))
        chol, info = torch.linalg.cholesky_ex(gram)
        if bool((info > 0).any()):  # not positive definite (e.g. λ = 0 with few ratings): least squares
            out[s:e] = torch.linalg.lstsq(gram, rhs[..., None]).solution[..., 0]
        else:
            out[s:e] = torch.cholesky_solve(rhs[..., None], chol)[..., 0]
    return out
