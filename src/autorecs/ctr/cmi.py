"""CMI+LR's cross selection: pair-wise crosses ranked by conditional mutual information.

The score of the cross ``a x b`` is what it tells about the label beyond the
better of its two parents: ``I(Y; A,B) - max(I(Y; A), I(Y; B))``, which equals
``min(I(Y; A | B), I(Y; B | A))``.  Mutual information is the plug-in estimate
with the Miller-Madow bias correction (without it, crosses of many-valued fields
win by their number of cells alone).
"""

from __future__ import annotations

import numpy as np


def mutual_information(x: np.ndarray, y: np.ndarray) -> float:
    """Bias-corrected I(X; Y) in nats for integer codes ``x`` and binary ``y``."""
    _, xi = np.unique(x, return_inverse=True)
    n, kx = len(y), int(xi.max()) + 1
    joint = np.bincount(xi * 2 + y.astype(np.int64), minlength=2 * kx).reshape(kx, 2) / n
    px, py = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    mi = float((joint[nz] * np.log(joint[nz] / (px @ py)[nz])).sum())
    cells, kxn, kyn = int(nz.sum()), int((px > 0).sum()), int((py > 0).sum())
    return mi - (cells - kxn - kyn + 1) / (2 * n)


def cmi_pairs(codes: np.ndarray, cards: list[int], y: np.ndarray, k: int) -> list[tuple[int, int, float]]:
    """The ``k`` best pairs ``(i, j, score)`` of columns of ``codes``, best first."""
    single = [mutual_information(codes[:, i], y) for i in range(codes.shape[1])]
    scored = []
    for i in range(codes.shape[1]):
        for j in range(i + 1, codes.shape[1]):
            joint = mutual_information(codes[:, i].astype(np.int64) * cards[j] + codes[:, j], y)
            scored.append((i, j, joint - max(single[i], single[j])))
    scored.sort(key=lambda t: (-t[2], t[0], t[1]))
    return scored[:k]
