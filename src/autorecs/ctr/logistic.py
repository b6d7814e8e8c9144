"""Logistic regression on one-hot encoded fields (codes per field), solved by L-BFGS.

Objective: mean log loss + ``l2``/2 * sum_f s_f ||w_f||^2 over fields f (the intercept is not
penalised); the per-field scales ``field_scale`` s_f default to 1.  AC+LR penalises its cross fields
harder than the original ones (:func:`tune_cross_l2`): a cross has many rare values, and one global
``l2`` either under-penalises them or over-penalises the originals.
An optional fixed per-row ``offset`` is added to the logit: that is the
"field-wise" warm start of AutoCross, where the current feature set's logit is
frozen and only a new field's weights are learned.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from scipy.special import expit

from ..exceptions import ConfigError, DataError, NotFittedError, check_param


def one_hot(codes: np.ndarray, cardinalities: list[int]) -> sp.csr_matrix:
    """Sparse (rows x sum(cardinalities)) indicator matrix of integer codes per field."""
    codes = np.asarray(codes)
    n, f = codes.shape
    if f != len(cardinalities):
        raise DataError(f"The codes have {f} fields but {len(cardinalities)} cardinalities were given.")
    offsets = np.concatenate([[0], np.cumsum(cardinalities)[:-1]]).astype(np.int64)
    indices = (codes + offsets).ravel()
    return sp.csr_matrix((np.ones(n * f, np.float64), indices, np.arange(0, n * f + 1, f)), shape=(n, int(sum(cardinalities))))


class FieldLogisticRegression:
    """``fit(codes, cardinalities, y) -> self``; ``predict_proba(codes)``; weights in ``coef_``, ``intercept_``."""

    def __init__(self, l2: float = 1e-4, max_iter: int = 1000, tol: float = 1e-7, field_scale=None):
        check_param(isinstance(l2, (int, float)) and l2 >= 0, "FieldLogisticRegression", "l2", l2, "a float >= 0")
        if field_scale is not None:
            field_scale = [float(v) for v in field_scale]
            check_param(all(np.isfinite(v) and v >= 0 for v in field_scale), "FieldLogisticRegression", "field_scale",
                        field_scale, "one float >= 0 per field")
        self.l2, self.max_iter, self.tol, self.field_scale = float(l2), max_iter, tol, field_scale
        self.coef_ = None

    def fit(self, codes, cardinalities: list[int], y, offset=None) -> "FieldLogisticRegression":
        X = one_hot(codes, cardinalities)
        y = np.asarray(y, np.float64)
        off = np.zeros(len(y)) if offset is None else np.asarray(offset, np.float64)
        n, d = X.shape
        if n == 0:
            raise DataError("Cannot fit a logistic regression on 0 rows.")
        if self.field_scale is None:
            l2 = self.l2
        elif len(self.field_scale) != len(cardinalities):
            raise ConfigError(f"FieldLogisticRegression got {len(self.field_scale)} field_scale values for "
                              f"{len(cardinalities)} fields; pass one per field.")
        else:
            l2 = self.l2 * np.repeat(self.field_scale, cardinalities)

        def objective(theta):
            w, b = theta[:d], theta[d]
            z = X @ w + b + off
            p = expit(z)
            loss = np.mean(np.logaddexp(0, z) - y * z) + 0.5 * (l2 * w) @ w
            r = (p - y) / n
            return loss, np.concatenate([X.T @ r + l2 * w, [r.sum()]])

        theta0 = np.zeros(d + 1)
        prior = np.clip(y.mean(), 1e-6, 1 - 1e-6)
        theta0[d] = np.log(prior / (1 - prior)) if offset is None else 0.0
        res = scipy.optimize.minimize(objective, theta0, jac=True, method="L-BFGS-B",
                                      options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": 1e-6})
        if not np.all(np.isfinite(res.x)):
            raise ConfigError(f"Logistic regression diverged with l2={self.l2}; raise the 'l2' parameter.")
        self.coef_, self.intercept_ = res.x[:d], float(res.x[d])
        self.cardinalities_, self.n_iter_ = list(cardinalities), int(res.nit)
        return self

    def decision_function(self, codes, offset=None) -> np.ndarray:
        if self.coef_ is None:
            raise NotFittedError("This FieldLogisticRegression is not fitted; call fit(...) first.")
        z = one_hot(codes, self.cardinalities_) @ self.coef_ + self.intercept_
        return z if offset is None else z + offset

    def predict_proba(self, codes, offset=None) -> np.ndarray:
        """Probability of the positive class per row."""
        return expit(self.decision_function(codes, offset))


#: The L2 grid every logistic regression (LR, AC+LR, CMI+LR) is tuned over, on validation AUC.
L2_GRID = (1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3)


def tune_l2(codes, cards, y, valid_codes, valid_y, grid=L2_GRID) -> tuple[FieldLogisticRegression, dict[float, float]]:
    """Fit one LR per ``l2`` in ``grid``; return the best by validation AUC and every ``{l2: valid AUC}``."""
    from ..metrics.classification import auc

    scores, best = {}, None
    for l2 in grid:
        model = FieldLogisticRegression(l2).fit(codes, cards, y)
        scores[l2] = auc(model.decision_function(valid_codes), valid_y)
        if best is None or scores[l2] > scores[best.l2]:
            best = model
    return best, scores


#: Multipliers of the originals' ``l2`` tried for the cross fields (:func:`tune_cross_l2`).
CROSS_L2_SCALES = (1, 3, 10, 30, 100, 300)


def tune_cross_l2(codes, cards, y, valid_codes, valid_y, n_base: int, l2: float,
                  scales=CROSS_L2_SCALES) -> tuple[FieldLogisticRegression, dict[float, float]]:
    """LR on ``n_base`` original fields then cross fields: the originals keep ``l2`` (tuned on them alone,
    :func:`tune_l2`), the crosses get ``l2 * scale``; return the best ``scale`` by validation AUC and
    every ``{scale: valid AUC}``.  Two one-dimensional searches instead of a grid over both penalties."""
    from ..metrics.classification import auc

    check_param(0 < n_base <= len(cards), "tune_cross_l2", "n_base", n_base, f"an int in [1, {len(cards)}] (the original fields)")
    if n_base == len(cards):  # no crosses: nothing to scale
        scales = (1,)
    scores, best, best_scale = {}, None, None
    for scale in scales:
        model = FieldLogisticRegression(l2, field_scale=[1.0] * n_base + [float(scale)] * (len(cards) - n_base)).fit(codes, cards, y)
        scores[scale] = auc(model.decision_function(valid_codes), valid_y)
        if best is None or scores[scale] > scores[best_scale]:
            best, best_scale = model, scale
    return best, scores
