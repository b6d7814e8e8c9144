"""Logistic regression on one-hot encoded fields (codes per field), solved by L-BFGS.

Objective: mean log loss + ``l2``/2 * ||w||^2 (the intercept is not penalised).
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

    def __init__(self, l2: float = 1e-4, max_iter: int = 1000, tol: float = 1e-7):
        check_param(isinstance(l2, (int, float)) and l2 >= 0, "FieldLogisticRegression", "l2", l2, "a float >= 0")
        self.l2, self.max_iter, self.tol = float(l2), max_iter, tol
        self.coef_ = None

    def fit(self, codes, cardinalities: list[int], y, offset=None) -> "FieldLogisticRegression":
        X = one_hot(codes, cardinalities)
        y = np.asarray(y, np.float64)
        off = np.zeros(len(y)) if offset is None else np.asarray(offset, np.float64)
        n, d = X.shape
        if n == 0:
            raise DataError("Cannot fit a logistic regression on 0 rows.")

        def objective(theta):
            w, b = theta[:d], theta[d]
            z = X @ w + b + off
            p = expit(z)
            loss = np.mean(np.logaddexp(0, z) - y * z) + 0.5 * self.l2 * w @ w
            r = (p - y) / n
            return loss, np.concatenate([X.T @ r + self.l2 * w, [r.sum()]])

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
