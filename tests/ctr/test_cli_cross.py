import json

import pandas as pd

from autorecs.data.synthetic import planted_cross_table
from tests.test_cli import run


def test_cross_search_then_apply(capsys, tmp_path):
    table = planted_cross_table(4000, seed=0)
    table.iloc[:3000].to_csv(tmp_path / "train.csv", index=False)
    table.iloc[3000:].to_csv(tmp_path / "test.csv", index=False)
    code, out, _ = run(capsys, "cross", "--train", tmp_path / "train.csv", "--test", tmp_path / "test.csv", "--label", "label",
                       "--max-crosses", "2", "--out", tmp_path / "m", "--json")
    assert code == 0
    rep = json.loads(out)
    assert rep["crosses"][0] == "c1 x c3"
    assert rep["ac+lr"]["test"]["auc"] > rep["lr"]["test"]["auc"] + 0.1
    assert rep["ac+lr"]["inference_ms_per_row"] > 0 and (tmp_path / "m" / "cross_search.png").exists()
    assert rep["refit"] and rep["ac+lr"]["test_before_refit"]["auc"] > rep["lr"]["test_before_refit"]["auc"] + 0.1
    new = table.iloc[3000:].drop(columns="label")  # unlabelled rows can be transformed
    new.to_parquet(tmp_path / "new.parquet")
    code, out, _ = run(capsys, "cross", "apply", tmp_path / "new.parquet", "--model", tmp_path / "m", "--out", tmp_path / "scored.parquet",
                       "--json")  # --out as every other command (--output still works)
    assert code == 0 and json.loads(out)["output"] == str(tmp_path / "scored.parquet")
    written = pd.read_parquet(json.loads(out)["output"])
    assert list(written.columns[-len(rep["crosses"]) - 1:]) == rep["crosses"] + ["score"]
    assert written["score"].between(0, 1).all()


def test_cross_errors_are_one_line(capsys, tmp_path):
    planted_cross_table(200, seed=0).to_csv(tmp_path / "t.csv", index=False)
    code, _, err = run(capsys, "cross", "--train", tmp_path / "t.csv", "--out", tmp_path / "m")
    assert code == 2 and "'--label' option is required" in err
    code, _, err = run(capsys, "cross", "--train", tmp_path / "t.csv", "--label", "label", "--bins", "4,x", "--out", tmp_path / "m")
    assert code == 2 and "'--bins' option" in err
    code, _, err = run(capsys, "cross", "--train", tmp_path / "missing.csv", "--label", "label", "--out", tmp_path / "m")
    assert code == 3 and "No file at" in err
    code, _, err = run(capsys, "cross", "apply", tmp_path / "t.csv", "--model", tmp_path / "nothing")
    assert code == 3 and "autocross.json is missing" in err


def test_no_refit_keeps_the_train_only_models(capsys, tmp_path):
    from autorecs.ctr.pipeline import CrossLR

    table = planted_cross_table(3000, seed=1)
    table.to_csv(tmp_path / "train.csv", index=False)
    coefs = {}
    for flag in ("--refit", "--no-refit"):
        code, out, _ = run(capsys, "cross", "--train", tmp_path / "train.csv", "--label", "label", "--max-crosses", "1",
                           "--out", tmp_path / flag, "--json", flag)
        assert code == 0
        rep = json.loads(out)
        assert rep["refit"] == (flag == "--refit") and "test" not in rep["ac+lr"]
        coefs[flag] = CrossLR.load(tmp_path / flag).lr.coef_
    # same crosses and penalties, but the refit model has seen the validation rows too
    assert coefs["--refit"].shape == coefs["--no-refit"].shape and not (coefs["--refit"] == coefs["--no-refit"]).all()


def test_cross_mistakes_found_before_the_search(capsys, tmp_path):
    """A newcomer's cases: a text column forced numerical was binned into one bucket (the feature gone, exit 0); a test
    table without the label failed after the search, naming no table; a gap in the label was reported as its values;
    a second run replaced the first's model silently; errors named Python parameters."""
    table = planted_cross_table(600, seed=0)
    table.to_csv(tmp_path / "t.csv", index=False)
    table.drop(columns="label").to_csv(tmp_path / "nolabel.csv", index=False)
    gap = table.astype({"label": "float64"})
    gap.loc[7, "label"] = None
    gap.to_csv(tmp_path / "gap.csv", index=False)
    base = ["cross", "--train", tmp_path / "t.csv", "--label", "label", "--max-crosses", "1"]
    code, _, err = run(capsys, *base, "--numerical", "c1", "--out", tmp_path / "a")
    assert code == 3 and "The column 'c1' is listed as numerical but holds values that are not numbers, e.g. 'v3'" in err
    code, _, err = run(capsys, *base, "--test", tmp_path / "nolabel.csv", "--out", tmp_path / "b")
    assert code == 3 and "The test table lacks the column(s) ['label']" in err
    code, _, err = run(capsys, "cross", "--train", tmp_path / "gap.csv", "--label", "label", "--out", tmp_path / "c")
    assert code == 3 and "of the training table has 1 missing value(s) (the first at data row 8, counting from 1)" in err
    code, _, err = run(capsys, *base, "--valid-fraction", "0", "--out", tmp_path / "d")
    assert code == 2 and "The '--valid-fraction' option must be in (0, 1); got 0.0" in err
    code, out, err = run(capsys, *base, "--drop", "c0", "--out", tmp_path / "e", "--json")
    assert code == 0 and "c0" not in json.loads(out)["columns"] and json.loads(out)["columns"]["x0"] == "numerical"
    code, _, err = run(capsys, *base, "--out", tmp_path / "e")
    assert code == 2 and "already exists and is not empty" in err and "--overwrite" in err
    code, out, err = run(capsys, *base, "--out", tmp_path / "e", "--overwrite")
    assert code == 0 and "Features: categorical c0, c1" in out and "µs a row" in out


def test_a_damaged_cross_model_is_one_sentence(capsys, tmp_path):
    """Garbage in crosses.npz, lr.npz or autocross.json ended in a ValueError/JSONDecodeError traceback."""
    import shutil

    planted_cross_table(800, seed=0).to_csv(tmp_path / "t.csv", index=False)
    code, _, err = run(capsys, "cross", "--train", tmp_path / "t.csv", "--label", "label", "--max-crosses", "1", "--out", tmp_path / "m")
    assert code == 0, err
    for name in ("crosses.npz", "lr.npz", "autocross.json", "crosses.npz.half", "lr.npz.half"):
        shutil.copytree(tmp_path / "m", tmp_path / name)
        target = tmp_path / name / name.removesuffix(".half")
        if name.endswith(".half"):  # truncated: a zipfile.BadZipFile, not among the errors first caught
            target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
        else:
            target.write_text("garbage")
        code, out, err = run(capsys, "cross", "apply", tmp_path / "t.csv", "--model", tmp_path / name, "--out", tmp_path / "o.csv")
        assert code == 3 and "Traceback" not in err and f"The AutoCross model directory '{tmp_path / name}' is damaged" in err, err
