import math

import pytest
import torch

from autorecs.exceptions import DivergenceError
from autorecs.training import train_loop


class Toy:
    """A 'model' whose validation metric follows a given curve."""

    def __init__(self, losses, curve):
        self.losses, self.curve, self.t, self.w = list(losses), list(curve), 0, torch.zeros(1)

    def _train_epoch(self):
        self.t += 1
        self.w += 1
        return {"loss": self.losses[self.t - 1]}

    def _get_state(self):
        return {"w": self.w.clone()}

    def _set_state(self, s):
        self.w = s["w"].clone()


def test_early_stopping_restores_best_weights():
    m = Toy([1.0] * 10, [0.9, 0.8, 0.7, 0.75, 0.76, 0.77, 0.6, 0.5, 0.4, 0.3])
    h = train_loop(m, max_epochs=10, validate=lambda: {"v": m.curve[m.t - 1]}, monitor="v", patience=3, progress=False)
    assert h.best_epoch == 3 and h.stopped_early and len(h.epochs) == 6
    assert float(m.w) == 3.0


def test_callback_can_stop_training():
    m = Toy([1.0] * 10, [0] * 10)
    h = train_loop(m, max_epochs=10, callbacks=[lambda model, epoch, logs: epoch == 2], progress=False)
    assert len(h.epochs) == 2


@pytest.mark.parametrize("bad", [math.nan, math.inf, 1e9])
def test_divergence_is_detected_and_names_the_step(bad):
    m = Toy([1.0, bad], [0, 0])
    with pytest.raises(DivergenceError, match=r"epoch 2.*learning_rate=0\.3"):
        train_loop(m, max_epochs=2, progress=False, step_hint="learning_rate=0.3")


def test_unknown_monitor_is_a_config_error():
    from autorecs.exceptions import ConfigError

    m = Toy([1.0] * 3, [0] * 3)
    with pytest.raises(ConfigError, match=r"'valid_nope' is not among the validation metrics \['valid_rmse'\]"):
        train_loop(m, max_epochs=3, validate=lambda: {"valid_rmse": 1.0}, monitor="valid_nope", progress=False)


def test_ctrl_c_keeps_the_best_state_so_far():
    m = Toy([1.0] * 10, [0.9, 0.5, 0.7, 0.8])

    def validate():
        if m.t == 4:
            raise KeyboardInterrupt
        return {"v": m.curve[m.t - 1]}

    h = train_loop(m, max_epochs=10, validate=validate, monitor="v", progress=False)
    assert h.interrupted and h.best_epoch == 2 and float(m.w) == 2.0
    with pytest.raises(KeyboardInterrupt):  # nothing completed: nothing to keep
        train_loop(Toy([1.0], [0]), max_epochs=1, validate=lambda: (_ for _ in ()).throw(KeyboardInterrupt), progress=False)


def test_minibatch_epoch_steps_batches_calls_hooks_and_averages():
    """Known answer: one SGD step per batch on Σ (w·x − y)², the mean loss of the epoch, the hooks."""
    import torch

    from autorecs.training import BatchLoss, minibatch_epoch

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(10, 3, generator=g), torch.randn(10, generator=g)
    w = torch.zeros(3, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    seen, steps = {}, []

    def batch_loss(idx, rows, lambda_due):
        err = (x[idx] @ w - y[idx]).pow(2).sum()
        return BatchLoss(err, torch.zeros(()), extra={"n_rows": torch.tensor(float(len(idx)))})

    logs = minibatch_epoch(10, 10, batch_loss, opt, generator=torch.Generator().manual_seed(1),
                           begin=lambda perm: seen.setdefault("perm", perm), after_step=lambda: steps.append(w.detach().clone()))
    assert sorted(seen["perm"].tolist()) == list(range(10))  # the epoch's order is a permutation
    expected = -0.1 * (2 * (x.T @ (-y)) / 10)  # from w = 0: grad of mean squared error is 2 Xᵀ(Xw − y)/n
    assert torch.allclose(w.detach(), expected, atol=1e-6) and len(steps) == 1
    assert logs["loss"] == pytest.approx(float(y.pow(2).mean())) and logs["n_rows"] == pytest.approx(1.0)
    logs = minibatch_epoch(10, 4, batch_loss, opt, generator=torch.Generator().manual_seed(1), after_step=lambda: steps.append(0))
    assert len(steps) == 1 + 3  # batches of 4, 4, 2


def test_which_optimizers_a_cuda_graph_can_capture():
    """A replay runs no Python: an optimizer whose step updates host state (a non-fused Adam's step count)
    would be frozen at its captured value, so only plain SGD and fused Adam qualify."""
    from autorecs import optim
    from autorecs.training import graph_safe_optimizer

    w = [torch.zeros(3, requires_grad=True)]
    assert graph_safe_optimizer(torch.optim.SGD(w, lr=0.1))
    assert graph_safe_optimizer(torch.optim.SGD(w, lr=0.1, momentum=0.9))
    assert graph_safe_optimizer(torch.optim.Adam(w, fused=True)) and graph_safe_optimizer(optim.Adam(w, fused=True))
    assert not graph_safe_optimizer(torch.optim.Adam(w))
    assert not graph_safe_optimizer(torch.optim.Adam(w, fused=True, lr=torch.tensor(0.01)))
    assert not graph_safe_optimizer(torch.optim.AdamW(w, fused=True))
    assert not graph_safe_optimizer(torch.optim.Adagrad(w))
    assert not graph_safe_optimizer(torch.optim.SGD(w, lr=torch.tensor(0.1)))
    hooked = torch.optim.SGD(w, lr=0.1)
    hooked.register_step_post_hook(lambda *a: None)
    assert not graph_safe_optimizer(hooked)


def test_cuda_graphs_are_off_unless_asked(monkeypatch):
    from autorecs.training import cuda_graphs_enabled

    monkeypatch.delenv("AUTORECS_CUDA_GRAPHS", raising=False)
    assert not cuda_graphs_enabled()
    monkeypatch.setenv("AUTORECS_CUDA_GRAPHS", "1")
    assert cuda_graphs_enabled()


class _ReplayedOnCPU:
    """Stands in for the CUDA graph on the CPU: 'captures' nothing and 'replays' the step on static tensors
    of the batch's rows and positions (never a slice), so a graphable model that read anything else, or
    needed a slice, would fail or differ."""

    made = 0

    def __init__(self, step, idx, start, optimizer, stream):
        type(self).made += 1
        self.step, self.idx, self.rows = step, idx.clone(), torch.arange(start, start + len(idx))

    def __call__(self, idx, start):
        self.idx.copy_(idx)
        torch.arange(start, start + len(idx), out=self.rows)
        self.step(self.idx, self.rows)


def _graphable_models():
    from autorecs import BPRMF, BiasedMF

    bpr = BPRMF(factors=4, epochs=2, batch_size=32, learning_rate=0.05)
    bpr._compiled = bpr._compiled_optimizer = False  # the tensor path, as on a GPU
    mf = [BiasedMF(solver=solver, factors=4, epochs=2, batch_size=256, learning_rate=lr) for solver, lr in (("adam", 0.02), ("sgd", 0.5))]
    for m in mf:
        m._compiled = False
    return [bpr, *mf]


@pytest.mark.parametrize("which", [0, 1, 2])
def test_graphable_models_read_only_the_batch_rows(monkeypatch, implicit_data, ratings_data, which):
    """The trainer's CUDA-graph loop on the CPU (the capture faked): BPR-MF's and BiasedMF's tensor paths
    train to the same parameters when their full batches after the first two go through a replayed step."""
    import autorecs.training as training

    data = implicit_data if which == 0 else ratings_data
    ref = _graphable_models()[which].fit(data, seed=0, progress=False)
    monkeypatch.setattr(training, "_graphs_wanted", lambda device, optimizer: True)
    monkeypatch.setattr(training, "_warm_up", lambda step, device: (step(), "stream")[1])
    monkeypatch.setattr(training, "_GraphedStep", _ReplayedOnCPU)
    _ReplayedOnCPU.made = 0
    got = _graphable_models()[which].fit(data, seed=0, progress=False)
    assert _ReplayedOnCPU.made == 2  # one capture an epoch
    names = ("P", "Q", "bi") if which == 0 else ("P", "Q", "bu", "bi", "mu")
    for name in names:
        assert torch.equal(getattr(got, name), getattr(ref, name)), name
    assert got.history_.column("loss") == pytest.approx(ref.history_.column("loss"), rel=1e-12)


def test_a_failed_capture_leaves_the_fit_eager(monkeypatch, ratings_data, caplog):
    import autorecs.training as training

    ref = _graphable_models()[1].fit(ratings_data, seed=0, progress=False)
    tries = []

    def fail(*args):
        tries.append(1)
        raise RuntimeError("operation not permitted when stream is capturing")

    monkeypatch.setattr(training, "_graphs_wanted", lambda device, optimizer: not getattr(optimizer, training._NO_GRAPHS, False))
    monkeypatch.setattr(training, "_warm_up", lambda step, device: (step(), "stream")[1])
    monkeypatch.setattr(training, "_GraphedStep", fail)
    with caplog.at_level("WARNING", logger="autorecs"):
        got = _graphable_models()[1].fit(ratings_data, seed=0, progress=False)
    assert len(tries) == 1 and caplog.text.count("CUDA graph capture failed (RuntimeError: operation not permitted") == 1
    assert torch.equal(got.P, ref.P) and torch.equal(got.mu, ref.mu)  # every step was taken, eagerly


def test_ctrl_c_in_a_later_restart_is_reported_whichever_restart_is_kept(ratings_data, monkeypatch):
    """n_init > 1: Ctrl-C in restart 2 ends the fit; the kept history (restart 1's, if better) says interrupted,
    so a search does not take the fit for a finished trial."""
    from autorecs import BiasedMF

    original, calls = BiasedMF._train_epoch, []

    def pressed(self):
        calls.append(1)
        if len(calls) == 5:  # restart 2's second epoch
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(BiasedMF, "_train_epoch", pressed)
    m = BiasedMF(factors=2, epochs=3, n_init=3).fit(ratings_data, seed=0, progress=False)
    assert m.history_.interrupted
