"""What each registered model is and which parameters it takes (for ``autorecs models`` and docs).

Parameter help comes from the attribute docstrings of each ``Config`` dataclass (the string
literal under a field), read from the source with :mod:`ast`, so the code stays the only place
it is written.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from functools import lru_cache

from ..exceptions import ConfigError


@dataclasses.dataclass(frozen=True)
class ParamInfo:
    name: str
    type: str
    default: object
    help: str


@lru_cache(maxsize=None)
def _field_docs(cls: type) -> dict[str, str]:
    """``{field: docstring}`` for one class body (not its bases)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):  # no source (e.g. frozen): no help
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs = {}
    for stmt, nxt in zip(body, body[1:]):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and isinstance(nxt, ast.Expr) \
                and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
            docs[stmt.target.id] = " ".join(nxt.value.value.split())
    return docs


def summary(klass) -> str:
    """One sentence on what a model is: its class docstring's first paragraph (without a pointer to
    the module docs), else its module's first sentence."""
    doc = " ".join((inspect.getdoc(klass) or "").split("\n\n")[0].split())
    doc = doc.replace(" (see module docs)", "").replace("(see module docs)", "").strip()
    if len(doc) < 20:
        module = " ".join((inspect.getdoc(inspect.getmodule(klass)) or "").split("\n\n")[0].split())
        doc = module.split(". ")[0].rstrip(":,") + ("." if not module.split(". ")[0].endswith(".") else "")
    return doc.replace("``", "")


def model_params(name: str) -> list[ParamInfo]:
    """Every hyperparameter of the registered model ``name``: type, default and help."""
    from . import MODELS

    if name not in MODELS:
        raise ConfigError(f"Unknown model {name!r}; choose one of {sorted(MODELS)}.")
    config = MODELS[name].Config
    docs: dict[str, str] = {}
    for base in reversed(config.__mro__):
        docs.update(_field_docs(base))
    own = set(getattr(config, "__annotations__", {}))  # the model's own parameters first, then the shared ones
    out = []
    for f in sorted(dataclasses.fields(config), key=lambda f: f.name not in own):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        type_name = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        out.append(ParamInfo(f.name, type_name, default, docs.get(f.name, "")))
    return out
