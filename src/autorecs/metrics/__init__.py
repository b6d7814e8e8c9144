"""Evaluation metrics: one implementation each."""

from .classification import auc, classification_metrics, log_loss
from .ranking import FAMILIES, ranking_metrics
from .rating import mae, rating_metrics, rmse

__all__ = ["FAMILIES", "auc", "classification_metrics", "log_loss", "mae", "ranking_metrics", "rating_metrics", "rmse"]
