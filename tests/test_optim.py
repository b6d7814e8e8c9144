"""autorecs.optim.Adam (the compiled step) against torch.optim.Adam: the same rule and state."""

import copy

import pytest
import torch

from autorecs.optim import Adam, is_adam, make_optimizer


def _pair(shapes, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    start = [torch.randn(s, generator=g, dtype=dtype) for s in shapes]
    return [torch.nn.Parameter(t.clone()) for t in start], [torch.nn.Parameter(t.clone()) for t in start], g


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_compiled_adam_follows_torch_adam(weight_decay):
    shapes = [(9000, 3), (40,), ()]  # a table longer than one block of the kernel, a vector, a scalar
    ours, ref, g = _pair(shapes)
    opt_ours = Adam(ours, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=weight_decay)
    opt_ref = torch.optim.Adam(ref, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=weight_decay)
    grads = [torch.zeros(s) for s in shapes]  # reused tensors, as BPR-MF's compiled batches hand them over
    for _ in range(7):
        for t in grads:
            t.copy_(torch.randn(t.shape, generator=g))
        for params, opt in ((ours, opt_ours), (ref, opt_ref)):
            for p, t in zip(params, grads):
                p.grad = t.clone() if opt is opt_ref else t
            opt.step()
    assert opt_ours._plan() is not None  # the compiled step ran
    for p, q in zip(ours, ref):
        assert torch.allclose(p, q, rtol=1e-5, atol=1e-6)
        assert not torch.equal(p, q.new_zeros(q.shape))
        for key in ("exp_avg", "exp_avg_sq"):
            assert torch.allclose(opt_ours.state[p][key], opt_ref.state[q][key], rtol=1e-5, atol=1e-7)
        assert float(opt_ours.state[p]["step"]) == float(opt_ref.state[q]["step"]) == 7.0


def test_either_step_continues_the_other():
    ours, ref, g = _pair([(50, 4)])
    opt_ours, opt_ref = Adam(ours, lr=0.05), torch.optim.Adam(ref, lr=0.05)
    grad = torch.zeros(50, 4)  # one gradient tensor throughout, as the compiled batches hand it over: the cache stays warm
    for k in range(6):
        grad.copy_(torch.randn(50, 4, generator=g))
        ours[0].grad, ref[0].grad = grad, grad.clone()
        if k == 3:  # one step by PyTorch's own rule in the middle (amsgrad off: the same rule)
            torch.optim.Adam.step(opt_ours)
        else:
            opt_ours.step()
        opt_ref.step()
    assert torch.allclose(ours[0], ref[0], rtol=1e-5, atol=1e-6)
    other = torch.optim.Adam([torch.nn.Parameter(ref[0].detach().clone())], lr=0.05)  # another history, loaded in
    for _ in range(2):
        other.param_groups[0]["params"][0].grad = torch.randn(50, 4, generator=g)
        other.step()
    opt_ours.load_state_dict(copy.deepcopy(other.state_dict()))  # new state tensors: the cached arrays must follow them
    opt_ref.load_state_dict(copy.deepcopy(other.state_dict()))
    grad.copy_(torch.randn(50, 4, generator=g))
    ours[0].grad, ref[0].grad = grad, grad.clone()
    opt_ours.step(), opt_ref.step()
    assert float(opt_ours.state[ours[0]]["step"]) == float(opt_ref.state[ref[0]]["step"]) == 3.0
    for key in ("exp_avg", "exp_avg_sq"):
        assert torch.allclose(opt_ours.state[ours[0]][key], opt_ref.state[ref[0]][key], rtol=1e-5, atol=1e-7)
    assert torch.allclose(ours[0], ref[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["float64", "amsgrad", "closure"])
def test_what_the_kernel_does_not_do_takes_torchs_step(case):
    dtype = torch.float64 if case == "float64" else torch.float32
    ours, ref, g = _pair([(20, 3)], dtype=dtype)
    kw = {"amsgrad": True} if case == "amsgrad" else {}
    opt_ours, opt_ref = Adam(ours, lr=0.05, **kw), torch.optim.Adam(ref, lr=0.05, **kw)
    for _ in range(3):
        grad = torch.randn(20, 3, generator=g, dtype=dtype)
        ours[0].grad, ref[0].grad = grad.clone(), grad.clone()
        if case == "closure":
            assert opt_ours.step(lambda: torch.tensor(1.0)) == torch.tensor(1.0)
        else:
            opt_ours.step()
        opt_ref.step()
        if case != "closure":
            assert opt_ours._plan() is None
    assert torch.equal(ours[0], ref[0])


def test_a_sparse_gradient_gets_torchs_answer():
    p = torch.nn.Parameter(torch.zeros(5, 2))
    p.grad = torch.ones(5, 2).to_sparse()
    with pytest.raises(RuntimeError, match="SparseAdam"):
        Adam([p], lr=0.1).step()


def test_make_optimizer_compiles_adam_only_when_asked():
    p = [torch.nn.Parameter(torch.zeros(3))]
    assert type(make_optimizer("adam", p, lr=0.1, compiled=True)) is Adam
    assert type(make_optimizer("adam", p, lr=0.1)) is torch.optim.Adam
    assert type(make_optimizer("sgd", p, lr=0.1, compiled=True)) is torch.optim.SGD
    assert is_adam(make_optimizer("adam", p, lr=0.1, compiled=True)) and is_adam(torch.optim.Adam(p))
    assert not is_adam(torch.optim.AdamW(p))


def test_the_compiled_step_leaves_pytorchs_thread_count_alone():
    """In a fresh process (numba's OpenMP pool not started yet): starting it resets OpenMP's thread
    count, which PyTorch reads; the compiled step puts PyTorch's back."""
    import subprocess
    import sys

    code = ("import torch; torch.set_num_threads(1)\n"
            "from autorecs.optim import Adam\n"
            "p = torch.nn.Parameter(torch.zeros(10_000)); opt = Adam([p], lr=0.1); p.grad = torch.ones(10_000); opt.step()\n"
            "assert bool((p < 0).all())\n"
            "print(torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1"]


def test_a_step_it_hands_to_pytorch_leaves_the_state_to_pytorch():
    """Where the compiled step does not apply (here float64; on a GPU the same), PyTorch's step
    creates the state it wants (e.g. a step counter on the GPU for its fused kernel)."""
    p = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    opt = Adam([p], lr=0.1)
    p.grad = torch.ones(4, dtype=torch.float64)
    assert opt._plan() is None and len(opt.state[p]) == 0


def test_a_copy_of_the_optimizer_steps():
    p = torch.nn.Parameter(torch.zeros(5))
    opt = Adam([p], lr=0.1)
    p.grad = torch.ones(5)
    opt.step()
    twin = copy.deepcopy(opt)  # PyTorch's __getstate__ keeps its own fields only
    q = twin.param_groups[0]["params"][0]
    q.grad = torch.ones(5)
    twin.step()
    assert torch.allclose(q, torch.full((5,), -0.2)) and float(twin.state[q]["step"]) == 2.0


@pytest.mark.parametrize("compiled_step", [True, False])
def test_step_hooks_run_once(compiled_step):
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))])  # PyTorch wraps its Adam.step with the hooks too
    p = torch.nn.Parameter(torch.zeros(3))
    opt = Adam([p], lr=0.1, amsgrad=not compiled_step)
    calls = []
    opt.register_step_pre_hook(lambda *a: calls.append("pre"))
    opt.register_step_post_hook(lambda *a: calls.append("post"))
    p.grad = torch.ones(3)
    opt.step()
    assert calls == ["pre", "post"]


def test_without_the_compiled_kernels_models_take_their_tensor_path(ratings_data, implicit_data, monkeypatch):
    """numba is a dependency, but a machine that runs the sources without it still trains (the tensor path)."""
    import numba

    import autorecs.kernels
    import autorecs.optim
    from autorecs import BiasedMF, BPRMF
    from autorecs.data import split

    monkeypatch.setattr(autorecs.optim, "kernels_available", lambda: False)
    compiled = [name for name, value in vars(autorecs.kernels).items() if isinstance(value, numba.core.registry.CPUDispatcher)]
    assert {"adam_step", "bpr_batch_grads", "bpr_lambda_grads", "mf_batch_grads", "mf_lambda_grads", "add_rows"} <= set(compiled)
    for name in compiled:  # a call would fail
        monkeypatch.setattr(autorecs.kernels, name, None)
    s = split(ratings_data, "random-50-25-25", seed=0)
    m = BiasedMF(solver="adam", factors=3, epochs=2, lambdaopt="DUI").fit(s.train, s.valid, seed=0, progress=False)
    assert type(m._opt) is torch.optim.Adam and not m._compiles()
    r = split(implicit_data, "temporal-60-20-20")
    for params in ({}, {"lambdaopt": "DUI"}, {"optimizer": "sparse_adam"}):
        m = BPRMF(factors=3, epochs=2, **params).fit(r.train, r.valid, seed=0, progress=False)
        assert not m._compiles() and m.history_.epochs[-1]["loss"] > 0


def test_kernels_available_is_false_where_numba_does_not_import():
    import subprocess
    import sys

    code = ("import sys; sys.modules['numba'] = None\n"
            "from autorecs.optim import kernels_available, make_optimizer\n"
            "import torch\n"
            "print(kernels_available(), type(make_optimizer('adam', [torch.nn.Parameter(torch.zeros(2))], lr=0.1, compiled=True)).__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "torch.optim.adam"]


def test_the_profiler_sees_the_compiled_step():
    """The compiled step skips PyTorch's per-step wrapper only where nothing would see it: under the
    profiler it is recorded under PyTorch's name, and it steps the same."""
    p = torch.nn.Parameter(torch.zeros(3))
    opt = Adam([p], lr=0.1)
    p.grad = torch.ones(3)
    assert opt._plan() is not None and not opt._observed()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        assert opt._observed()
        opt.step()
    assert "Optimizer.step#Adam.step" in {e.name for e in prof.events()}
    opt.step()  # unobserved again: the wrapper-free step, the same rule
    assert torch.allclose(p.detach(), torch.full((3,), -0.2)) and float(opt.state[p]["step"]) == 2.0
