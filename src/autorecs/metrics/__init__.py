"""Evaluation metrics: one implementation each."""

from .ranking import FAMILIES, ranking_metrics
from .rating import mae, rating_metrics, rmse

__all__ = ["FAMILIES", "mae", "ranking_metrics", "rating_metrics", "rmse"]
