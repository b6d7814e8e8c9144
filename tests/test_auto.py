"""autorecs.auto on small generated data: the budget is kept, choices are made on validation, the
result loads like any model, a rerun continues the same search, and bad input is refused."""

import json
import time

import numpy as np
import pytest

from autorecs import Recommender, evaluate
from autorecs.auto import FAMILIES, auto, parse_budget
from autorecs.data import Interactions, split
from autorecs.models import Baseline
from autorecs.exceptions import ConfigError, DataError


@pytest.fixture(scope="module")
def rating_parts(ratings_data):
    return split(ratings_data, "random-60-20-20", seed=0)


def test_budget_strings():
    assert parse_budget("10m") == 600 and parse_budget("1h30m") == 5400 and parse_budget("90s") == 90 and parse_budget(45) == 45
    # plain seconds in any form float() reads, as the CLI took them before durations
    assert parse_budget("1e3") == 1000 and parse_budget(".5") == 0.5 and parse_budget("1.5h") == 5400 and parse_budget(".5m") == 30
    for bad in ("", "ten", "0", -5, "5x", "inf", "nan", "1e400", True):
        with pytest.raises(ConfigError, match="budget"):
            parse_budget(bad)


def test_rating_run_keeps_the_budget_chooses_on_validation_and_saves(rating_parts, tmp_path):
    t0 = time.perf_counter()
    res = auto(rating_parts.train, rating_parts.valid, task="rating", budget=8, families=["baseline", "biased-mf-als", "knn-baseline"],
               test=rating_parts.test, out_dir=tmp_path / "run", progress=False)
    wall = time.perf_counter() - t0
    assert wall < 8 * 1.05 + 1.5, wall  # the refit included (plus the report)
    done = [t for t in res.leaderboard if t.state == "COMPLETE"]
    assert {t.family for t in done} == {"baseline", "biased-mf-als", "knn-baseline"}  # every family's defaults ran
    assert {t.phase for t in done} == {"default", "search"} and len(done) > 3
    assert res.chosen["valid"] == min(t.value for t in done)  # chosen on validation
    assert res.test["rmse"] < 1.2 and res.seconds["overhead"] < 0.25 * res.seconds["search"]
    # beside the test figures, the biases baseline fitted on the final model's rows (train + validation)
    reference = Baseline().fit(Interactions.concat(rating_parts.train, rating_parts.valid), progress=False)
    assert res.test_reference["model"] == "baseline"
    assert res.test_reference["test"]["rmse"] == pytest.approx(evaluate(reference, rating_parts.test)["rmse"], rel=1e-9)
    loaded = Recommender.load(tmp_path / "run" / "model")
    u, i = rating_parts.test.user_vocab.ids(rating_parts.test.users[:20]), rating_parts.test.item_vocab.ids(rating_parts.test.items[:20])
    np.testing.assert_allclose(loaded.predict(u, i), res.model.predict(u, i), rtol=1e-5)
    rows = [json.loads(line) for line in (tmp_path / "run" / "leaderboard.jsonl").read_text().splitlines()]
    assert len(rows) == len(res.leaderboard) and {"family", "params", "value", "fit_seconds", "epochs"} <= set(rows[0])
    page = (tmp_path / "run" / "report.html").read_text()
    assert "id='leaderboard-table'" in page and "data:image/png;base64," in page and "http" not in page.replace("http-equiv", "")
    assert "<th>baseline (reference)</th>" in page


def test_a_rerun_continues_the_search(rating_parts, tmp_path):
    kw = dict(task="rating", families=["baseline", "biased-mf-als"], out_dir=tmp_path / "run", progress=False, ensemble=False)
    first = auto(rating_parts.train, rating_parts.valid, budget=3, **kw)
    again = auto(rating_parts.train, rating_parts.valid, budget=6, **kw)
    n = len(first.leaderboard)
    assert len(again.leaderboard) > n
    assert [(t.params, t.value) for t in again.leaderboard[:n]] == [(t.params, t.value) for t in first.leaderboard]
    assert again.leaderboard[n].elapsed >= first.leaderboard[-1].elapsed  # the clock continues
    assert {t.phase for t in again.leaderboard[n:]} == {"search"}  # the defaults were not run again


def test_ranking_run_with_an_ensemble_that_loads(implicit_data, tmp_path):
    parts = split(implicit_data, "temporal-60-20-20")
    res = auto(parts.train, parts.valid, task="ranking", budget=6, families=["popularity", "item-knn", "ease"], out_dir=tmp_path / "r",
               progress=False)
    assert res.metric == "topk.ndcg@50" and res.chosen["family"] in ("item-knn", "ease")
    if res.ensemble is not None:  # kept only when it beat the best single model on validation
        assert res.ensemble["valid"] > res.ensemble["best_single_valid"] and abs(sum(m["weight"] for m in res.ensemble["members"]) - 1) < 1e-9
    loaded = Recommender.load(tmp_path / "r" / "model")
    users = parts.test.user_vocab.ids(parts.test.users[:5])
    assert (loaded.recommend(users, n=5).items == res.model.recommend(users, n=5).items).all()


def test_ensemble_of_fitted_models_round_trips(rating_parts, tmp_path):
    from autorecs.models import Baseline, BiasedMF, Ensemble

    a = BiasedMF(factors=3, epochs=5).fit(rating_parts.train, progress=False)
    b = Baseline().fit(rating_parts.train, progress=False)
    ens = Ensemble([a, b], weights=[3.0, 1.0], task="rating")
    u, i = rating_parts.test.user_vocab.ids(rating_parts.test.users[:30]), rating_parts.test.item_vocab.ids(rating_parts.test.items[:30])
    np.testing.assert_allclose(ens.predict(u, i), 0.75 * a.predict(u, i) + 0.25 * b.predict(u, i), rtol=1e-5)
    ens.save(tmp_path / "e")
    back = Recommender.load(tmp_path / "e")
    np.testing.assert_allclose(back.predict(u, i), ens.predict(u, i), rtol=1e-6)
    with pytest.raises(ConfigError, match="one non-negative weight per member"):
        Ensemble([a, b], weights=[1.0], task="rating")
    with pytest.raises(ConfigError, match="built from fitted models"):
        ens.fit(rating_parts.train)


@pytest.mark.parametrize("kw,message", [
    ({"task": "ratings"}, "'task' must be 'rating' or 'ranking'"),
    ({"task": "rating", "families": ["ease"]}, r"Unknown rating families \['ease'\]"),
    ({"task": "rating", "budget": "soon"}, "budget"),
    ({"task": "rating", "metric": "topk.ndcg@50"}, "monitor"),
])
def test_bad_input_is_refused_before_any_fit(rating_parts, kw, message):
    with pytest.raises(ConfigError, match=message):
        auto(rating_parts.train, rating_parts.valid, **{"budget": 5, **kw})


def test_every_family_builds(rating_parts):
    """Each family's fixed settings and every default are valid configurations of its model."""
    from autorecs.models import MODELS

    for task, fams in FAMILIES.items():
        for fam in fams:
            if not fam.search_arch:
                MODELS[fam.model](**fam.fixed)
            space = fam.search_space()
            if space is not None:
                space.check_model(set(MODELS[fam.model].Config.__dataclass_fields__), fam.model)


def test_trials_on_a_process_pool(rating_parts, tmp_path):
    """Two worker processes: the fitted models travel back (as their saved bytes) for the ensemble and the refit."""
    res = auto(rating_parts.train, rating_parts.valid, task="rating", budget=20, families=["baseline", "biased-mf-als"],
               n_jobs=2, out_dir=tmp_path / "p", progress=False)  # (starting the workers takes seconds: imports)
    done = [t for t in res.leaderboard if t.state == "COMPLETE"]
    assert len(done) >= 3 and {t.family for t in done} == {"baseline", "biased-mf-als"}
    assert not [t for t in res.leaderboard if t.error]
    assert Recommender.load(tmp_path / "p" / "model").predict([0], [0]).shape == (1,)
    with pytest.raises(ConfigError, match="'n_jobs' parameter of auto must be an int >= 1"):
        auto(rating_parts.train, rating_parts.valid, task="rating", budget=5, n_jobs=0)


def test_a_run_directory_is_not_continued_on_other_data(rating_parts, ratings_data, tmp_path):
    kw = dict(task="rating", families=["baseline"], out_dir=tmp_path / "run", progress=False, ensemble=False)
    auto(rating_parts.train, rating_parts.valid, budget=2, **kw)
    other = split(ratings_data, "random-60-20-20", seed=5)
    with pytest.raises(ConfigError, match=r"holds an auto run with other training data, validation data; give another output directory, or start again there \(--overwrite"):
        auto(other.train, other.valid, budget=2, **kw)
    fresh = auto(other.train, other.valid, budget=2, overwrite=True, **kw)  # cleared and started again
    assert fresh.leaderboard[0].phase == "default" and fresh.leaderboard[0].number == 0


def test_a_model_that_cannot_be_refit_needs_a_clear_lead(rating_parts):
    """λOpt learns Λ on the validation rows, so it is trained on train only; a refit-able trial within 1% is preferred."""
    from autorecs.auto import REFIT_GAIN, AutoTrial, _final_single, _Run

    fams = [f for f in FAMILIES["rating"] if f.name in ("biased-mf-als", "biased-mf-lambdaopt")]
    run = _Run("rating", rating_parts.train, rating_parts.valid, "rmse", 0, 10.0, None, fams, None, False, False)

    def add(n, fam, value):
        run._record(AutoTrial(n, fam, "biased-mf", {}, value, "COMPLETE", 1.0, 5, 5, float(n), "default"))

    add(0, "biased-mf-als", 0.930)
    add(1, "biased-mf-lambdaopt", 0.930 * (1 - REFIT_GAIN / 2))  # better, but by less than REFIT_GAIN
    assert _final_single(run).family == "biased-mf-als"
    add(2, "biased-mf-lambdaopt", 0.930 * (1 - 2 * REFIT_GAIN))  # a clear lead
    assert _final_single(run).number == 2


def test_without_valid_the_refit_uses_all_the_given_rows(ratings_data):
    """The automatic validation split drops cold validation rows; the refit must still see every given row."""
    res = auto(ratings_data, task="rating", budget=3, families=["baseline"], progress=False, ensemble=False)
    assert res.data["validation"].startswith("a seeded random 20%")
    assert res.model.seen_.nnz == len(ratings_data)  # every (user, item) the caller gave
    text = repr(res)  # a notebook's print: a line, not every trial's curve
    assert text.startswith("AutoResult(task='rating', metric='rmse', trials=") and len(text) < 600 and "curve" not in text
    frame = res.leaderboard_frame()
    assert len(frame) == len(res.leaderboard) and "curve" not in frame.columns and frame["value"].dropna().is_monotonic_increasing
    with pytest.raises(ConfigError, match="The 'budget' parameter of auto must be"):
        parse_budget("1h30")  # an hour and thirty what: refused


def test_empty_or_blind_validation_is_refused_before_any_fit(rating_parts):
    from autorecs.exceptions import DataError

    with pytest.raises(DataError, match="The validation data is empty"):
        auto(rating_parts.train, rating_parts.valid.subset(np.zeros(0, np.int64)), task="rating", budget=5, progress=False)


def test_every_family_is_scored_on_the_rows_lambdaopt_holds_out(ratings_data, monkeypatch):
    """λOpt learns Λ from half the validation rows, so every trial is scored on the other, same half."""
    import autorecs.lambdaopt as lo
    from autorecs import BiasedMF
    from autorecs.auto import FAMILIES, _scored_rows

    s = split(ratings_data, "random-60-20-20", seed=0)
    fams = FAMILIES["rating"]
    assert _scored_rows(s.valid, [f for f in fams if not f.learns_from_validation], 3) is s.valid
    rows = _scored_rows(s.valid, fams, 3)
    assert 0.3 * len(s.valid) < len(rows) < 0.7 * len(s.valid)
    held = []
    real = lo.lambda_validation
    monkeypatch.setattr(lo, "lambda_validation", lambda *a: (out := real(*a)) and held.append(out[-1]) or out)
    for seed in (0, 1):  # the split follows lambda_split_seed, not the fit's seed
        BiasedMF(solver="adam", lambdaopt="DUI", lambda_split_seed=3, epochs=1).fit(s.train, s.valid, seed=seed, progress=False)
    assert [h.fingerprint() for h in held] == [rows.fingerprint()] * 2


def test_lambdaopt_bpr_is_chosen_from_only_when_named(implicit_data, tmp_path):
    from autorecs.auto import _scored_rows

    assert [f.name for f in FAMILIES["ranking"] if not f.default] == ["bpr-mf-lambdaopt"]
    defaults = [f for f in FAMILIES["ranking"] if f.default]
    s = split(implicit_data, "temporal-60-20-20")
    assert _scored_rows(s.valid, defaults, 0) is s.valid  # ranking runs score on every validation row by default


def _capped(monkeypatch, n_trials):
    """auto's clock replaced by a cap on the number of trials (deterministic runs)."""
    import autorecs.auto as A

    monkeypatch.setattr(A._Run, "left", lambda self: 1e9 if len(self.trials) < n_trials else -1.0)
    monkeypatch.setattr(A._Run, "refit_reserve", lambda self: 0.0)


def test_a_resumed_run_continues_halving_and_restores_the_ensemble_candidates(ratings_data, tmp_path, monkeypatch):
    import collections

    import autorecs.auto as A

    s = split(ratings_data, "random-60-20-20", seed=0)
    fams = [f for f in FAMILIES["rating"] if f.name in ("baseline", "knn-baseline", "biased-mf-als", "biased-mf-adam")]
    out = tmp_path / "run"
    out.mkdir()
    _capped(monkeypatch, 16)  # the 4 defaults and rung 0 (3 TPE trials per family), then "killed"
    first = A._Run("rating", s.train, s.valid, "rmse", 0, 1e9, out, fams, None, False)
    A._search(first)
    assert collections.Counter(t.family for t in first.trials if t.phase == "search") == {f.name: 3 for f in fams}
    _capped(monkeypatch, 28)  # resumed: rung 1 only (6 more for each of the 2 survivors), not rung 0 again
    again = A._Run("rating", s.train, s.valid, "rmse", 0, 1e9, out, fams, None, False)
    assert again.resumed == 16 and not again.models
    A._restore_kept(again)  # the earlier run's best trials are ensemble candidates again, the same models
    assert set(again.models) == set(first.models)
    u, i = s.valid.user_vocab.ids(s.valid.users[:40]), s.valid.item_vocab.ids(s.valid.items[:40])
    for n, model in first.models.items():
        assert np.allclose(again.models[n].predict(u, i), model.predict(u, i), atol=1e-5)
    A._search(again)
    searched = collections.Counter(t.family for t in again.trials if t.phase == "search")
    assert sorted(searched.values()) == [3, 3, 9, 9]


def test_a_model_shipped_as_trained_is_not_fitted_again(ratings_data, monkeypatch):
    """λOpt cannot be refit on the validation rows; its trial's model is held and shipped, and the search keeps no
    time back for fitting it a second time."""
    import autorecs.auto as A
    from autorecs import BiasedMF

    s = split(ratings_data, "random-60-20-20", seed=0)
    import dataclasses

    fams = [dataclasses.replace(f, fixed={**f.fixed, "epochs": 4}) for f in FAMILIES["rating"] if f.name == "biased-mf-lambdaopt"]
    fits = []
    real = BiasedMF.fit
    monkeypatch.setattr(BiasedMF, "fit", lambda self, *a, **k: fits.append(1) or real(self, *a, **k))
    monkeypatch.setattr(A._Run, "left", lambda self: 1e9 if len(self.trials) < 2 else -1.0)
    run = A._Run("rating", s.train, s.valid, "rmse", 0, 1e9, None, fams, None, False, False)
    A._search(run)
    tail = (A.SELECTION_SHARE + A.AFTER_SHARE) * run.budget + 0.5
    assert len(fits) == 2 and run.refit_reserve() == pytest.approx(tail)
    best = run.best()
    model, seconds = A._refit(run, best, s.train)
    assert model is run.as_trained["biased-mf-lambdaopt"][1] and seconds == 0.0 and len(fits) == 2
    run.as_trained.clear()  # a resumed run holds no model of an earlier trial: it is trained again, and reserved for
    assert run.refit_reserve() > tail + best.fit_seconds
    again, _ = A._refit(run, best, s.train)
    u, i = s.valid.user_vocab.ids(s.valid.users[:40]), s.valid.item_vocab.ids(s.valid.items[:40])
    assert len(fits) == 3 and np.allclose(again.predict(u, i), model.predict(u, i), atol=1e-5)


def test_recency_is_searched_only_on_data_with_timestamps(implicit_data):
    ease = next(f for f in FAMILIES["ranking"] if f.name == "ease")
    names = lambda fam: [p.name for p in fam.search_space().params]  # noqa: E731
    assert "recency" in names(ease) and "recency" not in names(ease.for_data(False))
    assert ease.for_data(True) is ease and "reg" in ease.for_data(False).space
    frame = implicit_data.to_frame().drop(columns="timestamp")
    from autorecs.data import Interactions

    res = auto(Interactions.from_frame(frame), task="ranking", budget=6, families=["ease"], progress=False, ensemble=False,
               metric="ndcg@10")  # a bare ranking metric is the conventional family's, and says so
    assert len(res.leaderboard) > 1 and all(t.state == "COMPLETE" and "recency" not in t.params for t in res.leaderboard)
    assert res.metric == "topk.ndcg@10"


def test_time_the_reserve_overestimated_is_searched_after_the_first_selection(rating_parts, monkeypatch):
    """The reserve kept for after the search is an estimate; once the first selection has named what ships,
    what is left beyond its refit is searched too, and the budget still holds."""
    import autorecs.auto as A

    monkeypatch.setattr(A, "SELECTION_SHARE", 0.5)  # the first search stops near half the budget
    steps = []
    real = A._search_on
    monkeypatch.setattr(A, "_search_on", lambda run, *a: steps.append(run.elapsed()) or real(run, *a))
    budget = 8.0
    t0 = time.perf_counter()
    res = auto(rating_parts.train, rating_parts.valid, task="rating", budget=budget, families=["baseline", "biased-mf-als"],
               progress=False)
    wall = time.perf_counter() - t0
    assert steps and steps[0] < 0.6 * budget  # the first search left half the budget for what follows
    later = [t for t in res.leaderboard if t.elapsed > steps[0]]
    assert later and max(t.elapsed for t in later) > 0.8 * budget  # and that time was searched
    assert res.seconds["search"] > 0.8 * budget and wall < budget * 1.05 + 1.5, wall


def test_a_searched_architectures_refit_is_costed_without_its_search(rating_parts):
    """A SIF trial searches its interaction function, then fits; a refit repeats only the fit."""
    import dataclasses

    import autorecs.auto as A

    fams = [dataclasses.replace(f, fixed={**f.fixed, "epochs": 3}) for f in FAMILIES["rating"] if f.name in ("sif", "baseline")]
    run = A._Run("rating", rating_parts.train, rating_parts.valid, "rmse", 0, 60.0, None, fams, None, False, False)
    run.run_batch([(f, "default") for f in run.families.values()])
    sif, base = (next(t for t in run.trials if t.family == name) for name in ("sif", "baseline"))
    assert 0 < sif.train_seconds < sif.fit_seconds and base.train_seconds == pytest.approx(base.fit_seconds, abs=0.05)
    grow = (len(run.train) + len(run.valid)) / len(run.train)
    share = (sif.best_epoch or sif.epochs) / sif.epochs
    assert run._refit_cost(sif) == pytest.approx(1.2 * sif.train_seconds * grow * share)


def test_a_trial_records_the_defaults_its_fit_chose_from_the_data(implicit_data):
    """BPR-MF's default batch follows the data's size: the trial records the batch and rate it trained
    with, so the refit on train + validation (more data) trains with the schedule that was validated."""
    s = split(implicit_data, "temporal-60-20-20")
    res = auto(s.train, s.valid, task="ranking", budget=8, families=["bpr-mf"], progress=False, ensemble=False)
    done = [t for t in res.leaderboard if t.state == "COMPLETE"]
    assert done and all(t.params["batch_size"] == 1024 for t in done)
    default = next(t for t in done if t.phase == "default")
    assert default.params["learning_rate"] == 0.002
    assert res.model.config.batch_size == 1024  # the refit kept it


def test_ctrl_c_finishes_with_the_trials_done_and_says_so(rating_parts, tmp_path, monkeypatch):
    """Ctrl-C during the search: the model is chosen among the finished trials, and the result, its JSON and
    the report say it was interrupted."""
    from tests.helpers.interrupt import ctrl_c_after

    ctrl_c_after(monkeypatch, 3)
    res = auto(rating_parts.train, rating_parts.valid, task="rating", budget=60, families=["baseline", "biased-mf-als"],
               out_dir=tmp_path / "run", progress=False)
    assert res.interrupted and 3 <= len(res.leaderboard) < 10
    assert json.loads((tmp_path / "run" / "result.json").read_text())["interrupted"] is True
    assert "interrupted (Ctrl-C)" in (tmp_path / "run" / "report.html").read_text()


def test_the_same_command_again_returns_the_finished_run(rating_parts, tmp_path):
    """A finished run rerun with its budget: nothing is searched or refit again (the budget's last seconds used to
    replace the shipped ensemble by a worse single model); a larger budget continues it."""
    kw = dict(task="rating", families=["baseline", "biased-mf-als"], out_dir=tmp_path / "run", progress=False)
    first = auto(rating_parts.train, rating_parts.valid, budget=4, **kw)
    saved = (tmp_path / "run" / "result.json").read_text()
    with pytest.warns(UserWarning, match=r"finished within its budget \(4 s\); nothing more to do"):
        again = auto(rating_parts.train, rating_parts.valid, budget=4, test=rating_parts.test, **kw)
    assert len(again.leaderboard) == len(first.leaderboard) and again.final == first.final and again.chosen == first.chosen
    assert (tmp_path / "run" / "result.json").read_text() == saved and again.test["rmse"] < 1.2  # the test given now, scored
    assert again.test_reference["model"] == "baseline" and again.test_reference["test"]["rmse"] > 0
    u, i = rating_parts.test.user_vocab.ids(rating_parts.test.users[:20]), rating_parts.test.item_vocab.ids(rating_parts.test.items[:20])
    np.testing.assert_allclose(again.model.predict(u, i), first.model.predict(u, i), rtol=1e-6)
    with pytest.warns(UserWarning, match="nothing more to do"):
        again = auto(rating_parts.train, rating_parts.valid, budget=4, **kw)  # no test now: no test figures from before
    assert again.test is None and "chosen=none" not in repr(again)
    assert f"chosen=#{first.chosen['trial']} {first.chosen['family']}" in repr(again)
    # a continued run never ships a model worse on validation than the one the run had: pretend the first was unbeatable
    record = json.loads(saved)
    record["final"]["valid"] = 0.0
    (tmp_path / "run" / "result.json").write_text(json.dumps(record))
    more = auto(rating_parts.train, rating_parts.valid, budget=7, **kw)
    assert len(more.leaderboard) > len(first.leaderboard)
    assert more.leaderboard[len(first.leaderboard)].elapsed >= first.seconds["total"]  # the clock counts the first run's refit too
    assert more.final == record["final"]
    np.testing.assert_allclose(more.model.predict(u, i), first.model.predict(u, i), rtol=1e-6)
    with pytest.warns(UserWarning, match="nothing more to do") as said:  # ensembles switched off: another run, not this one
        auto(rating_parts.train, rating_parts.valid, budget=7, **kw)
    assert len(said) == 1
    other = auto(rating_parts.train, rating_parts.valid, budget=7, **{**kw, "ensemble": False})
    assert other.ensemble_tried is False and other.final["kind"] == "single"


def test_an_empty_test_is_refused_before_the_budget_is_spent(rating_parts):
    from autorecs.search import Budget, Tuner, builtin_space

    empty = rating_parts.test.subset([])
    with pytest.raises(DataError, match="The test data given to auto is empty"):
        auto(rating_parts.train, rating_parts.valid, task="rating", budget=60, families=["baseline"], test=empty, progress=False)
    with pytest.raises(DataError, match=r"The test data given to Tuner.run is empty"):
        Tuner("biased-mf", builtin_space("lambdaopt-grid", "biased-mf"), strategy="grid", budget=Budget(trials=1)).run(
            rating_parts.train, rating_parts.valid, empty)


def test_the_default_holdout_of_ranking_data_says_nothing_of_its_empty_valid_part(implicit_data):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        auto(implicit_data, task="ranking", budget=3, families=["popularity"], progress=False, ensemble=False)


def test_the_report_describes_the_model_that_shipped(rating_parts, tmp_path):
    """Its parameters, its highlighted rows and its learning curves are the final model's trials, not the best single trial's."""
    import re

    from autorecs.report import write_auto_report

    res = auto(rating_parts.train, rating_parts.valid, task="rating", budget=4, families=["baseline", "biased-mf-als"],
               out_dir=tmp_path / "run", progress=False, ensemble=False)
    by = {t.number: t for t in res.leaderboard}
    done = sorted((t for t in res.leaderboard if t.state == "COMPLETE"), key=lambda t: t.value)
    other = next(t for t in done if t.number != res.final["trial"])  # pretend this one shipped instead
    res.final = {**res.final, "trial": other.number, "family": other.family, "valid": other.value}
    page = write_auto_report(res, tmp_path / "r.html").read_text()
    highlighted = re.findall(r"<tr class='chosen'><td>\d+</td><td>#(\d+)</td>", page)
    assert highlighted == [str(other.number)]
    assert f"the single trial <b>#{other.number} {other.family}</b>" in page
    import html

    from autorecs.report import _short
    assert html.escape(json.dumps(_short(by[other.number].params), indent=1, default=str)) in page  # its parameters, in full
    assert f"The best single trial on validation, #{res.chosen['trial']}" in page
    assert "Recommender.load(" in page and "autorecs recommend --model" in page and "seed 0" in page
    assert re.search(r"Saved model: \d+\.\d MB on disk", page)


def test_one_training_row_gets_autos_own_sentence(ratings_data):
    one = ratings_data.subset([0])
    with pytest.raises(DataError, match=r"The training data given to auto has 1 row\(s\), too few to hold out validation rows"):
        auto(one, task="rating", budget=5, families=["baseline"], progress=False)


def test_progress_lines_show_improvements_not_every_trial(rating_parts, caplog):
    """A line per trial flooded the terminal (487 lines in a 30 s run on a small click log)."""
    import logging

    with caplog.at_level(logging.INFO, logger="autorecs"):
        res = auto(rating_parts.train, rating_parts.valid, task="rating", budget=5, families=["baseline", "biased-mf-als"],
                   ensemble=False, progress=True)
    lines = [r.getMessage() for r in caplog.records if getattr(r, "progress", False) and r.getMessage().startswith("auto ")]
    done = [t for t in res.leaderboard if t.state == "COMPLETE"]
    assert 2 <= len(lines) < len(done), (len(lines), len(done))
    assert sum("best so far" in line for line in lines) >= 1
    best = min(done, key=lambda t: t.value)
    assert any(f"rmse={best.value:.4f}" in line and "best so far" in line for line in lines)  # the winner was shown


def test_a_metric_in_capitals_is_the_metric(rating_parts, tmp_path):
    res = auto(rating_parts.train, rating_parts.valid, task="rating", budget=2, metric=" MAE ", families=["baseline"], ensemble=False,
               progress=False)
    assert res.metric == "mae"


def test_a_data_frame_is_refused_before_the_budget_is_spent(rating_parts):
    """auto(test=<DataFrame>) failed in evaluate() after the whole budget; auto(df) died on '.timestamps'."""
    t0 = time.perf_counter()
    with pytest.raises(DataError, match=r"auto\(\) takes autorecs Interactions \(or None\) as 'test'; got DataFrame"):
        auto(rating_parts.train, rating_parts.valid, test=rating_parts.test.to_frame(), task="rating", budget=30, progress=False)
    with pytest.raises(DataError, match=r"auto\(\) takes autorecs Interactions as 'train'; got DataFrame"):
        auto(rating_parts.train.to_frame(), task="rating", budget=30, progress=False)
    assert time.perf_counter() - t0 < 5
