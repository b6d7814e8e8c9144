import numpy as np
import pytest
import torch

from autorecs import Regularizer
from autorecs.exceptions import ConfigError

P = torch.tensor([[1.0, 2.0], [3.0, 4.0], [0.5, 0.5]])  # 3 rows, K = 2
ROWS = torch.tensor([0, 2, 0])  # occurrences in a batch


@pytest.mark.parametrize(
    "lam,expected",
    [
        (0.1, 0.1 * (5 + 0.5 + 5)),  # global
        (torch.tensor([0.1, 1.0]), 2 * (0.1 * 1 + 1.0 * 4) + (0.1 * 0.25 + 0.25)),  # per dimension
        (torch.tensor([[0.1], [9.0], [1.0]]), 2 * 0.1 * 5 + 1.0 * 0.5),  # per row
        (torch.tensor([[0.1, 1.0], [9.0, 9.0], [2.0, 0.0]]), 2 * (0.1 + 4.0) + 2.0 * 0.25),  # per row and dimension
    ],
)
def test_penalty_of_every_granularity_known_answer(lam, expected):
    reg = Regularizer(user=lam).bind([4, 1, 9], [1])
    assert float(reg.penalty("user", ROWS, P[ROWS])) == pytest.approx(expected)


def test_bias_uses_mean_row_lambda_or_its_own():
    b = torch.tensor([2.0, 0.0, 1.0])
    reg = Regularizer(user=torch.tensor([0.2, 0.4])).bind([1, 1, 1], [1])
    only_bias = float(reg.penalty("user", ROWS, torch.zeros(3, 2), b[ROWS]))
    assert only_bias == pytest.approx(0.3 * (4 + 1 + 4))
    reg = Regularizer(user=0.2, bias=0.01).bind([1, 1, 1], [1])
    assert float(reg.penalty("user", ROWS, torch.zeros(3, 2), b[ROWS])) == pytest.approx(0.01 * 9)


def test_frequency_exponent_weights_occurrences_and_ridge_consistently():
    counts = [4, 1, 9]
    reg = Regularizer(user=0.1, exponent=0.5).bind(counts, [1])
    # per occurrence: λ n^(β-1) ||p||²; over an epoch row r occurs n_r times -> λ n_r^β ||p_r||²
    epoch_rows = torch.tensor([0] * 4 + [1] * 1 + [2] * 9)
    total = float(reg.penalty("user", epoch_rows, P[epoch_rows]))
    expected = sum(0.1 * n**0.5 * float(P[r].pow(2).sum()) for r, n in enumerate(counts))
    assert total == pytest.approx(expected, rel=1e-6)
    diag, bias = reg.ridge("user", 2)
    np.testing.assert_allclose(diag.numpy(), 0.1 * np.sqrt(np.array(counts))[:, None] * np.ones((3, 2)), rtol=1e-6)
    np.testing.assert_allclose(bias.numpy(), 0.1 * np.sqrt(counts), rtol=1e-6)


def test_invalid_lambdas_are_rejected():
    with pytest.raises(ConfigError, match="'user' parameter of Regularizer must be finite and >= 0; got -1"):
        Regularizer(user=-1)
    with pytest.raises(ConfigError, match="tensor of shape"):
        Regularizer(item=torch.tensor([0.1, float("nan")]))
    with pytest.raises(ConfigError, match="exponent"):
        Regularizer(exponent=2)


@pytest.mark.parametrize("shape", [(), (3,), (6, 1), (6, 3)])
@pytest.mark.parametrize("exponent", [1.0, 0.5])
@pytest.mark.parametrize("own_bias", [False, True])
def test_closed_form_penalty_gradient_equals_autograd(shape, exponent, own_bias):
    g = torch.Generator().manual_seed(0)
    lam = torch.rand(shape, generator=g, dtype=torch.float64)
    reg = Regularizer(lam, lam * 2, bias=0.7 if own_bias else None, exponent=exponent).bind(np.arange(1, 7), np.arange(1, 7))
    table = torch.randn(6, 3, generator=g, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(6, generator=g, dtype=torch.float64, requires_grad=True)
    idx = torch.tensor([5, 1, 1, 3, 0, 5, 5])
    rows = torch.tensor([0, 1, 2, 5])  # row 2 never occurs; rows 3 occurs but is not asked for
    gt, gb = torch.autograd.grad(reg.penalty("user", idx, table[idx], bias[idx]), [table, bias])
    ft, fb = reg.penalty_grad("user", idx, rows, table.detach()[rows], bias.detach()[rows])
    torch.testing.assert_close(ft, gt[rows])
    torch.testing.assert_close(fb, gb[rows])


@pytest.mark.parametrize("exponent", [1.0, 0.6, 0.0])
@pytest.mark.parametrize("shape", ["global", "D", "DU"])
def test_total_equals_the_penalty_of_every_occurrence(exponent, shape):
    g = torch.Generator().manual_seed(1)
    n, k = 6, 3
    lam = {"global": torch.tensor(0.4), "D": torch.rand(k, generator=g, dtype=torch.float64),
           "DU": torch.rand(n, k, generator=g, dtype=torch.float64)}[shape]
    counts = np.array([3, 0, 1, 5, 2, 1])  # row 1 never occurs
    reg = Regularizer(lam, lam, exponent=exponent).bind(counts, counts)
    table, bias = torch.randn(n, k, generator=g, dtype=torch.float64), torch.randn(n, generator=g, dtype=torch.float64)
    rows = torch.from_numpy(np.repeat(np.arange(n), counts))
    expected = reg.penalty("user", rows, table[rows], bias[rows])
    assert float(reg.total("user", table, bias)) == pytest.approx(float(expected), rel=1e-10)

