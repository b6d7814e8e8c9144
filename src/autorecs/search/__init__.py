"""Hyperparameter search: spaces as data, grid/random/TPE strategies on Optuna, budgets,
resumable studies, local or Ray execution."""

from .engine import BACKENDS, STRATEGIES, Budget, Tuner, TrialResult, TuneResult
from .space import Param, SearchSpace
from .spaces import BUILTIN_SPACES, LAMBDAOPT_GRID, SIF_GRID, builtin_space

__all__ = [
    "BACKENDS", "BUILTIN_SPACES", "Budget", "LAMBDAOPT_GRID", "Param", "SIF_GRID", "STRATEGIES", "SearchSpace",
    "TrialResult", "TuneResult", "Tuner", "builtin_space",
]
