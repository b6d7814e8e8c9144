import numpy as np
import pytest
import torch

from autorecs.exceptions import ConfigError
from autorecs.models.ops import OPS
from autorecs.models.transform import ElementwiseMLP


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_operation_has_its_declared_width(name):
    u, v = torch.randn(5, 4), torch.randn(5, 4)
    assert OPS[name].fn(u, v).shape == (5, OPS[name].width(4))


def test_known_answers():
    u, v = torch.tensor([[1.0, -2.0, 3.0]]), torch.tensor([[2.0, 1.0, -1.0]])
    assert OPS["min"].fn(u, v).tolist() == [[1.0, -2.0, -1.0]]
    assert OPS["max"].fn(u, v).tolist() == [[2.0, 1.0, 3.0]]
    assert OPS["concat"].fn(u, v).tolist() == [[1.0, -2.0, 3.0, 2.0, 1.0, -1.0]]
    naive = [sum(u[0, j].item() * v[0, (i - j) % 3].item() for j in range(3)) for i in range(3)]  # circular convolution
    np.testing.assert_allclose(OPS["conv"].fn(u, v)[0].numpy(), naive, atol=1e-5)
    assert OPS["outer"].fn(u, v).view(3, 3)[1, 2].item() == -2.0 * -1.0


def test_transform_residual_projection_and_round_trip():
    g = ElementwiseMLP(4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        g.w2.zero_(), g.b2.zero_()
    x = torch.randn(3, 5)
    assert torch.equal(g(x), x)  # h = 0: the residual transform is the identity
    with torch.no_grad():
        g.w1.mul_(10), g.w2.fill_(3.0)
    g.project()
    assert g.w1.abs().max() <= 1 and g.w2.norm() <= 1 + 1e-6
    h = ElementwiseMLP.from_list(g.to_list(), 4, "sigmoid")
    assert torch.allclose(h(x), g(x))
    assert not torch.allclose(ElementwiseMLP.from_list(g.to_list(), 4, "sigmoid", residual=False)(x), g(x))
    with pytest.raises(ConfigError, match="4 hidden units has 13 parameters; got 12"):
        ElementwiseMLP.from_list(g.to_list()[:-1], 4, "sigmoid")
