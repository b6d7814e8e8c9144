"""Interaction operations: how a user vector and an item vector combine into one vector.

``OPS[name](u, v)`` maps two ``(batch, K)`` tensors to ``(batch, width(K))``; a
linear head ``w`` (``||w||_2 <= 1``) turns that into a score (SIF paper, eq. 5).
``SEARCH_OPS`` is the SIF search space (eq. 7); ``conv`` and ``outer`` are kept as
fixed interaction functions only, as in the paper (slower, and worse there).

Three-way data (user, item, context) use :data:`TRIPLE_OPS` (the paper's appendix): two basic
operations chained in one of three pairings, ``second(first(a, b), c)``, e.g.
``multiply(max(u,v),s)``; chains of one operation do not depend on the pairing and appear once.
``multiply(multiply(u,v),s)`` with a linear head is CP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch


@dataclass(frozen=True)
class Op:
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    width: Callable[[int], int]


def _conv(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Circular convolution along the embedding axis (FFT, O(K log K))."""
    k = u.shape[-1]
    return torch.fft.irfft(torch.fft.rfft(u, dim=-1) * torch.fft.rfft(v, dim=-1), n=k, dim=-1)


OPS: dict[str, Op] = {
    "multiply": Op(lambda u, v: u * v, lambda k: k),
    "plus": Op(lambda u, v: u + v, lambda k: k),
    "min": Op(torch.minimum, lambda k: k),
    "max": Op(torch.maximum, lambda k: k),
    "concat": Op(lambda u, v: torch.cat([u, v], -1), lambda k: 2 * k),
    "conv": Op(_conv, lambda k: k),
    "outer": Op(lambda u, v: (u.unsqueeze(-1) * v.unsqueeze(-2)).flatten(-2), lambda k: k * k),
}

SEARCH_OPS = ("multiply", "plus", "min", "max", "concat")


#: which two of (u, v, s) are combined first
PAIRINGS = ("uv", "us", "vs")


def triple_name(first: str, second: str, pairing: str) -> str:
    rest = ({"u", "v", "s"} - set(pairing)).pop()
    return f"{second}({first}({pairing[0]},{pairing[1]}),{rest})"


TRIPLE_OPS: dict[str, tuple[str, str, str]] = {
    triple_name(f, s, p): (f, s, p)
    for f in SEARCH_OPS for s in SEARCH_OPS for p in (PAIRINGS[:1] if f == s else PAIRINGS)
}


def _fit(c: torch.Tensor, width: int) -> torch.Tensor:
    """Repeat ``c`` along the last axis to ``width`` (a K-vector meeting a 2K concat)."""
    return c if c.shape[-1] == width else c.repeat_interleave(width // c.shape[-1], dim=-1)


def apply_triple(name: str, u: torch.Tensor, v: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    first, second, pairing = TRIPLE_OPS[name]
    x = {"u": u, "v": v, "s": s}
    inner = OPS[first].fn(x[pairing[0]], x[pairing[1]])
    c = x[({"u", "v", "s"} - set(pairing)).pop()]
    return OPS[second].fn(inner, c if second == "concat" else _fit(c, inner.shape[-1]))


def triple_width(name: str, k: int) -> int:
    first, second, _ = TRIPLE_OPS[name]
    inner = OPS[first].width(k)
    return inner + k if second == "concat" else inner
