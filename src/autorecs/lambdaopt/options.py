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
    lambda_split_seed: int | None = None
    """Seed of that split of the validation rows (None: the fit's seed).  Fix it to score several
    models on the same held-out rows (``autorecs.auto`` does)."""
    lambda_every: int = 1
    """Take a Λ-step every this many training batches (1 = every batch, the paper's Algorithm 1;
    larger values trade Λ updates for speed).  BPRMF DUI, ml-1m K=128, 3 seeds: 1, 2, 4 gain +15.8%, +13.0%,
    +10.1% NDCG@100 over the grid-searched λ; with the Λ-step compiled (CPU), every batch costs 2.4x a
    fixed-λ epoch at one thread (benchmarks/README.md)."""
    lambda_batch_size: int | None = None
    """Validation rows per Λ-step (None: as many as the training batch, the paper's code; fewer make
    the Λ-step cheaper, its cost being in proportion to the validation batch)."""

    def validation_draws(self, n_valid: int, n_train: int, batch_size: int, generator):
        """This epoch's validation rows for the Λ-steps, and ``at(s)``: the slice of them for the
        training batch that starts at row ``s``."""
        import torch

        vb = self.lambda_batch_size
        if vb is None:  # one validation row per training row (the draws of earlier versions, unchanged)
            return torch.randint(n_valid, (n_train,), generator=generator), lambda s: slice(s, s + batch_size)
        n_batches = -(-n_train // batch_size)
        return (torch.randint(n_valid, (n_batches * vb,), generator=generator),
                lambda s: slice(s // batch_size * vb, (s // batch_size + 1) * vb))

    def validate_lambdaopt(self, owner: str) -> None:
        if self.lambdaopt:
            check_param(self.lambdaopt in GRANULARITIES, owner, "lambdaopt", self.lambdaopt, f"'' or one of {GRANULARITIES}")
        check_float(owner, "lambda_lr", self.lambda_lr)
        check_float(owner, "lambda_clip", self.lambda_clip, low_open=True)
        check_param(self.lambda_optimizer in ("adam", "sgd"), owner, "lambda_optimizer", self.lambda_optimizer, "'adam' or 'sgd'")
        check_float(owner, "lambda_valid_fraction", self.lambda_valid_fraction, 0.0, 1.0, low_open=True)
        check_int(owner, "lambda_every", self.lambda_every)
        if self.lambda_split_seed is not None:
            check_int(owner, "lambda_split_seed", self.lambda_split_seed, low=0)
        if self.lambda_batch_size is not None:
            check_int(owner, "lambda_batch_size", self.lambda_batch_size)
