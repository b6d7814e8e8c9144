"""The run-time ``device`` option: clear errors on the CPU, and the CUDA path where a GPU exists."""

import numpy as np
import pytest
import torch

from autorecs import BiasedMF, ImplicitALS, Recommender
from autorecs.models import FM
from autorecs.data import split
from autorecs.device import resolve_device
from autorecs.exceptions import ConfigError

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_resolve_device():
    assert resolve_device(None).type == "cpu"
    assert resolve_device("CPU").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="'device'.*'tpu'"):
        resolve_device("tpu")
    with pytest.raises(ConfigError, match="'device'"):
        resolve_device(3)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message where no GPU exists")
def test_cuda_without_a_gpu_names_the_fix(implicit_data):
    with pytest.raises(ConfigError, match="no CUDA GPU.*device='cpu'"):
        ImplicitALS(factors=2, epochs=1).fit(implicit_data, seed=0, progress=False, device="cuda")


def test_cpu_only_models_and_options_refuse_another_device(ratings_data, monkeypatch):
    """Checked before anything moves (resolve_device is faked, so this runs without a GPU)."""
    monkeypatch.setattr("autorecs.models.base.resolve_device", lambda d: torch.device("cuda"))
    with pytest.raises(ConfigError, match="FM trains on the CPU only"):
        FM(factors=2, epochs=1).fit(ratings_data, seed=0, progress=False, device="cuda")
    with pytest.raises(ConfigError, match="'cg_steps'.*cg_steps=0.*CPU only"):
        BiasedMF(factors=2, epochs=1, cg_steps=0).fit(ratings_data, seed=0, progress=False, device="cuda")
    with pytest.raises(ConfigError, match="'lambdaopt'.*λOpt trains on the CPU only"):
        BiasedMF(factors=2, epochs=1, solver="adam", lambdaopt="DUI").fit(ratings_data, ratings_data, seed=0, progress=False, device="cuda")
    from autorecs.search import Param, SearchSpace, Tuner

    monkeypatch.setattr("autorecs.device.resolve_device", lambda d: torch.device("cuda"))
    space = SearchSpace((Param("factors", "int", low=2, high=4),))
    with pytest.raises(ConfigError, match=r"BiasedMF with \{'solver': 'adam', 'lambdaopt': 'DUI'\} trains on the CPU only"):
        Tuner("biased-mf", space, fixed={"solver": "adam", "lambdaopt": "DUI"}, device="cuda")  # refused before any trial
    assert Tuner("biased-mf", space, fixed={"solver": "adam"}, device="cuda").device == "cuda"


def test_device_is_not_a_hyperparameter(implicit_data, tmp_path):
    m = ImplicitALS(factors=2, epochs=2).fit(implicit_data, seed=0, progress=False, device="cpu")
    assert "device" not in m.get_params()
    m.save(tmp_path / "m")
    assert "device" not in (tmp_path / "m" / "model.json").read_text()


@cuda
@pytest.mark.parametrize("make", [lambda: BiasedMF(factors=4, epochs=5), lambda: BiasedMF(factors=4, epochs=5, solver="adam")])
def test_biased_mf_on_cuda_matches_cpu(ratings_data, make):
    s = split(ratings_data, "random-80-10-10", seed=0)
    cpu = make().fit(s.train, s.valid, seed=0, progress=False)
    gpu = make().fit(s.train, s.valid, seed=0, progress=False, device="cuda")
    assert gpu.P.device.type == "cuda"
    assert np.allclose(gpu.predict(s.test.user_vocab.ids(s.test.users[:50]), s.test.item_vocab.ids(s.test.items[:50])),
                       cpu.predict(s.test.user_vocab.ids(s.test.users[:50]), s.test.item_vocab.ids(s.test.items[:50])), atol=1e-3)


@cuda
def test_bpr_on_cuda_trains_and_recommends(implicit_data):
    from autorecs import BPRMF

    m = BPRMF(factors=4, epochs=30, learning_rate=0.02, patience=30).fit(implicit_data, seed=0, progress=False, device="cuda")
    items, _ = m.recommend(["u0", "u1"], n=5)
    assert set(items[0]) <= {f"i{i}" for i in range(20)} and set(items[1]) <= {f"i{i}" for i in range(20, 40)}


@cuda
@pytest.mark.parametrize("optimizer", ["adam", "sparse_adam"])
def test_bpr_on_cuda_matches_the_cpu_kernels(implicit_data, optimizer):
    """The GPU runs the tensor path (torch's Adam / SparseAdam); the CPU the compiled kernels: the same arithmetic."""
    from autorecs import BPRMF

    kw = dict(factors=4, epochs=3, batch_size=16, learning_rate=0.05, optimizer=optimizer)
    cpu = BPRMF(**kw).fit(implicit_data, seed=0, progress=False)
    gpu = BPRMF(**kw).fit(implicit_data, seed=0, progress=False, device="cuda")
    assert gpu.P.device.type == "cuda"
    assert torch.allclose(gpu.P.detach().cpu(), cpu.P.detach(), atol=1e-4) and torch.allclose(gpu.Q.detach().cpu(), cpu.Q.detach(), atol=1e-4)


@cuda
def test_implicit_als_on_cuda_matches_cpu_and_loads_on_cpu(implicit_data, tmp_path):
    train, valid, _ = split(implicit_data, "temporal-60-20-20")
    cpu = ImplicitALS(factors=4, epochs=5).fit(train, seed=0, progress=False)
    gpu = ImplicitALS(factors=4, epochs=5).fit(train, seed=0, progress=False, device="cuda")
    assert gpu.P.device.type == "cuda"
    assert torch.allclose(gpu.P.cpu(), cpu.P, atol=1e-4)
    gpu.save(tmp_path / "m")
    back = Recommender.load(tmp_path / "m")
    assert back.P.device.type == "cpu"
    users = list(train.user_vocab.ids(np.arange(5)))
    assert (back.recommend(users, n=3).items == gpu.recommend(users, n=3).items).all()


def test_trains_on_gpu_answers_for_the_configuration():
    from autorecs import BPRMF
    from autorecs.models import MODELS

    assert BPRMF().trains_on_gpu() and not BPRMF(lambdaopt="DUI").trains_on_gpu()
    assert BiasedMF().trains_on_gpu() and not BiasedMF(cg_steps=0).trains_on_gpu()
    assert not BiasedMF(solver="adam", lambdaopt="DUI").trains_on_gpu()
    for name, klass in MODELS.items():  # never more than the class supports (models that need arguments skipped)
        try:
            model = klass()
        except ConfigError:
            continue
        assert model.trains_on_gpu() <= klass.supports_device, name


def test_auto_places_cpu_only_configurations_on_the_cpu():
    from autorecs import BPRMF
    from autorecs.auto import _placement
    from autorecs.models import MODELS

    assert _placement(BPRMF(), "cuda") == "cuda"
    assert _placement(BPRMF(lambdaopt="DUI"), "cuda") == "cpu"
    assert _placement(MODELS["ease"](), "cuda") == "cpu"
    assert _placement(MODELS["knn-baseline"](), "auto") == "cpu"


@cuda
@pytest.mark.parametrize("model", ["bpr-mf", "biased-mf adam", "biased-mf sgd"])
def test_cuda_graph_steps_train_as_the_eager_ones(implicit_data, ratings_data, monkeypatch, model):
    """AUTORECS_CUDA_GRAPHS=1: the full batches replay a captured step (one capture an epoch), and the
    parameters end where the eager GPU steps put them."""
    import autorecs.training as training
    from autorecs import BPRMF

    data = implicit_data if model == "bpr-mf" else ratings_data

    def make():
        if model == "bpr-mf":
            return BPRMF(factors=4, epochs=3, batch_size=32, learning_rate=0.05)
        return BiasedMF(factors=4, epochs=3, batch_size=256, solver=model.split()[1], learning_rate={"sgd": 0.5}.get(model.split()[1], 0.02))

    eager = make().fit(data, seed=0, progress=False, device="cuda")
    captures = []
    real = training._GraphedStep

    def counted(*args):
        captures.append(1)
        return real(*args)

    monkeypatch.setenv("AUTORECS_CUDA_GRAPHS", "1")
    monkeypatch.setattr(training, "_GraphedStep", counted)
    graphed = make().fit(data, seed=0, progress=False, device="cuda")
    assert len(captures) == 3
    for name in ("P", "Q", "bi") + (("bu", "mu") if model != "bpr-mf" else ()):
        assert torch.allclose(getattr(graphed, name), getattr(eager, name), atol=1e-5), name
    assert graphed.history_.column("loss") == pytest.approx(eager.history_.column("loss"), rel=1e-5)
