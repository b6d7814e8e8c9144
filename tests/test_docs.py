"""The API reference builds from the docstrings with warnings as errors, so that it cannot rot."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_api_reference_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    src = tmp_path / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("generated", "_build", "*.md"))
    out = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html", str(src), str(tmp_path / "html")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    page = (tmp_path / "html" / "generated" / "autorecs.models.base.html").read_text()
    assert "similar_items" in page and "set_params" in page  # the docstrings made it in
