"""λOpt wiring shared by every model that supports it (BiasedMF, BPRMF, the interaction-function
models): the validation rows that teach Λ and the :class:`~autorecs.training.LambdaHook` that the
trainer calls.  The Λ-step itself is the model's ``_lambda_step(context, data_grads, v)``."""

from __future__ import annotations

from typing import Callable

import torch

from .._rng import torch_generator
from ..exceptions import DataError
from ..training import LambdaHook


def prepare_lambda_validation(model, valid):
    """``(val, held_out)``: the Λ-teaching validation rows as tensors ``(users, items, ratings or None)``
    and the rest (for early stopping and restarts); ``(None, None)`` without λOpt."""
    c = model.config
    if not c.lambdaopt:
        return None, None
    from ..lambdaopt import lambda_validation

    seed = model._tgen.initial_seed() if c.lambda_split_seed is None else c.lambda_split_seed
    *val, held_out = lambda_validation(valid, model.user_vocab_, model.item_vocab_, c.lambda_valid_fraction, seed)
    return tuple(val), held_out


def lambda_hook(model, rng, val, *, init_user: float, init_item: float,
                begin: Callable[[torch.Tensor], None] | None = None) -> LambdaHook | None:
    """A fresh Λ learner (one per restart) and its hook; None without λOpt."""
    c = model.config
    if not c.lambdaopt:
        return None
    from ..lambdaopt import LambdaLearner

    if val is None:
        raise DataError("λOpt learns Λ from validation data; pass a validation set (fit(train, valid), --valid FILE).")
    learner = LambdaLearner(c.lambdaopt, len(model.user_vocab_), len(model.item_vocab_), c.factors, init_user=init_user,
                            init_item=init_item, lr=c.lambda_lr, clip=c.lambda_clip, like=model._reg, optimizer=c.lambda_optimizer)
    vgen = torch_generator(rng)  # validation sampling leaves the training stream untouched
    step = lambda context, grads, v: model._lambda_step(context, grads, v)  # noqa: E731 (late-bound: replaceable per instance)
    return LambdaHook(c, learner, model._reg, len(val[0]), vgen, step, begin)
