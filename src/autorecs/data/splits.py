"""Train / validation / test splits, named as in ``docs/protocols.md``.

Every split is seeded and returns three :class:`Interactions`, each with its
own compact vocabulary; models and metrics match them through raw ids.

Cold-start rule (``cold``): validation and test rows whose user or item never
occurs in the training part are dropped by default (``"drop"``, logged with a
count) because no collaborative model can score them; ``"keep"`` leaves them in,
and models then answer with their documented fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .._progress import logger, warn
from .._rng import as_generator
from ..exceptions import ConfigError, DataError
from .interactions import Interactions, check_interactions

COLD_RULES = ("drop", "keep")


@dataclass
class Split:
    train: Interactions
    valid: Interactions
    test: Interactions
    protocol: str
    dropped: dict[str, int] | None = None
    """Rows of ``valid`` and ``test`` dropped because their user or item never occurs in ``train``."""

    def __iter__(self):
        return iter((self.train, self.valid, self.test))

    def __getitem__(self, i):
        """``parts[0]`` is train, ``parts[:2]`` (train, valid): the split indexes like the triple it unpacks to."""
        return (self.train, self.valid, self.test)[i]

    def __len__(self) -> int:
        return 3


def _finish(data: Interactions, part: np.ndarray, protocol: str, cold: str, wanted: tuple[bool, bool] = (True, True)) -> Split:
    """``part`` holds 0 (train), 1 (valid) or 2 (test) for every row; ``wanted``: whether the protocol gives the
    valid and the test part any share (an empty part it gives none is no news)."""
    if cold not in COLD_RULES:
        raise ConfigError(f"The 'cold' parameter must be one of {COLD_RULES}; got {cold!r}.")
    train_rows = part == 0
    if not train_rows.any():
        raise DataError(f"Split {protocol!r} left no training rows; give more data or another protocol.")
    seen_u = np.zeros(data.n_users, bool)
    seen_i = np.zeros(data.n_items, bool)
    seen_u[data.users[train_rows]] = True
    seen_i[data.items[train_rows]] = True
    warm = seen_u[data.users] & seen_i[data.items]
    parts, dropped = [], {"valid": 0, "test": 0}
    for k, name in enumerate(("train", "valid", "test")):
        rows = part == k
        if cold == "drop" and k > 0:
            dropped[name] = int((rows & ~warm).sum())
            if dropped[name]:
                logger.info("%s: dropped %d %s rows with users/items unseen in train", protocol, dropped[name], name)
            rows &= warm
        parts.append(data.subset(np.flatnonzero(rows)))
    empty = [name for k, name in ((1, "valid"), (2, "test")) if not len(parts[k]) and wanted[k - 1]]
    if empty:
        cold_rows = sum(dropped[name] for name in empty)
        one = len(empty) == 1
        why = (f"all {cold_rows} of {'its' if one else 'their'} rows had a user or an item that training lacks (dropped as cold)"
               if cold_rows else f"the protocol gave {'it' if one else 'them'} none of the {len(data)} rows")
        fix = ("give more data, or keep the cold rows (cold='keep')" if cold_rows
               else "with so little data use a random split (e.g. 'random-60-20-20'), or give more data")
        effects = (["training on it has no early stopping"] if "valid" in empty else []) + (["a test has nothing to score"] if "test" in empty else [])
        warn(f"Split {protocol!r} left the {' and '.join(empty)} part{'' if one else 's'} empty, so {' and '.join(effects)}: "
                      f"{why}; {fix}.")
    return Split(*parts, protocol=protocol, dropped=dropped)


def random_split(data: Interactions, fractions=(0.5, 0.25, 0.25), *, seed=None, cold: str = "drop") -> Split:
    """Uniformly random split of all rows by ``fractions`` (train, valid, test)."""
    fr = np.asarray(fractions, dtype=float)
    if fr.shape != (3,) or (fr < 0).any() or not np.isclose(fr.sum(), 1.0):
        raise ConfigError(f"The 'fractions' parameter must be three non-negative numbers summing to 1; got {tuple(fractions)}.")
    rng = as_generator(seed)
    n = len(data)
    perm = rng.permutation(n)
    cuts = np.floor(np.cumsum(fr)[:2] * n).astype(int)
    part = np.empty(n, np.int8)
    part[perm[: cuts[0]]] = 0
    part[perm[cuts[0] : cuts[1]]] = 1
    part[perm[cuts[1] :]] = 2
    name = "random-" + "-".join(f"{round(f * 100)}" for f in fr)
    return _finish(data, part, name, cold, (fr[1] > 0, fr[2] > 0))


def _order_within_users(data: Interactions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by (user, timestamp, raw item id); return order, position within user, user size."""
    if data.timestamps is None:
        raise DataError("Temporal splits need a timestamp column; the data has none (a file's is read from the column "
                        "'timestamp' unless named: --timestamp-col NAME, or Columns(timestamp=NAME)). Use a random split or add timestamps.")
    item_rank = np.empty(data.n_items, np.int64)
    item_rank[np.argsort(data.item_vocab.index.to_numpy(), kind="stable")] = np.arange(data.n_items)
    order = np.lexsort((item_rank[data.items], data.timestamps, data.users))
    users = data.users[order]
    counts = np.bincount(users, minlength=data.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(len(order)) - starts[users]
    return order, pos, counts[users]


def temporal_user_split(data: Interactions, test: float = 0.2, valid: float = 0.25, *, cold: str = "drop") -> Split:
    """Per-user temporal split of the λOpt code (``temporal-60-20-20`` with the defaults).

    Per user (ordered by time, ties by item id), the latest ``floor(test*n)``
    rows are test; of the rest, the latest ``floor(valid*remaining)`` are
    validation; the others train.
    """
    order, pos, n = _order_within_users(data)
    n_test = np.floor(test * n).astype(np.int64)
    rest = n - n_test
    n_valid = np.floor(valid * rest).astype(np.int64)
    part_sorted = np.where(pos >= rest, 2, np.where(pos >= rest - n_valid, 1, 0)).astype(np.int8)
    part = np.empty(len(data), np.int8)
    part[order] = part_sorted
    name = "temporal-60-20-20" if (test, valid) == (0.2, 0.25) else f"temporal-user-{test:g}-{valid:g}"
    return _finish(data, part, name, cold, (valid > 0, test > 0))


def leave_last_out(data: Interactions, *, cold: str = "drop") -> Split:
    """Per user: the latest interaction is test, the one before validation (users with >= 3 rows)."""
    order, pos, n = _order_within_users(data)
    part_sorted = np.where((n >= 3) & (pos == n - 1), 2, np.where((n >= 3) & (pos == n - 2), 1, 0)).astype(np.int8)
    part = np.empty(len(data), np.int8)
    part[order] = part_sorted
    return _finish(data, part, "leave-last-out", cold)


def global_time_split(data: Interactions, fractions=(0.8, 0.1, 0.1), *, cold: str = "drop") -> Split:
    """All rows ordered by time; the earliest ``fractions[0]`` train, then valid, then test."""
    if data.timestamps is None:
        raise DataError("Temporal splits need a timestamp column; the data has none (a file's is read from the column "
                        "'timestamp' unless named: --timestamp-col NAME, or Columns(timestamp=NAME)). Use a random split or add timestamps.")
    fr = np.asarray(fractions, dtype=float)
    if fr.shape != (3,) or (fr < 0).any() or not np.isclose(fr.sum(), 1.0):
        raise ConfigError(f"The 'fractions' parameter must be three non-negative numbers summing to 1; got {tuple(fractions)}.")
    order = np.argsort(data.timestamps, kind="stable")
    cuts = np.floor(np.cumsum(fr)[:2] * len(data)).astype(int)
    part = np.empty(len(data), np.int8)
    part[order[: cuts[0]]] = 0
    part[order[cuts[0] : cuts[1]]] = 1
    part[order[cuts[1] :]] = 2
    return _finish(data, part, "global-time-" + "-".join(f"{round(f * 100)}" for f in fr), cold, (fr[1] > 0, fr[2] > 0))


PROTOCOL_PATTERNS = ("random-A-B-C", "temporal-60-20-20", "leave-last-out", "global-time-A-B-C")


def protocol_shares(protocol: str) -> tuple[str, tuple[float, float, float] | None]:
    """``(kind, (train, valid, test) shares)`` of a protocol name (shares None for the per-user ones), or a
    ConfigError naming the known ones: check a name before reading data."""
    if protocol in ("temporal-60-20-20", "leave-last-out"):
        return protocol, None
    m = re.fullmatch(r"(random|global-time)-(\d+)-(\d+)-(\d+)", protocol)
    if m and sum(int(x) for x in m.groups()[1:]) == 100:
        return m.group(1), tuple(int(x) / 100 for x in m.groups()[1:])
    raise ConfigError(
        f"Unknown split protocol {protocol!r}; use one of {PROTOCOL_PATTERNS} (A+B+C = 100), e.g. 'random-50-25-25'."
    )


def split(data: Interactions, protocol: str, *, seed=None, cold: str = "drop") -> Split:
    """Split by protocol name: ``random-50-25-25``, ``temporal-60-20-20``, ``leave-last-out``, ``global-time-80-10-10``."""
    check_interactions(data, "split()", "data")
    kind, fr = protocol_shares(protocol)
    if kind == "temporal-60-20-20":
        return temporal_user_split(data, cold=cold)
    if kind == "leave-last-out":
        return leave_last_out(data, cold=cold)
    if kind == "random":
        return random_split(data, fr, seed=seed, cold=cold)
    return global_time_split(data, fr, cold=cold)


def kfold(data: Interactions, folds: int = 5, *, by: str = "rows", seed=None, cold: str = "drop") -> list[Split]:
    """``folds`` splits for k-fold cross-validation: in split ``f`` fold ``f`` is test, fold ``f+1``
    (mod k) validation (early stopping and selection) and the other ``k-2`` folds train.

    ``by="rows"``: rows are dealt into folds uniformly at random (rating prediction, as
    ``random-A-B-C``); ``by="user"``: each user's rows are shuffled and dealt round robin, so every
    fold holds about 1/k of every user's interactions (top-K ranking).  Each row is test exactly once.
    """
    from ..exceptions import check_int

    check_int("kfold", "folds", folds, low=3)
    if by not in ("rows", "user"):
        raise ConfigError(f"The 'by' parameter of kfold must be 'rows' or 'user'; got {by!r}.")
    rng = as_generator(seed)
    n = len(data)
    fold = np.empty(n, np.int64)
    if by == "rows":
        fold[rng.permutation(n)] = np.arange(n) % folds
    else:
        order = np.lexsort((rng.random(n), data.users))  # users together, a random order within each
        start = np.r_[0, np.flatnonzero(np.diff(data.users[order])) + 1]
        pos = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))
        offset = rng.integers(folds, size=len(start))  # so that users with few rows do not all start in fold 0
        fold[order] = (pos + np.repeat(offset, np.diff(np.r_[start, n]))) % folds
    out = []
    for f in range(folds):
        part = np.where(fold == f, 2, np.where(fold == (f + 1) % folds, 1, 0)).astype(np.int8)
        out.append(_finish(data, part, f"{folds}-fold-{by}[{f}]", cold))
    return out
