import numpy as np
import pandas as pd
import pytest
import torch

from autorecs.data import Interactions
from autorecs.data.tensor import TensorRatings, hour_context, random_tensor_split
from autorecs.exceptions import ConfigError, DataError
from autorecs.models.tensor_ifc import TensorIFC, halving_search
from autorecs.models.ops import OPS, TRIPLE_OPS, apply_triple, triple_width


def test_triple_operations_cover_the_pairings():
    assert len(TRIPLE_OPS) == 5 + 20 * 3  # same-operation chains once, other pairs in three pairings
    u, v, s = torch.randn(4, 3), torch.randn(4, 3), torch.randn(4, 3)
    for name in TRIPLE_OPS:
        assert apply_triple(name, u, v, s).shape == (4, triple_width(name, 3))
    assert torch.allclose(apply_triple("max(multiply(u,s),v)", u, v, s), OPS["max"].fn(u * s, v))


def test_hour_context_and_split():
    ts = pd.Timestamp("2020-01-01", tz="UTC").value // 10**9 + np.array([1, 7, 12, 16, 20, 23]) * 3600
    frame = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3], "item": [1, 2, 1, 2, 1, 2], "rating": [1.0, 2, 3, 4, 5, 4], "timestamp": ts})
    t = hour_context(Interactions.from_frame(frame))
    assert list(t.vocabs[2].ids(t.codes[:, 2])) == ["night", "morning", "midday", "afternoon", "evening", "evening"]
    with pytest.raises(DataError, match="needs ratings with timestamps"):
        hour_context(Interactions.from_frame(frame.drop(columns="timestamp")))
    big = TensorRatings.from_frame(pd.DataFrame({"user": np.arange(400) % 20, "item": np.arange(400) % 17,
                                                 "context": np.arange(400) % 3, "rating": np.ones(400)}))
    tr, va, te = random_tensor_split(big, seed=0)
    assert (len(tr), len(va) + va.dropped, len(te) + te.dropped) == (200, 100, 100)


def planted_cp(seed, n=20000, k=2):
    rng = np.random.default_rng(seed)
    U, V, S = rng.normal(size=(100, k)), rng.normal(size=(80, k)), rng.normal(size=(4, k)) + 1.0
    u, i, c = rng.integers(0, 100, n), rng.integers(0, 80, n), rng.integers(0, 4, n)
    r = 3 + (U[u] * V[i] * S[c]).sum(1) + 0.1 * rng.normal(size=n)
    return random_tensor_split(TensorRatings.from_frame(pd.DataFrame({"user": u, "item": i, "context": c, "rating": r})), seed=0)


def test_cp_fits_planted_cp_data_and_search_ranks_candidates():
    tr, va, te = planted_cp(0)
    # without biases: with them the biases take the early signal and the three-way product collapses
    model = TensorIFC(interaction="cp", factors=2, reg=0.01, init_std=0.5, learning_rate=0.01, biases=False).fit(tr, va, progress=False)
    assert model.evaluate(te)["rmse"] < 0.5 * te.values.std()
    out = halving_search(tr, va, ops=["multiply(multiply(u,v),s)", "plus(plus(u,v),s)"], factors=2, reg=0.01, init_std=0.5,
                         learning_rate=0.01, biases=False, rung_epochs=5, progress=False)
    assert out["interaction"] == "multiply(multiply(u,v),s)" and out["rounds"][0]["candidates"] == 2


def test_a_tensor_model_saves_and_loads(tmp_path):
    from autorecs import Recommender

    tr, va, te = planted_cp(0, n=2000)
    for interaction in ("cp", "tucker"):
        model = TensorIFC(interaction=interaction, factors=2, epochs=3).fit(tr, va, progress=False)
        model.save(tmp_path / interaction)
        again = TensorIFC.load(tmp_path / interaction)
        np.testing.assert_allclose(again.predict(te), model.predict(te), rtol=1e-6)
        assert again.config == model.config and again.evaluate(te) == model.evaluate(te)
    with pytest.raises(DataError, match="holds a three-way TensorIFC model"):
        Recommender.load(tmp_path / "cp")
    with pytest.raises(DataError, match="is not a saved TensorIFC"):
        TensorIFC.load(tmp_path)
    import shutil

    weights = (tmp_path / "cp" / "weights.npz").read_bytes()
    for damage in (b"garbage", weights[: len(weights) // 2], (tmp_path / "tucker" / "weights.npz").read_bytes()):  # truncated; another's
        (tmp_path / "cp" / "weights.npz").write_bytes(damage)
        with pytest.raises(DataError, match="is damaged"):
            TensorIFC.load(tmp_path / "cp")
    shutil.copytree(tmp_path / "tucker", tmp_path / "meta")
    (tmp_path / "meta" / "model.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="not a TensorIFC"):
        TensorIFC.load(tmp_path / "meta")


def test_tensor_errors():
    with pytest.raises(ConfigError, match="'interaction' parameter of TensorIFC"):
        TensorIFC(interaction="divide(u,v)")
    with pytest.raises(DataError, match=r"\['context'\] are not in the table"):
        TensorRatings.from_frame(pd.DataFrame({"user": [1], "item": [1], "rating": [1.0]}))


def test_cli_tensor_search_on_files(tmp_path, capsys):
    import json

    from tests.test_cli import run

    tr, va, te = planted_cp(1, n=3000)
    for name, part in (("train", tr), ("valid", va), ("test", te)):
        pd.DataFrame({"u": part.vocabs[0].ids(part.codes[:, 0]), "i": part.vocabs[1].ids(part.codes[:, 1]),
                      "ctx": part.vocabs[2].ids(part.codes[:, 2]), "r": part.values}).to_csv(tmp_path / f"{name}.csv", index=False)
    args = ("search-ifc", "--train", tmp_path / "train.csv", "--valid", tmp_path / "valid.csv", "--test", tmp_path / "test.csv",
            "--context-col", "ctx", "--user-col", "u", "--item-col", "i", "--rating-col", "r", "--dims", "2", "--json")
    code, out, err = run(capsys, *args, "--out", tmp_path / "o")  # default for three-way data: halving
    assert code == 0, err
    e = json.loads(out)["dims"]["2"]
    assert e["interaction"] in TRIPLE_OPS and e["rounds"][0]["candidates"] == len(TRIPLE_OPS) and "rmse" in e["test"]
    code, out, err = run(capsys, *args, "--strategy", "sif", "--epochs", "4", "--out", tmp_path / "p")  # one-shot proximal
    assert code == 0, err
    e = json.loads(out)["dims"]["2"]
    assert e["interaction"] in TRIPLE_OPS and len(e["history"]) == 4 and len(e["top_alpha"]) == 5 and "rmse" in e["test"]
    code, out, err = run(capsys, *args, "--strategy", "tpe", "--out", tmp_path / "q")
    assert code != 0 and "Three-way data support --strategy sif or sif-halving" in err
    test_file = TensorRatings.from_frame(pd.read_csv(tmp_path / "test.csv"), ("u", "i", "ctx", "r"))  # as the command read it
    reported = json.loads((tmp_path / "o" / "report.json").read_text())["dims"]["2"]["test"]["rmse"]
    assert TensorIFC.load(tmp_path / "o" / "model-K2").evaluate(test_file)["rmse"] == pytest.approx(reported, rel=1e-6)
    arch = json.loads((tmp_path / "o" / "arch-K2.json").read_text())  # what was found, to train again
    assert arch == {"interaction": json.loads((tmp_path / "o" / "report.json").read_text())["dims"]["2"]["interaction"], "reg": arch["reg"]}
    # flags the three-way searches do not use are refused, not ignored
    code, _, err = run(capsys, *args, "--predictor", "mlp", "--out", tmp_path / "r")
    assert code == 2 and "'--predictor mlp' option is for two-way data" in err
    code, _, err = run(capsys, *args, "--epochs", "1", "--out", tmp_path / "r")
    assert code == 2 and "trains its candidates in rounds of 2 epochs" in " ".join(err.split())
    code, _, err = run(capsys, *args, "--strategy", "sif", "--epochs", "3", "--out", tmp_path / "r")
    assert code == 2 and "The '--epochs' option must be more than the search's 3 warm-up epochs" in " ".join(err.split())
    assert not (tmp_path / "r").exists()  # refused before the directory was claimed


def test_tensor_alpha_gradient_matches_autograd():
    from autorecs.sif.tensor_search import TensorSearchConfig, _Supernet, alpha_gradient

    cfg = TensorSearchConfig(ops=("multiply(multiply(u,v),s)", "max(plus(u,s),v)", "concat(min(v,s),u)"), factors=3)
    cfg.validate()
    net = _Supernet(cfg, (5, 4, 3), 3.0, torch.Generator().manual_seed(0))
    x = torch.stack([torch.randint(0, n, (50,)) for n in (5, 4, 3)], 1)
    y = 3 + torch.randn(50)
    onehot = torch.tensor([0.0, 1.0, 0.0], requires_grad=True)
    loss = (net.base(x) + net.all_heads(x) @ onehot - y).pow(2).mean()
    (expected,) = torch.autograd.grad(loss, [onehot])
    got, parts = alpha_gradient(net, x, y, 1)
    torch.testing.assert_close(got, expected)
    assert parts.shape == (50, 3)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_proximal_tensor_search_finds_planted_cp(seed):
    from autorecs.sif.tensor_search import TensorSIFSearch

    tr, va, _ = planted_cp(seed)
    ops = ["multiply(multiply(u,v),s)", "plus(plus(u,v),s)", "max(max(u,v),s)", "min(plus(u,v),s)"]
    out = TensorSIFSearch(ops=ops, factors=2, reg=0.01, init_std=0.5, learning_rate=0.01, biases=False, epochs=10,
                          batch_size=128).fit(tr, va, seed=seed, progress=False)
    assert out["interaction"] == "multiply(multiply(u,v),s)"
    assert [h["epoch"] for h in out["history"]] == list(range(1, 11))
    with pytest.raises(ConfigError, match="'ops' parameter of TensorSIFSearch"):
        TensorSIFSearch(ops=["divide(u,v,s)"])
    with pytest.raises(ConfigError, match="'epochs' parameter of TensorSIFSearch must be more than the search's 3 warm-up epochs"):
        TensorSIFSearch(epochs=3, warmup_epochs=3)
