"""Successive halving (Jamieson & Talwalkar 2016), the one implementation every search uses.

Each rung gives every surviving candidate more budget (epochs, training rows, ...) through the
caller's ``run_rung(alive, rung) -> {candidate: score}``; then the better half survives.  Ties
keep the candidate listed first, so a search is deterministic.  SIF's one-pass halving, the
three-way SIF search and AutoCross's candidate rounds all use :func:`better_half`, and the
latter two the driver :func:`successive_halving`.
"""

from __future__ import annotations

from typing import Callable, Hashable, Mapping, Sequence, TypeVar

K = TypeVar("K", bound=Hashable)


def better_half(alive: Sequence[K], scores: Mapping[K, float], *, minimize: bool = True, order: Sequence[K] | None = None) -> list[K]:
    """The better half of ``alive`` by ``scores`` (at least one), best first; ties by position in ``order``."""
    order = list(order if order is not None else alive)
    position = {c: k for k, c in enumerate(order)}
    ranked = sorted(alive, key=lambda c: (scores[c] if minimize else -scores[c], position[c]))
    return ranked[: max(1, len(ranked) // 2)]


def successive_halving(candidates: Sequence[K], run_rung: Callable[[list[K], int], Mapping[K, float]], *,
                       minimize: bool = True) -> K:
    """Run rungs until one candidate is left and return it (a single candidate still gets one rung)."""
    alive, rung = list(candidates), 0
    while True:
        scores = run_rung(alive, rung)
        alive = better_half(alive, scores, minimize=minimize, order=candidates)
        rung += 1
        if len(alive) == 1:
            return alive[0]
