import pytest
import torch

from autorecs.exceptions import ConfigError
from autorecs.lambdaopt import simulated_step
from autorecs.optim import make_optimizer

OPTIMIZERS = [
    ("sgd", {}),
    ("adam", {}),
    ("adagrad", {}),
    ("adam", {"weight_decay": 0.01}),
]


@pytest.mark.parametrize("name,extra", OPTIMIZERS)
@pytest.mark.parametrize("warm_steps", [0, 3])
def test_simulated_step_equals_pytorchs_step(name, extra, warm_steps):
    """Known answer: the simulated next parameters are exactly what optimizer.step() produces."""
    g = torch.Generator().manual_seed(0)
    p = torch.nn.Parameter(torch.randn(7, 4, generator=g))
    opt = make_optimizer(name, [p], lr=0.05, weight_decay=extra.get("weight_decay", 0.0))
    for _ in range(warm_steps):  # non-empty optimizer state
        p.grad = torch.randn(7, 4, generator=g)
        opt.step()
    grad = torch.randn(7, 4, generator=g)
    rows = torch.tensor([5, 1, 3])
    before = {k: (v.clone() if torch.is_tensor(v) else v) for k, v in opt.state.get(p, {}).items()}
    p_before = p.detach().clone()
    sim_all = simulated_step(opt, p, grad)
    sim_rows = simulated_step(opt, p, grad[rows], rows)
    # the real optimizer and parameters are untouched by the simulation
    assert torch.equal(p.detach(), p_before)
    assert all(torch.equal(torch.as_tensor(before[k]), torch.as_tensor(v)) for k, v in opt.state.get(p, {}).items())
    p.grad = grad.clone()
    opt.step()
    torch.testing.assert_close(sim_all, p.detach(), rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(sim_rows, p.detach()[rows], rtol=1e-6, atol=1e-7)


def test_simulated_step_is_differentiable_in_the_gradient():
    p = torch.nn.Parameter(torch.ones(3, 2))
    opt = torch.optim.Adam([p], lr=0.1)
    lam = torch.tensor(0.3, requires_grad=True)
    grad = torch.full((3, 2), 0.5) + 2 * lam * p.detach()
    out = simulated_step(opt, p, grad).sum()
    out.backward()
    assert lam.grad is not None and torch.isfinite(lam.grad)


def test_unsupported_optimizers_are_named():
    p = torch.nn.Parameter(torch.ones(2))
    with pytest.raises(ConfigError, match="SGD without momentum"):
        simulated_step(torch.optim.SGD([p], lr=0.1, momentum=0.9), p, torch.ones(2))
    with pytest.raises(ConfigError, match="RMSprop"):
        simulated_step(torch.optim.RMSprop([p], lr=0.1), p, torch.ones(2))
    with pytest.raises(ConfigError, match="not managed by this optimizer"):
        simulated_step(torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=0.1), p, torch.ones(2))


@pytest.mark.parametrize("name", ["adam", "adagrad"])
def test_a_row_with_no_state_and_no_gradient_has_a_finite_derivative(name):
    """A fresh optimizer and a zero gradient row: the step is 0 and d(step)/d(grad) is finite (not NaN)."""
    from autorecs.optim import make_optimizer

    p = torch.nn.Parameter(torch.ones(2, 3))
    opt = make_optimizer(name, [p], lr=0.1)
    lam = torch.tensor(0.5, requires_grad=True)
    grad = torch.stack([torch.zeros(3), torch.ones(3)]) * lam  # row 0: zero gradient, still in the graph
    new = simulated_step(opt, p, grad)
    torch.testing.assert_close(new[0].detach(), torch.ones(3))
    (g,) = torch.autograd.grad(new.sum(), [lam])
    assert torch.isfinite(g)


@pytest.mark.parametrize("name", ["adam", "adagrad"])
@pytest.mark.parametrize("warm_steps", [0, 3])
def test_the_derivative_in_float32_matches_float64_autograd(name, warm_steps):
    """dθ̄/dg of the fused steps, in float32, against autograd through PyTorch's plain formulas in
    float64.  At the first Adam step the derivative is ~ε/g² (tiny): the difference of two nearly
    equal terms would give float32 noise there; the closed form must not."""
    g = torch.Generator().manual_seed(1)
    p = torch.nn.Parameter(torch.randn(6, 4, generator=g))
    opt = make_optimizer(name, [p], lr=0.05)
    for _ in range(warm_steps):
        p.grad = torch.randn(6, 4, generator=g)
        opt.step()
    grad = (torch.randn(6, 4, generator=g) * 1e-3).requires_grad_()
    (ours,) = torch.autograd.grad(simulated_step(opt, p, grad).sum(), [grad])
    state, group = opt.state.get(p, {}), opt.param_groups[0]
    t = float(state["step"]) + 1 if "step" in state else 1.0
    g64 = grad.detach().double().requires_grad_()
    if name == "adam":
        (b1, b2), eps = group["betas"], group["eps"]
        m0 = state["exp_avg"].double() if state else torch.zeros_like(g64)
        v0 = state["exp_avg_sq"].double() if state else torch.zeros_like(g64)
        m, v = b1 * m0 + (1 - b1) * g64, b2 * v0 + (1 - b2) * g64**2
        new = p.detach().double() - group["lr"] / (1 - b1**t) * m / (v.sqrt() / (1 - b2**t) ** 0.5 + eps)
    else:
        s = state["sum"].double() if state else torch.zeros_like(g64)
        new = p.detach().double() - group["lr"] * g64 / ((s + g64**2).sqrt() + group["eps"])
    (ref,) = torch.autograd.grad(new.sum(), [g64])
    torch.testing.assert_close(ours.double(), ref, rtol=1e-4, atol=0.0)
