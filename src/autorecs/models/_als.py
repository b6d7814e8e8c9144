"""Vectorised ridge solves shared by the ALS solvers.

For every row ``r`` of a sparse matrix, solve

    (G0 + Σ_j c_rj x_j x_jᵀ + diag(d_r)) w_r = Σ_j y_rj x_j

exactly.  Rows are grouped into buckets of similar length (powers of two),
their ``x_j`` gathered into zero-padded ``(rows, length, d)`` blocks, and the
Gram matrices formed by batched matrix products (BLAS speed, bounded memory);
then a batched Cholesky solve.

:func:`cg_solve` solves the implicit-feedback systems approximately instead, by a
few warm-started conjugate-gradient steps on PyTorch's sparse CSR kernels.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch

#: Elements of one gathered (rows, length, d) block: about 64 MB in float64.
_BLOCK = 8_000_000
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
    indptr = weights.indptr
    counts = np.diff(indptr)
    cols = torch.from_numpy(weights.indices.astype(np.int64))
    c_all = torch.from_numpy(np.asarray(weights.data, np.float64))
    y_all = torch.from_numpy(np.asarray(targets.data, np.float64))
    gram = torch.zeros(n_rows, d, d, dtype=torch.float64)
    rhs = torch.zeros(n_rows, d, dtype=torch.float64)
    bucket = np.where(counts > 0, np.ceil(np.log2(np.maximum(counts, 1))).astype(int), -1)
    for b in np.unique(bucket[bucket >= 0]):
        rows_b = np.flatnonzero(bucket == b)
        length = int(counts[rows_b].max())
        step = max(1, _BLOCK // (length * d))
        for s in range(0, len(rows_b), step):
            rows = rows_b[s : s + step]
            n_r = counts[rows]
            pos = np.arange(length)[None, :]
            valid = pos < n_r[:, None]
            flat = (indptr[rows][:, None] + pos)[valid]
            idx = torch.from_numpy(flat)
            mask = torch.from_numpy(valid)
            xs = torch.zeros(len(rows), length, d, dtype=torch.float64)
            xs[mask] = x[cols[idx]]
            cw = torch.zeros(len(rows), length, dtype=torch.float64)
            cw[mask] = c_all[idx]
            yw = torch.zeros(len(rows), length, dtype=torch.float64)
            yw[mask] = y_all[idx]
            r = torch.from_numpy(rows)
            gram[r] = torch.bmm((xs * cw[..., None]).transpose(1, 2), xs)
            rhs[r] = torch.bmm(yw[:, None, :], xs)[:, 0]
    if base is not None:
        gram += base.to(torch.float64)
    gram += torch.diag_embed(diag.to(torch.float64) + _JITTER)
    chol, info = torch.linalg.cholesky_ex(gram)
    out = torch.cholesky_solve(rhs[..., None], chol)[..., 0]
    bad = torch.nonzero(info > 0).flatten()
    if len(bad):  # not positive definite (e.g. λ = 0 and too few ratings): least squares
        out[bad] = torch.linalg.lstsq(gram[bad], rhs[bad][..., None]).solution[..., 0]
    return out


# ---------------------------------------------------------------- conjugate gradient
def torch_csr(m: sp.spmatrix, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> torch.Tensor:
    """A SciPy sparse matrix as a PyTorch CSR tensor (sorted column indices)."""
    m = sp.csr_matrix(m)
    m.sort_indices()
    with warnings.catch_warnings():  # "sparse CSR support is in beta": the kernels used here are stable
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(m.indptr.astype(np.int64)),
            torch.from_numpy(m.indices.astype(np.int64)),
            torch.from_numpy(np.asarray(m.data)).to(dtype),
            size=m.shape,
        ).to(device)


def with_values(pattern: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """A CSR tensor with ``pattern``'s structure and new ``values``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(pattern.crow_indices(), pattern.col_indices(), values, size=pattern.shape)


def pair_dots(pattern: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a[r] · b[c]`` for every stored cell ``(r, c)`` of CSR ``pattern``, in its storage order."""
    return torch.sparse.sampled_addmm(pattern, a, b.T, beta=0.0).values()


def cg_solve(
    conf: torch.Tensor,
    target: torch.Tensor,
    x0: torch.Tensor,
    y: torch.Tensor,
    diag: torch.Tensor,
    steps: int = 3,
    base: torch.Tensor | None = None,
) -> torch.Tensor:
    """Approximately solve row-wise ridge systems by conjugate gradient.

    For every row ``r`` of the CSR tensors ``conf`` (values ``c_rj − 1``) and
    ``target`` (values ``c_rj p_rj``, same pattern):

        (G0 + Σ_j (c_rj − 1) y_j y_jᵀ + diag(d_r)) w_r = Σ_j c_rj p_rj y_j

    with ``G0 = base``: ``YᵀY`` for implicit feedback (every cell is a target, the ``QᵀQ``
    trick), or none for explicit ratings (``conf`` then holds the weights of the observed
    cells, ``target`` their weighted targets), as in :func:`ridge_solve`.

    ``steps`` CG iterations from the warm start ``x0`` (the previous sweep's
    factors), all rows at once: the products with the sparse part are one
    sampled dense-dense product (``torch.sparse.sampled_addmm``, one dot per
    stored cell) and one sparse-dense product, so a step costs O(nnz · K + rows · K²)
    instead of the exact solve's O(nnz · K² + rows · K³).  Hu et al.'s
    objective is unchanged; the solve is inexact but is repeated every sweep
    (Takács, Pilászy & Tikk 2011, the ``implicit`` library's default).
    """
    gram = base
    vals = conf.values()

    def apply(p: torch.Tensor) -> torch.Tensor:
        out = diag * p + torch.sparse.mm(with_values(conf, vals * pair_dots(conf, p, y)), y)
        return out if gram is None else out + p @ gram

    x = x0.clone()
    r = torch.sparse.mm(target, y) - apply(x)
    p = r.clone()
    rs = (r * r).sum(1, keepdim=True)
    tiny = torch.finfo(x.dtype).tiny
    for _ in range(steps):
        ap = apply(p)
        step = rs / (p * ap).sum(1, keepdim=True).clamp_min(tiny)
        x += step * p
        r -= step * ap
        rs_new = (r * r).sum(1, keepdim=True)
        p = r + (rs_new / rs.clamp_min(tiny)) * p
        rs = rs_new
    return x


#: Above this many items, models that keep a dense items x items matrix (EASE, KNNBaseline, ItemKNN) refuse the data.
MAX_DENSE_ITEMS = 40_000


def check_dense_items(owner: str, n_items: int, what: str, instead: str) -> None:
    """Refuse catalogues too large for a dense items x items ``what``, naming a model to use ``instead``."""
    if n_items > MAX_DENSE_ITEMS:
        from ..exceptions import ConfigError

        raise ConfigError(f"{owner} {what}; {n_items:,} items exceed its limit of {MAX_DENSE_ITEMS:,}. Use {instead} for catalogues this large.")
