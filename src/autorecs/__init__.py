"""autorecs: automated machine learning for recommender systems."""

from .data import Columns, Interactions, Vocabulary, load, read_interactions, split
from .evaluation import evaluate
from .models import BPRMF, MODELS, BiasedMF, ImplicitALS, Recommender, clone
from .regularization import Regularizer

__version__ = "0.1.0"

__all__ = [
    "BPRMF", "Columns", "MODELS", "BiasedMF", "ImplicitALS", "Interactions", "Recommender", "Regularizer", "Vocabulary",
    "__version__", "clone", "evaluate", "load", "read_interactions", "split",
]
