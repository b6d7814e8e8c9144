"""Figures: written as PNG files, without touching matplotlib's global state (backend, pyplot)."""

import subprocess
import sys
import textwrap


def test_figures_are_drawn_without_pyplot_or_a_backend_switch(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        import matplotlib
        matplotlib.use = lambda *a, **k: sys.exit("a library must not choose matplotlib's backend")
        from autorecs import BiasedMF
        from autorecs.data import split
        from autorecs.data.synthetic import low_rank_ratings
        from autorecs.plots import plot_learning_curves
        s = split(low_rank_ratings(60, 40, 1200, seed=0), "random-80-10-10", seed=0)
        m = BiasedMF(factors=2, epochs=3).fit(s.train, s.valid, seed=0, progress=False)
        path = plot_learning_curves({{"mf": m.history_}}, {str(tmp_path / "curves.png")!r})
        assert path.stat().st_size > 1000
        assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
