"""The λOpt hyperparameters every model that supports it shares (a dataclass mixin for its Config)."""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import check_float, check_int, check_param
from .granularity import GRANULARITIES


@dataclass
class LambdaOptOptions:
    lambdaopt: str = ""
    """λOpt granularity (global, D, U, I, UI, DU, DI, DUI): learn Λ from validation data during
    training, starting from the model's fixed λ; empty = fixed λ.  Needs validation data in ``fit``."""
    lambda_lr: float = 1e-3
    """Step size of the Λ optimizer."""
    lambda_optimizer: str = "adam"
    """Optimizer of Λ: ``adam`` (the paper's code) or ``sgd``."""
    lambda_clip: float = 1e-2
    """Clip each entry of the Λ gradient to [-clip, clip] (the paper's slack KKT constraint)."""
    lambda_valid_fraction: float = 0.5
    """Share of the validation rows that teach Λ; the rest stay for early stopping and selection."""
    lambda_every: int = 1
    """Take a Λ-step every this many training batches (1 = every batch, the paper's Algorithm 1;
    larger values trade Λ updates for speed)."""

    def validate_lambdaopt(self, owner: str) -> None:
        if self.lambdaopt:
            check_param(self.lambdaopt in GRANULARITIES, owner, "lambdaopt", self.lambdaopt, f"'' or one of {GRANULARITIES}")
        check_float(owner, "lambda_lr", self.lambda_lr)
        check_float(owner, "lambda_clip", self.lambda_clip, low_open=True)
        check_param(self.lambda_optimizer in ("adam", "sgd"), owner, "lambda_optimizer", self.lambda_optimizer, "'adam' or 'sgd'")
        check_float(owner, "lambda_valid_fraction", self.lambda_valid_fraction, 0.0, 1.0, low_open=True)
        check_int(owner, "lambda_every", self.lambda_every)
