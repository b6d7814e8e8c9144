"""λOpt: learned fine-grained regularization (Chen et al., KDD 2019).

``simulate`` (the real optimizer's next step as a differentiable function), ``hypergrad`` (the
Λ-step and the Λ learner), ``granularity`` (Λ shapes, the validation split that teaches Λ),
``options`` (the Config fields of models that support it: BPRMF, BiasedMF), ``trajectory`` and
``groups`` (Λ and quality per frequency group).  The paper's baselines are models of their own
(``autorecs.models.AMF``, ``NeuMF``; SGDA = λOpt-D with SGD); the benchmark is
``benchmarks/bench_lambdaopt.py``.
"""

from .groups import frequency_groups, group_gains, group_metrics
from .granularity import GRANULARITIES, lambda_shapes, lambda_validation, split_validation
from .hypergrad import LambdaLearner, rows_gradient, validation_loss_after_step
from .simulate import simulated_step
from .trajectory import LambdaTrajectory

__all__ = ["GRANULARITIES", "frequency_groups", "group_gains", "group_metrics", "LambdaLearner", "rows_gradient", "LambdaTrajectory", "lambda_shapes", "lambda_validation", "simulated_step", "split_validation", "validation_loss_after_step"]
