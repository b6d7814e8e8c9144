"""The auto report renders in a real headless browser (Chromium), with no network: the leaderboard
table is in the rendered page.  Skipped where no Chromium is installed (Debian: apt-get install chromium)."""

import shutil
import subprocess

import pytest

from autorecs.auto import auto
from autorecs.data import split

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


@pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (apt-get install chromium)")
def test_report_renders_the_leaderboard_in_chromium(ratings_data, tmp_path):
    parts = split(ratings_data, "random-60-20-20", seed=0)
    res = auto(parts.train, parts.valid, task="rating", budget=3, families=["baseline", "biased-mf-als"], out_dir=tmp_path / "run",
               progress=False)
    page = tmp_path / "run" / "report.html"
    dom = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "<table id=\"leaderboard-table\">" in html  # parsed and serialised by the browser, not our text
    assert html.count("<tr") >= len(res.leaderboard) + 1 and f"#{res.chosen['trial']}" in html
    assert "<img" in html and "data:image/png;base64," in html
    shot = tmp_path / "shot.png"
    subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--screenshot={shot}",
                    "--window-size=1200,1600", page.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 30_000  # a rendered page with figures, not a blank one
