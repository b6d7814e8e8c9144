"""The README's examples cannot drift: every `autorecs ...` line of its shell blocks parses against
the real command line (flags, types, required options), and its main Python block runs on a
stand-in for ml-100k (synthetic data registered under that name; no network)."""

import re
import shlex
from pathlib import Path

import pytest
import typer

from autorecs.cli import app
from autorecs.data import builtin
from autorecs.data.synthetic import low_rank_ratings

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), flags=re.S)


def _shell_commands() -> list[list[str]]:
    commands = []
    for block in _blocks("bash"):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            for part in re.split(r"&&", line):
                tokens = shlex.split(part, comments=True)
                if tokens and tokens[0] == "autorecs":
                    commands.append([t.strip("[]") for t in tokens[1:] if t.strip("[]")])
                elif ".venv/bin/autorecs" in part:
                    commands.append([t for t in tokens[tokens.index(".venv/bin/autorecs") + 1:]])
    return commands


def test_the_readme_has_examples():
    assert len(_shell_commands()) >= 20 and _blocks("python")


@pytest.mark.parametrize("args", _shell_commands(), ids=lambda a: " ".join(a)[:60])
def test_every_shell_example_parses(args):
    command, parent = typer.main.get_command(app), None
    while hasattr(command, "commands") and args and args[0] in command.commands:  # down the sub-command groups
        parent = command.make_context("autorecs" if parent is None else parent.info_name, [], parent=parent, resilient_parsing=True)
        command, args = command.commands[args[0]], args[1:]
    assert not hasattr(command, "commands") or command.invoke_without_command, f"no such command: {args}"
    command.make_context(command.name, list(args), parent=parent)  # raises on an unknown flag, a bad value or a missing option


def test_the_python_example_runs(tmp_path, monkeypatch):
    data = low_rank_ratings(120, 80, 3000, factors=2, seed=1)
    payload = data.to_frame().to_csv(sep="\t", header=False, index=False).encode()
    monkeypatch.setenv(builtin.CACHE_ENV, str(tmp_path / "cache"))
    spec = builtin.BuiltinDataset("ml-100k", "stand-in", (builtin.Source("url", "http://x.invalid", None, "u.data"),), rows=3000,
                                  loader=builtin._load_movielens)
    monkeypatch.setitem(builtin.DATASETS, "ml-100k", spec)
    monkeypatch.setattr(builtin, "_download_url", lambda src: {"u.data": payload})
    monkeypatch.chdir(tmp_path)
    code = _blocks("python")[0]
    assert "load(\"ml-100k\")" in code
    exec(compile(code, str(README), "exec"), {"print": lambda *a, **k: None})
    assert (tmp_path / "models" / "als-py" / "model.json").exists()
