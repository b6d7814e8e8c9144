"""Seeds: accept ``int | numpy.random.Generator | None`` and convert once."""

from __future__ import annotations

import numpy as np
import torch



def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Return a NumPy Generator; an existing Generator is passed through."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer)):
        return np.random.default_rng(seed)
    from .exceptions import ConfigError

    raise ConfigError(f"The 'seed' parameter must be an int, a numpy Generator or None; got {seed!r}.")


def torch_generator(rng: np.random.Generator) -> torch.Generator:
    """A torch CPU generator seeded from (and advancing) the NumPy generator."""
    g = torch.Generator()
    g.manual_seed(int(rng.integers(0, 2**62)))
    return g
