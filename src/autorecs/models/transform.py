"""The element-wise transform g(x; p) of SIF (paper eq. 7): a tiny MLP applied to every
embedding entry on its own (one input, ``hidden`` units, one output).

``residual=True`` (the default) makes it ``g(x) = x + h(x; p)``: identity is in the space and the
searched nonlinearity is a bounded deviation from it.  This departs from the paper's plain
``g = h``: with ``||p|| <= 1`` and embeddings kept small by the L2 penalty, a plain sigmoid MLP is
nearly constant on the embeddings' range, and the model collapses to its biases (measured on
ml-100k: the retrained SIF then scores like a biases-only model, 0.946 RMSE).  ``residual=False``
is the paper's form.

The paper constrains ``||p||_2 <= 1``.  As in the authors' code, the constraint is
applied by projection to the weight matrices (each row onto the unit ball) after
every step, while the biases stay free: a bounded slope with a free offset.  The
parameters travel as a flat list (``to_list``/``from_list``), which is how a
searched architecture is saved and handed to ``fit --model sif --arch FILE``.
"""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


class ElementwiseMLP(nn.Module):
    def __init__(self, hidden: int = 5, activation: str = "sigmoid", generator: torch.Generator | None = None, residual: bool = True):
        super().__init__()
        self.hidden, self.activation, self.residual = hidden, activation, residual
        self.w1 = nn.Parameter(torch.rand(hidden, generator=generator) * 2 - 1)
        self.b1 = nn.Parameter(torch.rand(hidden, generator=generator) * 2 - 1)
        w2 = torch.rand(hidden, generator=generator) * 2 - 1
        self.w2 = nn.Parameter(w2 / w2.norm().clamp_min(1.0))
        self.b2 = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = ACTIVATIONS[self.activation](x.unsqueeze(-1) * self.w1 + self.b1)
        out = h @ self.w2 + self.b2
        return x + out if self.residual else out

    @torch.no_grad()
    def project(self) -> None:
        """Weights onto the unit ball (row-wise): ``|w1_h| <= 1``, ``||w2||_2 <= 1``."""
        self.w1.clamp_(-1.0, 1.0)
        self.w2.div_(self.w2.norm().clamp_min(1.0))

    def to_list(self) -> list[float]:
        return torch.cat([self.w1.detach(), self.b1.detach(), self.w2.detach(), self.b2.detach().reshape(1)]).tolist()

    @classmethod
    def from_list(cls, values, hidden: int, activation: str, residual: bool = True) -> "ElementwiseMLP":
        from ..exceptions import ConfigError

        if len(values) != 3 * hidden + 1:
            raise ConfigError(f"A transform with {hidden} hidden units has {3 * hidden + 1} parameters; got {len(values)}. "
                              "Pass the transform_hidden the architecture was searched with.")
        g = cls(hidden, activation, residual=residual)
        t = torch.as_tensor(values, dtype=torch.float32)
        with torch.no_grad():
            g.w1.copy_(t[:hidden]), g.b1.copy_(t[hidden:2 * hidden]), g.w2.copy_(t[2 * hidden:3 * hidden]), g.b2.copy_(t[-1])
        return g
