"""Search spaces as data: typed parameter ranges, written in Python, JSON, TOML or YAML.

A space maps *search parameters* to distributions; each parameter sets one or more
model hyperparameters (``apply_to``), so one λ can drive both ``reg_user`` and
``reg_item``.  ``when`` makes a parameter conditional on categorical ones
(``when = {solver = ["adam", "sgd"]}``).  ``fixed`` holds hyperparameters that are
not searched.  Example (TOML)::

    [fixed]
    epochs = 50

    [params.reg]
    type = "float"
    low = 1e-3
    high = 10.0
    log = true
    apply_to = ["reg_user", "reg_item"]

    [params.factors]
    type = "categorical"
    choices = [16, 32, 64]
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import python_values
from ..exceptions import ConfigError

PARAM_TYPES = ("float", "int", "categorical")


@dataclass(frozen=True)
class Param:
    """One searched parameter."""

    name: str
    type: str
    """``float``, ``int`` or ``categorical``."""
    low: float | None = None
    high: float | None = None
    log: bool = False
    """Sample on a log scale (``low`` must then be > 0)."""
    choices: tuple | None = None
    """The values of a categorical parameter (also the grid)."""
    apply_to: tuple[str, ...] = ()
    """Model hyperparameters this value sets; default: the one named like the parameter."""
    when: dict[str, tuple] = field(default_factory=dict)
    """Only active when each named categorical parameter takes one of the listed values."""

    def __post_init__(self):
        where = f"search parameter '{self.name}'"
        if self.type not in PARAM_TYPES:
            raise ConfigError(f"The 'type' of {where} must be one of {PARAM_TYPES}; got {self.type!r}.")
        if self.type == "categorical":
            if not self.choices:
                raise ConfigError(f"The categorical {where} needs a non-empty 'choices' list.")
        else:
            if self.low is None or self.high is None:
                raise ConfigError(f"The {self.type} {where} needs 'low' and 'high'.")
            if not self.low <= self.high:
                raise ConfigError(f"`low <= high` must hold for {where}, but got (low={self.low}, high={self.high}).")
            if self.log and self.low <= 0:
                raise ConfigError(f"A log-scale {where} needs low > 0; got low={self.low}. Use log = false or a positive low.")
            if self.type == "int" and (self.low != int(self.low) or self.high != int(self.high)):
                raise ConfigError(f"The int {where} needs integer bounds; got (low={self.low}, high={self.high}).")

    @property
    def targets(self) -> tuple[str, ...]:
        return self.apply_to or (self.name,)


@dataclass(frozen=True)
class SearchSpace:
    """Searched parameters plus fixed hyperparameters (see the module docs)."""

    params: tuple[Param, ...]
    fixed: dict[str, Any] = field(default_factory=dict)
    name: str = "custom"

    def __post_init__(self):
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ConfigError(f"Search parameter names must be unique; got {names}.")
        by_name = {p.name: p for p in self.params}
        for p in self.params:
            for cond, values in p.when.items():
                if cond not in by_name or by_name[cond].type != "categorical":
                    raise ConfigError(f"Search parameter '{p.name}' is conditional on '{cond}', which is not a categorical parameter of this space.")
                bad = [v for v in values if v not in by_name[cond].choices]
                if bad:
                    raise ConfigError(f"Search parameter '{p.name}': 'when' lists {bad} for '{cond}', which are not among its choices {list(by_name[cond].choices)}.")

    # ------------------------------------------------------------- building
    @classmethod
    def from_dict(cls, spec: dict, name: str = "custom") -> "SearchSpace":
        if not isinstance(spec, dict) or "params" not in spec:
            raise ConfigError("A search space needs a 'params' table (see autorecs.search.space for the format).")
        table = spec["params"]
        if isinstance(table, list):  # a list of parameters, each with its 'name' (as YAML and JSON files often write them)
            nameless = [p for p in table if not isinstance(p, dict) or not isinstance(p.get("name"), str)]
            if nameless:
                raise ConfigError(f"Each entry of a 'params' list must be a table with a 'name'; got {nameless[0]!r}.")
            names = [p["name"] for p in table]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ConfigError(f"The 'params' list names {twice} more than once; give each search parameter once.")
            table = {p["name"]: p for p in table}
        if not isinstance(table, dict) or not isinstance(spec.get("fixed", {}), dict):
            raise ConfigError("A search space's 'params' must be a table of parameters (or a list of them, each with a 'name') "
                              "and its 'fixed' a table of values (see autorecs.search.space for the format).")
        params = []
        for pname, p in table.items():
            if not isinstance(p, dict):
                raise ConfigError(f"Search parameter '{pname}' must be a table with a 'type'; got {p!r}.")
            unknown = set(p) - {f.name for f in dataclasses.fields(Param)} - {"name"}
            if unknown:
                raise ConfigError(f"Search parameter '{pname}' has unknown keys {sorted(unknown)}; use type, low, high, log, choices, apply_to, when.")
            if "type" not in p:
                raise ConfigError(f"Search parameter '{pname}' has no 'type'; give type = float, int or categorical.")
            kw = {k: python_values(v) for k, v in p.items() if k != "name"}
            if "choices" in kw:
                kw["choices"] = tuple(kw["choices"])
            if "apply_to" in kw:
                kw["apply_to"] = (kw["apply_to"],) if isinstance(kw["apply_to"], str) else tuple(kw["apply_to"])
            if "when" in kw and not isinstance(kw["when"], dict):
                raise ConfigError(f"Search parameter '{pname}' has 'when' = {kw['when']!r}; it must be a table such as "
                                  "{solver = [\"adam\"]}.")
            if "when" in kw:
                kw["when"] = {k: tuple(v) if isinstance(v, (list, tuple)) else (v,) for k, v in kw["when"].items()}
            params.append(Param(name=pname, **kw))
        return cls(tuple(params), {k: python_values(v) for k, v in spec.get("fixed", {}).items()}, spec.get("name", name))

    @classmethod
    def from_file(cls, path: str | Path) -> "SearchSpace":
        from ..config import read_config_file

        from .spaces import BUILTIN_SPACES

        path = Path(path)
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "does not exist"
            raise ConfigError(f"The search space file '{path}' {what}; give a TOML, YAML or JSON file or a built-in space name "
                              f"({', '.join(BUILTIN_SPACES)}).")
        spec = read_config_file(path, what="search space file")
        return cls.from_dict(spec, name=path.stem)

    def to_dict(self) -> dict:
        out: dict = {"name": self.name, "fixed": dict(self.fixed), "params": {}}
        for p in self.params:
            d = {"type": p.type}
            for k in ("low", "high", "log", "choices", "apply_to", "when"):
                v = getattr(p, k)
                if v not in (None, (), {}, False):
                    d[k] = list(v) if isinstance(v, tuple) else ({a: list(b) for a, b in v.items()} if isinstance(v, dict) else v)
            out["params"][p.name] = d
        return out

    # --------------------------------------------------------------- using
    def check_model(self, config_fields: set[str], model_name: str) -> None:
        """Every target and fixed name must be a hyperparameter of the model."""
        for p in self.params:
            bad = [t for t in p.targets if t not in config_fields]
            if bad:
                raise ConfigError(f"Search parameter '{p.name}' sets {bad}, which {model_name} does not have; its hyperparameters are {sorted(config_fields)}.")
        bad = [k for k in self.fixed if k not in config_fields]
        if bad:
            raise ConfigError(f"Fixed hyperparameters {bad} are not hyperparameters of {model_name}; its hyperparameters are {sorted(config_fields)}.")

    def check_values(self, make) -> None:
        """Refuse, before a search starts, a value the space can produce that the model rejects.

        ``make(params)`` builds the model (or raises :class:`ConfigError`); each categorical choice
        and each end of a numeric range is tried with the fixed values.  One sentence names the
        search parameter and the value.
        """
        for p in self.params:
            values = list(p.choices) if p.type == "categorical" else [p.low, p.high]
            for v in values:
                if p.type == "int":
                    v = int(v)
                try:
                    make(self.model_params({p.name: v}))
                except ConfigError as exc:
                    raise ConfigError(f"Search parameter '{p.name}' can take the value {v!r}, which the model refuses ({exc}); "
                                      "remove it from the space.") from None

    def sample(self, trial) -> dict[str, Any]:
        """Draw the search parameters from an Optuna trial (conditional ones only when active)."""
        values: dict[str, Any] = {}
        for p in self.params:  # conditions refer to earlier categorical parameters
            if all(values.get(c) in allowed for c, allowed in p.when.items()):
                if p.type == "float":
                    values[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)
                elif p.type == "int":
                    values[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
                else:
                    values[p.name] = trial.suggest_categorical(p.name, list(p.choices))
        return values

    def model_params(self, values: dict[str, Any]) -> dict[str, Any]:
        """Model hyperparameters for searched values: ``fixed`` plus each value on its targets."""
        out = dict(self.fixed)
        by_name = {p.name: p for p in self.params}
        for name, v in values.items():
            for t in by_name[name].targets:
                out[t] = v
        return out

    def grid(self) -> dict[str, list]:
        """The grid of a space whose parameters are all categorical and unconditional."""
        bad = [p.name for p in self.params if p.type != "categorical" or p.when]
        if bad:
            raise ConfigError(f"The grid strategy needs categorical, unconditional parameters; {bad} are not. Give them 'choices' or use random/tpe.")
        return {p.name: list(p.choices) for p in self.params}

    @property
    def grid_size(self) -> int:
        return math.prod(len(p.choices) for p in self.params if p.choices) if self.params else 1
