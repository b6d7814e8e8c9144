"""Seeds: accept ``int | numpy.random.Generator | None`` and convert once."""

from __future__ import annotations

import numpy as np
import torch



def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Return a NumPy Generator; an existing Generator is passed through."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        return np.random.default_rng(seed)
    from .exceptions import ConfigError

    raise ConfigError(f"The 'seed' parameter must be an int >= 0, a numpy Generator or None; got {seed!r}.")


def check_seed(seed, owner: str) -> None:
    """A seed every sampler takes (Optuna's need [0, 2**32)), checked where a run starts, before anything is written."""
    if seed is None or isinstance(seed, np.random.Generator):
        return
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and 0 <= seed < 2**32:
        return
    from .exceptions import ConfigError

    raise ConfigError(f"The 'seed' parameter of {owner} must be an int in [0, 2**32) (in Python also a numpy Generator or None); got {seed!r}.",
                      param="seed", owner=owner)


def torch_generator(rng: np.random.Generator) -> torch.Generator:
    """A torch CPU generator seeded from (and advancing) the NumPy generator."""
    g = torch.Generator()
    g.manual_seed(int(rng.integers(0, 2**62)))
    return g


def sampler_seed(seed: int, worker: int = 0, trials_so_far: int = 0) -> int:
    """The seed of a search sampler: ``seed`` itself for the first worker of a fresh study (what a single run
    reproduces), else one derived from (seed, worker, trials so far).  Samplers that share a seed propose the
    same random points: two workers of one study, or a study resumed, would repeat configurations."""
    if worker == 0 and trials_so_far == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), int(worker), int(trials_so_far)]).generate_state(1)[0])
