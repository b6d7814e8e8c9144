"""SIF: searching the interaction function of collaborative filtering (Yao et al., WWW 2020).

* :mod:`.ops`        the vector-wise operations (and three-way combinations)
* :mod:`.transform`  the element-wise transform g(·; p)
* :mod:`.search`     the one-shot proximal search (Algorithm 2)
The fixed interaction functions and the retrained SIF model live in :mod:`autorecs.models.ifc`.
"""

from .ops import OPS, SEARCH_OPS
from .transform import ElementwiseMLP

__all__ = ["OPS", "SEARCH_OPS", "ElementwiseMLP", "SIFSearch", "SearchConfig", "SearchResult"]


def __getattr__(name):  # the search imports the models, which import .ops: load it lazily
    if name in ("SIFSearch", "SearchConfig", "SearchResult"):
        from . import search

        return getattr(search, name)
    raise AttributeError(name)
