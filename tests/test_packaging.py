"""The package as people install it: build the wheel, install it into a fresh virtual environment
(dependencies borrowed from this one, so no network is needed) and run the command line and an import."""

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_installs_and_runs(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
                   check=True, capture_output=True, cwd=tmp_path)
    wheel = next(dist.glob("autorecs-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "autorecs/cli.py" in names and "autorecs/models/base.py" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/")) or n.endswith((".csv", ".journal", ".npz"))]
    assert any(n.endswith(("LICENSE", "LICENSE.txt")) for n in names)  # the licence travels with the package
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, capture_output=True)
    bin_dir = env / ("Scripts" if os.name == "nt" else "bin")
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True, capture_output=True)
    run_env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}  # the dependencies, not this checkout's autorecs
    where = subprocess.run([str(bin_dir / "python"), "-c", "import autorecs, sys; print(autorecs.__file__); print(autorecs.__version__)"],
                           check=True, capture_output=True, text=True, env=run_env, cwd=tmp_path).stdout.split()
    assert Path(where[0]).is_relative_to(env) and where[1]
    shown = subprocess.run([str(bin_dir / "autorecs"), "--help"], capture_output=True, text=True, env=run_env, cwd=tmp_path)
    assert shown.returncode == 0 and "quickstart" in shown.stdout and "Exit codes" in shown.stdout
    listed = subprocess.run([str(bin_dir / "autorecs"), "models", "bpr-mf", "--json"], capture_output=True, text=True, env=run_env, cwd=tmp_path)
    assert listed.returncode == 0 and "Latent dimension K." in listed.stdout  # parameter help read from the installed source
