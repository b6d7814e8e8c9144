"""Compiled CPU kernels (numba) for the loops that PyTorch's eager ops run slowly on the CPU.

A mini-batch of BPR-MF on the CPU is a few hundred small gathers, products and scatters: as
eager tensor ops each costs a kernel launch and a pass over memory, and the per-step overhead,
not the arithmetic, sets the epoch time (benchmarks/README.md, the peers table).  These kernels do
the same arithmetic in one pass each.  Each has a PyTorch reference that the tests compare it
with (tests/test_kernels.py): :class:`torch.optim.SparseAdam` for :func:`sparse_adam_rows`, and
BPRMF's own tensor path (the one that runs on a GPU) for :func:`bpr_batch_grads`.

Compiled on first use and cached on disk by numba (``cache=True``); ``error_model="numpy"`` lets
the compiler vectorise the row loops (no zero-division checks), ``fastmath`` lets it reorder sums.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def bpr_batch_grads(P, Q, b, u, i, j, lam_u, s_u, lam_i, s_i, lam_b, bias, g_u, g_ij, g_b):  # pragma: no cover (compiled)
    """BPR-MF's batch loss and its per-occurrence gradients, divided by the batch size.

    ``P`` (users x K), ``Q`` (items x K), ``b`` (items): the tables; ``u, i, j``: the batch's
    users, positives and negatives.  The penalty's coefficients: ``lam_u`` (1 or users) x K (a
    contiguous row per λ: unit strides let the row loops vectorise) and ``s_u`` (users), the per-row
    weight ``n^(β−1)`` (ones when β = 1); likewise ``lam_i``,
    ``s_i``; ``lam_b`` (1 or items): the bias's λ.  Writes ``g_u`` (n x K), ``g_ij`` (2n x K: the
    positives' rows, then the negatives'), ``g_b`` (2n); returns ``(data, penalty)`` summed over
    the batch: ``Σ −log σ(x_uij)`` and ``Σ λ·n^(β−1)·θ²`` over the occurrences.
    """
    n = len(u)
    K = P.shape[1]
    inv = np.float32(1.0 / n)
    two = np.float32(2.0)
    ru = 1 if lam_u.shape[0] > 1 else 0
    ri = 1 if lam_i.shape[0] > 1 else 0
    rb = 1 if lam_b.shape[0] > 1 else 0
    data = 0.0
    pen = 0.0
    for t in range(n):
        uu, ii, jj = u[t], i[t], j[t]
        pu, qi, qj = P[uu], Q[ii], Q[jj]
        x = np.float32(0.0)
        for k in range(K):
            x += pu[k] * (qi[k] - qj[k])
        if bias:
            x += b[ii] - b[jj]
        if x > 0:  # −log σ(x) and its derivative −σ(−x), without overflow
            e = math.exp(-x)
            data += math.log1p(e)
            c = np.float32(-e / (1.0 + e))
        else:
            e = math.exp(x)
            data += -x + math.log1p(e)
            c = np.float32(-1.0 / (1.0 + e))
        lu, li, lj = lam_u[ru * uu], lam_i[ri * ii], lam_i[ri * jj]
        su, si, sj = two * s_u[uu], two * s_i[ii], two * s_i[jj]
        gu, gi, gj = g_u[t], g_ij[t], g_ij[n + t]
        p = np.float32(0.0)
        for k in range(K):
            a = su * lu[k] * pu[k]
            ai = si * li[k] * qi[k]
            aj = sj * lj[k] * qj[k]
            p += a * pu[k] + ai * qi[k] + aj * qj[k]
            gu[k] = (a + c * (qi[k] - qj[k])) * inv
            gi[k] = (ai + c * pu[k]) * inv
            gj[k] = (aj - c * pu[k]) * inv
        pen += 0.5 * p
        if bias:
            bi_, bj_ = si * lam_b[rb * ii], sj * lam_b[rb * jj]
            pen += 0.5 * (bi_ * b[ii] * b[ii] + bj_ * b[jj] * b[jj])
            g_b[t] = (bi_ * b[ii] + c) * inv
            g_b[n + t] = (bj_ * b[jj] - c) * inv
        else:
            g_b[t] = 0.0
            g_b[n + t] = 0.0
    return data, pen


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def sparse_adam_rows(W, M, V, idx, vals, acc, stamp, tag, lr, beta1, beta2, eps, step):  # pragma: no cover (compiled)
    """One step of :class:`torch.optim.SparseAdam` on a 2-D table ``W`` with moments ``M``, ``V``,
    for the uncoalesced row gradient ``vals`` (one row per entry of ``idx``; repeated rows are summed
    first, as ``coalesce()`` does).

    ``acc``: a zero scratch table of ``W``'s shape (left zero); ``stamp``: an int64 row marker
    (one per row of ``W``) and ``tag`` a value it holds nowhere yet (e.g. the step count).  Only the
    rows in ``idx`` change: their moments, then ``W -= lr·√(1−β2^t)/(1−β1^t) · m / (√v + eps)``.
    """
    K = W.shape[1]
    for t in range(len(idx)):
        a, g = acc[idx[t]], vals[t]
        for k in range(K):
            a[k] += g[k]
    f1, f2 = np.float32(1.0 - beta1), np.float32(1.0 - beta2)
    step_size = np.float32(lr * math.sqrt(1.0 - beta2**step) / (1.0 - beta1**step))
    e = np.float32(eps)
    for t in range(len(idx)):
        r = idx[t]
        if stamp[r] == tag:
            continue
        stamp[r] = tag
        w, m, v, a = W[r], M[r], V[r], acc[r]
        for k in range(K):
            g = a[k]
            mk = m[k] + (g - m[k]) * f1
            vk = v[k] + (g * g - v[k]) * f2
            m[k] = mk
            v[k] = vk
            w[k] -= step_size * (mk / (np.sqrt(vk) + e))
            a[k] = np.float32(0.0)


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def add_rows(G, clear, idx, vals):  # pragma: no cover (compiled)
    """``G[clear] = 0``, then ``G[idx] += vals`` (repeated rows summed): a dense gradient table
    kept zero outside the rows of the current batch without a pass over the whole table."""
    K = G.shape[1]
    for r in clear:
        G[r, :] = 0.0
    for t in range(len(idx)):
        g, v = G[idx[t]], vals[t]
        for k in range(K):
            g[k] += v[k]
