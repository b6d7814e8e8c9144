"""The compiled CPU kernels against their PyTorch references: the sparse Adam step against
torch.optim.SparseAdam, and BPR-MF's compiled batch against its tensor path (the GPU's)."""

import numpy as np
import pytest
import torch

from autorecs import BPRMF, Regularizer
from autorecs.models import AMF
from autorecs.data import split
from autorecs.exceptions import ConfigError
from autorecs.optim import SparseAdam, make_optimizer


@pytest.mark.parametrize("shape", [(40, 6), (40,)])
def test_compiled_sparse_adam_matches_torch(shape):
    g = torch.Generator().manual_seed(0)
    start = torch.randn(*shape, generator=g)
    ours, ref = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    opt_ours, opt_ref = SparseAdam([ours], lr=0.05), torch.optim.SparseAdam([ref], lr=0.05)
    for _ in range(6):
        rows = torch.randint(0, shape[0], (25,), generator=g)  # repeated rows: summed, as coalesce() does
        vals = torch.randn(25, *shape[1:], generator=g)
        for p, opt in ((ours, opt_ours), (ref, opt_ref)):
            p.grad = torch.sparse_coo_tensor(rows[None], vals, shape, check_invariants=False)
            opt.step()
    assert torch.allclose(ours, ref, atol=1e-6)
    assert not torch.equal(ours, start)  # it moved
    for key in ("exp_avg", "exp_avg_sq"):
        assert torch.allclose(opt_ours.state[ours][key], opt_ref.state[ref][key], atol=1e-6)


def test_sparse_adam_leaves_rows_without_gradient_alone_and_falls_back_for_float64():
    p = torch.nn.Parameter(torch.ones(10, 3))
    opt = make_optimizer("sparse_adam", [p], lr=0.1)
    p.grad = torch.sparse_coo_tensor(torch.tensor([[2, 5]]), torch.ones(2, 3), (10, 3), check_invariants=False)
    opt.step()
    moved = (p.detach() != 1).any(1)
    assert moved.tolist() == [r in (2, 5) for r in range(10)]
    d = torch.nn.Parameter(torch.ones(10, 3, dtype=torch.float64))  # not the compiled case: PyTorch's own step
    ref = torch.nn.Parameter(torch.ones(10, 3, dtype=torch.float64))
    for q, o in ((d, SparseAdam([d], lr=0.1)), (ref, torch.optim.SparseAdam([ref], lr=0.1))):
        q.grad = torch.sparse_coo_tensor(torch.tensor([[1, 1, 4]]), torch.ones(3, 3, dtype=torch.float64), (10, 3), check_invariants=False)
        o.step()
    assert torch.equal(d, ref)
    with pytest.raises(ValueError, match="no weight decay"):
        make_optimizer("sparse_adam", [p], lr=0.1, weight_decay=0.1)


@pytest.mark.parametrize("optimizer", ["adam", "sparse_adam", "sgd"])
@pytest.mark.parametrize("regularizer", [None, "per-row", "exponent", "no item bias"])
def test_compiled_bpr_batch_matches_the_tensor_path(implicit_data, optimizer, regularizer):
    train = split(implicit_data, "temporal-60-20-20").train
    k = 5
    reg = {None: None,
           "per-row": Regularizer(torch.rand(train.n_users, k, generator=torch.Generator().manual_seed(1)) * 0.1, torch.full((k,), 0.05)),
           "exponent": Regularizer(0.02, 0.03, bias=0.01, exponent=0.5), "no item bias": None}[regularizer]
    models = []
    for compiled in (True, False):
        m = BPRMF(factors=k, epochs=3, batch_size=16, optimizer=optimizer, learning_rate=0.05, regularizer=reg,
                  item_bias=regularizer != "no item bias")
        m._compiled = compiled
        models.append(m.fit(train, seed=0, progress=False))
    fast, ref = models
    for name in ("P", "Q", "bi"):
        assert torch.allclose(getattr(fast, name), getattr(ref, name), atol=1e-5), name
    losses = [[e["loss"] for e in m.history_.epochs] for m in models]
    assert np.allclose(*losses, rtol=1e-5)
    assert losses[0][-1] < losses[0][0]  # it trained


def test_sparse_adam_is_refused_where_it_cannot_train():
    with pytest.raises(ConfigError, match="λOpt simulates a dense optimizer's step"):
        BPRMF(optimizer="sparse_adam", lambdaopt="DUI")
    with pytest.raises(ConfigError, match="'optimizer'"):
        AMF(optimizer="sparse_adam")
    with pytest.raises(ConfigError, match="'optimizer'"):
        BPRMF(optimizer="lazy")


@pytest.mark.parametrize("granularity, optimizer, regularizer, clip", [
    ("DUI", "adam", None, 0.5), ("D", "adam", None, 0.5), ("DU", "adam", "exponent", 0.5), ("DI", "sgd", None, 0.5),
    ("global", "adam", None, 0.5), ("UI", "adam", "no item bias", 0.5), ("I", "adam", "fixed bias λ", 0.5),
    ("DUI", "sgd", "exponent", 0.5), ("DUI", "adam", None, 5e-8), ("global", "sgd", "exponent", 5e-8),
])
def test_compiled_lambdaopt_matches_the_tensor_path(implicit_data, monkeypatch, granularity, optimizer, regularizer, clip):
    """λOpt's Λ-step compiled (:func:`autorecs.kernels.bpr_lambda_grads`) against the tensor path's
    simulated step and autograd, every Λ shape: each step's clipped Λ gradient (a clip of 5e-8 binds),
    then the learned Λ and the parameters agree."""
    import autorecs.kernels
    from autorecs.lambdaopt.hypergrad import LambdaLearner

    s = split(implicit_data, "temporal-60-20-20")
    reg = {None: None, "no item bias": None, "exponent": Regularizer(0.02, 0.03, exponent=0.5),
           "fixed bias λ": Regularizer(0.02, 0.03, bias=0.01)}[regularizer]
    calls, steps = [0], {True: [], False: []}
    kernel = autorecs.kernels.bpr_lambda_grads
    monkeypatch.setattr(autorecs.kernels, "bpr_lambda_grads", lambda *a: (calls.__setitem__(0, calls[0] + 1), kernel(*a))[1])
    apply = LambdaLearner.apply
    models = []
    for compiled in (True, False):
        monkeypatch.setattr(LambdaLearner, "apply", lambda self, gu, gi, c=compiled: (steps[c].append((gu.clone(), gi.clone())),
                                                                                     apply(self, gu, gi))[1])
        m = BPRMF(factors=5, epochs=3, patience=5, batch_size=16, optimizer=optimizer, learning_rate=0.05, regularizer=reg,
                  item_bias=regularizer != "no item bias", lambdaopt=granularity, lambda_lr=0.05, lambda_clip=clip)
        m._compiled = compiled
        models.append(m.fit(s.train, s.valid, seed=0, progress=False))
    assert calls[0] == len(steps[True]) > 0  # the compiled path ran every Λ-step, the tensor path none
    fast, ref = models
    for (fu, fi), (ru, ri) in zip(steps[True], steps[False]):
        scale = max(float(ru.abs().max()), float(ri.abs().max()), 1e-12)
        assert float((fu - ru).abs().max()) <= 1e-4 * scale and float((fi - ri).abs().max()) <= 1e-4 * scale
    if clip < 1e-6:
        assert any(float(ru.abs().max()) == pytest.approx(clip) for ru, _ in steps[False])  # the clip binds
    assert not torch.allclose(ref.lam_user, torch.full_like(ref.lam_user, 0.01)) or not torch.allclose(
        ref.lam_item, torch.full_like(ref.lam_item, 0.01))  # Λ moved from its start (reg = 0.01)
    for name in ("lam_user", "lam_item", "P", "Q", "bi"):
        assert torch.allclose(getattr(fast, name), getattr(ref, name), atol=2e-5), name
    losses = [[e["loss"] for e in m.history_.epochs] for m in models]
    assert np.allclose(*losses, rtol=1e-5)


@pytest.mark.parametrize("optimizer, change, compiles", [
    ("adam", {}, True), ("sgd", {}, True), ("adagrad", {}, False), ("adam", {"amsgrad": True}, False),
    ("sgd", {"momentum": 0.9}, False), ("adam", {"maximize": True}, False),
])
def test_the_compiled_lambda_step_runs_only_where_it_simulates_the_optimizer(implicit_data, optimizer, change, compiles):
    s = split(implicit_data, "temporal-60-20-20")
    m = BPRMF(factors=3, epochs=1, optimizer=optimizer, lambdaopt="DUI").fit(s.train, s.valid, seed=0, progress=False)
    m._init_params(np.random.default_rng(0))
    m._opt.param_groups[0].update(change)
    assert m._compiles() is compiles
    m.P.data = m.P.data.double()
    assert not m._compiles()  # float64 tables: the tensor path


@pytest.mark.parametrize("kernel", ["bpr_batch_grads", "mf_batch_grads"])
def test_the_parallel_batch_kernels_give_the_same_gradients_on_any_thread_count(kernel):
    import numba

    import autorecs.kernels as K

    torch_threads = torch.get_num_threads()
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")
    rng = np.random.default_rng(0)
    P, Q, b = (rng.normal(size=s).astype(np.float32) for s in ((30, 8), (20, 8), (20,)))
    u, i, j = rng.integers(0, 30, 500), rng.integers(0, 20, 500), rng.integers(0, 20, 500)
    lam, ones_u, ones_i = np.full((1, 8), 0.1, np.float32), np.ones(30, np.float32), np.ones(20, np.float32)
    none = np.zeros(0, np.float32)
    r, bu = rng.integers(1, 6, 500).astype(np.float32), rng.normal(size=30).astype(np.float32)
    out = []
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            if kernel == "bpr_batch_grads":
                bufs = np.empty((500, 8), np.float32), np.empty((1000, 8), np.float32), np.empty(1000, np.float32), np.empty(500, np.float32)
                loss = K.bpr_batch_grads(P, Q, b, u, i, j, lam, ones_u, lam, ones_i, none, True, *bufs)
            else:
                bufs = (np.empty((500, 8), np.float32), np.empty((500, 8), np.float32), np.empty(500, np.float32),
                        np.empty(500, np.float32), np.empty(500, np.float32))
                loss = K.mf_batch_grads(P, Q, bu, b, 3.5, u, i, r, lam, ones_u, lam, ones_i, none, none, *bufs)
            out.append((loss, bufs))
    finally:
        numba.set_num_threads(before)
        torch.set_num_threads(torch_threads)  # starting numba's pool may have reset PyTorch's count
    (l1, g1), (l2, g2) = out
    for a, c in zip(g1, g2):
        assert np.array_equal(a, c)  # each occurrence's rows are its own: no order to differ
    assert np.allclose(l1, l2, rtol=1e-5)  # the summed losses may add in another order


@pytest.mark.parametrize("solver", ["adam", "sgd", "adagrad"])
@pytest.mark.parametrize("regularizer", [None, "per-row", "exponent and bias λ", "weight decay"])
def test_compiled_biased_mf_batch_matches_the_tensor_path(ratings_data, solver, regularizer):
    from autorecs import BiasedMF

    train = split(ratings_data, "random-50-25-25", seed=0).train
    k = 5
    g = torch.Generator().manual_seed(1)
    reg = {None: None, "weight decay": None,
           "per-row": Regularizer(torch.rand(train.n_users, k, generator=g) * 0.1, torch.full((k,), 0.05)),
           "exponent and bias λ": Regularizer(0.02, 0.03, bias=0.01, exponent=0.5)}[regularizer]
    models = []
    for compiled in (True, False):
        m = BiasedMF(solver=solver, factors=k, epochs=3, batch_size=64, learning_rate={"sgd": 0.5}.get(solver, 0.02),
                     weight_decay=0.01 if regularizer == "weight decay" else 0.0, regularizer=reg)
        m._compiled = compiled
        models.append(m.fit(train, seed=0, progress=False))
    fast, ref = models
    assert type(fast._opt).__module__ == "autorecs.optim" if solver == "adam" else True
    for name in ("P", "Q", "bu", "bi", "mu"):
        assert torch.allclose(getattr(fast, name), getattr(ref, name), atol=2e-5), name
    losses = [[e["loss"] for e in m.history_.epochs] for m in models]
    assert np.allclose(*losses, rtol=1e-5)
    assert losses[0][-1] < losses[0][0]  # it trained


_MF_CASES = [("DUI", "adam", None, 0.5), ("D", "adam", None, 0.5), ("DU", "adam", "exponent", 0.5), ("DI", "sgd", None, 0.5),
             ("global", "adam", None, 0.5), ("UI", "adam", "weight decay", 0.5), ("I", "adam", "fixed bias λ", 0.5),
             ("DUI", "sgd", "exponent", 0.5), ("DUI", "adam", None, 5e-7), ("global", "sgd", "exponent", 5e-7)]


def _mf_lambdaopt(optimizer, regularizer, granularity, clip, epochs=3):
    from autorecs import BiasedMF

    reg = {None: None, "weight decay": None, "exponent": Regularizer(0.02, 0.03, exponent=0.5),
           "fixed bias λ": Regularizer(0.02, 0.03, bias=0.01)}[regularizer]
    return BiasedMF(solver=optimizer, factors=5, epochs=epochs, patience=5, batch_size=64, learning_rate={"sgd": 0.5}.get(optimizer, 0.02),
                    weight_decay=0.01 if regularizer == "weight decay" else 0.0, regularizer=reg, reg_user=0.05, reg_item=0.05,
                    lambdaopt=granularity, lambda_lr=0.05, lambda_clip=clip)


@pytest.mark.parametrize("granularity, optimizer, regularizer, clip", _MF_CASES)
def test_compiled_biased_mf_lambda_step_matches_the_tensor_step(ratings_data, monkeypatch, granularity, optimizer, regularizer, clip):
    """BiasedMF's compiled Λ-step (:func:`autorecs.kernels.mf_lambda_grads`) against the tensor path's
    simulated step and autograd (``rating_lambda_step``) at one training state (after 1 and after 3
    epochs, the optimizer's moments non-zero), every Λ shape: the clipped Λ gradients agree to 1e-4 of
    their scale (a clip of 5e-7 binds)."""
    from autorecs.lambdaopt.hypergrad import LambdaLearner

    s = split(ratings_data, "random-50-25-25", seed=0)
    compared = []

    def compare(model, epoch, logs):
        if epoch not in (1, 3):
            return False
        recorded = []
        monkeypatch.setattr(LambdaLearner, "apply", lambda self, gu, gi: recorded.append((gu.clone(), gi.clone())))
        model._lam_hook.begin_epoch(len(model._r), 64)  # fresh validation draws; Θ, Λ and the moments stay as they are
        u, i, r = model._u[:64], model._i[:64], model._r[:64]
        kernel, step = model._compiled_batch(), model._compiled_lambda()
        step((u, i), kernel(u, i, r)[2], slice(0, 64))
        pu, qi, bu, bi = model.P[u], model.Q[i], model.bu[u], model.bi[i]
        err = (model.mu + bu + bi + (pu * qi).sum(1) - r).pow(2).sum()
        model._lambda_kernel = None
        model._lambda_step((u, i), torch.autograd.grad(err / 64, (model.mu, pu, qi, bu, bi)), slice(0, 64))
        monkeypatch.undo()
        (fu, fi), (ru, ri) = recorded
        scale = max(float(ru.abs().max()), float(ri.abs().max()), 1e-12)
        assert float((fu - ru).abs().max()) <= 1e-4 * scale and float((fi - ri).abs().max()) <= 1e-4 * scale
        compared.append(scale)
        if clip < 1e-6:
            assert scale == pytest.approx(clip)  # the clip binds
        return False

    _mf_lambdaopt(optimizer, regularizer, granularity, clip).fit(s.train, s.valid, seed=0, progress=False, callbacks=[compare])
    assert len(compared) == 2 and min(compared) > 0


@pytest.mark.parametrize("granularity, optimizer, regularizer, clip", _MF_CASES[:4])
def test_compiled_biased_mf_lambdaopt_trains_as_the_tensor_path(ratings_data, monkeypatch, granularity, optimizer, regularizer, clip):
    """Whole λOpt fits, compiled and tensor path: the compiled Λ-step ran every step, and Λ and the
    parameters end where the tensor path's do.  (Step by step the two drift apart by rounding, which
    the simulated Adam step's derivative amplifies where a row's second moment is still near zero, so
    the step-level check is the test above, at one state.)"""
    import autorecs.kernels

    s = split(ratings_data, "random-50-25-25", seed=0)
    calls = [0]
    kernel = autorecs.kernels.mf_lambda_grads
    monkeypatch.setattr(autorecs.kernels, "mf_lambda_grads", lambda *a: (calls.__setitem__(0, calls[0] + 1), kernel(*a))[1])
    models = []
    for compiled in (True, False):
        m = _mf_lambdaopt(optimizer, regularizer, granularity, clip)
        m._compiled = compiled
        models.append(m.fit(s.train, s.valid, seed=0, progress=False))
        if compiled:
            assert calls[0] > 0
            ran = calls[0]
    assert calls[0] == ran  # the tensor path called no kernel
    fast, ref = models
    assert not torch.allclose(ref.lam_user, torch.full_like(ref.lam_user, 0.05)) or not torch.allclose(
        ref.lam_item, torch.full_like(ref.lam_item, 0.05))  # Λ moved from its start
    for name in ("lam_user", "lam_item", "P", "Q", "bu", "bi", "mu"):
        assert torch.allclose(getattr(fast, name), getattr(ref, name), atol=1e-4), name
    losses = [[e["loss"] for e in m.history_.epochs] for m in models]
    assert np.allclose(*losses, rtol=1e-4)
