"""Interaction operations: how a user vector and an item vector combine into one vector.

``OPS[name](u, v)`` maps two ``(batch, K)`` tensors to ``(batch, width(K))``; a
linear head ``w`` (``||w||_2 <= 1``) turns that into a score (SIF paper, eq. 5).
``SEARCH_OPS`` is the SIF search space (eq. 7); ``conv`` and ``outer`` are kept as
fixed interaction functions only, as in the paper (slower, and worse there).
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
