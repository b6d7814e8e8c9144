import numpy as np
import pandas as pd
import pytest

from autorecs.data import Interactions, is_cached, load
from autorecs.data.synthetic import low_rank_ratings


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def ratings_data():
    """A small low-rank rating matrix (200 users x 150 items, 6,000 ratings)."""
    return low_rank_ratings(200, 150, 6000, factors=3, noise=0.1, seed=7)


@pytest.fixture(scope="session")
def implicit_data():
    """Two user groups that each like one half of the items (a block 'checkerboard')."""
    rng = np.random.default_rng(3)
    rows = []
    for u in range(60):
        group = u % 2
        items = np.arange(group * 20, group * 20 + 20)
        chosen = rng.choice(items, size=12, replace=False)
        rows += [(f"u{u}", f"i{i}", 1.0, t) for t, i in enumerate(chosen)]
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    return Interactions.from_frame(frame)


@pytest.fixture(scope="session")
def ml100k():
    """The real MovieLens-100K, only where it is already cached (tests never download)."""
    if not is_cached("ml-100k"):
        pytest.skip("ml-100k is not cached; run `autorecs datasets fetch ml-100k` to enable real-data tests")
    return load("ml-100k")
