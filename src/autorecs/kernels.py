"""Compiled CPU kernels (numba) for the loops that PyTorch's eager ops run slowly on the CPU.

A mini-batch of BPR-MF on the CPU is a few hundred small gathers, products and scatters: as
eager tensor ops each costs a kernel launch and a pass over memory, and the per-step overhead,
not the arithmetic, sets the epoch time (benchmarks/README.md, the peers table).  These kernels do
the same arithmetic in one pass each.  Each has a PyTorch reference that the tests compare it
with (tests/test_kernels.py): :class:`torch.optim.Adam` for :func:`adam_step`,
:class:`torch.optim.SparseAdam` for :func:`sparse_adam_rows`, and
BPRMF's own tensor path (the one that runs on a GPU) for :func:`bpr_batch_grads` and for λOpt's
Λ-step, :func:`bpr_lambda_grads`.

Compiled on first use and cached on disk by numba (``cache=True``); ``error_model="numpy"`` lets
the compiler vectorise the row loops (no zero-division checks), ``fastmath`` lets it reorder sums.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

#: Elements per block of :func:`adam_step`'s parallel loop (a block is one thread's run of the vector loop).
_BLOCK = 4096


def match_torch_threads() -> None:
    """Run the parallel kernels on as many threads as PyTorch (``torch.set_num_threads``), at most
    numba's pool; a process that pins PyTorch to one thread (a search worker) gets one here too.

    Starting numba's OpenMP pool sets OpenMP's thread count to the pool's size, and PyTorch reads its
    own from there: PyTorch's count is put back if that happened."""
    import torch

    n = torch.get_num_threads()
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


@njit(cache=True, nogil=True, parallel=True, fastmath=True, error_model="numpy")
def bpr_batch_grads(P, Q, b, u, i, j, lam_u, s_u, lam_i, s_i, lam_b, bias, g_u, g_ij, g_b, c_out):  # pragma: no cover (compiled)
    """BPR-MF's batch loss and its per-occurrence gradients, divided by the batch size.

    ``P`` (users x K), ``Q`` (items x K), ``b`` (items): the tables; ``u, i, j``: the batch's
    users, positives and negatives.  The penalty's coefficients: ``lam_u`` (1 or users) x K (a
    contiguous row per λ lets the row loops vectorise; a read-only broadcast view of a per-row or
    global λ works too) and ``s_u`` (users), the per-row weight ``n^(β−1)`` (ones when β = 1); likewise
    ``lam_i``, ``s_i``; ``lam_b`` (1 or items): the bias's λ, or empty for the mean of the item's row of
    ``lam_i`` (the :class:`~autorecs.regularization.Regularizer` default, which follows a learned Λ).
    Writes ``g_u`` (n x K), ``g_ij`` (2n x K: the positives' rows, then the negatives'), ``g_b`` (2n)
    and ``c_out`` (n: d(−log σ(x))/dx per triple, the data part that λOpt's Λ-step reuses); returns
    ``(data, penalty)`` summed over the batch: ``Σ −log σ(x_uij)`` and ``Σ λ·n^(β−1)·θ²`` over the
    occurrences.
    """
    n = len(u)
    K = P.shape[1]
    inv = np.float32(1.0 / n)
    two = np.float32(2.0)
    ru = 1 if lam_u.shape[0] > 1 else 0
    ri = 1 if lam_i.shape[0] > 1 else 0
    rb = 1 if lam_b.shape[0] > 1 else 0
    mean_b = lam_b.shape[0] == 0
    data = 0.0
    pen = 0.0
    for t in prange(n):  # triples are independent: each writes its own rows of the outputs
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
        c_out[t] = c
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
            if mean_b:
                lbi = np.float32(0.0)
                lbj = np.float32(0.0)
                for k in range(K):
                    lbi += li[k]
                    lbj += lj[k]
                bi_, bj_ = si * np.float32(lbi / K), sj * np.float32(lbj / K)
            else:
                bi_, bj_ = si * lam_b[rb * ii], sj * lam_b[rb * jj]
            pen += 0.5 * (bi_ * b[ii] * b[ii] + bj_ * b[jj] * b[jj])
            g_b[t] = (bi_ * b[ii] + c) * inv
            g_b[n + t] = (bj_ * b[jj] - c) * inv
        else:
            g_b[t] = 0.0
            g_b[n + t] = 0.0
    return data, pen


@njit(cache=True, nogil=True, parallel=True, fastmath=True, error_model="numpy")
def mf_batch_grads(P, Q, bu, bi, mu, u, i, r, lam_u, s_u, lam_i, s_i, lam_bu, lam_bi,
                   g_u, g_i, g_bu, g_bi, c_out):  # pragma: no cover (compiled)
    """Biased MF's batch loss ``Σ (μ + b_u + b_i + p_u·q_i − r)²`` and its per-occurrence gradients,
    divided by the batch size.

    ``P`` (users x K), ``Q`` (items x K), ``bu``, ``bi``, ``mu`` (a float): the parameters; ``u, i, r``:
    the batch.  The penalty's coefficients as in :func:`bpr_batch_grads`, for both sides: ``lam_u``
    (1 or users) x K and ``s_u`` (n^(β−1) per user), ``lam_bu`` the user bias's λ (1 or users), or
    empty for the mean of the user's row of ``lam_u``; likewise for items.  Writes ``g_u``, ``g_i``
    (n x K), ``g_bu``, ``g_bi`` (n) and ``c_out`` (n: d(error²)/d(prediction) = 2·error, the data part
    λOpt's Λ-step reuses); returns ``(data, penalty, dμ)``: the summed squared error, the penalty
    ``Σ n^(β−1)·(λ ⊙ θ² + λ_b·b²)`` over the occurrences, and the batch's gradient at μ.
    """
    n = len(u)
    K = P.shape[1]
    inv = np.float32(1.0 / n)
    two = np.float32(2.0)
    ru = 1 if lam_u.shape[0] > 1 else 0
    ri = 1 if lam_i.shape[0] > 1 else 0
    rbu = 1 if lam_bu.shape[0] > 1 else 0
    rbi = 1 if lam_bi.shape[0] > 1 else 0
    mean_bu, mean_bi = lam_bu.shape[0] == 0, lam_bi.shape[0] == 0
    m32 = np.float32(mu)
    data = 0.0
    pen = 0.0
    g_mu = 0.0
    for t in prange(n):  # each occurrence writes its own rows of the outputs
        uu, ii = u[t], i[t]
        pu, qi = P[uu], Q[ii]
        x = m32 + bu[uu] + bi[ii]
        for k in range(K):
            x += pu[k] * qi[k]
        e = x - r[t]
        data += e * e
        c = two * e
        c_out[t] = c
        g_mu += c
        lu, li = lam_u[ru * uu], lam_i[ri * ii]
        su, si = two * s_u[uu], two * s_i[ii]
        gu, gi = g_u[t], g_i[t]
        p = np.float32(0.0)
        lbu = np.float32(0.0)
        lbi = np.float32(0.0)
        for k in range(K):
            a = su * lu[k] * pu[k]
            ai = si * li[k] * qi[k]
            p += a * pu[k] + ai * qi[k]
            gu[k] = (a + c * qi[k]) * inv
            gi[k] = (ai + c * pu[k]) * inv
            lbu += lu[k]
            lbi += li[k]
        lbu = np.float32(lbu / K) if mean_bu else lam_bu[rbu * uu]
        lbi = np.float32(lbi / K) if mean_bi else lam_bi[rbi * ii]
        bu_, bi_ = su * lbu * bu[uu], si * lbi * bi[ii]
        p += bu_ * bu[uu] + bi_ * bi[ii]
        pen += 0.5 * p
        g_bu[t] = (bu_ + c) * inv
        g_bi[t] = (bi_ + c) * inv
    return data, pen, g_mu / n


@njit(cache=True, nogil=True, parallel=True, fastmath=True, error_model="numpy")
def adam_step(w, g, m, v, count, lr, beta1, beta2, eps, wd):  # pragma: no cover (compiled)
    """One step of :class:`torch.optim.Adam` (no amsgrad; weight decay ``wd`` added to the gradient)
    on a flat float32 parameter ``w`` with gradient ``g`` and moments ``m``, ``v``, in place; ``count``
    (one float32, the optimizer state's step count) becomes t = count + 1.  ``m += (1−β1)(g − m)``,
    ``v = β2·v + (1−β2)·g²``, then ``w −= lr/(1−β1^t) · m / (√v/√(1−β2^t) + eps)``, PyTorch's order of
    operations.  One pass, in blocks over threads."""
    count[0] += np.float32(1.0)
    step = float(count[0])
    n = len(w)
    f1, f2, b2 = np.float32(1.0 - beta1), np.float32(1.0 - beta2), np.float32(beta2)
    step_size = np.float32(lr / (1.0 - beta1**step))
    inv_bc2 = np.float32(1.0 / math.sqrt(1.0 - beta2**step))
    e, decay = np.float32(eps), np.float32(wd)
    for blk in prange((n + _BLOCK - 1) // _BLOCK):
        lo = blk * _BLOCK
        hi = min(n, lo + _BLOCK)
        wb, gb, mb, vb = w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]  # slices: the loop below vectorises (3x faster)
        for k in range(hi - lo):
            gk = gb[k] + decay * wb[k]
            mk = mb[k] + (gk - mb[k]) * f1
            vk = b2 * vb[k] + f2 * gk * gk
            mb[k] = mk
            vb[k] = vk
            wb[k] -= step_size * (mk / (np.sqrt(vk) * inv_bc2 + e))


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


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def _clear_rows(G, step, rows):  # pragma: no cover (compiled)
    """Zero the rows ``step * r`` of a Λ-gradient table (``step`` 0: a table of one row, shared)."""
    for r in rows:
        G[step * r, :] = 0.0


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def _clip_rows(G, step, rows, slot, clip):  # pragma: no cover (compiled)
    """Clip the written rows of a Λ-gradient table to [-clip, clip] and free the rows' slots (-1)."""
    for r in rows:
        row = G[step * r]
        for k in range(row.shape[0]):
            row[k] = min(max(row[k], -clip), clip)
        slot[r] = -1


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def bpr_lambda_grads(P, Q, b, MP, VP, MQ, VQ, Mb, Vb, adam, lr, beta1, beta2, eps, step, wd,
                     u, i, j, c, vu, vi, vj, lam_u, s_u, lam_i, s_i, lam_b, bias,
                     G_u, G_i, clear_u, clear_i, slot_u, slot_i, clip):  # pragma: no cover (compiled)
    """λOpt's Λ-step for BPR-MF (autorecs.lambdaopt.hypergrad) in one pass: the gradient of the
    validation BPR loss after a simulated optimizer step with respect to Λ, clipped to [-clip, clip].

    ``P, Q, b`` and the optimizer's moments ``MP, VP, MQ, VQ, Mb, Vb`` (ignored when ``adam`` is
    False: plain SGD; zero when the optimizer has not stepped yet) are at step t; ``lr, beta1,
    beta2, eps, step`` (t + 1), ``wd``: the optimizer's settings.  ``u, i, j, c``: the training
    batch and its per-triple d(−log σ(x))/dx (:func:`bpr_batch_grads`); ``vu, vi, vj``: the
    validation batch; ``lam_*, s_*, lam_b, bias`` as in :func:`bpr_batch_grads` (``lam_b`` empty: the
    bias λ is the mean of the item's λ row, and learns with it; else fixed).

    Only the rows the validation batch reads are simulated: their data gradient (the batch's
    occurrences summed onto them), the penalty's 2·c_r·n_r^(β−1)·λ_r ⊙ θ_r / n (c_r the row's
    occurrences in the batch), the optimizer's element-wise rule θ̄ = f(θ, g) and its derivative
    in closed form.  Writes dL/dΛ into ``G_u``, ``G_i`` (the Λ tensors' shapes as (rows, columns):
    1 or users/items x 1 or K), first zeroing their rows ``clear_u``, ``clear_i`` (the previous
    call's: the tables stay zero elsewhere); ``slot_u``, ``slot_i``: -1 per table row (left so).
    Returns ``(validation loss, user rows written, item rows written)``.
    """
    n, nv, K = len(u), len(vu), P.shape[1]
    ru, cu = (1 if G_u.shape[0] > 1 else 0), (1 if G_u.shape[1] > 1 else 0)
    ri, ci = (1 if G_i.shape[0] > 1 else 0), (1 if G_i.shape[1] > 1 else 0)
    rlu = 1 if lam_u.shape[0] > 1 else 0
    rli = 1 if lam_i.shape[0] > 1 else 0
    rb = 1 if lam_b.shape[0] > 1 else 0
    mean_b = lam_b.shape[0] == 0
    _clear_rows(G_u, ru, clear_u)
    _clear_rows(G_i, ri, clear_i)
    # the validation batch's rows, each given a slot
    urows = np.empty(nv, np.int64)
    irows = np.empty(2 * nv, np.int64)
    nu = 0
    ni = 0
    for t in range(nv):
        if slot_u[vu[t]] < 0:
            slot_u[vu[t]] = nu
            urows[nu] = vu[t]
            nu += 1
    for t in range(2 * nv):
        r = vi[t] if t < nv else vj[t - nv]
        if slot_i[r] < 0:
            slot_i[r] = ni
            irows[ni] = r
            ni += 1
    # the training batch's data gradient and occurrences at those rows
    inv = np.float32(1.0 / n)
    Du, cnt_u = np.zeros((nu, K), np.float32), np.zeros(nu, np.float32)
    Di, Db, cnt_i = np.zeros((ni, K), np.float32), np.zeros(ni, np.float32), np.zeros(ni, np.float32)
    for t in range(n):
        su, si, sj = slot_u[u[t]], slot_i[i[t]], slot_i[j[t]]
        if su < 0 and si < 0 and sj < 0:
            continue
        ct = c[t] * inv
        pu, qi, qj = P[u[t]], Q[i[t]], Q[j[t]]
        if su >= 0:
            cnt_u[su] += 1.0
            d = Du[su]
            for k in range(K):
                d[k] += ct * (qi[k] - qj[k])
        if si >= 0:
            cnt_i[si] += 1.0
            d = Di[si]
            for k in range(K):
                d[k] += ct * pu[k]
            Db[si] += ct
        if sj >= 0:
            cnt_i[sj] += 1.0
            d = Di[sj]
            for k in range(K):
                d[k] -= ct * pu[k]
            Db[sj] -= ct
    # the simulated step at those rows: θ̄ and dθ̄/dg
    b1, b2 = 1.0 - beta1**step, 1.0 - beta2**step
    c2, size = np.float32(math.sqrt(b2)), np.float32(lr / b1)
    f1, f2 = np.float32(1.0 - beta1), np.float32(1.0 - beta2)
    e, be1, be2, lr32, wd32 = np.float32(eps), np.float32(beta1), np.float32(beta2), np.float32(lr), np.float32(wd)
    two = np.float32(2.0)
    Tu, Ju = np.empty((nu, K), np.float32), np.empty((nu, K), np.float32)
    Ti, Ji = np.empty((ni, K), np.float32), np.empty((ni, K), np.float32)
    Tb, Jb = np.zeros(ni, np.float32), np.zeros(ni, np.float32)
    for s in range(nu + ni):
        user = s < nu
        r = urows[s] if user else irows[s - nu]
        q = s if user else s - nu
        theta = P[r] if user else Q[r]
        M = MP if user else MQ
        V = VP if user else VQ
        lam = lam_u[rlu * r] if user else lam_i[rli * r]
        coef = two * (cnt_u[q] if user else cnt_i[q]) * (s_u[r] if user else s_i[r]) * inv
        D = Du[q] if user else Di[q]
        T = Tu[q] if user else Ti[q]
        J = Ju[q] if user else Ji[q]
        for k in range(K):
            g = D[k] + coef * lam[k] * theta[k] + wd32 * theta[k]
            if adam:
                m0, v0 = M[r, k], V[r, k]
                m = be1 * m0 + f1 * g
                root = np.sqrt(be2 * v0 + f2 * g * g)
                den = root / c2 + e
                T[k] = theta[k] - size * m / den
                rest = (f1 * be2 * v0 - be1 * f2 * m0 * g) / (c2 * root) if root > 0 else np.float32(0.0)
                J[k] = -size * (f1 * e + rest) / (den * den)  # simulate.py's _AdamStep: no cancellation
            else:
                T[k] = theta[k] - lr32 * g
                J[k] = -lr32
        if bias and not user:
            if mean_b:
                lb = np.float32(0.0)
                for k in range(K):
                    lb += lam[k]
                lb = np.float32(lb / K)
            else:
                lb = lam_b[rb * r]
            g = Db[q] + coef * lb * b[r] + wd32 * b[r]
            if adam:
                m0, v0 = Mb[r], Vb[r]
                m = be1 * m0 + f1 * g
                root = np.sqrt(be2 * v0 + f2 * g * g)
                den = root / c2 + e
                Tb[q] = b[r] - size * m / den
                rest = (f1 * be2 * v0 - be1 * f2 * m0 * g) / (c2 * root) if root > 0 else np.float32(0.0)
                Jb[q] = -size * (f1 * e + rest) / (den * den)
            else:
                Tb[q] = b[r] - lr32 * g
                Jb[q] = -lr32
    # the validation loss at θ̄ and its gradient at θ̄
    Au, Ai, Ab = np.zeros((nu, K), np.float32), np.zeros((ni, K), np.float32), np.zeros(ni, np.float32)
    loss = 0.0
    vinv = np.float32(1.0 / nv)
    for t in range(nv):
        su, si, sj = slot_u[vu[t]], slot_i[vi[t]], slot_i[vj[t]]
        pu, qi, qj = Tu[su], Ti[si], Ti[sj]
        x = np.float32(0.0)
        for k in range(K):
            x += pu[k] * (qi[k] - qj[k])
        if bias:
            x += Tb[si] - Tb[sj]
        if x > 0:  # as in bpr_batch_grads, written out: as a shared njit helper the batch kernel ran 10% slower
            ex = math.exp(-x)
            loss += math.log1p(ex)
            dx = np.float32(-ex / (1.0 + ex)) * vinv
        else:
            ex = math.exp(x)
            loss += -x + math.log1p(ex)
            dx = np.float32(-1.0 / (1.0 + ex)) * vinv
        au, ai, aj = Au[su], Ai[si], Ai[sj]
        for k in range(K):
            au[k] += dx * (qi[k] - qj[k])
            ai[k] += dx * pu[k]
            aj[k] -= dx * pu[k]
        if bias:
            Ab[si] += dx
            Ab[sj] -= dx
    # dL/dΛ through the penalty's 2·c_r·n_r^(β−1)·λ_r ⊙ θ_r / n, clipped
    for s in range(nu + ni):
        user = s < nu
        r = urows[s] if user else irows[s - nu]
        q = s if user else s - nu
        cnt = cnt_u[q] if user else cnt_i[q]
        if cnt == 0:
            continue
        coef = two * cnt * (s_u[r] if user else s_i[r]) * inv
        theta = P[r] if user else Q[r]
        A = Au[q] if user else Ai[q]
        J = Ju[q] if user else Ji[q]
        G = G_u[ru * r] if user else G_i[ri * r]
        cc = cu if user else ci
        for k in range(K):
            G[cc * k] += A[k] * J[k] * coef * theta[k]
        if bias and not user and mean_b:
            gb = Ab[q] * Jb[q] * coef * b[r] / G.shape[0]  # the bias λ is the mean of the row's λ
            for k in range(G.shape[0]):
                G[k] += gb
    _clip_rows(G_u, ru, urows[:nu], slot_u, clip)
    _clip_rows(G_i, ri, irows[:ni], slot_i, clip)
    return loss / nv, urows[:nu], irows[:ni]


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def _simulated(theta, g, m0, v0, adam, size, c2, e, be1, be2, f1, f2, lr32):  # pragma: no cover (compiled)
    """One element of the simulated optimizer step (:mod:`autorecs.lambdaopt.simulate`): ``(θ̄, dθ̄/dg)``."""
    if adam:
        m = be1 * m0 + f1 * g
        root = np.sqrt(be2 * v0 + f2 * g * g)
        den = root / c2 + e
        rest = (f1 * be2 * v0 - be1 * f2 * m0 * g) / (c2 * root) if root > 0 else np.float32(0.0)
        return theta - size * m / den, -size * (f1 * e + rest) / (den * den)  # _AdamStep's form: no cancellation
    return theta - lr32 * g, -lr32


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def mf_lambda_grads(P, Q, bu, bi, mu, MP, VP, MQ, VQ, Mbu, Vbu, Mbi, Vbi, m_mu, v_mu, adam, lr, beta1, beta2, eps, step, wd,
                    u, i, c, vu, vi, vr, lam_u, s_u, lam_i, s_i, lam_bu, lam_bi,
                    G_u, G_i, clear_u, clear_i, slot_u, slot_i, clip):  # pragma: no cover (compiled)
    """λOpt's Λ-step for biased MF (autorecs.lambdaopt.hypergrad.rating_lambda_step) in one pass: the
    gradient of the validation squared error after a simulated optimizer step with respect to Λ,
    clipped to [-clip, clip].

    As :func:`bpr_lambda_grads`, for the model μ + b_u + b_i + p_u·q_i: the parameters and the
    optimizer's moments at step t (``m_mu``, ``v_mu``: μ's, floats); ``u, i, c``: the training batch
    and its per-rating 2·error (:func:`mf_batch_grads`); ``vu, vi, vr``: the validation batch; the
    penalty's arrays as :func:`mf_batch_grads` takes them (an empty ``lam_bu``/``lam_bi``: the bias λ is
    the mean of the row's λ and learns with it).  Only the rows the validation batch reads, and μ, are
    simulated; μ carries no penalty, so Λ reaches the loss through those rows alone.  Writes dL/dΛ into
    ``G_u``, ``G_i`` (first zeroing their rows ``clear_u``, ``clear_i``); ``slot_u``, ``slot_i``: -1 per
    table row (left so).  Returns ``(validation loss, user rows written, item rows written)``.

    Its passes follow :func:`bpr_lambda_grads` (slots, data gradient, simulated step, validation
    gradient, dL/dΛ) with the rating model's terms; the arithmetic is written out in each rather than
    shared through helpers, which move fastmath's rounding (session 13: one helper in the BPR kernel
    moved a Λ gradient by 5e-12 and its step-by-step test past its tolerance).
    """
    n, nv, K = len(u), len(vu), P.shape[1]
    ru, cu = (1 if G_u.shape[0] > 1 else 0), (1 if G_u.shape[1] > 1 else 0)
    ri, ci = (1 if G_i.shape[0] > 1 else 0), (1 if G_i.shape[1] > 1 else 0)
    rlu = 1 if lam_u.shape[0] > 1 else 0
    rli = 1 if lam_i.shape[0] > 1 else 0
    rbu = 1 if lam_bu.shape[0] > 1 else 0
    rbi = 1 if lam_bi.shape[0] > 1 else 0
    mean_bu, mean_bi = lam_bu.shape[0] == 0, lam_bi.shape[0] == 0
    _clear_rows(G_u, ru, clear_u)
    _clear_rows(G_i, ri, clear_i)
    urows = np.empty(nv, np.int64)
    irows = np.empty(nv, np.int64)
    nu = 0
    ni = 0
    for t in range(nv):
        if slot_u[vu[t]] < 0:
            slot_u[vu[t]] = nu
            urows[nu] = vu[t]
            nu += 1
        if slot_i[vi[t]] < 0:
            slot_i[vi[t]] = ni
            irows[ni] = vi[t]
            ni += 1
    # the training batch's data gradient at those rows (and at μ) and its occurrences
    inv = np.float32(1.0 / n)
    Du, Dbu, cnt_u = np.zeros((nu, K), np.float32), np.zeros(nu, np.float32), np.zeros(nu, np.float32)
    Di, Dbi, cnt_i = np.zeros((ni, K), np.float32), np.zeros(ni, np.float32), np.zeros(ni, np.float32)
    g_mu = np.float32(0.0)
    for t in range(n):
        ct = c[t] * inv
        g_mu += ct
        su, si = slot_u[u[t]], slot_i[i[t]]
        if su >= 0:
            cnt_u[su] += 1.0
            Dbu[su] += ct
            d, q = Du[su], Q[i[t]]
            for k in range(K):
                d[k] += ct * q[k]
        if si >= 0:
            cnt_i[si] += 1.0
            Dbi[si] += ct
            d, p = Di[si], P[u[t]]
            for k in range(K):
                d[k] += ct * p[k]
    # the simulated step: θ̄ and dθ̄/dg at those rows, μ̄
    b1, b2 = 1.0 - beta1**step, 1.0 - beta2**step
    c2, size = np.float32(math.sqrt(b2)), np.float32(lr / b1)
    f1, f2 = np.float32(1.0 - beta1), np.float32(1.0 - beta2)
    e, be1, be2, lr32, wd32 = np.float32(eps), np.float32(beta1), np.float32(beta2), np.float32(lr), np.float32(wd)
    two = np.float32(2.0)
    m32 = np.float32(mu)
    T_mu, _ = _simulated(m32, g_mu + wd32 * m32, np.float32(m_mu), np.float32(v_mu), adam, size, c2, e, be1, be2, f1, f2, lr32)
    Tu, Ju = np.empty((nu, K), np.float32), np.empty((nu, K), np.float32)
    Ti, Ji = np.empty((ni, K), np.float32), np.empty((ni, K), np.float32)
    Tbu, Jbu, Tbi, Jbi = np.empty(nu, np.float32), np.empty(nu, np.float32), np.empty(ni, np.float32), np.empty(ni, np.float32)
    for s in range(nu + ni):
        user = s < nu
        r = urows[s] if user else irows[s - nu]
        q = s if user else s - nu
        theta = P[r] if user else Q[r]
        M = MP if user else MQ
        V = VP if user else VQ
        lam = lam_u[rlu * r] if user else lam_i[rli * r]
        coef = two * (cnt_u[q] if user else cnt_i[q]) * (s_u[r] if user else s_i[r]) * inv
        D = Du[q] if user else Di[q]
        T = Tu[q] if user else Ti[q]
        J = Ju[q] if user else Ji[q]
        lb = np.float32(0.0)
        for k in range(K):
            g = D[k] + coef * lam[k] * theta[k] + wd32 * theta[k]
            m0 = M[r, k] if adam else np.float32(0.0)
            v0 = V[r, k] if adam else np.float32(0.0)
            T[k], J[k] = _simulated(theta[k], g, m0, v0, adam, size, c2, e, be1, be2, f1, f2, lr32)
            lb += lam[k]
        if user:
            lb = np.float32(lb / K) if mean_bu else lam_bu[rbu * r]
            b0, Mb, Vb = bu[r], Mbu, Vbu
            g = Dbu[q] + coef * lb * b0 + wd32 * b0
        else:
            lb = np.float32(lb / K) if mean_bi else lam_bi[rbi * r]
            b0, Mb, Vb = bi[r], Mbi, Vbi
            g = Dbi[q] + coef * lb * b0 + wd32 * b0
        m0 = Mb[r] if adam else np.float32(0.0)
        v0 = Vb[r] if adam else np.float32(0.0)
        tb, jb = _simulated(b0, g, m0, v0, adam, size, c2, e, be1, be2, f1, f2, lr32)
        if user:
            Tbu[q], Jbu[q] = tb, jb
        else:
            Tbi[q], Jbi[q] = tb, jb
    # the validation loss at θ̄ and its gradient at θ̄
    Au, Ai = np.zeros((nu, K), np.float32), np.zeros((ni, K), np.float32)
    Abu, Abi = np.zeros(nu, np.float32), np.zeros(ni, np.float32)
    loss = 0.0
    vinv = np.float32(2.0 / nv)
    for t in range(nv):
        su, si = slot_u[vu[t]], slot_i[vi[t]]
        pu, qi = Tu[su], Ti[si]
        x = T_mu + Tbu[su] + Tbi[si]
        for k in range(K):
            x += pu[k] * qi[k]
        err = x - vr[t]
        loss += err * err
        d = err * vinv
        au, ai = Au[su], Ai[si]
        for k in range(K):
            au[k] += d * qi[k]
            ai[k] += d * pu[k]
        Abu[su] += d
        Abi[si] += d
    # dL/dΛ through the penalty's 2·c_r·n_r^(β−1)·λ_r ⊙ θ_r / n, clipped
    for s in range(nu + ni):
        user = s < nu
        r = urows[s] if user else irows[s - nu]
        q = s if user else s - nu
        cnt = cnt_u[q] if user else cnt_i[q]
        if cnt == 0:
            continue
        coef = two * cnt * (s_u[r] if user else s_i[r]) * inv
        theta = P[r] if user else Q[r]
        A = Au[q] if user else Ai[q]
        J = Ju[q] if user else Ji[q]
        G = G_u[ru * r] if user else G_i[ri * r]
        cc = cu if user else ci
        for k in range(K):
            G[cc * k] += A[k] * J[k] * coef * theta[k]
        if (mean_bu if user else mean_bi):  # the bias λ is the mean of the row's λ
            gb = (Abu[q] * Jbu[q] * bu[r] if user else Abi[q] * Jbi[q] * bi[r]) * coef / G.shape[0]
            for k in range(G.shape[0]):
                G[k] += gb
    _clip_rows(G_u, ru, urows[:nu], slot_u, clip)
    _clip_rows(G_i, ri, irows[:ni], slot_i, clip)
    return loss / nv, urows[:nu], irows[:ni]

