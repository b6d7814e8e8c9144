import json

import numpy as np
import pandas as pd
import pytest
import torch

from autorecs.data import Interactions, split
from autorecs.exceptions import ConfigError
from autorecs.models import SIF
from autorecs.sif.baselines import run_baseline
from autorecs.sif.pipeline import search_ifc
from autorecs.sif.search import SIFSearch


def planted_multiply(seed, n_users=300, n_items=200, n=30000, k=4, stars=False):
    """Ratings driven by an inner product: only the multiply operation can fit them."""
    rng = np.random.default_rng(seed)
    U, V = rng.normal(size=(n_users, k)), rng.normal(size=(n_items, k))
    u, i = rng.integers(0, n_users, n), rng.integers(0, n_items, n)
    r = 3 + (U[u] * V[i]).sum(1) / np.sqrt(k) + 0.1 * rng.normal(size=n)
    r = np.clip(np.round(r), 1, 5) if stars else r
    frame = pd.DataFrame({"user": u, "item": i, "rating": r}).drop_duplicates(["user", "item"])
    return split(Interactions.from_frame(frame), "random-70-15-15", seed=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_halving_search_finds_the_planted_operation(seed):
    s = planted_multiply(seed)
    # init_std 0.3: the planted factors are N(0, 1); from 0.1 an inner product leaves its saddle too late for a rung of 3 epochs
    res = SIFSearch(factors=4, epochs=6, strategy="halving", rung_epochs=3, init_std=0.3).fit(s.train, s.valid, seed=seed, progress=False)
    assert res.arch["interaction"] == "multiply"
    assert [sum(np.isfinite(h.alpha)) for h in res.history[:4]] == [3, 3, 3, 1]  # halved after the first rung


def test_proximal_search_invariants_and_retrain(tmp_path):
    s = planted_multiply(0, n=8000)
    res = SIFSearch(factors=4, epochs=3, warmup_epochs=1).fit(s.train, s.valid, test=s.test, progress=False)
    assert len(res.history) == 3 and all(0 <= a <= 1 for h in res.history for a in h.alpha)
    ops = SIFSearch(factors=4).config.ops
    # the chosen operation is the one with the largest α, as the paper's Algorithm 2 discretizes
    assert res.arch["interaction"] == ops[int(np.argmax(res.history[-1].alpha))] and res.history[-1].test_rmse is not None
    model = SIF(**res.arch, epochs=3).fit(s.train, s.valid, seed=0, progress=False)
    assert np.isfinite(model.history_.best_value)
    no_auto = SIFSearch(factors=4, epochs=1, warmup_epochs=0, use_validation=False, biases=False).fit(s.train, s.valid, progress=False)
    no_auto_ops = SIFSearch(factors=4, biases=False).config.ops  # no biases: the full space
    assert no_auto.arch["interaction"] == no_auto_ops[int(np.argmax(no_auto.history[-1].alpha))]


def test_a_search_past_its_deadline_ends_after_the_epoch_it_is_in():
    import time

    s = planted_multiply(0, n=4000)
    res = SIFSearch(factors=4, epochs=5, warmup_epochs=1).fit(s.train, s.valid, progress=False, deadline=time.time())
    assert len(res.history) == 1 and res.arch["interaction"] in SIFSearch(factors=4).config.ops
    assert len(SIFSearch(factors=4, epochs=2, warmup_epochs=1).fit(s.train, s.valid, progress=False, deadline=time.time() + 600).history) == 2


def test_alpha_is_frozen_through_the_warm_up_and_moves_after_it():
    s = planted_multiply(0, n=8000)
    res = SIFSearch(factors=4, epochs=5, warmup_epochs=3).fit(s.train, s.valid, progress=False)
    assert res.history[0].alpha == res.history[2].alpha != res.history[4].alpha
    # a search that would end inside the warm-up chose from untrained α, silently: refused
    for epochs, warmup in ((1, None), (3, None), (2, 2)):
        with pytest.raises(ConfigError, match=rf"'epochs' parameter of SIFSearch must be more than the search's \d warm-up epochs .*; got {epochs}\."):
            SIFSearch(epochs=epochs, warmup_epochs=warmup)
    assert SIFSearch(epochs=1, strategy="halving").config.epochs == 1  # halving has no warm-up


class _InitSpy(SIFSearch):
    def _candidate(self, *args):
        cand = super()._candidate(*args)
        self.init_heads = [w.detach().clone() for w in cand["net"].heads]
        return cand


def test_warm_up_trains_every_operation():
    s = planted_multiply(0, n=20000)  # ~14 batches: every operation is drawn
    search = _InitSpy(factors=4, epochs=2, warmup_epochs=1)  # the second epoch trains only the heads ᾱ selects
    search.fit(s.train, s.valid, progress=False)
    moved = [not torch.equal(a, b.detach()) for a, b in zip(search.init_heads, search.net_.heads)]
    assert moved == [True, True, True]  # without it, only the heads of operations selected by ᾱ learn
    assert SIFSearch().config.warmup_epochs == 3 and SIFSearch(strategy="halving").config.warmup_epochs == 0


def test_bad_search_options_are_named():
    with pytest.raises(ConfigError, match="'ops' parameter of SIFSearch"):
        SIFSearch(ops=("multiply", "divide"))
    with pytest.raises(ConfigError, match="'k' parameter"):
        SIFSearch(ops=("min",), k=2)
    with pytest.raises(ConfigError, match="'strategy' parameter"):
        SIFSearch(strategy="darts")


def test_random_baseline_resumes_from_its_journal(tmp_path):
    s = planted_multiply(0, n=4000)
    base = {"factors": 2, "biases": True, "transform_hidden": 2, "transform_activation": "sigmoid", "transform_residual": True}
    kw = dict(ops=("multiply", "min"), base=base, budget_seconds=0.5, trial_epochs=2, storage=tmp_path / "r.journal")
    first = run_baseline("random", s.train, s.valid, **kw)
    second = run_baseline("random", s.train, s.valid, **kw)
    assert len(first) >= 1 and len(second) > len(first)
    assert [t.value for t in second[: len(first)]] == [t.value for t in first]
    rl = run_baseline("rl", s.train, s.valid, **{**kw, "storage": tmp_path / "rl.jsonl"})
    again = run_baseline("rl", s.train, s.valid, **{**kw, "storage": tmp_path / "rl.jsonl"})
    assert len(again) > len(rl) and again[0].params == rl[0].params


def test_a_failing_baseline_trial_does_not_end_the_search(tmp_path, monkeypatch):
    """One architecture that raises inside training is a FAIL with its message; the other trials go on."""
    from autorecs.models import SIF

    s = planted_multiply(0, n=3000)
    original = SIF.fit

    def flaky(self, *a, **kw):
        if self.config.interaction == "min":
            raise RuntimeError("out of memory (simulated)")
        return original(self, *a, **kw)

    monkeypatch.setattr(SIF, "fit", flaky)
    base = {"factors": 2, "biases": True, "transform_hidden": 2, "transform_activation": "sigmoid", "transform_residual": True}
    trials = run_baseline("random", s.train, s.valid, ops=("multiply", "min"), base=base, budget_seconds=1.0, trial_epochs=1, seed=1)
    states = {(t.params["interaction"], t.state) for t in trials}
    assert ("min", "FAIL") in states and ("multiply", "COMPLETE") in states
    assert all("out of memory (simulated)" in t.error for t in trials if t.state == "FAIL")


def test_search_ifc_writes_a_retrainable_architecture(tmp_path, capsys):
    from tests.test_cli import run

    s = planted_multiply(0, n=4000, stars=True)
    rep = search_ifc(s.train, s.valid, s.test, dims=(2,), strategy="sif-halving", progress=False, out_dir=tmp_path, epochs=2)
    e = rep["dims"][2]
    assert set(e["test"]) >= {"rmse", "mae", "rmse_std", "hit@5", "ndcg@10"} and e["valid_rmse"] == min(e["retrain_valid"].values())
    assert len(e["retrain_valid"]) == 8  # 4 λ x (searched transform, identity)
    arch = json.loads((tmp_path / "arch-K2.json").read_text())
    s.train.to_frame().to_csv(tmp_path / "train.csv", index=False)
    s.valid.to_frame().to_csv(tmp_path / "valid.csv", index=False)
    code, out, err = run(capsys, "fit", "--train", tmp_path / "train.csv", "--valid", tmp_path / "valid.csv", "--task", "rating",
                         "--model", "sif", "--arch", tmp_path / "arch-K2.json", "-p", "epochs=2", "--out", tmp_path / "m", "--json")
    assert code == 0, err
    assert json.loads(out)["params"]["interaction"] == arch["interaction"]
    code, _, err = run(capsys, "fit", "--train", tmp_path / "train.csv", "--task", "rating", "--model", "altgrad",
                       "--arch", tmp_path / "arch-K2.json", "--out", tmp_path / "m2")
    assert code == 2 and "'--arch' option is for --model sif" in err
    code, _, err = run(capsys, "search-ifc", "--train", tmp_path / "train.csv", "--valid", tmp_path / "valid.csv", "--strategy", "tpe",
                       "--predictor", "mlp", "--out", tmp_path / "o")
    assert code == 2 and "'--predictor mlp' option is for --strategy sif" in err
    code, out, err = run(capsys, "search-ifc", "--train", tmp_path / "train.csv", "--valid", tmp_path / "valid.csv", "--dims", "2",
                         "--epochs", "4", "--retrain-epochs", "1", "--out", tmp_path / "limited", "--json")
    assert code == 0, err
    code, _, err = run(capsys, "search-ifc", "--train", tmp_path / "train.csv", "--valid", tmp_path / "valid.csv", "--dims", "2",
                       "--epochs", "3", "--out", tmp_path / "untrained")
    assert code == 2 and "The '--epochs' option must be more than the search's 3 warm-up epochs" in " ".join(err.split())
    code, _, err = run(capsys, "search-ifc", "--train", tmp_path / "train.csv", "--valid", tmp_path / "valid.csv", "--dims", "2",
                       "--strategy", "random", "--epochs", "2", "--out", tmp_path / "baseline")
    assert code == 2 and "The '--epochs' option sets the sif / sif-halving search's epochs; --strategy random trains" in " ".join(err.split())
    from autorecs import Recommender

    assert len(Recommender.load(tmp_path / "limited" / "model-K2").history_.epochs) == 1  # the retraining obeys the limit too


def test_mlp_predictor_searches_retrains_and_round_trips(tmp_path):
    s = planted_multiply(1, n=6000)
    res = SIFSearch(factors=4, epochs=2, warmup_epochs=1, predictor="mlp", predictor_hidden=6).fit(s.train, s.valid, progress=False)
    assert res.arch["predictor"] == "mlp" and res.arch["predictor_hidden"] == 6
    model = SIF(**res.arch, epochs=2).fit(s.train, s.valid, seed=0, progress=False)
    net = model.net
    assert len(net.heads) == 0 and len(net.mlp_heads) == 1 and net.mlp_heads[0][0].out_features == 6
    rows = s.test.to_frame().head(20)
    pred = model.predict(rows["user"], rows["item"])
    model.save(tmp_path / "m")
    again = SIF.load(tmp_path / "m")
    np.testing.assert_allclose(again.predict(rows["user"], rows["item"]), pred, rtol=1e-6)
    with pytest.raises(ConfigError, match="'predictor' parameter"):
        SIF(interaction="ncf", predictor="mlp")
    with pytest.raises(ConfigError, match="'predictor' parameter of SIFSearch"):
        SIFSearch(predictor="deep")


def test_a_search_directory_holds_one_search(tmp_path):
    """A second search with other sizes into the same directory left the first's arch-K4/model-K4 beside a report of K=2."""
    s = planted_multiply(0, n=3000)
    kw = dict(strategy="sif-halving", progress=False, out_dir=tmp_path / "o", epochs=2, retrain_epochs=1)
    search_ifc(s.train, s.valid, dims=(4,), **kw)
    search_ifc(s.train, s.valid, dims=(4,), **kw)  # the same search again: continues there
    with pytest.raises(ConfigError, match=r"holds a search-ifc run with other dims; .*--overwrite"):
        search_ifc(s.train, s.valid, dims=(2,), **kw)
    with pytest.raises(ConfigError, match="with other training data"):
        search_ifc(s.valid, s.train, dims=(4,), **kw)
    search_ifc(s.train, s.valid, dims=(2,), overwrite=True, **kw)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["arch-K2.json", "model-K2", "report.json", "run.json"]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="already exists and is not empty"):
        search_ifc(s.train, s.valid, dims=(2,), **{**kw, "out_dir": tmp_path / "mine"})
    # a search refused on its settings claims nothing: the corrected one runs there
    with pytest.raises(ConfigError, match="warm-up"):
        search_ifc(s.train, s.valid, dims=(2,), strategy="sif", progress=False, out_dir=tmp_path / "p", epochs=2)
    assert not (tmp_path / "p").exists()
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "run.json").write_text('{"search": "sif"}')  # as an older refused run left it (no kind recorded then)
    search_ifc(s.train, s.valid, dims=(2,), strategy="sif", progress=False, out_dir=tmp_path / "p", epochs=4, retrain_epochs=1)
    # an older run.json (no kind) of another search-ifc: named as such, not as an auto run
    kindless = json.loads((tmp_path / "o" / "run.json").read_text())
    del kindless["kind"]
    (tmp_path / "o" / "run.json").write_text(json.dumps(kindless))
    search_ifc(s.train, s.valid, dims=(2,), **kw)  # the same search: continues
    with pytest.raises(ConfigError, match=r"holds a search-ifc run with other dims"):
        search_ifc(s.train, s.valid, dims=(4,), **kw)
    # an auto run's directory is named as such, and not touched even with overwrite (which removes only its own files)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "run.json").write_text('{"task": "rating"}')
    (tmp_path / "a" / "trials.jsonl").write_text("")
    for overwrite in (False, True):
        with pytest.raises(ConfigError, match=r"holds another command's run \(auto\), not a search-ifc run; give another output directory"):
            search_ifc(s.train, s.valid, dims=(2,), **{**kw, "out_dir": tmp_path / "a", "overwrite": overwrite})
    (tmp_path / "a" / "run.json").write_text("{trunc")
    with pytest.raises(ConfigError, match="holds an unreadable run.json"):
        search_ifc(s.train, s.valid, dims=(2,), **{**kw, "out_dir": tmp_path / "a"})
    # files of an earlier version without run.json are not taken over (their sizes or data may differ): --overwrite
    (tmp_path / "o" / "run.json").unlink()
    with pytest.raises(ConfigError, match="already exists and is not empty"):
        search_ifc(s.train, s.valid, dims=(2,), **kw)
