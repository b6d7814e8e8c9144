"""λOpt: learned fine-grained regularization.

Work in progress (issue 4): the simulated optimizer step and the Λ-step's validation loss
are here and tested against PyTorch and finite differences; the training loop, models and
benchmarks are not yet.
"""

from .hypergrad import validation_loss_after_step
from .simulate import simulated_step

__all__ = ["simulated_step", "validation_loss_after_step"]
