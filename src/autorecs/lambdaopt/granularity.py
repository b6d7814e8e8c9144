"""Shapes of the λ tensors for each λOpt granularity."""

from __future__ import annotations

from ..exceptions import ConfigError

#: global, per dimension (D), per user (U), per item (I) and their combinations (paper Table 2).
GRANULARITIES = ("global", "D", "U", "I", "UI", "DU", "DI", "DUI")


def lambda_shapes(granularity: str, n_users: int, n_items: int, factors: int) -> tuple[tuple, tuple]:
    """(user Λ shape, item Λ shape) in the :class:`~autorecs.regularization.Regularizer` convention.

    D adds a dimension axis on both sides; U gives users, I items, one row each.
    """
    if granularity not in GRANULARITIES:
        raise ConfigError(f"The λOpt granularity must be one of {GRANULARITIES}; got {granularity!r}.")
    g = "" if granularity == "global" else granularity
    d = "D" in g

    def shape(flag: bool, n: int) -> tuple:
        if flag:
            return (n, factors) if d else (n, 1)
        return (factors,) if d else ()

    return shape("U" in g, n_users), shape("I" in g, n_items)


def split_validation(valid, fraction: float, seed: int):
    """Rows of ``valid`` for learning Λ and the rest for early stopping and selection.

    λOpt learns Λ from validation data, so that data no longer measures the model
    fairly (measured on ml-100k: validation RMSE 0.75 against test 0.97).  A seeded
    random ``fraction`` of the validation rows teaches Λ; the others are held out.
    """
    import numpy as np

    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"The 'lambda_valid_fraction' must be in (0, 1); got {fraction!r}.")
    rng = np.random.default_rng(seed)
    mask = rng.random(len(valid)) < fraction
    return valid.subset(np.flatnonzero(mask)), valid.subset(np.flatnonzero(~mask))


def lambda_validation(valid, user_vocab, item_vocab, fraction: float, seed: int):
    """Split ``valid`` (see :func:`split_validation`) and code the Λ part in the model's ids.

    Returns ``(users, items, ratings_or_None, held_out)``: int64/float32 torch tensors of
    the Λ rows whose user and item the model knows, and the held-out Interactions.
    """
    import numpy as np
    import torch

    from ..exceptions import DataError

    part, held_out = split_validation(valid, fraction, seed)
    u, i = part.recode(user_vocab, item_vocab)
    keep = (u >= 0) & (i >= 0)
    if not keep.any():
        raise DataError("λOpt needs validation interactions of known users and items; the validation data has none.")
    ratings = None if part.ratings is None else torch.from_numpy(part.ratings[keep].astype(np.float32))
    return torch.from_numpy(u[keep].astype(np.int64)), torch.from_numpy(i[keep].astype(np.int64)), ratings, held_out
