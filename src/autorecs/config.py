"""Reading parameters from files and ``KEY=VALUE`` strings: one parser for model configs
(``autorecs fit --config``), search spaces and architectures."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterable

from .exceptions import ConfigError


def read_config_file(path: str | Path, *, what: str = "config file", flag: str | None = None) -> dict:
    """A TOML (``.toml``), YAML (``.yaml``/``.yml``) or JSON (anything else) file as a dict."""
    path = Path(path)
    name = f"The '{flag}' file" if flag else f"The {what}"
    if path.is_dir():
        raise ConfigError(f"{name} '{path}' is a directory; give a TOML, YAML or JSON file.")
    if not path.is_file():
        raise ConfigError(f"{name} '{path}' does not exist; check the path.")
    text = path.read_text()
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            from ._toml import loads

            spec = loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            spec = yaml.safe_load(text)
        else:
            spec = json.loads(text)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001  (each parser has its own error classes)
        kind = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML"}.get(suffix, "JSON")
        raise ConfigError(f"{name} '{path}' is not valid {kind} ({exc}); fix its syntax.") from exc
    if not isinstance(spec, dict):
        raise ConfigError(f"{name} '{path}' must hold a table of KEY = VALUE entries; got a {type(spec).__name__}.")
    return spec


def parse_key_values(items: Iterable[str], *, flag: str = "--param") -> dict:
    """``["factors=32", "solver=adam"]`` -> ``{"factors": 32, "solver": "adam"}`` (values read as
    JSON where they parse, else kept as text; dashes in keys become underscores)."""
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"The '{flag}' option takes KEY=VALUE; got {item!r}. Example: {flag} factors=32.")
        try:
            out[key.strip().replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip().replace("-", "_")] = value
    return out


def python_values(obj):
    """``obj`` with NumPy (and pandas) arrays and scalars as Python lists and numbers, in the same containers: what
    JSON records (a study's, a report's) can hold."""
    if hasattr(obj, "dtype") and hasattr(obj, "tolist"):  # an array (np.logspace(...)) or a scalar: tolist() gives Python's
        return python_values(obj.tolist())
    if isinstance(obj, (list, tuple)):
        return type(obj)(python_values(v) for v in obj)
    if isinstance(obj, dict):
        return {k: python_values(v) for k, v in obj.items()}
    return obj


def _finite(obj):
    """``obj`` (Python values) with NaN and infinities as None (what strict JSON can hold)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def json_text(obj, indent: int | None = None) -> str:
    """Strict JSON of a report (NaN and infinities written as null, which every parser reads; NumPy values as
    numbers, anything else as its text): for the files and outputs people and their tools read."""
    return json.dumps(_finite(python_values(obj)), indent=indent, default=str, allow_nan=False)

