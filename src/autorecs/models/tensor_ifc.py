"""Interaction functions for three-way ratings (user, item, context): CP, Tucker and the SIF
tensor space (SIF paper, Section 3.4).

    r̂_uic = [μ + b_u + b_i + b_c] + wᵀ O(p_u, q_i, s_c),   ||w||₂ ≤ 1

``interaction`` is a name of :data:`autorecs.models.ops.TRIPLE_OPS` (two operations chained in one
of three pairings), ``cp`` (= ``multiply(multiply(u,v),s)``: CP with a linear head) or ``tucker``
(a learned K x K x K core).  The penalty is the library's frequency-scaled L2 (as in BiasedMF and
:mod:`autorecs.models.ifc`): λ n^(β−1) per occurrence of a row seen n times in training, on the three
embedding rows and biases.  Unscaled, the 5 context rows (each in ~10,000 ratings) are shrunk to
zero and CP/Tucker collapse to their biases (measured on ml-100k: 0.9468 test RMSE at any init).
:func:`halving_search` searches the operation: every candidate trains in rounds, the worse half by
validation RMSE is dropped after each round, the winner is retrained with λ chosen on validation.
"""

from __future__ import annotations

import json
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._progress import progress_bar
from .._rng import as_generator, torch_generator
from ..data.tensor import TensorRatings
from ..data.vocab import Vocabulary
from ..exceptions import DataError, NotFittedError, build_config, check_float, check_int, check_output_dir, check_param, check_switches, damage_reason
from ..metrics.rating import rating_metrics, rmse
from ..halving import successive_halving
from .ops import TRIPLE_OPS, apply_triple, triple_width
from ..training import BatchLoss, minibatch_epoch, train_loop
from ..optim import make_optimizer

ALIASES = {"cp": "multiply(multiply(u,v),s)"}


@dataclass
class TensorIFCConfig:
    interaction: str = "cp"
    factors: int = 8
    biases: bool = True
    reg: float = 0.3
    reg_exponent: float = 0.6
    learning_rate: float = 0.003
    batch_size: int = 1024
    init_std: float = 0.1
    epochs: int = 100
    patience: int = 5

    def validate(self) -> None:
        owner = "TensorIFC"
        check_switches(self, owner, cli=False)
        ok = self.interaction in TRIPLE_OPS or self.interaction in ALIASES or self.interaction == "tucker"
        check_param(ok, owner, "interaction", self.interaction, "cp, tucker or a name of autorecs.models.ops.TRIPLE_OPS",
                    "e.g. 'multiply(max(u,v),s)'.")
        for name in ("factors", "batch_size", "epochs", "patience"):
            check_int(owner, name, getattr(self, name))
        check_float(owner, "reg", self.reg, fix="Use 0 for no regularization.")
        check_float(owner, "reg_exponent", self.reg_exponent, 0.0, 1.0)
        check_float(owner, "learning_rate", self.learning_rate, low_open=True)


class _Net(nn.Module):
    def __init__(self, cfg: TensorIFCConfig, shape, mean: float, gen: torch.Generator):
        super().__init__()
        k = cfg.factors
        self.op = ALIASES.get(cfg.interaction, cfg.interaction)
        self.E = nn.ParameterList([nn.Parameter(torch.randn(n, k, generator=gen) * cfg.init_std) for n in shape])
        self.b = nn.ParameterList([nn.Parameter(torch.zeros(n), requires_grad=cfg.biases) for n in shape])
        self.mu = nn.Parameter(torch.tensor(mean), requires_grad=cfg.biases)
        if self.op == "tucker":
            self.core = nn.Parameter(torch.randn(k, k, k, generator=gen) / k)
        else:
            w = torch.randn(triple_width(self.op, k), generator=gen)
            self.w = nn.Parameter(w / w.norm())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = [E[x[:, m]] for m, E in enumerate(self.E)]
        base = self.mu + sum(b[x[:, m]] for m, b in enumerate(self.b))
        if self.op == "tucker":
            return base + torch.einsum("abc,na,nb,nc->n", self.core, *e)
        return base + apply_triple(self.op, *e) @ self.w


class TensorIFC:
    """``TensorIFC(**config).fit(train, valid) -> self``; ``predict(data)``; ``evaluate(data)``."""

    def __init__(self, **params):
        self.config = build_config(TensorIFCConfig, params, "TensorIFC")
        self.config.validate()
        self.net = None

    def fit(self, train: TensorRatings, valid: TensorRatings | None = None, *, seed=0, progress: bool = True,
            max_epochs: int | None = None) -> "TensorIFC":
        self.start(train, seed)
        validate = None
        if valid is not None and len(valid):
            vx, vy = self._codes(valid), valid.values
            validate = lambda: {"valid_rmse": rmse(self._predict_codes(vx), vy)}  # noqa: E731
        self.history_ = train_loop(self, max_epochs=max_epochs or self.config.epochs, validate=validate,
                                   monitor="valid_rmse" if validate else None, patience=self.config.patience,
                                   progress=progress, description=f"TensorIFC {self.config.interaction}",
                                   step_hint=f"learning_rate={self.config.learning_rate}")
        return self

    def start(self, train: TensorRatings, seed=0) -> None:
        """Fresh parameters for ``train`` (training then proceeds with ``_train_epoch``)."""
        if len(train) == 0:
            raise DataError("The training data is empty.")
        self._gen = torch_generator(as_generator(seed))
        self.vocabs_ = train.vocabs
        self.range_ = (float(train.values.min()), float(train.values.max()))
        self.train_std_ = float(train.values.std())
        self.net = _Net(self.config, train.shape, float(train.values.mean()), self._gen)
        self._opt = make_optimizer("adam", [p for p in self.net.parameters() if p.requires_grad], lr=self.config.learning_rate)
        self._x = torch.from_numpy(train.codes)
        counts = [np.bincount(train.codes[:, m], minlength=n).clip(min=1) for m, n in enumerate(train.shape)]
        self._scale = [torch.from_numpy(c.astype(np.float32)).pow(self.config.reg_exponent - 1.0) for c in counts]
        self._y = torch.from_numpy(train.values.astype(np.float32))

    def _train_epoch(self) -> dict[str, float]:
        net, reg = self.net, self.config.reg

        def batch_loss(idx, rows, lambda_due):
            x, y = self._x[idx], self._y[idx]
            err = (net(x) - y).pow(2).sum()
            penalty = reg * sum(((E[x[:, m]].pow(2).sum(1) + net.b[m][x[:, m]].pow(2)) * self._scale[m][x[:, m]]).sum()
                                for m, E in enumerate(net.E))
            return BatchLoss(err, penalty)

        def project():  # the head on the unit ball
            if hasattr(net, "w"):
                with torch.no_grad():
                    net.w.div_(net.w.norm().clamp_min(1.0))

        return minibatch_epoch(len(self._y), self.config.batch_size, batch_loss, self._opt, generator=self._gen, after_step=project)

    def _get_state(self):
        return {k: v.detach().clone() for k, v in self.net.state_dict().items()}

    def _set_state(self, state) -> None:
        self.net.load_state_dict(state)

    def _codes(self, data: TensorRatings) -> torch.Tensor:
        return torch.from_numpy(data.recode(self.vocabs_))

    @torch.no_grad()
    def _predict_codes(self, x: torch.Tensor) -> np.ndarray:
        known = (x >= 0).all(1)
        pred = self.net(x.clamp_min(0)).clamp(*self.range_)
        return torch.where(known, pred, self.net.mu).numpy()

    def predict(self, data: TensorRatings) -> np.ndarray:
        if self.net is None:
            raise NotFittedError("This TensorIFC is not fitted; call fit(train, valid) first.")
        return self._predict_codes(self._codes(data))

    def evaluate(self, data: TensorRatings) -> dict[str, float]:
        return rating_metrics(self.predict(data), data.values, train_std=self.train_std_)

    # ------------------------------------------------------------ persistence
    MODES = ("user", "item", "context")

    def save(self, path: str | Path) -> Path:
        """Write ``model.json`` (the parameters, the rating range), ``weights.npz`` and ``ids.npz`` (each mode's ids)
        into directory ``path``; no pickled code.  :meth:`load` reads it back."""
        if self.net is None:
            raise NotFittedError("This TensorIFC is not fitted; call fit(train, valid) first.")
        path = Path(path)
        check_output_dir(path, overwrite=True, what="model directory")
        path.mkdir(parents=True, exist_ok=True)
        np.savez(path / "weights.npz", **{k: v.cpu().numpy() for k, v in self._get_state().items()})
        np.savez(path / "ids.npz", **{m: v.to_array() for m, v in zip(self.MODES, self.vocabs_)})
        (path / "model.json").write_text(json.dumps({"model": "tensor-ifc", "params": asdict(self.config), "range": list(self.range_),
                                                     "train_std": self.train_std_}, indent=1))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "TensorIFC":
        """A model saved by :meth:`save`."""
        path = Path(path)
        try:
            meta = json.loads((path / "model.json").read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"'{path}' is not a saved TensorIFC (no readable model.json); give the directory TensorIFC.save or "
                            "`autorecs search-ifc --context-col ...` wrote.") from exc
        if not isinstance(meta, dict) or meta.get("model") != "tensor-ifc":
            found = meta.get("model") if isinstance(meta, dict) else None
            raise DataError(f"'{path}' holds a {found!r} model, not a TensorIFC; load it with Recommender.load.")
        try:
            model = cls(**meta["params"])
            with np.load(path / "ids.npz", allow_pickle=False) as ids:
                model.vocabs_ = tuple(Vocabulary(ids[m]) for m in cls.MODES)
            with np.load(path / "weights.npz", allow_pickle=False) as w:
                state = {k: torch.from_numpy(w[k]) for k in w.files}
            model.range_, model.train_std_ = tuple(meta["range"]), meta["train_std"]
            model.net = _Net(model.config, tuple(len(v) for v in model.vocabs_), 0.0, torch.Generator())
            model._set_state(state)  # tables of another shape: a RuntimeError
        except (OSError, EOFError, KeyError, TypeError, ValueError, RuntimeError, zipfile.BadZipFile) as exc:
            raise DataError(f"The TensorIFC directory '{path}' is damaged ({damage_reason(exc)}); search or fit it again.") from exc
        return model


def halving_search(train: TensorRatings, valid: TensorRatings, *, ops=None, rung_epochs: int = 2, seed=0, progress: bool = True,
                   **config) -> dict:
    """Successive halving over tensor interaction functions; returns the winner, the rounds and the seconds."""
    ops = list(ops or TRIPLE_OPS)
    t0 = time.perf_counter()
    cands = {op: TensorIFC(**{**config, "interaction": op}) for op in ops}
    for k, m in enumerate(cands.values()):
        m.start(train, seed=seed + k)
    vx, vy = torch.from_numpy(valid.recode(train.vocabs)), valid.values
    rounds: list[dict] = []
    n_rounds = int(np.ceil(np.log2(len(ops)))) if len(ops) > 1 else 0
    with progress_bar(n_rounds, "tensor SIF search", enabled=progress) as bar:

        def run_rung(alive, rung):  # rung_epochs more epochs for every survivor, then its validation RMSE
            scores = {}
            for op in alive:
                for _ in range(rung_epochs):
                    cands[op]._train_epoch()
                scores[op] = rmse(cands[op]._predict_codes(vx), vy)
            best = min(alive, key=lambda o: (scores[o], ops.index(o)))
            rounds.append({"candidates": len(alive), "best": best, "best_valid_rmse": scores[best],
                           "seconds": time.perf_counter() - t0, "scores": scores})
            bar.update(1, best=best)
            return scores

        winner = successive_halving(ops, run_rung) if len(ops) > 1 else ops[0]
    return {"interaction": winner, "rounds": rounds, "seconds": time.perf_counter() - t0, "config": asdict(TensorIFCConfig(**config))}
