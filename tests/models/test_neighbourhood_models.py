"""Known answers for the closed-form models: EASE, item-kNN, popularity, the baseline and KNNBaseline."""

import numpy as np
import pandas as pd
import pytest

from autorecs.data import Interactions, split
from autorecs.models import EASE, Baseline, ItemKNN, KNNBaseline, Popularity


def test_ease_keeps_disjoint_item_groups_apart(implicit_data):
    """Two user groups that each use one half of the items: the Gram matrix is block-diagonal, so B is."""
    m = EASE(reg=10.0).fit(implicit_data, progress=False)
    group = np.array([int(i[1:]) >= 20 for i in implicit_data.item_vocab.to_array()])
    B = m.B.numpy()
    assert np.abs(B[np.ix_(group, ~group)]).max() < 1e-6 and np.abs(B[np.ix_(~group, group)]).max() < 1e-6
    assert np.abs(np.diag(B)).max() == 0 and np.abs(B[np.ix_(group, group)]).max() > 0.01
    recs = m.recommend(["u0", "u1"], n=5).items  # u0 in group 0 (items 0-19), u1 in group 1
    assert all(int(i[1:]) < 20 for i in recs[0]) and all(int(i[1:]) >= 20 for i in recs[1])


def test_ease_matches_its_closed_form(implicit_data):
    m = EASE(reg=5.0).fit(implicit_data, progress=False)
    x = implicit_data.csr("ones").toarray()
    p = np.linalg.inv(x.T @ x + 5.0 * np.eye(x.shape[1]))
    b = np.eye(x.shape[1]) - p / np.diag(p)[None, :]  # the paper's eq. 8: B = I − P diagMat(1 ⊘ diag(P))
    np.testing.assert_allclose(m.B.numpy(), b, atol=1e-5)


def test_item_knn_cosine_with_shrinkage():
    frame = pd.DataFrame({"user": [0, 1, 1, 2, 2, 2], "item": ["a", "a", "b", "b", "c", "a"]})
    data = Interactions.from_frame(frame)
    m = ItemKNN(neighbors=5, shrink=0.0).fit(data, progress=False)
    a, b, c = (int(data.item_vocab.codes(np.array([x]))[0]) for x in "abc")
    # users of a: {0, 1, 2}, b: {1, 2}, c: {2}
    assert m.S[a, b].item() == pytest.approx(2 / np.sqrt(3 * 2)) and m.S[b, c].item() == pytest.approx(1 / np.sqrt(2))
    shrunk = ItemKNN(neighbors=5, shrink=1.0).fit(data, progress=False)
    assert shrunk.S[a, b].item() == pytest.approx(2 / (np.sqrt(6) + 1.0))
    one = ItemKNN(neighbors=1, shrink=0.0).fit(data, progress=False)
    assert int((one.S[:, b] > 0).sum()) == 1 and one.S[a, b] > 0  # b keeps only its nearest neighbour, a


def test_popularity_ranks_by_training_counts(implicit_data):
    m = Popularity().fit(implicit_data, progress=False)
    counts = np.bincount(implicit_data.items, minlength=implicit_data.n_items)
    top = m.recommend([implicit_data.user_vocab.ids(np.array([0]))[0]], n=3, exclude_seen=False).items[0]
    got = counts[implicit_data.item_vocab.codes(top)]
    assert list(got) == sorted(counts, reverse=True)[:3]


def test_baseline_recovers_additive_ratings():
    rng = np.random.default_rng(0)
    bu, bi = rng.normal(size=30), rng.normal(size=20)
    users, items = np.meshgrid(np.arange(30), np.arange(20), indexing="ij")
    frame = pd.DataFrame({"user": users.ravel(), "item": items.ravel(), "rating": 3.0 + bu[users.ravel()] + bi[items.ravel()]})
    data = Interactions.from_frame(frame)
    m = Baseline(reg_user=0.0, reg_item=0.0, epochs=30).fit(data, progress=False)
    np.testing.assert_allclose(m.predict(frame["user"], frame["item"]), frame["rating"], atol=1e-4)


def test_knn_baseline_without_enough_neighbours_is_the_baseline(ratings_data):
    parts = split(ratings_data, "random-80-10-10", seed=0)
    base = Baseline().fit(parts.train, progress=False)
    knn = KNNBaseline(min_k=10_000).fit(parts.train, progress=False)
    u, i = parts.test.user_vocab.ids(parts.test.users), parts.test.item_vocab.ids(parts.test.items)
    np.testing.assert_allclose(knn.predict(u, i), base.predict(u, i), rtol=1e-5)
    full = KNNBaseline().fit(parts.train, progress=False)
    assert not np.allclose(full.predict(u, i), base.predict(u, i))


def test_knn_baseline_matches_surprise(ratings_data):
    surprise = pytest.importorskip("surprise", reason="Surprise is a benchmark peer: pip install 'autorecs[bench]'")
    parts = split(ratings_data, "random-80-10-10", seed=0)
    frame = parts.train.to_frame()
    reader = surprise.Reader(rating_scale=(float(frame.rating.min()), float(frame.rating.max())))
    trainset = surprise.Dataset.load_from_df(frame[["user", "item", "rating"]], reader).build_full_trainset()
    algo = surprise.KNNBaseline(k=40, min_k=1, sim_options={"name": "pearson_baseline", "user_based": False, "shrinkage": 100},
                                bsl_options={"method": "als", "reg_i": 10, "reg_u": 15, "n_epochs": 10}, verbose=False)
    algo.fit(trainset)
    test = parts.test.to_frame()
    for clip in (False, True):  # Surprise clips to the rating scale by default, as autorecs does
        theirs = np.array([algo.predict(u, i, clip=clip).est for u, i in zip(test.user, test.item)])
        ours = KNNBaseline(clip=clip).fit(parts.train, progress=False).predict(test.user, test.item)
        np.testing.assert_allclose(ours, theirs, atol=2e-3)


@pytest.mark.parametrize("klass", [Baseline, KNNBaseline])
def test_rating_predictions_stay_in_the_training_range(klass, tmp_path):
    # a generous user on a generous item: μ + b_u + b_i lands above the scale's top (a harsh one on a poor item: below)
    rng = np.random.default_rng(0)
    users, items = np.meshgrid(np.arange(40), np.arange(30), indexing="ij")
    rating = np.clip(np.round(3 + 1.5 * (users >= 35) + 1.5 * (items >= 25) - 1.5 * (users < 5) - 1.5 * (items < 5) + rng.normal(0, 0.3, users.shape)), 1, 5)
    frame = pd.DataFrame({"user": users.ravel(), "item": items.ravel(), "rating": rating.ravel()}).sample(frac=0.8, random_state=0)
    data = Interactions.from_frame(frame)
    u, i = np.repeat([39, 0], 30), np.tile(np.arange(30), 2)
    raw = klass(clip=False, reg_user=0.0, reg_item=0.0).fit(data, progress=False).predict(u, i)
    assert raw.max() > 5.0 and raw.min() < 1.0  # the case exists
    model = klass(reg_user=0.0, reg_item=0.0).fit(data, progress=False)
    pred = model.predict(u, i)
    np.testing.assert_allclose(pred, np.clip(raw, 1.0, 5.0), rtol=1e-6)
    model.save(tmp_path / "m")
    np.testing.assert_allclose(klass.load(tmp_path / "m").predict(u, i), pred, rtol=1e-6)
    # a model saved before the range was kept (no "rating_range" in its weights) predicts as it did
    state = model._get_state()
    del state["rating_range"]
    model._set_state(state)
    np.testing.assert_allclose(model.predict(u, i), raw, rtol=1e-6)


@pytest.mark.parametrize("klass, data", [(EASE, "implicit_data"), (ItemKNN, "implicit_data"), (KNNBaseline, "ratings_data")])
def test_dense_item_item_models_refuse_oversized_catalogues(klass, data, request, monkeypatch):
    from autorecs.exceptions import ConfigError

    monkeypatch.setattr("autorecs.models._als.MAX_DENSE_ITEMS", 10)
    with pytest.raises(ConfigError, match=rf"{klass.__name__} .*items exceed its limit of 10\. Use "):
        klass().fit(request.getfixturevalue(data), seed=0, progress=False)


@pytest.mark.parametrize("klass", [EASE, ItemKNN, Popularity, KNNBaseline])
def test_models_solved_in_one_step_refuse_more_epochs(klass, ratings_data, tmp_path):
    """epochs=2 crashed EASE and ItemKNN (their one step frees its inputs), and the CLI suggested it."""
    from autorecs.exceptions import ConfigError

    with pytest.raises(ConfigError, match=r"'epochs' parameter of \w+ must be 1; got 2\. It is solved in one step"):
        klass(epochs=2)
    with pytest.raises(ConfigError, match="must be 1"):
        klass().set_params(epochs=3)
    assert klass.one_step and klass(epochs=1).get_params()["epochs"] == 1
    # a model saved when more epochs were accepted (they repeated the one step) still loads
    import json

    from autorecs import Recommender

    klass().fit(ratings_data, progress=False).save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    meta["params"]["epochs"] = 3
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    assert Recommender.load(tmp_path / "m").get_params()["epochs"] == 1
