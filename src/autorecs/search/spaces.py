"""Built-in search spaces, named as the papers' baselines."""

from __future__ import annotations

from ..exceptions import ConfigError
from .space import Param, SearchSpace

#: The λOpt paper's fixed-λ grid (MF-λFix).
LAMBDAOPT_GRID = (10.0, 1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-5, 0.0)
#: The SIF paper's λ grid.
SIF_GRID = (0.0, 1e-6, 5e-6, 1e-5, 5e-5, 1e-4)


def _lambda_targets(fields: set[str]) -> tuple[str, ...]:
    if {"reg_user", "reg_item"} <= fields:
        return ("reg_user", "reg_item")
    if "reg" in fields:
        return ("reg",)
    raise ConfigError("This model has no regularization hyperparameter (reg, or reg_user and reg_item) for a λ grid.")


def builtin_space(name: str, fields) -> SearchSpace:
    """A built-in space for a model: ``fields`` is the model (a registry name such as ``"biased-mf"``, or
    its class) or the set of its hyperparameter names.

    - ``lambdaopt-grid``: one global λ over the λOpt paper's 8 values;
    - ``sif-grid``: one global λ over the SIF paper's 6 values;
    - ``mf-tpe``: λ_user, λ_item (log 1e-4..10), factors (log 8..256), learning rate (log 1e-4..0.1);
      for ranking models with a single ``reg``: that λ, factors and learning rate.
    """
    fields = _fields(fields)
    if name == "lambdaopt-grid":
        return SearchSpace((Param("reg", "categorical", choices=LAMBDAOPT_GRID, apply_to=_lambda_targets(fields)),), name=name)
    if name == "sif-grid":
        return SearchSpace((Param("reg", "categorical", choices=SIF_GRID, apply_to=_lambda_targets(fields)),), name=name)
    if name == "mf-tpe":
        regs = [Param(t, "float", low=1e-4, high=10.0, log=True) for t in _lambda_targets(fields)]
        extra = [Param("factors", "int", low=8, high=256, log=True)]
        if "learning_rate" in fields:
            extra.append(Param("learning_rate", "float", low=1e-4, high=0.1, log=True))
        return SearchSpace(tuple(regs + extra), name=name)
    raise ConfigError(f"Unknown built-in search space {name!r}; choose one of {BUILTIN_SPACES} or give a TOML/YAML/JSON file.")


BUILTIN_SPACES = ("lambdaopt-grid", "sif-grid", "mf-tpe")


def model_name(model) -> str:
    """The registry name of ``model``: a name as it is, or a registered model class (``BiasedMF`` -> ``"biased-mf"``)."""
    from ..models import MODELS

    if isinstance(model, str):
        if model not in MODELS:
            raise ConfigError(f"Unknown model {model!r}; choose one of {sorted(MODELS)}.")
        return model
    own = getattr(model, "name", None)
    names = [own] if isinstance(own, str) and MODELS.get(own) is model else [n for n, klass in MODELS.items() if klass is model]
    if not names:
        raise ConfigError(f"Unknown model {model!r}; give a registered model's name (one of {sorted(MODELS)}) or its class.")
    return names[0]


def _fields(fields) -> set[str]:
    """Hyperparameter names from a set of them, a model's registry name or a model class."""
    if isinstance(fields, (set, frozenset, list, tuple)):
        return set(fields)
    from ..models import MODELS

    return set(MODELS[model_name(fields)].Config.__dataclass_fields__)
