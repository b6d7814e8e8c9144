"""λOpt: learned fine-grained regularization.

Work in progress (issue 4): the simulated optimizer step, the Λ-step and its use in BPRMF and
BiasedMF (gradient solvers), and Λ-trajectories per frequency group are here and tested; the
paper's baselines (SGDA, NeuMF, AMF) and the Table-2 benchmark are not yet.
"""

from .groups import frequency_groups, group_gains, group_metrics
from .granularity import GRANULARITIES, lambda_shapes, lambda_validation, split_validation
from .hypergrad import LambdaLearner, rows_gradient, validation_loss_after_step
from .simulate import simulated_step
from .trajectory import LambdaTrajectory

__all__ = ["GRANULARITIES", "frequency_groups", "group_gains", "group_metrics", "LambdaLearner", "rows_gradient", "LambdaTrajectory", "lambda_shapes", "lambda_validation", "simulated_step", "split_validation", "validation_loss_after_step"]
