"""SIF: searching the interaction function of collaborative filtering (Yao et al., WWW 2020).

* :mod:`.search`         the one-shot proximal search (Algorithm 2)
* :mod:`.tensor_search`  its three-way form (user, item, context)
* :mod:`.baselines`      the AutoML baselines (random, TPE, REINFORCE) it is compared with
* :mod:`.pipeline`       search, retrain with λ chosen on validation, report

The operations (:mod:`autorecs.models.ops`), the element-wise transform
(:mod:`autorecs.models.transform`) and the fixed and retrained interaction-function models
(:mod:`autorecs.models.ifc`) live with the models, which this package builds on.
"""

from ..models.ops import OPS, SEARCH_OPS
from ..models.transform import ElementwiseMLP
from .search import SearchConfig, SearchResult, SIFSearch

__all__ = ["OPS", "SEARCH_OPS", "ElementwiseMLP", "SIFSearch", "SearchConfig", "SearchResult"]
