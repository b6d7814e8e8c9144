import json

import pytest

from autorecs.cli import main
from autorecs.data import builtin, write_interactions
from autorecs.data.synthetic import low_rank_ratings
from autorecs.exceptions import DataError


def run(capsys, *args):
    code = main([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.fixture
def rating_files(tmp_path, ratings_data):
    path = write_interactions(ratings_data, tmp_path / "all.csv")
    return tmp_path, path


def test_split_fit_evaluate_recommend_json(capsys, rating_files):
    tmp, path = rating_files
    code, out, _ = run(capsys, "split", path, "--protocol", "random-60-20-20", "--out", tmp / "s", "--json")
    assert code == 0
    info = json.loads(out)
    assert info["protocol"] == "random-60-20-20" and info["rows"]["train"] == 3600
    code, out, _ = run(capsys, "fit", "--train", tmp / "s/train.csv", "--valid", tmp / "s/valid.csv", "--task", "rating", "-p", "factors=3", "-p", "epochs=5", "--out", tmp / "m", "--json")
    assert code == 0
    fit = json.loads(out)
    assert fit["model"] == "biased-mf" and fit["params"]["factors"] == 3 and fit["monitor"] == "valid_rmse"
    code, out, _ = run(capsys, "evaluate", "--model", tmp / "m", "--test", tmp / "s/test.csv", "--protocol", "random-60-20-20", "--json")
    assert code == 0
    ev = json.loads(out)
    assert ev["protocol"] == "random-60-20-20" and 0 < ev["rating"]["rmse"] < 1.0 and "seconds" in ev
    code, out, _ = run(capsys, "evaluate", "--model", tmp / "m", "--test", tmp / "s/test.csv")  # the table says what was scored
    assert code == 0 and f"Scored {ev['rows']:,} rows" in out and ("fallback" in out) == (ev["skipped_rows"] > 0)
    code, out, _ = run(capsys, "recommend", "--model", tmp / "m", "--user", "0", "--user", "nobody-9", "-n", "3", "--json")
    assert code != 0 and "integers" in _  # int ids: a string id is a clear error
    code, out, _ = run(capsys, "recommend", "--model", tmp / "m", "--user", "0", "--user", "99999", "-n", "3", "--json")
    recs = json.loads(out)["recommendations"]
    assert code == 0 and len(recs[0]["items"]) == 3 and recs[1]["fallback"] == "popular"
    assert recs[0]["fallback"] is None and len(recs[0]["scores"]) == 3  # model scores
    assert recs[1]["scores"] is None and len(recs[1]["popularity"]) == 3 and recs[1]["popularity"] == sorted(recs[1]["popularity"], reverse=True)
    code, out, err = run(capsys, "recommend", "--model", tmp / "m", "--user", "99999", "--fallback", "error", "--json")
    assert code == 3 and "1 user(s) are not in the model's training data (99999)" in err and out == ""


def test_ranking_fit_and_both_metric_families(capsys, tmp_path, implicit_data):
    from autorecs.data import split

    s = split(implicit_data, "random-60-20-20", seed=0)
    for name, part in zip(("train", "valid", "test"), s):
        write_interactions(part, tmp_path / f"{name}.parquet")
    code, out, _ = run(capsys, "fit", "--train", tmp_path / "train.parquet", "--valid", tmp_path / "valid.parquet", "--task", "ranking", "--model", "implicit-als", "-p", "factors=4", "--out", tmp_path / "m", "--json")
    assert code == 0, _
    code, out, _ = run(capsys, "evaluate", "--model", tmp_path / "m", "--test", tmp_path / "test.parquet", "--exclude", tmp_path / "valid.parquet", "--ks", "5,10", "--json")
    ev = json.loads(out)
    assert code == 0 and set(ev["lambdaopt"]) == {"auc", "hr@5", "ndcg@5", "hr@10", "ndcg@10"} and "recall@10" in ev["topk"]
    for model in ("amf", "neumf"):  # the λOpt paper's baselines, pre-trained inside fit
        code, out, err = run(capsys, "fit", "--train", tmp_path / "train.parquet", "--valid", tmp_path / "valid.parquet", "--task", "ranking",
                             "--model", model, "-p", "factors=4", "-p", "epochs=2", "--out", tmp_path / model, "--json")
        assert code == 0, err
        assert json.loads(out)["model"] == model and (tmp_path / model).is_dir()


@pytest.mark.parametrize(
    "content,args,message",
    [
        ("u,i,r\n1,2,3\n", ["--task", "rating"], "Column 'user' (the user column) is not in"),
        ("user,item,rating\n1,2,x\n", ["--task", "rating"], "Column 'rating'"),
        ("", ["--task", "rating"], "is empty"),
        ("user,item,rating\n1,2,3\n", ["--task", "rating", "--model", "svd"], "Unknown model 'svd'"),
        ("user,item,rating\n1,2,3\n", ["--task", "rating", "-p", "reg_user=-1"], "The 'reg_user' parameter of BiasedMF must be a float in [0, inf); got -1"),
        ("user,item,rating\n1,2,3\n", ["--task", "ranking", "--model", "biased-mf"], "is for the rating task"),
        ("user,item,rating\n1,2,3\n", ["--task", "rating", "-p", "factorz=3"], "no parameter(s) ['factorz']"),
        ("user,item,rating\n1,2,3\n", ["--task", "rating", "-p", "learning_rate"], "KEY=VALUE"),
        ("user,item,rating\n1,2,3\n", ["--task", "rating", "--device", "tpu"], "The 'device' option must be one of"),
        ("user,item,rating\n1,2,3\n", ["--task", "rating", "--model", "fm", "--device", "cuda"],
         "no CUDA GPU" if not __import__("torch").cuda.is_available() else "FM trains on the CPU only"),
    ],
)
def test_bad_input_exits_nonzero_with_one_clear_sentence(capsys, tmp_path, content, args, message):
    f = tmp_path / "train.csv"
    f.write_text(content)
    code, out, err = run(capsys, "fit", "--train", f, "--out", tmp_path / "m", *args)
    assert code != 0
    assert message in " ".join(err.split()), err
    assert "Traceback" not in err and out == ""


def test_model_dir_that_is_not_a_model(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", "--model", tmp_path, "--test", tmp_path / "x.csv")
    assert code != 0 and "is not a saved autorecs model" in err


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(DataError, match="is not a saved autorecs model"):
        main(["evaluate", "--model", str(tmp_path), "--test", "x.csv", "--debug"])


def test_quickstart_on_a_stand_in_builtin_dataset(capsys, tmp_path, monkeypatch):
    """The quickstart pipeline end to end, on synthetic data registered as a built-in set (no network)."""
    data = low_rank_ratings(120, 80, 3000, factors=2, seed=1)
    payload = data.to_frame().to_csv(sep="\t", header=False, index=False).encode()
    monkeypatch.setenv(builtin.CACHE_ENV, str(tmp_path / "cache"))
    spec = builtin.BuiltinDataset("fake-ml", "synthetic", (builtin.Source("url", "http://x.invalid", None, "u.data"),), rows=3000, loader=builtin._load_movielens)
    monkeypatch.setitem(builtin.DATASETS, "fake-ml", spec)
    monkeypatch.setattr(builtin, "_download_url", lambda src: {"u.data": payload})
    code, out, err = run(capsys, "quickstart", "--dataset", "fake-ml", "--out", tmp_path / "q", "--json")
    assert code == 0, err
    res = json.loads(out)
    models = [r["model"] for r in res["results"]]
    assert models[0] == "biased-mf" and models[1].startswith("sif (") and models[4] == "implicit-als"
    assert "of the 8-value grid" in models[2] and models[3] == "bpr-mf λOpt-DUI"
    assert res["results"][2]["params"]["reg"] in (10.0, 1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-5, 0.0)
    assert res["results"][1]["seconds"]["search"] > 0 and res["results"][1]["metrics"]["rating"]["rmse"] < 1.5
    assert {r["protocol"] for r in res["results"]} == {"random-50-25-25", "temporal-60-20-20"}
    assert (tmp_path / "q" / "learning_curves.png").stat().st_size > 10_000
    code, out, err = run(capsys, "quickstart", "--dataset", "fake-ml", "--out", tmp_path / "q2")  # for people: bars on stderr
    assert code == 0 and "λ grid (8 BPR-MF fits)" in err and "8/8" in err
    import autorecs.quickstart

    monkeypatch.setattr(autorecs.quickstart, "run_quickstart", lambda **kw: res)  # the human-readable report of the same result
    code, out, err = run(capsys, "quickstart", "--dataset", "fake-ml", "--out", tmp_path / "q")
    assert code == 0 and "λOpt-DUI against the λ grid: NDCG@100" in out


def test_datasets_list_json(capsys):
    code, out, _ = run(capsys, "datasets", "list", "--json")
    names = [d["name"] for d in json.loads(out)["datasets"]]
    assert code == 0 and {"ml-100k", "ml-1m"} <= set(names)


def test_config_file_toml_and_json(capsys, rating_files):
    tmp, path = rating_files
    (tmp / "c.toml").write_text("factors = 2\nepochs = 2\nsolver = 'adam'\n")
    (tmp / "c.json").write_text('{"factors": 2, "epochs": 2}')
    (tmp / "bad.json").write_text("{factors: 2")
    for cfg in ("c.toml", "c.json"):
        code, out, err = run(capsys, "fit", "--train", path, "--task", "rating", "--config", tmp / cfg, "--out", tmp / f"m-{cfg}", "--json")
        assert code == 0, err
        assert json.loads(out)["params"]["factors"] == 2
    code, _, err = run(capsys, "fit", "--train", path, "--task", "rating", "--config", tmp / "bad.json", "--out", tmp / "m-bad")
    assert code != 0 and "is not valid JSON" in err


def test_fit_with_lambdaopt_flags(capsys, rating_files):
    tmp, path = rating_files
    run(capsys, "split", path, "--protocol", "random-60-20-20", "--out", tmp / "s")
    base = ["fit", "--train", tmp / "s/train.csv", "--valid", tmp / "s/valid.csv", "--task", "rating", "-p", "factors=3", "-p", "epochs=2",
            "-p", "solver=adam"]
    code, out, err = run(capsys, *base, "--regularization", "lambdaopt", "--granularity", "DU", "--lambda-optimizer", "sgd",
                         "--lambda-lr", "0.01", "--report", tmp / "r", "--out", tmp / "m", "--json")
    assert code == 0, err
    assert (tmp / "r" / "lambda_trajectories.png").exists()
    assert len(json.loads((tmp / "r" / "lambda_trajectories.json").read_text())["records"]) == json.loads(out)["epochs"]
    p = json.loads(out)["params"]
    assert (p["lambdaopt"], p["lambda_optimizer"], p["lambda_lr"]) == ("DU", "sgd", 0.01)
    code, _, err = run(capsys, *base, "--granularity", "DU", "--out", tmp / "m2")
    assert code == 2 and "need --regularization lambdaopt" in err
    code, _, err = run(capsys, *base, "--regularization", "lambdaopt", "--lambda-optimizer", "rmsprop", "--out", tmp / "m3")
    assert code == 2 and "The '--lambda-optimizer' option must be 'adam' or 'sgd'; got 'rmsprop'" in err


def test_version_prints_the_version(capsys):
    from autorecs import __version__

    code, out, err = run(capsys, "--version")
    assert code == 0 and out.strip() == __version__, err


@pytest.mark.parametrize("args,message", [(["--trials", "0"], "The '--trials' option must be > 0; got 0"),
                                          (["--seconds", "-1"], "The '--seconds' option must be a positive number of seconds or a duration"),
                                          (["--seconds", "1x"], "such as 90s, 10m or 1h30m; got '1x'")])
def test_tune_refuses_an_empty_budget(capsys, rating_files, args, message):
    folder, path = rating_files
    code, out, err = run(capsys, "tune", "--train", path, "--valid", path, "--task", "rating", "--space", "mf-tpe",
                         "--storage", folder / "s.journal", *args)
    assert code != 0 and message in " ".join(err.split()) and "Traceback" not in err and out == ""


def test_evaluate_refuses_a_zero_cutoff(capsys, rating_files):
    folder, path = rating_files
    code, _, err = run(capsys, "fit", "--train", path, "--task", "ranking", "--model", "implicit-als", "-p", "epochs=1",
                       "--out", folder / "m", "--json")
    assert code == 0, err
    code, out, err = run(capsys, "evaluate", "--model", folder / "m", "--test", path, "--ks", "0")
    assert code != 0 and "The '--ks' option takes cut-offs >= 1; got '0'" in " ".join(err.split()) and out == ""


def test_evaluate_on_only_cold_rows_is_an_error_not_a_figure(capsys, rating_files):
    folder, path = rating_files
    code, _, err = run(capsys, "fit", "--train", path, "--task", "rating", "-p", "epochs=1", "--out", folder / "m", "--json")
    assert code == 0, err
    (folder / "cold.csv").write_text("user,item,rating\nnew1,new2,4\nnew3,new4,2\n")
    code, out, err = run(capsys, "evaluate", "--model", folder / "m", "--test", folder / "cold.csv", "--json")
    assert code != 0 and "None of the 2 evaluation rows has a user and an item that the model saw" in " ".join(err.split())
    assert out == "" and "Traceback" not in err


def test_split_says_how_many_cold_rows_it_dropped(capsys, rating_files):
    folder, path = rating_files
    code, out, err = run(capsys, "split", path, "--out", folder / "s", "--json")
    assert code == 0, err
    res = json.loads(out)
    n_in = len(path.read_text().splitlines()) - 1
    assert sum(res["rows"].values()) + res["dropped_cold"]["valid"] + res["dropped_cold"]["test"] == n_in
    assert "not in train" in res["dropped_cold"]["reason"]


def test_split_that_leaves_a_part_empty_is_refused_and_writes_nothing(capsys, tmp_path):
    f = tmp_path / "one.csv"
    f.write_text("user,item,rating,timestamp\n1,1,4,1\n1,2,3,2\n")
    code, out, err = run(capsys, "split", f, "--protocol", "temporal-60-20-20", "--out", tmp_path / "s")
    assert code != 0 and "leaves" in err and "empty" in err and "--protocol" in " ".join(err.split())
    assert not (tmp_path / "s").exists() and out == "" and "warning" not in err  # said once, as the error


def test_messages_name_the_flag_and_only_the_bad_values(capsys, tmp_path, implicit_data):
    f = tmp_path / "stars.csv"
    f.write_text("user,item,stars\n1,2,3\n2,3,4\n")
    code, _, err = run(capsys, "fit", "--train", f, "--task", "rating", "--out", tmp_path / "m")
    assert code != 0 and "--train" in err and "--rating-col" in " ".join(err.split())
    code, _, err = run(capsys, "fit", "--train", tmp_path, "--task", "rating", "--out", tmp_path / "m")
    assert code != 0 and "is a directory" in err and "--sep" not in err
    g = tmp_path / "ints.csv"
    g.write_text("user,item\n1,2\n2,3\n1,3\n")
    code, _, err = run(capsys, "fit", "--train", g, "--task", "ranking", "--model", "implicit-als", "-p", "epochs=1", "--out", tmp_path / "a")
    assert code == 0, err
    code, _, err = run(capsys, "recommend", "--model", tmp_path / "a", "--user", "abc", "--user", "1")
    assert code == 2 and "'abc'" in err and "'1'" not in err  # a bad option value, not bad data


def test_tune_saves_the_chosen_model_and_prints_a_fit_command_that_reproduces_it(capsys, rating_files):
    import shlex

    from autorecs import Recommender

    folder, path = rating_files
    code, out, err = run(capsys, "split", path, "--out", folder / "s", "--json")
    code, out, err = run(capsys, "tune", "--train", folder / "s/train.csv", "--valid", folder / "s/valid.csv", "--task", "rating",
                         "--space", "lambdaopt-grid", "--strategy", "grid", "-p", "epochs=4", "-p", "factors=2",
                         "--storage", folder / "t.journal", "--out", folder / "best", "--json")
    assert code == 0, err
    study = json.loads(out)["studies"][0]
    saved = Recommender.load(folder / "best")
    assert saved.get_params() == {**saved.get_params(), **study["model_params"]}
    assert "reg_user" in study["model_params"] and "reg" not in study["model_params"]  # fit's names, not the space's
    cmd = study["fit_command"].replace("TRAIN", str(folder / "s/train.csv")).replace("VALID", str(folder / "s/valid.csv"))
    cmd = cmd.replace("DIR", str(folder / "again"))
    code, out, err = run(capsys, *shlex.split(cmd)[1:], "--json")
    assert code == 0, err
    assert json.loads(out)["best_valid"] == pytest.approx(study["best_valid"], rel=1e-6)  # the same trial, retrained
    code, out, err = run(capsys, "tune", "--train", folder / "s/train.csv", "--valid", folder / "s/valid.csv", "--task", "rating",
                         "--space", "lambdaopt-grid", "--strategy", "grid", "-p", "epochs=2", "-p", "factors=2",
                         "--storage", folder / "t2.journal", "--duplicates", "mean")
    printed = "".join(out.split("\n"))
    assert code == 0 and f"--train {folder / 's/train.csv'} --valid {folder / 's/valid.csv'} --duplicates mean --out DIR" in printed, out


def test_help_has_short_flag_exit_codes_and_no_type_tags_on_flags(capsys):
    from autorecs import exceptions
    from autorecs.cli import EXIT_CODES

    code, out, _ = run(capsys, "-h")
    assert code == 0 and "Exit codes:" in out
    code, out, _ = run(capsys, "fit", "-h")
    assert code == 0 and "--overwrite" in out and "<bool>" not in out and "<int>" in out  # valued options keep their type
    classes = [c for c in vars(exceptions).values() if isinstance(c, type) and issubclass(c, exceptions.AutorecsError)]
    assert {c.exit_code for c in classes} <= set(EXIT_CODES)  # every code the CLI can return is documented


def test_models_lists_models_and_one_models_parameters(capsys):
    code, out, _ = run(capsys, "models", "--json")
    rows = {m["name"]: m for m in json.loads(out)["models"]}
    assert code == 0 and rows["implicit-als"]["task"] == "ranking" and "ALS" in rows["implicit-als"]["summary"]
    code, out, _ = run(capsys, "models", "bpr-mf", "--json")
    params = {p["name"]: p for p in json.loads(out)["params"]}
    assert params["factors"]["default"] == 64 and params["factors"]["help"] == "Latent dimension K."
    assert params["epochs"]["help"].startswith("Maximum number of epochs")  # inherited from the shared FitConfig


def test_task_follows_from_model(capsys, rating_files):
    folder, path = rating_files
    code, out, err = run(capsys, "fit", "--train", path, "--model", "implicit-als", "-p", "epochs=1", "--out", folder / "m", "--json")
    assert code == 0 and json.loads(out)["task"] == "ranking", err


def test_predict_similar_users_file_and_cv(capsys, rating_files):
    import pandas as pd

    from autorecs import Recommender

    folder, path = rating_files
    code, _, err = run(capsys, "fit", "--train", path, "--task", "rating", "-p", "factors=3", "-p", "epochs=3", "--out", folder / "m", "--json")
    assert code == 0, err
    model = Recommender.load(folder / "m")
    frame = pd.read_csv(path).head(7)
    frame.loc[6, "user"] = 10**9  # an unknown user: the model's fallback, counted
    frame[["user", "item"]].to_csv(folder / "pairs.csv", index=False)
    code, out, err = run(capsys, "predict", "--model", folder / "m", "--pairs", folder / "pairs.csv", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["unknown_pairs"] == 1 and len(res["predictions"]) == 7
    expected = model.predict(frame["user"].to_numpy(), frame["item"].to_numpy())
    assert [p["score"] for p in res["predictions"]] == pytest.approx(expected.tolist(), rel=1e-6)
    code, out, err = run(capsys, "predict", "--model", folder / "m", "--pairs", folder / "pairs.csv", "--out", folder / "scores.parquet", "--json")
    assert code == 0 and pd.read_parquet(folder / "scores.parquet")["score"].tolist() == pytest.approx(expected.tolist(), rel=1e-6)

    item = str(frame["item"][0])
    code, out, err = run(capsys, "similar", "--model", folder / "m", "--item", item, "-n", "4", "--json")
    assert code == 0, err
    got = json.loads(out)["results"][0]
    assert got["similar"] == model.similar_items([int(item)], n=4).items[0].tolist()

    pd.DataFrame({"user": [frame["user"][0], 10**9]}).to_csv(folder / "users.csv", index=False)
    code, out, err = run(capsys, "recommend", "--model", folder / "m", "--users-file", folder / "users.csv", "-n", "3", "--out", folder / "recs.csv", "--json")
    assert code == 0 and json.loads(out)["fallback_users"] == 1, err
    recs = pd.read_csv(folder / "recs.csv")
    assert len(recs) == 6 and recs["rank"].tolist() == [1, 2, 3, 1, 2, 3] and recs["fallback"].tolist() == [False] * 3 + [True] * 3

    code, out, err = run(capsys, "cv", "--data", path, "--task", "rating", "-p", "factors=3", "-p", "epochs=3", "--folds", "3", "--json")
    assert code == 0, err
    cv = json.loads(out)
    assert cv["n_folds"] == 3 and len(cv["folds"]) == 3 and cv["mean"]["rmse"] == pytest.approx(sum(f["rmse"] for f in cv["folds"]) / 3)
    # the table fits a terminal: whole metric names and numbers with ten folds (a column per fold cut them to '…')
    code, out, err = run(capsys, "cv", "--data", path, "--model", "popularity", "--folds", "10")
    assert code == 0 and "…" not in out and "topk.recall@100" in out and "lambdaopt.ndcg@50" in out, out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_python_dash_m_runs_the_cli():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "autorecs", "models"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "bpr-mf" in out.stdout


def test_ids_as_text_keep_codes_with_leading_zeros_apart(capsys, tmp_path):
    f = tmp_path / "codes.csv"
    rows = ["user,item,rating"] + [f"{u},{i},{1 + (ord(u[-1]) + i) % 5}" for u in ("007", "7", "010") for i in range(1, 9)]
    f.write_text("\n".join(rows) + "\n")
    code, _, err = run(capsys, "fit", "--train", f, "--task", "rating", "--ids", "text", "-p", "epochs=1", "-p", "factors=2",
                       "--out", tmp_path / "m")
    assert code == 0, err
    code, out, err = run(capsys, "recommend", "--model", tmp_path / "m", "--user", "007", "--user", "7", "--json")
    import json
    recs = json.loads(out)["recommendations"]
    assert code == 0 and [r["user"] for r in recs] == ["007", "7"] and not any(r["fallback"] for r in recs)
    users = tmp_path / "users.csv"
    users.write_text("user\n007\n010\n")
    code, out, err = run(capsys, "recommend", "--model", tmp_path / "m", "--users-file", users, "--json")
    assert code == 0 and [r["user"] for r in json.loads(out)["recommendations"]] == ["007", "010"]
    code, _, err = run(capsys, "fit", "--train", f, "--task", "rating", "--ids", "str", "--out", tmp_path / "n")
    assert code == 2 and "The '--ids' option must be auto" in err


def test_a_text_id_model_reads_its_pairs_and_test_files_as_text(capsys, tmp_path):
    import json

    f = tmp_path / "codes.csv"
    rows = ["user,item,rating"] + [f"{u},{i},{1 + (ord(u[-1]) + i) % 5}" for u in ("007", "010", "012") for i in range(1, 9)]
    f.write_text("\n".join(rows) + "\n")
    assert run(capsys, "fit", "--train", f, "--task", "rating", "--ids", "text", "-p", "epochs=1", "-p", "factors=2",
               "--out", tmp_path / "m")[0] == 0
    code, out, err = run(capsys, "evaluate", "--model", tmp_path / "m", "--test", f, "--json")  # no --ids: the model's kind
    assert code == 0, err
    assert json.loads(out)["skipped_rows"] == 0
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("user,item\n007,3\n010,4\n")
    code, out, err = run(capsys, "predict", "--model", tmp_path / "m", "--pairs", pairs, "--json")
    assert code == 0, err
    scored = json.loads(out)
    assert scored["unknown_pairs"] == 0 and [r["user"] for r in scored["predictions"]] == ["007", "010"]
