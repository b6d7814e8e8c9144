"""Data layer: interactions with owned id mapping, readers, built-in data sets, splits."""

from .builtin import DATASETS, cache_dir, fetch, is_cached, list_datasets, load, load_table
from .interactions import Columns, Interactions
from .readers import read_frame, read_interactions, write_frame, write_interactions
from .splits import Split, global_time_split, leave_last_out, random_split, split, temporal_user_split
from .vocab import Vocabulary

__all__ = [
    "DATASETS", "Columns", "Interactions", "Split", "Vocabulary", "cache_dir", "fetch", "global_time_split",
    "is_cached", "leave_last_out", "list_datasets", "load", "load_table", "random_split", "read_frame", "read_interactions",
    "split", "temporal_user_split", "write_frame", "write_interactions",
]
