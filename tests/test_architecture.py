"""Layers only point down: a module may import only from modules of a lower layer (docs/architecture.md).
A new top-level module or package must be placed in LAYERS, which makes its place a decision."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "autorecs"

LAYERS = {
    "exceptions": 0, "kernels": 0, "_progress": 0,
    "_rng": 1, "_toml": 1, "device": 1, "optim": 1, "executor": 1, "halving": 1,
    "config": 2, "trials": 2, "data": 2, "metrics": 2, "regularization": 2, "training": 2,
    "evaluation": 3,
    "lambdaopt": 4,
    "models": 5,
    "sif": 6, "ctr": 6,
    "plots": 7,
    "search": 8, "crossval": 8, "fitting": 8,
    "quickstart": 9, "report": 9,
    "auto": 10,
    "cli": 11, "__init__": 11, "__main__": 12,
}


def _imports():
    """(importing unit, imported unit, file) for every relative import between top-level units."""
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        unit = parts[0]
        package = parts[:-1] if path.name != "__init__.py" else parts[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = list(package)[: len(package) - (node.level - 1)] if node.level > 1 else list(package)
                target = base + (node.module.split(".") if node.module else [])
                if target and target[0] != unit:
                    yield unit, target[0], path.relative_to(ROOT)


def test_every_unit_has_a_layer():
    units = {p.relative_to(ROOT).with_suffix("").parts[0] for p in ROOT.rglob("*.py")}
    assert units <= set(LAYERS), f"place these in LAYERS (docs/architecture.md): {sorted(units - set(LAYERS))}"


def test_imports_only_point_down():
    upward = sorted({(f"{src} ({LAYERS[src]})", f"{dst} ({LAYERS[dst]})", str(f)) for src, dst, f in _imports()
                     if LAYERS[dst] >= LAYERS[src] and src not in ("__init__", "cli")})
    assert not upward, f"imports that do not point down: {upward}"


def test_the_check_sees_imports():  # the walk above must find the edges it polices
    edges = {(s, d) for s, d, _ in _imports()}
    assert ("models", "training") in edges and ("sif", "models") in edges and ("cli", "search") in edges
