"""The command line's answers to a new user's mistakes: each exits non-zero with one sentence that
names the flag (or file), the value and the fix; no traceback; nothing half-written left behind."""

import shutil

import pytest

from autorecs.cli import main
from autorecs.data import write_interactions
from autorecs.data.synthetic import low_rank_ratings


def run(capsys, *args):
    code = main([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, " ".join(cap.err.split())


def assert_refused(code, out, err, *phrases):
    assert code != 0, err
    assert "Traceback" not in err and out == "", (out, err)
    for p in phrases:
        assert p in err, err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A small rating file and a model fitted on it (fitted once for the module)."""
    folder = tmp_path_factory.mktemp("cli")
    data = low_rank_ratings(60, 40, 900, factors=2, seed=3)
    path = write_interactions(data, folder / "ratings.csv")
    assert main(["fit", "--train", str(path), "--task", "rating", "-p", "epochs=1", "-p", "factors=2", "--out", str(folder / "model"), "--json"]) == 0
    return folder, path


def _fewer_user_rows(weights):
    """Weights whose user tables lost their last rows (the item side intact)."""
    import numpy as np

    with np.load(weights) as w:
        arrays = {k: (w[k][:10] if k in ("P", "bu") else w[k]) for k in w.files}
    np.savez(weights, **arrays)


def damaged_copy(files, tmp_path, damage):
    folder, _ = files
    model = tmp_path / "model"
    shutil.copytree(folder / "model", model)
    damage(model)
    return model


@pytest.mark.parametrize("damage", [
    lambda m: (m / "weights.npz").unlink(),
    lambda m: (m / "ids.npz").unlink(),
    lambda m: (m / "weights.npz").write_bytes((m / "weights.npz").read_bytes()[:100]),
    lambda m: (m / "ids.npz").write_bytes(b"not a zip file"),
    lambda m: (m / "weights.npz").write_bytes(b"garbage"),
    lambda m: _fewer_user_rows(m / "weights.npz"),
], ids=["weights-deleted", "ids-deleted", "weights-truncated", "ids-garbage", "weights-garbage", "weights-fewer-users"])
@pytest.mark.parametrize("command", ["evaluate", "recommend"])
def test_a_damaged_model_directory_is_one_sentence(capsys, files, tmp_path, damage, command):
    model = damaged_copy(files, tmp_path, damage)
    args = ["--test", files[1]] if command == "evaluate" else ["--user", "0"]
    code, out, err = run(capsys, command, "--model", model, *args)
    assert_refused(code, out, err, f"The model directory '{model}' is damaged", "refit the model")
    assert "pickle" not in err  # NumPy's "load it unsafely with allow_pickle" is no advice to give (it runs the file's code)


def test_weights_of_another_model_are_detected(capsys, files, tmp_path):
    folder, path = files
    small = low_rank_ratings(10, 8, 60, factors=2, seed=1)
    other = tmp_path / "other"
    assert main(["fit", "--train", str(write_interactions(small, tmp_path / "s.csv")), "--task", "rating", "-p", "epochs=1",
                 "-p", "factors=2", "--out", str(other), "--json"]) == 0
    capsys.readouterr()
    model = damaged_copy(files, tmp_path, lambda m: shutil.copy(other / "weights.npz", m / "weights.npz"))
    assert_refused(*run(capsys, "recommend", "--model", model, "--user", "0"), "is damaged", "items but ids.npz lists")


def test_fit_into_an_existing_model_directory_needs_overwrite(capsys, files, tmp_path):
    folder, path = files
    target = tmp_path / "m"
    shutil.copytree(folder / "model", target)
    before = (target / "weights.npz").read_bytes()
    assert_refused(*run(capsys, "fit", "--train", path, "--task", "rating", "-p", "epochs=1", "--out", target),
                   f"The '--out' model directory '{target}' already exists and is not empty", "--overwrite")
    assert (target / "weights.npz").read_bytes() == before
    code, _, err = run(capsys, "fit", "--train", path, "--task", "rating", "-p", "epochs=1", "-p", "factors=3", "--out", target,
                       "--overwrite", "--json")
    assert code == 0, err and (target / "weights.npz").read_bytes() != before


@pytest.mark.parametrize("command", ["fit", "split"])
def test_out_that_is_a_file_is_refused_before_any_work(capsys, files, tmp_path, command):
    folder, path = files
    target = tmp_path / "taken.txt"
    target.write_text("mine")
    args = ["--train", path, "--task", "rating"] if command == "fit" else [path]
    assert_refused(*run(capsys, command, *args, "--out", target), f"'{target}' is a file, not a directory")
    assert target.read_text() == "mine"


def test_split_into_a_non_empty_directory_needs_overwrite(capsys, files, tmp_path):
    folder, path = files
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "notes.txt").write_text("keep")
    assert_refused(*run(capsys, "split", path, "--out", tmp_path / "s"), "already exists and is not empty", "--overwrite")
    code, _, err = run(capsys, "split", path, "--out", tmp_path / "s", "--overwrite")
    assert code == 0 and (tmp_path / "s" / "train.csv").exists() and (tmp_path / "s" / "notes.txt").read_text() == "keep"


@pytest.mark.parametrize("storage,phrase", [
    ("no/such/dir/s.journal", "The '--storage' path"),
    (".", "is a directory; give a journal file inside it"),
])
def test_tune_storage_paths(capsys, files, tmp_path, monkeypatch, storage, phrase):
    monkeypatch.chdir(tmp_path)
    folder, path = files
    assert_refused(*run(capsys, "tune", "--train", path, "--valid", path, "--task", "rating", "--space", "mf-tpe", "--storage", storage), phrase)
    assert not (tmp_path / "no").exists()


def test_tune_on_other_data_under_the_same_study_name_is_refused(capsys, files, tmp_path):
    folder, path = files
    other = write_interactions(low_rank_ratings(50, 30, 700, factors=2, seed=9), tmp_path / "other.csv")
    common = ["--valid", path, "--task", "rating", "--space", "mf-tpe", "--trials", "1", "-p", "epochs=1", "--storage", tmp_path / "s.journal"]
    code, out, err = run(capsys, "tune", "--train", path, *common, "--study", "mine", "--json")
    assert code == 0, err
    assert_refused(*run(capsys, "tune", "--train", other, *common, "--study", "mine", "--json"), "was started on other data", "--study")
    code, out, err = run(capsys, "tune", "--train", other, *common, "--json")  # no name: a study of its own
    assert code == 0 and len(__import__("json").loads(out)["studies"][0]["trials"]) == 1, err


@pytest.mark.parametrize("args,phrase", [
    (["fit", "--train", "X", "--out", "M"], "The '--task' option is needed when --model is not given"),
    (["fit", "--train", "X", "--task", "ratings", "--out", "M"], "The '--task' option must be 'rating' or 'ranking'; got 'ratings'"),
    (["models", "svd"], "Unknown model 'svd'; choose one of"),
    (["fit", "--train", "X", "--model", "svd", "--out", "M"], "`autorecs models` lists them"),
])
def test_model_and_task_mistakes(capsys, tmp_path, monkeypatch, args, phrase):
    monkeypatch.chdir(tmp_path)
    assert_refused(*run(capsys, *args), phrase)


def test_duplicates_policy_flag(capsys, tmp_path):
    f = tmp_path / "dups.csv"
    f.write_text("user,item,rating,timestamp\n1,1,5,1\n1,1,1,2\n2,1,3,1\n2,2,4,2\n1,2,2,3\n")
    assert_refused(*run(capsys, "split", f, "--out", tmp_path / "s", "--duplicates", "error"), "duplicated (user, item) rows", "--duplicates last")
    assert_refused(*run(capsys, "split", f, "--out", tmp_path / "s", "--duplicates", "max"), "The '--duplicates' option must be one of last, first, mean, error; got 'max'")
    code, out, err = run(capsys, "split", f, "--out", tmp_path / "s", "--duplicates", "mean", "--cold", "keep", "--protocol", "random-60-20-20", "--json")
    assert code == 0, err
    assert sum(__import__("json").loads(out)["rows"].values()) == 4  # the two (1, 1) rows became one


def test_test_ratings_far_outside_the_training_scale_are_warned_about(capsys, files, tmp_path):
    folder, path = files
    f = tmp_path / "test.csv"
    lines = path.read_text().splitlines()
    head, rows = lines[0], lines[1:6]
    cols = head.split(",")
    r = cols.index("rating")
    bad = [",".join(v if k != r else "500" for k, v in enumerate(row.split(","))) for row in rows[:2]] + rows[2:]
    f.write_text("\n".join([head, *bad]) + "\n")
    code, out, err = run(capsys, "evaluate", "--model", folder / "model", "--test", f, "--json")
    assert code == 0 and "2 of 5 test ratings lie far outside the training scale" in err and "e.g. 500" in err
    code, out, err = run(capsys, "evaluate", "--model", folder / "model", "--test", path, "--json")
    assert code == 0 and "far outside" not in err


@pytest.mark.parametrize("args,phrases", [
    (["recommend", "--model", "{m}"], ["either with --user (repeatable) or with --users-file"]),
    (["recommend", "--model", "{m}", "--user", "1", "--users-file", "{f}"], ["not both and not neither"]),
    (["recommend", "--model", "{m}", "--users-file", "{f}", "--user-col", "uid"], ["has no column 'uid' (--user-col)", "its columns are"]),
    (["recommend", "--model", "{m}", "--user", "1", "--fallback", "none"], ["The '--fallback' option must be 'popular' or 'error'"]),
    (["predict", "--model", "{m}", "--pairs", "{f}", "--item-col", "movie"], ["The --pairs file", "no column 'movie' (--item-col)"]),
    (["predict", "--model", "{m}", "--pairs", "{dir}"], ["is a directory"]),
    (["predict", "--model", "{m}", "--pairs", "{blank}"], ["The --pairs file", "has 1 missing id(s) in column 'user' (the first at data row 2"]),
    (["recommend", "--model", "{m}", "--users-file", "{blank}"], ["The --users-file '", "1 missing id(s) in column 'user'"]),
    (["similar", "--model", "{m}"], ["Give either --item ids"]),
    (["recommend", "--model", "{m}", "--user", "1", "--out", "{dir}/recs.xlsx"], ["must end in .csv, .tsv or .parquet"]),
    (["similar", "--model", "{m}", "--item", "x1"], ["The '--item' option got 'x1', but the model's ids are integers"]),
    (["similar", "--model", "{m}", "--item", "999999"], ["1 id(s) are not in the model's training data (999999)"]),
    (["cv", "--data", "{f}", "--task", "rating", "--folds", "2"], ["The '--folds' option must be >= 3"]),
    (["cv", "--data", "{f}", "--task", "rating", "--ks", "a"], ["The '--ks' option takes comma-separated integers"]),
    (["cv", "--data", "{f}", "--task", "rating", "-p", "factors=0"], ["The 'factors' parameter of BiasedMF must be an int >= 1; got 0"]),
    (["evaluate", "--model", "{m}", "--test", "{f}", "--ks", "5,x"], ["The '--ks' option takes comma-separated integers"]),
    (["split", "{f}", "--protocol", "random-80-20-0", "--out", "{dir}/s"], ["The '--protocol' option 'random-80-20-0' gives test 0%"]),
    (["split", "{f}", "--protocol", "random-60-40", "--out", "{dir}/s"], ["Unknown split protocol 'random-60-40'"]),
    (["quickstart", "--dataset", "nope", "--out", "{dir}/q"], ["Unknown data set 'nope'"]),
])
def test_serving_and_cv_mistakes(capsys, files, tmp_path, args, phrases):
    folder, path = files
    (tmp_path / "blank.csv").write_text("user,item\n1,2\n,3\n")  # a blank id read as NaN made the ids floats: "got '1.0', nan"
    fill = {"{m}": str(folder / "model"), "{f}": str(path), "{dir}": str(tmp_path), "{blank}": str(tmp_path / "blank.csv")}
    assert_refused(*run(capsys, *[fill.get(a, a).replace("{dir}", str(tmp_path)) for a in args]), *phrases)
    assert not (tmp_path / "s").exists() and not (tmp_path / "q").exists()  # refused before anything was written


@pytest.mark.parametrize("args,phrase", [
    (["fit", "--task", "rating", "-p", "solver=adam", "--regularization", "lambdaopt", "--granularity", "XX"],
     "The '--granularity' option must be '' or one of"),
    (["fit", "--task", "ranking", "--regularization", "lambdaopt", "--lambda-lr", "-1"], "The '--lambda-lr' option must be a float"),
    (["fit", "--task", "rating", "-p", "solver=adam", "--regularization", "lambdaopt", "--lambda-every", "0"],
     "The '--lambda-every' option must be an int >= 1; got 0"),
    (["fit", "--task", "rating", "--rating-col", "none"], "--task rating needs ratings, but --rating-col is 'none'"),
    (["search-ifc", "--dims", "0"], "The '--dims' option takes embedding sizes >= 1; got '0'"),
    (["fit", "--model", "ease", "-p", "epochs=2"], "The 'epochs' parameter of EASE must be 1; got 2. It is solved in one step"),
])
def test_errors_name_the_flag_not_the_python_parameter(capsys, files, tmp_path, args, phrase):
    folder, path = files
    extra = ["--valid", path] if args[0] == "search-ifc" or "lambdaopt" in args else []
    assert_refused(*run(capsys, *args, "--train", path, *extra, "--out", tmp_path / "o"), phrase)


@pytest.mark.parametrize("args,phrase", [
    (["auto", "--task", "rating", "--budget", "soon"], "The '--budget' option must be seconds or a duration such as 10m"),
    (["auto", "--task", "rating", "--metric", "ndcg@10"], "The '--metric' option must be 'rmse' or 'mae'"),
    (["auto", "--task", "ranking", "--metric", "RMSE"], "The '--metric' option must be a ranking metric for a ranking run"),
    (["auto", "--task", "ratings"], "The '--task' option must be 'rating' or 'ranking'"),
    (["auto", "--task", "rating", "--families", "ease"], "Unknown rating families ['ease']"),
    (["auto", "--task", "rating", "--jobs", "0"], "The '--jobs' option must be an int >= 1"),
    (["auto", "--task", "rating", "--seed", "-1"], "The '--seed' option must be an int in [0, 2**32)"),
    (["auto", "--task", "rating", "--families", " , "], "The '--families' option names no family; got ' , '"),
])
def test_auto_mistakes(capsys, files, tmp_path, args, phrase):
    folder, path = files
    assert_refused(*run(capsys, *args, "--train", path, "--out", tmp_path / "a"), phrase)
    assert not (tmp_path / "a" / "model").exists()


def test_no_more_epochs_hint_for_a_model_solved_in_one_step(capsys, files, tmp_path):
    """The hint "its last allowed epoch: more may help, e.g. -p epochs=2" led into a crash on EASE and item-kNN."""
    folder, path = files
    code, out, err = run(capsys, "fit", "--train", path, "--valid", path, "--model", "item-knn", "--out", tmp_path / "knn")
    assert code == 0 and "1 epoch in" in out and "best valid_ndcg@50" in out and "more may help" not in out, (out, err)
    code, out, err = run(capsys, "fit", "--train", path, "--valid", path, "--model", "biased-mf", "-p", "epochs=1", "--out", tmp_path / "mf")
    assert code == 0 and "more may help, e.g. -p epochs=2" in " ".join(out.split()), (out, err)


def test_auto_command_end_to_end(capsys, files, tmp_path):
    import json

    folder, path = files
    code, out, err = run(capsys, "auto", "--train", path, "--task", "rating", "--budget", "4", "--families", "baseline,biased-mf-als",
                         "--out", tmp_path / "a", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["chosen"]["family"] in ("baseline", "biased-mf-als") and (tmp_path / "a" / "report.html").exists()
    code, out, err = run(capsys, "recommend", "--model", tmp_path / "a" / "model", "--user", "0", "-n", "3", "--json")
    assert code == 0 and len(json.loads(out)["recommendations"][0]["items"]) == 3


def test_n_is_named_as_the_flag(capsys, files):
    folder, path = files
    assert_refused(*run(capsys, "recommend", "--model", folder / "model", "--user", "0", "-n", "0"), "The '-n' option must be an int >= 1; got 0")


def test_an_unknown_data_set_name_lists_the_built_in_ones(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_refused(*run(capsys, "fit", "--train", "ml-10m", "--task", "rating", "--out", "m"),
                   "The --train argument 'ml-10m' is neither a file nor a built-in data set (", "ml-100k", "check the path or the name")


def test_the_librarys_warnings_reach_stderr_as_one_line(capsys, monkeypatch):
    """The library logs to a NullHandler; the CLI shows its warnings (a re-queued trial, an interrupted auto run)."""
    import autorecs.cli as cli
    from autorecs._progress import logger

    monkeypatch.setattr(cli, "app", lambda **kw: logger.warning("2 trial(s) interrupted earlier were queued again"))
    assert cli.main(["tune"]) == 0
    assert capsys.readouterr().err == "warning: 2 trial(s) interrupted earlier were queued again\n"
    assert not any(isinstance(h, __import__("logging").StreamHandler) and not isinstance(h, __import__("logging").NullHandler)
                   for h in logger.handlers)  # removed again


def test_an_output_path_that_cannot_be_written_is_refused_before_any_work(capsys, tmp_path, monkeypatch):
    import os

    (tmp_path / "afile").write_text("x")
    code, out, err = run(capsys, "fit", "--train", "ml-100k", "--task", "rating", "--out", tmp_path / "afile" / "m")
    assert_refused(code, out, err, "The '--out' model directory", "which is a file")
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p).startswith(str(tmp_path / "ro")) else real(p, mode, **kw))
    (tmp_path / "ro").mkdir()
    for args in (["fit", "--train", "ml-100k", "--task", "rating", "--out", tmp_path / "ro" / "m"],
                 ["split", "ml-100k", "--protocol", "random-50-25-25", "--out", tmp_path / "ro" / "s"],
                 ["auto", "--train", "ml-100k", "--task", "rating", "--budget", "10s", "--out", tmp_path / "ro" / "a"]):
        code, out, err = run(capsys, *args)
        assert_refused(code, out, err, "cannot be written", "is not writable); choose a path in a directory you can write to")
        assert code == 2


def test_a_directory_given_as_a_file_and_an_unknown_space_say_so(capsys, tmp_path):
    code, out, err = run(capsys, "fit", "--train", "ml-100k", "--task", "rating", "--config", tmp_path, "--out", tmp_path / "m")
    assert_refused(code, out, err, "is a directory; give a TOML, YAML or JSON file")
    code, out, err = run(capsys, "tune", "--train", "ml-100k", "--valid", "ml-100k", "--task", "rating", "--space", "nosuch")
    assert_refused(code, out, err, "'nosuch' does not exist", "lambdaopt-grid, sif-grid, mf-tpe")


def test_progress_lines_are_shown_without_the_warning_prefix(capsys, monkeypatch):
    import autorecs.cli as cli
    from autorecs._progress import logger

    def emit(**kw):
        logger.info("auto    1.0s  baseline  default rmse=0.9", extra={"progress": True})
        logger.info("a restart line nobody asked for")

    monkeypatch.setattr(cli, "app", emit)
    assert cli.main(["auto"]) == 0
    assert capsys.readouterr().err == "auto    1.0s  baseline  default rmse=0.9\n"


def test_an_interrupted_auto_run_exits_130_after_writing_its_model(capsys, files, tmp_path, monkeypatch):
    """Ctrl-C: a model is written (chosen among the finished trials), but scripts can tell the run is unfinished."""
    from tests.helpers.interrupt import ctrl_c_after

    folder, path = files
    ctrl_c_after(monkeypatch, 2)
    code, out, err = run(capsys, "auto", "--train", path, "--task", "rating", "--budget", "30", "--families", "baseline,biased-mf-als",
                         "--out", tmp_path / "a")
    assert code == 130 and (tmp_path / "a" / "model" / "model.json").exists() and "interrupted" in out
