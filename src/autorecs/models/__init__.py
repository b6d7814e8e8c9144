"""Recommender models, one algorithm per module, all on the :class:`Recommender` protocol."""

from .base import FitConfig, Recommendations, Recommender, clone
from .biased_mf import BiasedMF, BiasedMFConfig
from .amf import AMF, AMFConfig
from .baseline import Baseline, BaselineConfig
from .ease import EASE, EASEConfig
from .ensemble import Ensemble
from .item_knn import ItemKNN, ItemKNNConfig
from .knn_baseline import KNNBaseline, KNNBaselineConfig
from .popularity import Popularity, PopularityConfig
from .bpr import BPRMF, BPRMFConfig
from .ifc import FM, IFC_MODELS, NCF, SIF, AltGrad, IFCConfig, InteractionMF, WideDeep
from .implicit_als import ImplicitALS, ImplicitALSConfig
from .neumf import NeuMF, NeuMFConfig

#: Registry used by the CLI and by ``Recommender.load``.
MODELS: dict[str, type[Recommender]] = {
    m.name: m for m in (BiasedMF, BPRMF, AMF, NeuMF, ImplicitALS, *IFC_MODELS, Baseline, KNNBaseline, EASE, ItemKNN, Popularity)
}
#: What ``Recommender.load`` can read besides the trainable models (built from fitted ones).
LOADABLE: dict[str, type[Recommender]] = {"ensemble": Ensemble}

__all__ = [
    "AMF", "AMFConfig", "NeuMF", "NeuMFConfig", "FM", "NCF", "SIF", "AltGrad", "IFCConfig", "InteractionMF", "WideDeep",
    "BPRMF", "BPRMFConfig", "BiasedMF", "BiasedMFConfig", "FitConfig", "ImplicitALS", "ImplicitALSConfig",
    "MODELS", "Recommendations", "Recommender", "clone", "Ensemble", "LOADABLE", "Baseline", "BaselineConfig", "EASE", "EASEConfig", "ItemKNN",
    "ItemKNNConfig", "KNNBaseline", "KNNBaselineConfig", "Popularity", "PopularityConfig",
]
