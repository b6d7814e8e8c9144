"""Why auto does not take a λOpt model whose validation lead is small: it cannot be refit on the
validation rows (Λ is learned from them).  ml-100k random-50-25-25, seed 0, the λOpt BiasedMF that
auto chose (Adam, K=33, lr 0.0125): test RMSE trained on train only; BiasedMF with the same settings
and its default λ refit on train + validation for the epochs early stopping found; and the same
refit with the learned Λ kept as a fixed penalty.

    python benchmarks/check_lambdaopt_refit.py >> benchmarks/results/auto-refit-check.jsonl
"""

import json

import numpy as np
import torch

from autorecs import Interactions, Regularizer, evaluate, load, split
from autorecs.models import BiasedMF


def remap(lam, old_vocab, new_vocab):
    """Λ rows of the train vocabulary re-indexed to the train + validation vocabulary (by raw id)."""
    if lam.dim() == 0 or lam.shape[0] != len(old_vocab):
        return lam
    codes = old_vocab.codes(new_vocab.to_array())
    out = lam[torch.from_numpy(np.maximum(codes, 0).astype(np.int64))].clone()
    out[torch.from_numpy(codes < 0)] = lam.mean(0)
    return out


def main() -> None:
    torch.set_num_threads(1)
    tr, va, te = split(load("ml-100k"), "random-50-25-25", seed=0)
    params = dict(solver="adam", lambdaopt="DUI", factors=33, learning_rate=0.0125)
    lopt = BiasedMF(**params).fit(tr, va, seed=8, progress=False)
    full, epochs = Interactions.concat(tr, va), lopt.history_.best_epoch
    fixed = {k: v for k, v in params.items() if k != "lambdaopt"}
    reg = Regularizer(user=remap(lopt.lam_user, lopt.user_vocab_, full.user_vocab), item=remap(lopt.lam_item, lopt.item_vocab_, full.item_vocab))
    learned = BiasedMF(**fixed, epochs=epochs, regularizer=reg).fit(full, None, seed=8, progress=False)
    default = BiasedMF(**fixed, epochs=epochs).fit(full, None, seed=8, progress=False)
    print(json.dumps({"dataset": "ml-100k", "protocol": "random-50-25-25", "seed": 0, "epochs": epochs,
                      "lambdaopt_train_only_test_rmse": evaluate(lopt, te)["rmse"],
                      "refit_train_valid_learned_lambda_test_rmse": evaluate(learned, te)["rmse"],
                      "refit_train_valid_default_lambda_test_rmse": evaluate(default, te)["rmse"]}))


if __name__ == "__main__":
    main()
