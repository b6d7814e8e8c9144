"""Synthetic interaction data with known structure (tests and benchmarks)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._rng import as_generator
from .interactions import Interactions
from .vocab import Vocabulary


def low_rank_ratings(
    n_users: int = 200,
    n_items: int = 150,
    n_interactions: int = 6000,
    *,
    factors: int = 3,
    noise: float = 0.1,
    zipf: float = 0.0,
    seed=None,
) -> Interactions:
    """Ratings from ``μ + b_u + b_i + p_u·q_i + noise`` on distinct random (user, item) cells.

    With a strong ``zipf`` the matrix may hold fewer distinct cells than asked.

    ``zipf > 0`` makes item (and user) popularity long-tailed with that
    exponent.  Ratings are real-valued (not rounded) so that exact recovery can be
    tested; timestamps are increasing integers in random order.
    """
    rng = as_generator(seed)
    n_interactions = min(n_interactions, n_users * n_items)
    if zipf > 0:
        pu = 1.0 / np.arange(1, n_users + 1) ** zipf
        pi = 1.0 / np.arange(1, n_items + 1) ** zipf
        pu, pi = pu / pu.sum(), pi / pi.sum()
        keys = np.empty(0, np.int64)
        for _ in range(20):  # popular cells collide; draw until enough distinct ones
            need = int((n_interactions - len(keys)) * 1.5) + 16
            draw = rng.choice(n_users, size=need, p=pu).astype(np.int64) * n_items + rng.choice(n_items, size=need, p=pi)
            keys = np.unique(np.concatenate([keys, draw]))
            if len(keys) >= n_interactions:
                break
        keys = rng.permutation(keys)[:n_interactions]
    else:
        keys = rng.choice(n_users * n_items, size=n_interactions, replace=False)
    users, items = (keys // n_items).astype(np.int32), (keys % n_items).astype(np.int32)
    P = rng.normal(0, 1 / np.sqrt(factors), (n_users, factors))
    Q = rng.normal(0, 1, (n_items, factors))
    bu, bi = rng.normal(0, 0.3, n_users), rng.normal(0, 0.3, n_items)
    ratings = 3.5 + bu[users] + bi[items] + (P[users] * Q[items]).sum(1) + rng.normal(0, noise, len(keys))
    timestamps = rng.permutation(len(keys)).astype(np.int64) + 1_000_000
    return Interactions(
        users,
        items,
        Vocabulary(pd.RangeIndex(n_users)),
        Vocabulary(pd.RangeIndex(n_items)),
        ratings=ratings,
        timestamps=timestamps,
    ).subset(np.arange(len(keys)))


def planted_cross_table(
    n_rows: int = 20_000,
    *,
    n_categorical: int = 6,
    levels: int = 6,
    n_numerical: int = 2,
    planted: tuple[int, int] = (1, 3),
    noise: float = 0.1,
    main_effect: float = 0.5,
    seed=0,
) -> pd.DataFrame:
    """A click table whose label is driven by the XOR of two categorical features.

    Columns ``c0..c{n-1}`` (string levels ``v0..``), ``x0..`` (numerical) and
    ``label``.  ``label = parity(c_a) XOR parity(c_b)`` for ``planted = (a, b)``,
    flipped with probability ``noise``; ``c0`` carries a weak main effect (it
    shifts the flip probability by ``main_effect * noise``), so a plain logistic
    regression learns something but only the cross ``c_a x c_b`` explains the label.
    """
    rng = as_generator(seed)
    a, b = planted
    if not (0 <= a < n_categorical and 0 <= b < n_categorical and a != b):
        from ..exceptions import ConfigError

        raise ConfigError(f"The 'planted' parameter must name two different columns among 0..{n_categorical - 1}; got {planted!r}.")
    codes = rng.integers(0, levels, size=(n_rows, n_categorical))
    frame = pd.DataFrame({f"c{k}": np.char.add("v", codes[:, k].astype(str)) for k in range(n_categorical)})
    for k in range(n_numerical):
        frame[f"x{k}"] = rng.normal(size=n_rows)
    xor = (codes[:, a] % 2) ^ (codes[:, b] % 2)
    flip_p = noise * (1 + main_effect * np.where(codes[:, 0] < levels / 2, 1, -1))
    frame["label"] = np.where(rng.random(n_rows) < flip_p, 1 - xor, xor).astype(np.int8)
    return frame
