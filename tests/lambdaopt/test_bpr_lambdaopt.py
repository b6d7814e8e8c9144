import numpy as np
import pytest
import torch

from autorecs import BPRMF
from autorecs.data import split
from autorecs.exceptions import ConfigError, DataError
from autorecs.lambdaopt.granularity import GRANULARITIES, lambda_shapes


@pytest.fixture(scope="module")
def parts(implicit_data):
    return split(implicit_data, "random-60-20-20", seed=0)


def test_lambda_lr_zero_is_exactly_fixed_lambda_training(parts):
    kw = dict(factors=4, epochs=3, reg=0.05, optimizer="adam", learning_rate=0.01)
    fixed = BPRMF(**kw).fit(parts.train, parts.valid, seed=0, progress=False)
    learned = BPRMF(**kw, lambdaopt="DUI", lambda_lr=0.0).fit(parts.train, parts.valid, seed=0, progress=False)
    torch.testing.assert_close(learned.P, fixed.P, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(learned.Q, fixed.Q, rtol=1e-5, atol=1e-6)
    assert torch.all(learned.lam_user == 0.05)


@pytest.mark.parametrize("granularity", GRANULARITIES)
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adagrad"])
def test_every_granularity_learns_nonnegative_lambdas(parts, granularity, optimizer):
    m = BPRMF(factors=4, epochs=2, reg=0.01, optimizer=optimizer, learning_rate=0.05, lambdaopt=granularity, lambda_lr=0.05)
    m.fit(parts.train, parts.valid, seed=0, progress=False)
    su, si = lambda_shapes(granularity, len(m.user_vocab_), len(m.item_vocab_), 4)
    assert tuple(m.lam_user.shape) == su and tuple(m.lam_item.shape) == si
    assert bool((m.lam_user >= 0).all()) and bool((m.lam_item >= 0).all())
    assert not (torch.all(m.lam_user == 0.01) and torch.all(m.lam_item == 0.01))  # Λ moved
    assert all(np.isfinite(e["loss"]) for e in m.history_.epochs)


def test_lambdaopt_needs_validation_and_a_known_granularity(parts):
    with pytest.raises(DataError, match="pass a validation set"):
        BPRMF(factors=2, epochs=1, lambdaopt="D").fit(parts.train, progress=False)
    with pytest.raises(ConfigError, match="'lambdaopt' parameter of BPRMF"):
        BPRMF(lambdaopt="XY")


def test_learned_lambdas_are_saved_with_the_model(parts, tmp_path):
    from autorecs import Recommender

    m = BPRMF(factors=3, epochs=2, lambdaopt="UI", lambda_lr=0.05).fit(parts.train, parts.valid, seed=0, progress=False)
    back = Recommender.load(m.save(tmp_path / "m"))
    torch.testing.assert_close(back.lam_user, m.lam_user.detach())


def test_biased_mf_lambdaopt_lr_zero_is_fixed_training_and_learns_otherwise(ratings_data):
    from autorecs import BiasedMF

    s = split(ratings_data, "random-60-20-20", seed=0)
    kw = dict(factors=3, epochs=3, solver="adam", learning_rate=0.01, reg_user=0.05, reg_item=0.05)
    fixed = BiasedMF(**kw).fit(s.train, s.valid, seed=0, progress=False)
    zero = BiasedMF(**kw, lambdaopt="DUI", lambda_lr=0.0).fit(s.train, s.valid, seed=0, progress=False)
    torch.testing.assert_close(zero.P, fixed.P, rtol=1e-5, atol=1e-6)
    learned = BiasedMF(**kw, lambdaopt="UI", lambda_lr=0.05).fit(s.train, s.valid, seed=0, progress=False)
    assert bool((learned.lam_user >= 0).all()) and not torch.all(learned.lam_user == 0.05)
    with pytest.raises(ConfigError, match=r"ALS has none, so choose one: solver='adam' \(-p solver=adam\)"):
        BiasedMF(lambdaopt="D")  # the default solver is ALS


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "adagrad"])
def test_the_models_lambda_step_simulates_its_real_next_step(parts, optimizer):
    """Known answer at the model level: L(Λ) from BPRMF's row-sparse Λ-step equals the validation loss
    after a *real* optimizer step on copies of the whole tables, at Λ_t and at a perturbed Λ."""
    import copy

    import torch.nn.functional as F

    from autorecs import Regularizer
    from autorecs.lambdaopt import validation_loss_after_step

    m = BPRMF(factors=4, epochs=1, reg=0.05, optimizer=optimizer, learning_rate=0.05, lambdaopt="DUI", lambda_lr=0.01)
    m._compiled = False  # the tensor path (the compiled Λ-step is tested against it: tests/test_kernels.py)
    m.fit(parts.train, parts.valid, seed=0, progress=False)
    m._init_params(np.random.default_rng(0))  # fit() restored its best state into new tensors; start a live run
    m._train_epoch()  # mid-training now: the optimizer state and Λ are not trivial
    checked = []
    original = m._lambda_step

    def check(batch, grads, v):
        u, i, j = batch
        vu, vi, vj = (t[v] for t in m._vtriples)
        if not checked:
            captured = {}
            m._lam.step = lambda *args: captured.setdefault("args", args) and 0.0
            original(batch, grads, v)
            opt, tables, data, penalty_grads_fn, rows, val_loss = captured["args"]
            b = len(u)
            for scale in (1.0, 3.0):
                lu, li = (t.detach() * scale for t in m._lam.current())
                graph = Regularizer(lu, li, exponent=m._reg.exponent)
                graph._counts = m._reg._counts
                simulated = float(validation_loss_after_step(opt, tables, data, penalty_grads_fn(graph), rows, val_loss).detach())
                copies = {k: torch.nn.Parameter(t.detach().clone()) for k, t in tables.items()}
                opt2 = type(opt)(list(copies.values()), lr=opt.defaults["lr"])
                opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
                P, Q, bi = copies["P"], copies["Q"], copies["bi"]
                x = (P[u] * (Q[i] - Q[j])).sum(1) + bi[i] - bi[j]
                pen = graph.penalty("user", u, P[u]) + graph.penalty("item", i, Q[i], bi[i]) + graph.penalty("item", j, Q[j], bi[j])
                ((-F.logsigmoid(x).sum() + pen) / b).backward()
                opt2.step()
                with torch.no_grad():
                    real = -F.logsigmoid((P[vu] * (Q[vi] - Q[vj])).sum(1) + bi[vi] - bi[vj]).mean()
                checked.append((simulated, float(real)))
            del m._lam.step  # back to the class method
        return original(batch, grads, v)

    m._lambda_step = check
    m._train_epoch()
    assert len(checked) == 2
    for simulated, real in checked:
        assert simulated == pytest.approx(real, rel=1e-5)
    assert checked[0][0] != pytest.approx(checked[1][0], rel=1e-6)  # Λ matters


def test_lambda_every_takes_fewer_lambda_steps(parts):
    kw = dict(factors=4, epochs=2, reg=0.05, lambdaopt="DU", lambda_lr=0.05, batch_size=16)
    calls = {}
    for every in (1, 3):
        m = BPRMF(**kw, lambda_every=every)
        m.fit(parts.train, parts.valid, seed=0, progress=False)
        m._init_params(np.random.default_rng(0))
        n = [0]
        original = m._lambda_step
        m._lambda_step = lambda *a, original=original, n=n: (n.__setitem__(0, n[0] + 1), original(*a))
        m._train_epoch()
        calls[every] = n[0]
    batches = -(-len(m._u) // 16)
    assert calls[1] == batches and calls[3] == -(-batches // 3)
    with pytest.raises(ConfigError, match="lambda_every"):
        BPRMF(lambdaopt="DUI", lambda_every=0)


@pytest.mark.parametrize("model", ["bpr", "biased", "ifc"])
def test_lambda_batch_size_sets_the_validation_rows_per_lambda_step(parts, ratings_data, model):
    from autorecs import BiasedMF
    from autorecs.models.ifc import InteractionMF

    ratings_parts = split(ratings_data, "random-60-20-20", seed=0)
    if model == "bpr":
        make, data = (lambda **kw: BPRMF(factors=4, epochs=1, reg=0.05, lambdaopt="DU", lambda_lr=0.05, batch_size=16, **kw)), parts
    elif model == "biased":
        make, data = (lambda **kw: BiasedMF(solver="adam", factors=4, epochs=1, lambdaopt="DU", batch_size=16, **kw)), ratings_parts
    else:
        make, data = (lambda **kw: InteractionMF(factors=4, epochs=1, lambdaopt="DU", batch_size=16, **kw)), ratings_parts
    sizes = {}
    for vb in (None, 5, 40):
        m = make(lambda_batch_size=vb).fit(data.train, data.valid, seed=0, progress=False)
        m._init_params(np.random.default_rng(0))
        seen = []
        original = m._lambda_step
        m._lambda_step = lambda *a, original=original, m=m: (seen.append(len(m._lam_hook.vidx[a[-1]])), original(*a))
        m._train_epoch()
        sizes[vb] = seen
    assert set(sizes[5]) == {5} and set(sizes[40]) == {40}  # every Λ-step, the last batch included
    assert sizes[None][0] == 16 and len(sizes[None]) == len(sizes[5])
    with pytest.raises(ConfigError, match="lambda_batch_size"):
        make(lambda_batch_size=0)


def test_the_saved_model_records_the_learned_lambdas(parts, tmp_path):
    import json

    m = BPRMF(factors=4, epochs=3, reg=0.01, learning_rate=0.05, lambdaopt="DU", lambda_lr=0.05).fit(parts.train, parts.valid, seed=0,
                                                                                                       progress=False)
    m.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    learned = meta["learned_lambda"]
    assert meta["params"]["reg"] == 0.01 and learned["granularity"] == "DU"
    weights = np.load(tmp_path / "m" / "weights.npz")
    for side in ("user", "item"):
        lam = weights[f"lam_{side}"]
        assert learned[side]["shape"] == list(lam.shape) and learned[side]["mean"] == pytest.approx(float(lam.mean()))
    assert learned["user"]["mean"] != pytest.approx(0.01)  # Λ moved from its start: the file says what was used
    fixed = BPRMF(factors=4, epochs=1).fit(parts.train, parts.valid, seed=0, progress=False)
    fixed.save(tmp_path / "f")
    assert "learned_lambda" not in json.loads((tmp_path / "f" / "model.json").read_text())
