"""Cheap evaluation of candidate fields: field-wise logistic regression trained by
successive mini-batch gradient descent (SMBGD, AutoCross Algorithm 2).

Each candidate adds one field to a frozen model whose logit per row is the fixed
``offset``; only the candidate's weights (one per code) are learned, so every
candidate is a small, independent problem and all of them are evaluated in one
pass.  Training data are cut into blocks; in round ``k`` every surviving
candidate trains on ``2**k`` further blocks (warm start: the weights carry over),
is scored by validation AUC, and the worse half is dropped, until one is left.

Engineering choices (the paper leaves them open):

* The step on a block is a diagonal Newton step with curvature accumulated over
  the blocks seen so far, ``w -= (g + l2 w) / (H + l2)``.  For a one-hot field
  the Hessian is diagonal, so this is the natural preconditioner; it needs no
  learning rate and is scale-free.
* Blocks hold at least ``min_block_rows`` rows; when the rounds need more blocks
  than the data hold at that size, blocks wrap around a fresh permutation (data
  are re-used rather than blocks shrunk to a few rows, which makes the first
  halving a coin toss).
* Rounds can run on several workers (``map_fn``): candidates are split into
  chunks, each chunk trains independently, and the halving is done here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import expit

from ..halving import successive_halving as _halve
from ..metrics.classification import auc


@dataclass
class RoundJob:
    """Everything one worker needs to train a chunk of candidates for one round."""

    xs: list[np.ndarray]  # per candidate: codes of the round's training rows
    xs_valid: list[np.ndarray]
    cards: list[int]
    weights: list[np.ndarray]
    curvature: list[np.ndarray]
    offset: np.ndarray  # the round's training rows
    y: np.ndarray
    blocks: list[slice]  # slices into the round's rows, one per block
    offset_valid: np.ndarray
    y_valid: np.ndarray
    l2: float


def train_round(job: RoundJob) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Train every candidate of ``job`` on its blocks, in order; return weights, curvature, validation AUCs."""
    ws, hs, scores = [], [], []
    for x, xv, card, w, h in zip(job.xs, job.xs_valid, job.cards, job.weights, job.curvature):
        w, h = w.copy(), h.copy()
        for blk in job.blocks:
            xb, yb = x[blk], job.y[blk]
            p = expit(job.offset[blk] + w[xb])
            g = np.bincount(xb, p - yb, minlength=card)
            h += np.bincount(xb, p * (1 - p), minlength=card)
            w -= (g + job.l2 * w) / (h + job.l2)
        ws.append(w)
        hs.append(h)
        scores.append(job.offset_valid + w[xv])
    return ws, hs, np.atleast_1d(auc(np.stack(scores), job.y_valid))


@dataclass
class Candidate:
    """Codes of one candidate field on the training and validation rows."""

    train: np.ndarray
    valid: np.ndarray
    cardinality: int


def successive_halving(
    candidates: list[Candidate],
    offset: np.ndarray,
    y: np.ndarray,
    offset_valid: np.ndarray,
    y_valid: np.ndarray,
    *,
    rng: np.random.Generator,
    l2: float = 1.0,
    min_block_rows: int = 256,
    map_fn: Callable = map,
    n_chunks: int = 1,
) -> tuple[int, list[dict]]:
    """Index of the best candidate, and one record per round (survivors, rows each trained on, best AUC)."""
    n = len(candidates)
    rounds = max(1, math.ceil(math.log2(n))) if n > 1 else 1
    n_blocks = 2**rounds - 1
    n_rows = len(y)
    block_rows = max(n_rows // n_blocks, min(min_block_rows, n_rows))
    needed = block_rows * n_blocks
    order = np.concatenate([rng.permutation(n_rows) for _ in range(math.ceil(needed / n_rows))])[:needed]
    weights = {i: np.zeros(c.cardinality) for i, c in enumerate(candidates)}
    curvature = {i: np.zeros(c.cardinality) for i, c in enumerate(candidates)}
    log: list[dict] = []

    def run_rung(alive, k):  # the next 2^k blocks of rows for every survivor, then its validation AUC
        rows = order[(2**k - 1) * block_rows:(2 ** (k + 1) - 1) * block_rows]
        blocks = [slice(b * block_rows, (b + 1) * block_rows) for b in range(2**k)]
        chunks = [alive[c::n_chunks] for c in range(min(n_chunks, len(alive)))]
        jobs = [RoundJob(
            xs=[candidates[i].train[rows] for i in chunk], xs_valid=[candidates[i].valid for i in chunk],
            cards=[candidates[i].cardinality for i in chunk], weights=[weights[i] for i in chunk],
            curvature=[curvature[i] for i in chunk], offset=offset[rows], y=y[rows], blocks=blocks,
            offset_valid=offset_valid, y_valid=y_valid, l2=l2) for chunk in chunks]
        scores = {}
        for chunk, (ws, hs, aucs) in zip(chunks, map_fn(train_round, jobs)):
            for i, w, h, a in zip(chunk, ws, hs, aucs):
                weights[i], curvature[i], scores[i] = w, h, float(a)
        best = min(alive, key=lambda i: (-scores[i], i))
        log.append({"round": k, "candidates": len(alive), "rows": (2 ** (k + 1) - 1) * block_rows, "best_auc": scores[best]})
        return scores

    return _halve(list(range(n)), run_rung, minimize=False), log
