"""Known-answer tests of the fast solvers against their exact or autograd references."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from autorecs import BPRMF, ImplicitALS, Regularizer
from autorecs.data import split
from autorecs.exceptions import ConfigError
from autorecs.models._als import cg_solve, ridge_solve, torch_csr


def _random_system(seed, n_rows=30, n_cols=25, k=6, density=0.3):
    rng = np.random.default_rng(seed)
    m = sp.random(n_rows, n_cols, density=density, random_state=rng, format="csr")
    conf = m.copy()
    conf.data = 1.0 + 4.0 * rng.random(len(m.data))  # c − 1
    target = conf.copy()
    target.data = 1.0 + conf.data
    y = torch.from_numpy(rng.normal(size=(n_cols, k)))
    diag = torch.from_numpy(rng.uniform(0.1, 2.0, size=(n_rows, k)))  # per-row, per-dimension λ
    return conf, target, y, diag


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cg_converges_to_the_exact_ridge_solution(seed):
    conf, target, y, diag = _random_system(seed)
    exact = ridge_solve(conf, target, y, diag, base=y.T @ y)
    x0 = torch.zeros_like(exact)
    approx = cg_solve(torch_csr(conf, torch.float64), torch_csr(target, torch.float64), x0, y, diag, steps=40, base=y.T @ y)
    assert torch.allclose(approx, exact, atol=1e-8), float((approx - exact).abs().max())
    # few steps from a warm start near the answer already land close; from zero they do not
    three = cg_solve(torch_csr(conf, torch.float64), torch_csr(target, torch.float64), x0, y, diag, steps=1, base=y.T @ y)
    assert float((three - exact).abs().max()) > 1e-3


def test_cg_and_cholesky_reach_the_same_objective(implicit_data):
    train, valid, _ = split(implicit_data, "temporal-60-20-20")
    losses = {}
    for solver in ("cg", "cholesky"):
        m = ImplicitALS(factors=4, solver=solver, epochs=15, reg=1.0, cg_steps=3).fit(train, seed=0, progress=False)
        losses[solver] = m.history_.epochs[-1]["loss"]
        assert m.P.dtype == (torch.float32 if solver == "cg" else torch.float64)
    assert losses["cg"] == pytest.approx(losses["cholesky"], rel=1e-3)


def test_unknown_solver_is_refused():
    with pytest.raises(ConfigError, match="'solver'.*one of"):
        ImplicitALS(solver="lu")


@pytest.mark.parametrize("exponent", [1.0, 0.5])
@pytest.mark.parametrize("shape", ["global", "DU"])
def test_occurrence_grad_is_the_penalty_gradient(exponent, shape):
    g = torch.Generator().manual_seed(0)
    n, k = 7, 3
    lam = torch.tensor(0.3) if shape == "global" else torch.rand(n, k, generator=g)
    reg = Regularizer(lam, lam, exponent=exponent).bind(np.arange(1, n + 1), np.arange(1, n + 1))
    rows = torch.tensor([0, 3, 3, 6, 1])
    table = torch.randn(n, k, generator=g, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(n, generator=g, dtype=torch.float64, requires_grad=True)
    f, b = table[rows], bias[rows]
    f.retain_grad(), b.retain_grad()
    penalty = reg.penalty("user", rows, f, b)
    penalty.backward()
    gf, gb = reg.occurrence_grad("user", rows, f.detach(), b.detach())
    assert torch.allclose(gf.double(), f.grad) and torch.allclose(gb.double(), b.grad)
    assert float(0.5 * ((gf * f.detach()).sum() + (gb * b.detach()).sum())) == pytest.approx(float(penalty.detach()))


@pytest.mark.parametrize("item_bias", [True, False])
def test_bpr_closed_form_step_equals_the_autograd_step(implicit_data, item_bias, monkeypatch):
    """One SGD step over the whole epoch (batch >= n): the closed-form gradients of
    BPRMF._train_epoch give the same update as autograd on −Σ log σ(x) + penalty."""
    train = implicit_data
    lr, reg = 0.5, 0.05
    m = BPRMF(factors=3, optimizer="sgd", learning_rate=lr, reg=reg, item_bias=item_bias, batch_size=10_000, epochs=1)
    fixed_neg = lambda users, generator=None: (users * 7 + 3) % m._n_items  # noqa: E731
    monkeypatch.setattr(m, "sample_negatives", fixed_neg)
    captured = {}
    orig_prepare = BPRMF._init_params

    def spy(self, rng):
        orig_prepare(self, rng)
        captured.update({k: getattr(self, k).detach().clone() for k in ("P", "Q", "bi")})

    monkeypatch.setattr(BPRMF, "_init_params", spy)
    m.fit(train, seed=0, progress=False)
    P, Q, bi = (captured[k].clone().requires_grad_(True) for k in ("P", "Q", "bi"))
    u, i = m._u, m._i
    j = fixed_neg(u)
    x = (P[u] * (Q[i] - Q[j])).sum(1) + ((bi[i] - bi[j]) if item_bias else 0.0)
    r = Regularizer(reg, reg)
    penalty = r.penalty("user", u, P[u]) + r.penalty("item", i, Q[i], bi[i] if item_bias else None) \
        + r.penalty("item", j, Q[j], bi[j] if item_bias else None)
    ((-F.logsigmoid(x).sum() + penalty) / len(u)).backward()
    assert torch.allclose(m.P.detach(), P.detach() - lr * P.grad, atol=1e-6)
    assert torch.allclose(m.Q.detach(), Q.detach() - lr * Q.grad, atol=1e-6)
    if item_bias:
        assert torch.allclose(m.bi.detach(), bi.detach() - lr * bi.grad, atol=1e-6)
    assert m.history_.epochs[0]["loss"] == pytest.approx(float((-F.logsigmoid(x).sum() + penalty).detach()) / len(u), rel=1e-5)


def test_bpr_negatives_never_hit_training_items(implicit_data):
    m = BPRMF(factors=2, epochs=1).fit(implicit_data, seed=0, progress=False)
    seen = implicit_data.csr("ones").toarray() > 0
    for dense in (True, False):  # the bitmap and the binary-search paths
        m._seen_dense = torch.from_numpy(seen) if dense else None
        users = m._u.repeat(20)
        neg = m.sample_negatives(users)
        assert not seen[users.numpy(), neg.numpy()].any()


@pytest.mark.parametrize("n, lambdaopt, batch", [(10, False, 1024), (54_000, False, 1024), (65_536, False, 1024),
                                                 (604_000, False, 8192), (604_000, True, 1024), (10**8, False, 65536)])
def test_bpr_default_batch_follows_the_data_size(n, lambdaopt, batch):
    from autorecs.models.bpr import default_batch_size

    assert default_batch_size(n, lambdaopt) == batch


def test_bpr_resolves_batch_and_learning_rate(implicit_data, monkeypatch):
    import autorecs.models.bpr as bpr

    m = BPRMF(factors=2, epochs=1).fit(implicit_data, seed=0, progress=False)
    assert (m.batch_size_, m.learning_rate_) == (1024, 0.002)  # small data: the former fixed defaults
    assert m._opt.param_groups[0]["lr"] == 0.002
    m = BPRMF(factors=2, epochs=1, batch_size=4096).fit(implicit_data, seed=0, progress=False)
    assert m.learning_rate_ == pytest.approx(0.004)  # the default rate scales by √(batch / 1024)
    m = BPRMF(factors=2, epochs=1, batch_size=4096, learning_rate=0.01).fit(implicit_data, seed=0, progress=False)
    assert m.learning_rate_ == 0.01
    monkeypatch.setattr(bpr, "default_batch_size", lambda n, lambdaopt=False: 16)  # as if the data were large
    m = BPRMF(factors=2, epochs=2).fit(implicit_data, seed=0, progress=False)
    assert m.batch_size_ == 16 and m.learning_rate_ == pytest.approx(0.002 / 8)
    assert m.get_params()["batch_size"] is None  # the configuration keeps the default; the fit reports what it used
    with pytest.raises(ConfigError, match="batch_size"):
        BPRMF(batch_size=0)


@pytest.mark.parametrize("field", ["batch_size", "learning_rate"])
def test_models_built_on_bpr_keep_explicit_batch_and_rate(field):
    from autorecs.models import AMF, NeuMF

    for klass in (AMF, NeuMF):
        assert getattr(klass().config, field) == {"batch_size": 1024, "learning_rate": 0.002}[field]
        with pytest.raises(ConfigError, match=field):
            klass(**{field: None})  # their own loops have no size-following default


def test_resolved_params_name_what_the_fit_chose(implicit_data):
    m = BPRMF(factors=2, epochs=1).fit(implicit_data, seed=0, progress=False)
    assert m.resolved_params() == {"batch_size": 1024, "learning_rate": 0.002}
    m = BPRMF(factors=2, epochs=1, batch_size=64, learning_rate=0.01).fit(implicit_data, seed=0, progress=False)
    assert m.resolved_params() == {}
    assert ImplicitALS(factors=2, epochs=1).fit(implicit_data, seed=0, progress=False).resolved_params() == {}


def test_a_saved_bpr_keeps_the_batch_and_rate_it_trained_with(implicit_data, tmp_path):
    from autorecs import Recommender

    m = BPRMF(factors=2, epochs=1).fit(implicit_data, seed=0, progress=False)
    back = Recommender.load(m.save(tmp_path / "m"))
    assert back.get_params()["batch_size"] is None and (back.batch_size_, back.learning_rate_) == (1024, 0.002)
    assert back.resolved_params() == m.resolved_params()


def test_the_fit_report_shows_the_batch_the_fit_used(implicit_data, tmp_path):
    import json

    from autorecs.fitting import fit_model

    model, report = fit_model(BPRMF, {"factors": 2, "epochs": 1}, implicit_data, out_dir=tmp_path / "m", progress=False)
    assert report.params["batch_size"] == 1024 and report.params["learning_rate"] == 0.002
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["params"]["batch_size"] is None and meta["resolved"] == {"batch_size": 1024, "learning_rate": 0.002}
