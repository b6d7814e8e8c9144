"""All exceptions raised on purpose by autorecs.

Every message is one sentence naming the parameter (or column), the value
received and the fix.  The CLI maps these classes to exit codes and prints the
message without a traceback.
"""

from __future__ import annotations


class AutorecsError(Exception):
    """Base class of every error autorecs raises on purpose."""

    exit_code = 1


class ConfigError(AutorecsError, ValueError):
    """A hyperparameter or option has an invalid value.

    ``param`` and ``owner`` name the parameter when the message is in the standard wording
    (:func:`check_param`), so that a front end can name its own option instead (:meth:`as_option`)."""

    exit_code = 2

    def __init__(self, message: str, *, param: str | None = None, owner: str | None = None):
        super().__init__(message)
        self.param, self.owner = param, owner

    def as_option(self, flags: dict[str, str]) -> "ConfigError":
        """The same error naming the command-line option ``flags[param]`` instead of the parameter."""
        flag = flags.get(self.param or "")
        if flag is None:
            return self
        text = str(self).replace(f"The '{self.param}' parameter of {self.owner}", f"The '{flag}' option", 1)
        return ConfigError(text, param=self.param, owner=self.owner)


class DataError(AutorecsError, ValueError):
    """Input data is missing, malformed or inconsistent."""

    exit_code = 3


class DatasetUnavailableError(AutorecsError, RuntimeError):
    """A built-in data set could be neither downloaded nor found in the cache."""

    exit_code = 4


class NotFittedError(AutorecsError, RuntimeError):
    """A model was used before `fit` (or `load`)."""

    exit_code = 5


class DivergenceError(AutorecsError, FloatingPointError):
    """Training produced NaN/inf or exploded; usually the learning rate is too high."""

    exit_code = 6


def check_param(ok: bool, owner: str, name: str, value, constraint: str, fix: str = "") -> None:
    """Raise ConfigError in the library's standard wording unless `ok`.

    >>> check_param(True, "BiasedMF", "factors", 8, "an int >= 1")
    """
    if not ok:
        msg = f"The '{name}' parameter of {owner} must be {constraint}; got {value!r}."
        if fix:
            msg += f" {fix}"
        raise ConfigError(msg, param=name, owner=owner)


def check_switches(config, owner: str, *, cli: bool = True) -> None:
    """A config dataclass's bool fields hold bools: 0/1 (a config file's, an older saved model's; NumPy scalars too)
    become False/True, anything else is refused (text such as "no" was taken as True).  ``cli``: the config is set
    with ``-p`` on the command line (the message says how)."""
    import dataclasses

    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.type not in ("bool", bool) or isinstance(value, bool):
            continue
        scalar = type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0  # not an array
        plain = value.item() if scalar else value
        fix = f"On the command line: -p {f.name}=true or false." if cli else ""
        ok = isinstance(plain, bool) or (isinstance(plain, int) and plain in (0, 1))
        check_param(ok, owner, f.name, value, "True or False", fix)
        setattr(config, f.name, bool(plain))


def build_config(cls, params: dict, owner: str):
    """``cls(**params)`` for a config dataclass, with unknown keys refused in the library's wording
    (naming them and the valid ones) instead of Python's ``TypeError``."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - names)
    if unknown:
        raise ConfigError(f"{owner} has no parameter(s) {unknown}; valid names are {sorted(names)}.")
    import numpy as np

    return cls(**{k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()})  # NumPy scalars as Python's


def check_int(owner: str, name: str, value, low: int = 1) -> None:
    """``value`` must be an int >= ``low``."""
    import numbers

    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low
    check_param(ok, owner, name, value, f"an int >= {low}")


def check_float(owner: str, name: str, value, low: float = 0.0, high: float = float("inf"), *, low_open: bool = False, fix: str = "") -> None:
    """``value`` must be a finite real in [low, high] (``(low, high]`` with ``low_open``)."""
    import math
    import numbers

    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    interval = f"{'(' if low_open else '['}{low:g}, {'inf)' if high == float('inf') else f'{high:g}]'}"
    check_param(ok, owner, name, value, f"a float in {interval}", fix)


def damage_reason(exc: BaseException) -> str:
    """Why a saved file could not be read, for a "damaged" message; NumPy's advice to load it with pickling allowed is
    left out (autorecs writes no pickle, and loading one would run whatever code it holds)."""
    text = str(exc)
    if "pickle" in text:
        text = "not an array archive that autorecs wrote"
    return f"{type(exc).__name__}: {text}"


def check_output_dir(path, *, overwrite: bool, what: str = "output directory", flag: str | None = None) -> None:
    """Refuse ``path`` as a directory to write into when it is a file, or (without ``overwrite``)
    a directory that is not empty.  ``flag``: the CLI option that named it, for the message."""
    from pathlib import Path

    path = Path(path)
    name = f"The '{flag}' {what}" if flag else f"The {what}"
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{name} '{path}' is a file, not a directory; give a directory path.")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        allow = "--overwrite" if flag else "overwrite=True"
        raise ConfigError(f"{name} '{path}' already exists and is not empty; choose another path or pass {allow} to replace it.")
    check_writable(path, name)


def prepare_run_dir(out, identity: dict, *, overwrite: bool, files, kind: str, run: str, words: dict | None = None):
    """A resumable run's output directory: a new one (``run.json`` written with ``identity`` and ``kind``), the same
    run continued (its ``run.json`` holds ``identity``), or with ``overwrite`` an earlier run of this kind replaced
    (its ``files``, names or glob patterns, removed first).  Refused: a directory holding another command's run (even
    with ``overwrite``, which removes only this kind's files), this kind's run with another identity (``words`` names
    its keys; ``run`` this run, e.g. "an auto run"), or other files.  A directory whose ``run.json`` is all it holds
    (a run refused before it wrote anything) starts afresh."""
    import fnmatch
    import json
    import shutil
    from pathlib import Path

    out = Path(out)
    identity = json.loads(json.dumps(identity, default=str))  # as it reads back (tuples as lists)
    marker = out / "run.json"
    entries = list(out.iterdir()) if out.is_dir() else []
    if marker.is_file() and not [p for p in entries if p.name != "run.json"]:  # nothing but the marker: nothing to continue
        marker.unlink()
        entries = []
    if marker.is_file():
        try:
            known = json.loads(marker.read_text())
        except ValueError:
            known = None
        if not isinstance(known, dict):
            raise ConfigError(f"The output directory '{out}' holds an unreadable run.json, so what ran there is unknown; give "
                              "another output directory.")
        # run.json written before kinds were recorded: auto's identity has a 'task', search-ifc's a 'search'
        known_kind = known.pop("kind", "search-ifc" if "search" in known else "auto")
        if known_kind != kind:
            raise ConfigError(f"The output directory '{out}' holds another command's run ({known_kind}), not {run}; give another "
                              "output directory.")
        if not overwrite:
            if known != identity:
                differs = sorted((words or {}).get(k, k) for k in identity if known.get(k) != identity[k])
                raise ConfigError(f"The output directory '{out}' holds {run} with other {', '.join(differs) or 'settings'}; "
                                  "give another output directory, or start again there (--overwrite; overwrite=True in Python).")
            return out
    if overwrite:
        for target in (p for p in entries if any(fnmatch.fnmatch(p.name, pattern) for pattern in files)):
            shutil.rmtree(target) if target.is_dir() else target.unlink()
    check_output_dir(out, overwrite=overwrite, what="output directory")
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({**identity, "kind": kind}, indent=1))
    return out


def check_writable(path, name: str) -> None:
    """Refuse ``path`` (a file or directory to be written, created with its missing parents) when the
    nearest existing folder on the way to it is not writable, before any work is done: ``name`` says
    which path it is ("The '--out' model directory")."""
    import os
    from pathlib import Path

    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise ConfigError(f"{name} '{path}' is a link to nothing ('{os.readlink(path)}'); remove it or choose another path.")
    if path.exists() and not path.is_dir() and not os.access(path, os.W_OK):
        raise ConfigError(f"{name} '{path}' exists and cannot be overwritten (not writable); choose another path.")
    here = path if path.is_dir() else path.parent
    while not here.exists() and here != here.parent:
        here = here.parent
    if not here.is_dir():
        raise ConfigError(f"{name} '{path}' is inside '{here}', which is a file; choose a path in a directory.")
    if not os.access(here, os.W_OK | os.X_OK):
        raise ConfigError(f"{name} '{path}' cannot be written ('{here}' is not writable); choose a path in a directory you can write to.")
