"""TOML reading on every supported Python: the standard ``tomllib`` (3.11+), else the ``tomli``
package it came from (a dependency on 3.10 only)."""

from __future__ import annotations

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

loads = tomllib.loads
