"""Every model passes these tests; a new model only adds itself to MODEL_CASES."""

import numpy as np
import pytest

from autorecs import BPRMF, BiasedMF, ImplicitALS, Recommender
from autorecs.models import AMF, EASE, FM, NCF, SIF, AltGrad, Baseline, InteractionMF, ItemKNN, KNNBaseline, NeuMF, Popularity, WideDeep
from autorecs.models.transform import ElementwiseMLP
from autorecs.data import split
from autorecs.exceptions import ConfigError, DataError, NotFittedError

_G = ElementwiseMLP(3, generator=__import__("torch").Generator().manual_seed(0))  # a fixed "searched" transform

MODEL_CASES = {
    "biased-mf-als": lambda: BiasedMF(factors=4, epochs=5),
    "biased-mf-adam": lambda: BiasedMF(factors=4, solver="adam", learning_rate=0.01, epochs=5),
    "bpr-mf": lambda: BPRMF(factors=4, epochs=5),
    "amf": lambda: AMF(factors=4, epochs=3),
    "amf-no-pretrain": lambda: AMF(factors=4, epochs=3, pretrain=False),
    "neumf": lambda: NeuMF(factors=4, epochs=3, mlp_layers=2),
    "implicit-als": lambda: ImplicitALS(factors=4, epochs=3),
    "baseline": lambda: Baseline(),
    "knn-baseline": lambda: KNNBaseline(k=10),
    "ease": lambda: EASE(reg=50.0),
    "item-knn": lambda: ItemKNN(neighbors=20),
    "popularity": lambda: Popularity(),
    "altgrad": lambda: AltGrad(factors=4, epochs=5),
    "ifc-concat-conv": lambda: InteractionMF(interaction="concat+conv", factors=4, epochs=5),
    "ifc-outer-no-bias": lambda: InteractionMF(interaction="outer", biases=False, factors=4, epochs=5),
    "ncf": lambda: NCF(factors=4, epochs=5),
    "wide-deep": lambda: WideDeep(factors=4, epochs=5),
    "fm": lambda: FM(factors=4, epochs=5),
    "sif": lambda: SIF(interaction="min", factors=4, epochs=5, transform_user=_G.to_list(), transform_item=_G.to_list(),
                       transform_hidden=3),
    "ifc-max-mlp-predictor": lambda: InteractionMF(interaction="max", predictor="mlp", predictor_hidden=4, factors=4, epochs=5),
    "sif-no-auto": lambda: SIF(interaction="max", factors=4, epochs=5, train_transform=True),
}


@pytest.fixture(params=sorted(MODEL_CASES))
def make_model(request):
    return MODEL_CASES[request.param]


@pytest.fixture
def data(ratings_data):
    return split(ratings_data, "random-80-10-10", seed=0)


def test_fit_returns_self_and_records_history(make_model, data):
    m = make_model()
    assert m.fit(data.train, data.valid, seed=0, progress=False) is m
    assert 1 <= len(m.history_.epochs) <= m.config.epochs
    assert all(np.isfinite(e["loss"]) and e["seconds"] >= 0 for e in m.history_.epochs)
    assert m.history_.monitor and m.history_.best_epoch is not None


def test_same_seed_same_model(make_model, data):
    a = make_model().fit(data.train, seed=3, progress=False)
    b = make_model().fit(data.train, seed=3, progress=False)
    c = make_model().fit(data.train, seed=4, progress=False)
    users = data.train.user_vocab.ids(np.arange(5))
    items = data.train.item_vocab.ids(np.arange(5))
    np.testing.assert_allclose(a.predict(users, items), b.predict(users, items), rtol=1e-5)
    if a.deterministic:  # closed form: the seed plays no part
        np.testing.assert_allclose(a.predict(users, items), c.predict(users, items), rtol=1e-5)
    else:
        assert not np.allclose(a.predict(users, items), c.predict(users, items))


def test_recommend_raw_ids_excludes_seen_and_falls_back_for_unknown_users(make_model, data):
    m = make_model().fit(data.train, seed=0, progress=False)
    users = list(data.train.user_vocab.ids(np.arange(3))) + ["never-seen-user"]
    recs = m.recommend(users, n=7)
    items, scores = recs
    assert items.shape == (4, 7) and scores.shape == (4, 7)
    assert recs.fallback.tolist() == [False, False, False, True]
    assert np.all(np.diff(scores[:3], axis=1) <= 1e-6)  # sorted best first
    train = data.train.to_frame()
    for u, row in zip(users[:3], items[:3]):
        assert not set(row) & set(train.loc[train["user"] == u, "item"])
    top_pop = train["item"].value_counts().index[:7]
    assert set(items[3]) == set(top_pop) or len(set(items[3]) & set(top_pop)) >= 5  # popularity (ties)
    with_seen = m.recommend(users[:1], n=m.seen_.shape[1], exclude_seen=False).items[0]
    assert len(set(with_seen)) == m.seen_.shape[1]


def test_save_load_round_trip_gives_identical_outputs(make_model, data, tmp_path):
    m = make_model().fit(data.train, data.valid, seed=0, progress=False)
    m.save(tmp_path / "m")
    back = Recommender.load(tmp_path / "m")
    assert type(back) is type(m) and back.get_params() == m.get_params()
    users = data.test.user_vocab.ids(data.test.users[:50])
    items = data.test.item_vocab.ids(data.test.items[:50])
    np.testing.assert_allclose(back.predict(users, items), m.predict(users, items), rtol=1e-6)
    assert (back.recommend(users[:5], n=5).items == m.recommend(users[:5], n=5).items).all()
    assert back.history_.best_epoch == m.history_.best_epoch


def test_save_replaces_only_the_model_files_and_can_refuse(ratings_data, tmp_path):
    target = tmp_path / "m"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    (target / "history.json").write_text("{}")  # a stale file of an earlier model
    m = BiasedMF(factors=2, epochs=1).fit(ratings_data, progress=False)  # no validation: still a history
    with pytest.raises(ConfigError, match="already exists and is not empty; choose another path or pass overwrite=True"):
        m.save(target, overwrite=False)
    assert not (target / "model.json").exists()
    m.save(target)
    assert (target / "notes.txt").read_text() == "mine" and (target / "model.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary directory left behind
    np.testing.assert_allclose(Recommender.load(target).predict([0], [0]), m.predict([0], [0]))


def test_similar_items_and_users(make_model, data):
    m = make_model().fit(data.train, data.valid, seed=0, progress=False)
    items = data.train.item_vocab.ids(np.arange(3))
    if isinstance(m, (Baseline, Popularity)):  # no item or user representation: a clear refusal
        with pytest.raises(ConfigError, match="has no item representation to compare"):
            m.similar_items(items)
        return
    res = m.similar_items(items, n=4)
    assert res.items.shape == (3, 4) and not (res.items == items[:, None]).any()  # never itself
    assert repr(res) == "Recommendations(3 rows x 4 items, 0 fallback)"  # rows of items here, not "users"
    assert (np.diff(res.scores, axis=1) <= 1e-6).all()  # best first
    if isinstance(m, (EASE, ItemKNN, KNNBaseline)):  # item-based: item similarities only
        with pytest.raises(ConfigError, match="has no user representation"):
            m.similar_users(data.train.user_vocab.ids(np.arange(2)))
    else:
        assert (np.abs(res.scores) <= 1 + 1e-5).all()  # cosine
        assert m.similar_users(data.train.user_vocab.ids(np.arange(2)), n=3).items.shape == (2, 3)
    with pytest.raises(DataError, match=r"similar_items: 1 id\(s\) are not in the model's training data"):
        m.similar_items(["no-such-item"])


def test_similar_items_known_answer(implicit_data):
    """Two user groups, each liking one half of the items: an item's neighbours are in its own half."""
    m = ImplicitALS(factors=4, epochs=10).fit(implicit_data, seed=0, progress=False)
    for query, half in (("i0", range(0, 20)), ("i25", range(20, 40))):
        assert {int(i[1:]) for i in m.similar_items([query], n=8).items[0]} <= set(half)


def test_clone_and_set_params_follow_scikit_learn(make_model, data):
    from autorecs import clone

    m = make_model()
    c = clone(m)
    assert type(c) is type(m) and c.get_params() == m.get_params() and c is not m
    m.fit(data.train, data.valid, seed=0, progress=False)
    c2 = clone(m)
    with pytest.raises(NotFittedError):
        c2.recommend([0])
    c2.fit(data.train, data.valid, seed=0, progress=False)  # same parameters, same seed: the same model (CPU)
    users = data.test.user_vocab.ids(data.test.users[:20])
    items = data.test.item_vocab.ids(data.test.items[:20])
    np.testing.assert_allclose(c2.predict(users, items), m.predict(users, items), rtol=1e-5, atol=1e-6)
    before = m.get_params()
    assert m.set_params(patience=2) is m and m.get_params() == {**before, "patience": 2}
    with pytest.raises(ConfigError):
        m.set_params(epochs=0)
    with pytest.raises(ConfigError, match="no parameter"):
        m.set_params(epochz=3)
    assert m.get_params() == {**before, "patience": 2}  # a refused change changes nothing


def test_clone_carries_object_parameters(ratings_data):
    from autorecs import Regularizer, clone

    m = BiasedMF(factors=2, epochs=3, regularizer=Regularizer(user=0.05, item=0.5))
    c = clone(m)
    assert c.regularizer is not m.regularizer and c.regularizer.to_dict() == m.regularizer.to_dict()
    a, b = m.fit(ratings_data, seed=0, progress=False), c.fit(ratings_data, seed=0, progress=False)
    np.testing.assert_allclose(a.predict([0, 1], [0, 1]), b.predict([0, 1], [0, 1]), rtol=1e-6)


def test_recommend_fallback_for_unknown_users(ratings_data):
    m = BiasedMF(factors=2, epochs=1).fit(ratings_data, progress=False)
    known = ratings_data.user_vocab.ids(ratings_data.users[:1])
    recs = m.recommend([known[0], "stranger"], n=3)
    assert recs.fallback.tolist() == [False, True]
    with pytest.raises(DataError, match=r"1 user\(s\) are not in the model's training data \('stranger'\)"):
        m.recommend([known[0], "stranger"], n=3, fallback="error")
    assert m.recommend(known, n=3, fallback="error").fallback.tolist() == [False]
    with pytest.raises(ConfigError, match="'fallback' parameter of BiasedMF.recommend must be 'popular' or 'error'"):
        m.recommend(known, fallback="none")


def test_load_rejects_a_directory_that_is_not_a_model(tmp_path):
    with pytest.raises(DataError, match="is not a saved autorecs model"):
        Recommender.load(tmp_path)


def test_unfitted_model_says_so(make_model):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        make_model().recommend([1])


def test_unknown_parameter_is_named(make_model):
    klass = type(make_model())
    with pytest.raises(ConfigError, match=r"has no parameter\(s\) \['factorz'\]"):
        klass(factorz=3)


def test_restarts_keep_the_best_on_validation(make_model, data, monkeypatch):
    """With two restarts the kept model is the restart with the better validation value, and its
    weights are that restart's (not the last one's)."""
    import torch

    m = make_model()
    if m.deterministic:  # closed form: nothing to restart
        with pytest.raises(ConfigError, match="'n_init' parameter of .* must be 1; got 2. Restarts draw new random"):
            type(m)(n_init=2)
        return
    m.config.n_init = 2
    results = []
    from autorecs.training import train_loop as real_loop

    def loop(model, **kw):
        hist = real_loop(model, **kw)
        results.append((hist.best_value, {k: v.clone() for k, v in model._get_state().items()}))
        return hist

    monkeypatch.setattr("autorecs.models.base.train_loop", loop)
    m.fit(data.train, data.valid, seed=0, progress=False)
    results = results[-2:]  # the model's own restarts (AMF and NeuMF pre-train a BPRMF first, with restarts too)
    assert results[0][0] != results[1][0]
    better = min if m.history_.monitor in ("valid_rmse", "valid_mae") else max
    best = better(results, key=lambda r: r[0])
    assert m.history_.best_value == best[0]
    kept = m._get_state()
    assert all(torch.equal(kept[k], best[1][k]) for k in kept)


@pytest.mark.parametrize("make,monitor", [(lambda m: BPRMF(monitor=m), "topk.ndcg@x"), (lambda m: BPRMF(monitor=m), "topk.ndgc@50"),
                                          (lambda m: BPRMF(monitor=m), "lambdaopt.mrr"), (lambda m: BPRMF(monitor=m), "ndcg@0"),
                                          (lambda m: BiasedMF(monitor=m), "ndcg@10"), (lambda m: ImplicitALS(monitor=m), "rmse")])
def test_a_bad_monitor_is_refused_at_construction(make, monitor):
    with pytest.raises(ConfigError, match=r"The 'monitor' parameter of \w+ must be .*; got"):
        make(monitor)


@pytest.mark.parametrize("monitor", ["topk.ndcg@10", "ndcg@50", "topk.mrr", "lambdaopt.auc", "lambdaopt.hr@100", "topk.hit@5"])
def test_every_documented_monitor_is_accepted(monitor, implicit_data):
    m = BPRMF(factors=2, epochs=1, monitor=monitor).fit(implicit_data, implicit_data, seed=0, progress=False)
    assert m.history_.monitor == "valid_" + monitor.rpartition(".")[2]


def test_saving_over_an_ensemble_replaces_its_members(ratings_data, tmp_path):
    from autorecs.models import Baseline, Ensemble

    a = BiasedMF(factors=2, epochs=2).fit(ratings_data, progress=False)
    b = Baseline().fit(ratings_data, progress=False)
    c = Baseline(reg_user=1.0).fit(ratings_data, progress=False)
    Ensemble([a, b, c], weights=[1.0, 1.0, 1.0], task="rating").save(tmp_path / "m")
    two = Ensemble([b, a], weights=[3.0, 1.0], task="rating")
    two.save(tmp_path / "m")  # over a three-member ensemble: no error, no stale member-2
    assert sorted(p.name for p in (tmp_path / "m").iterdir() if p.name.startswith("member-")) == ["member-0", "member-1"]
    back = Recommender.load(tmp_path / "m")
    np.testing.assert_allclose(back.predict([0, 1], [0, 1]), two.predict([0, 1], [0, 1]), rtol=1e-6)
    BiasedMF(factors=2, epochs=1).fit(ratings_data, progress=False).save(tmp_path / "m")  # a single model over an ensemble
    assert not list((tmp_path / "m").glob("member-*")) and type(Recommender.load(tmp_path / "m")) is BiasedMF


def test_fit_names_a_data_frame_given_for_train_or_valid(make_model, data):
    with pytest.raises(DataError, match=r"fit\(\) takes autorecs Interactions as 'train'; got DataFrame, so build them with Interactions.from_frame\(df\)"):
        make_model().fit(data.train.to_frame(), progress=False)
    with pytest.raises(DataError, match=r"fit\(\) takes autorecs Interactions \(or None\) as 'valid'; got DataFrame"):
        make_model().fit(data.train, data.valid.to_frame(), progress=False)


def test_numpy_hyperparameters_are_kept_as_python_values_and_save(ratings_data, tmp_path):
    """A grid or a data frame hands out NumPy scalars: accepted, stored as Python's, so the model saves (JSON)."""
    m = BiasedMF(factors=np.int64(3), epochs=np.int32(1), reg_user=np.float64(0.1)).set_params(reg_item=np.float32(0.5))
    params = m.get_params()
    assert type(params["factors"]) is int and type(params["epochs"]) is int and type(params["reg_item"]) is float
    m.fit(ratings_data, seed=0, progress=False).save(tmp_path / "m")
    assert Recommender.load(tmp_path / "m").get_params()["factors"] == 3


def test_recommend_takes_a_real_boolean_for_exclude_seen(ratings_data):
    m = Popularity().fit(ratings_data, seed=0, progress=False)
    with pytest.raises(ConfigError, match=r"The 'exclude_seen' parameter of Popularity.recommend must be True or False; got 'no'"):
        m.recommend([0], exclude_seen="no")  # a non-empty string would have meant True


def test_loading_an_auto_run_folder_points_at_its_model(ratings_data, tmp_path):
    Popularity().fit(ratings_data, seed=0, progress=False).save(tmp_path / "run" / "model")
    with pytest.raises(DataError, match=r"is an `autorecs auto` run, whose model is in its 'model' folder: load '.*run/model'"):
        Recommender.load(tmp_path / "run")


def test_an_empty_validation_set_is_said_not_silently_ignored(data):
    empty = data.valid.subset([])
    with pytest.warns(UserWarning, match=r"The validation data given to BiasedMF.fit is empty: it trains all 3 epochs without early stopping"):
        m = BiasedMF(factors=2, epochs=3).fit(data.train, empty, seed=0, progress=False)
    assert len(m.history_.epochs) == 3


def test_the_signature_names_every_hyperparameter_with_its_default(make_model):
    """help() and editors show the hyperparameters, not **params; the signature's defaults are the config's."""
    import dataclasses
    import inspect

    model = make_model()
    klass = type(model)
    sig = inspect.signature(klass)
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    config = klass.Config()
    for f in dataclasses.fields(klass.Config):
        assert f.name in sig.parameters and sig.parameters[f.name].default == getattr(config, f.name), f.name
    for name in getattr(klass, "object_params", ()):
        assert name in sig.parameters


def test_every_hyperparameter_is_documented_and_the_summary_is_a_sentence():
    """`autorecs models NAME` printed empty meanings (init_std, ifc's solver, ...) and a fragment as biased-mf's summary."""
    from autorecs.models import MODELS
    from autorecs.models.catalog import model_params, summary

    for name, klass in MODELS.items():
        assert [p.name for p in model_params(name) if not p.help] == [], name
        text = summary(klass)
        assert text[0].isupper() and text.endswith(".") and text.count(". ") == 0, (name, text)


def test_parameters_set_after_fit_are_not_saved_beside_the_old_weights(ratings_data, tmp_path):
    m = BiasedMF(factors=2, epochs=1).fit(ratings_data, seed=0, progress=False).set_params(factors=16)
    with pytest.warns(UserWarning, match=r"BiasedMF is saved with the parameters its weights were fitted with \(factors=2, not 16 as set since\)"):
        m.save(tmp_path / "m")
    back = Recommender.load(tmp_path / "m")
    assert back.get_params()["factors"] == 2 and back.P.shape[1] == 2
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back.save(tmp_path / "again")  # a loaded model saves as it was


def test_ids_given_as_text_find_integer_ids(ratings_data):
    """recommend(["1"]) on a model with integer ids is user 1, not an unknown user given the popular items."""
    m = BiasedMF(factors=2, epochs=1).fit(ratings_data, seed=0, progress=False)
    user = ratings_data.user_vocab.index[0]
    as_text, as_int = m.recommend([str(user)], n=5), m.recommend([user], n=5)
    assert not as_text.fallback.any() and (as_text.items == as_int.items).all()


def test_recommendations_unpack_and_index_as_a_pair(ratings_data):
    recs = Popularity().fit(ratings_data, seed=0, progress=False).recommend([0, 1], n=3)
    items, scores = recs
    assert recs[0] is items and recs[1] is scores and items.shape == (2, 3)


def test_a_user_model_whose_config_field_has_no_default_gets_a_signature():
    """A field without a default is a required keyword in the signature (the signature must not break the class)."""
    import dataclasses
    import inspect

    from autorecs.models.base import FitConfig

    @dataclasses.dataclass
    class NeedsConfig(FitConfig):
        alpha: float = dataclasses.field(default_factory=lambda: 0.5)
        path: str = dataclasses.field(kw_only=True)  # required

    class Needs(Recommender):
        Config = NeedsConfig

    sig = inspect.signature(Needs)
    assert sig.parameters["path"].default is inspect.Parameter.empty and sig.parameters["alpha"].default == 0.5


def test_an_ensemble_of_fitted_models_needs_no_weights_or_task(ratings_data, implicit_data):
    """Ensemble([a, b]) said "got 0 weights for 2 members"; with ranking members, "must be a rating model"."""
    from autorecs.models import Ensemble

    a = ImplicitALS(factors=2, epochs=1).fit(implicit_data, progress=False)
    b = EASE().fit(implicit_data, progress=False)
    blend = Ensemble([a, b])
    assert blend.task == "ranking" and blend.get_params()["weights"] == [1.0, 1.0]
    np.testing.assert_array_equal(blend.recommend([0], n=3).items, Ensemble([a, b], weights=[2, 2], task="ranking").recommend([0], n=3).items)
    assert Ensemble([a, b], weights=np.array([0.5, 0.5])).get_params()["weights"] == [0.5, 0.5]  # an array, as a list
    with pytest.raises(ConfigError, match="some positive"):
        Ensemble([a], weights=np.array([0.0]))  # given weights are kept, not replaced by the default
    with pytest.raises(ConfigError, match="Every member of an Ensemble must be a ranking model; BiasedMF is for rating"):
        Ensemble([a, BiasedMF(factors=2, epochs=1).fit(ratings_data, progress=False)])


@pytest.mark.parametrize("bad", [None, [[1, 2]], np.array([[1, 2]])])
def test_ids_that_are_not_ids_are_one_sentence(bad, implicit_data):
    """recommend(None) and recommend([[1, 2]]) ended in TypeErrors deep inside."""
    m = ImplicitALS(factors=2, epochs=1).fit(implicit_data, progress=False)
    with pytest.raises(ConfigError, match=r"The 'users' argument of ImplicitALS.recommend must be ids: one id, or a list or 1-D array"):
        m.recommend(bad)
    with pytest.raises(ConfigError, match="The 'items' argument of ImplicitALS.similar_items must be ids"):
        m.similar_items(bad)


def test_switches_refuse_text():
    """`-p clip=maybe` was taken as clip=True (any non-empty text is truthy)."""
    import dataclasses

    from autorecs.models import MODELS

    checked = 0
    for name, klass in MODELS.items():
        for f in dataclasses.fields(klass.Config):
            if f.type in ("bool", bool):
                with pytest.raises(ConfigError, match=rf"The '{f.name}' parameter of \w+ must be True or False; got 'no'"):
                    klass(**{f.name: "no"})
                checked += 1
    assert checked >= 10
    assert BiasedMF(clip=np.bool_(False)).get_params()["clip"] is False  # NumPy's bools are bools
    assert BiasedMF(clip=0).get_params()["clip"] is False and BiasedMF(clip=np.int64(1)).get_params()["clip"] is True  # 0/1 too
    with pytest.raises(ConfigError, match="must be True or False; got 2"):
        BiasedMF(clip=2)
    from autorecs.models.tensor_ifc import TensorIFC
    from autorecs.sif.search import SIFSearch

    for make in (lambda: TensorIFC(biases="no"), lambda: SIFSearch(biases="no")):  # configs outside the model protocol too
        with pytest.raises(ConfigError, match="'biases' parameter of \\w+ must be True or False; got 'no'"):
            make()


def test_recommendations_know_their_queries_and_name_their_columns(implicit_data):
    """similar_items(...).to_frame(q, query_name="item") wrote the neighbours over the query column; to_frame() needed the
    queries again (a list in another order mislabelled rows silently)."""
    m = ImplicitALS(factors=2, epochs=1).fit(implicit_data, progress=False)
    items = implicit_data.item_vocab.ids(np.arange(2))
    frame = m.similar_items(items, n=2).to_frame()
    assert list(frame.columns[:3]) == ["item", "rank", "similar_item"] and list(frame["item"]) == list(np.repeat(items, 2))
    users = implicit_data.user_vocab.ids(np.arange(3))
    assert list(m.recommend(users, n=2).to_frame().columns[:3]) == ["user", "rank", "item"]
    assert list(m.similar_users(users[:1], n=2).to_frame().columns[:3]) == ["user", "rank", "similar_user"]
    with pytest.raises(ConfigError, match="to_frame\\(\\) got 2 queries for 3 rows"):
        m.recommend(users, n=2).to_frame(users[:2])
    assert list(m.recommend(users, n=2).to_frame(query_name="customer").columns[:3]) == ["customer", "rank", "item"]
    with pytest.raises(ConfigError, match="query_name 'item' is the name of another of its columns"):
        m.recommend(users, n=2).to_frame(query_name="item")
