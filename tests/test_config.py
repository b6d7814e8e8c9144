"""autorecs.config: the JSON that report files and --json outputs are written as."""

import pytest


def test_reports_are_strict_json():
    """A constant-rating run wrote "rmse_std": NaN into report.json, which strict JSON parsers refuse."""
    import json

    import numpy as np

    from autorecs.config import json_text

    text = json_text({"rmse_std": float("nan"), "a": [np.float32(0.5), np.inf], "k": np.int64(3), "arr": np.array([1.0, np.nan])})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}")) == {
        "rmse_std": None, "a": [0.5, None], "k": 3, "arr": [1.0, None]}
