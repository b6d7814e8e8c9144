"""Where tensors live: a run-time option of every fit, never a hyperparameter.

``device="cpu"`` (the default), ``"cuda"`` (or ``"cuda:N"``), or ``"auto"`` (CUDA
when PyTorch sees a GPU, else the CPU).  A model moves its training data to the
device once per fit; saved weights are always written from host memory, so a
model saved on one device loads on any.
"""

from __future__ import annotations

import torch

from .exceptions import ConfigError

DEVICES = ("cpu", "cuda", "auto")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The ``torch.device`` for ``device``; one-sentence ``ConfigError`` when it cannot be used."""
    if device is None:
        return torch.device("cpu")
    if isinstance(device, torch.device):
        name = str(device)
    elif isinstance(device, str):
        name = device.strip().lower()
    else:
        raise ConfigError(f"The 'device' option must be one of {DEVICES} (or 'cuda:N'); got {device!r}.")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"The 'device' option must be one of {DEVICES} (or 'cuda:N'); got {device!r}.") from None
    if dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"The 'device' option must be one of {DEVICES} (or 'cuda:N'); got {device!r}.")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"The 'device' option is {device!r} but PyTorch sees no CUDA GPU here; use cpu or auto "
                              "(device='cpu', --device cpu).")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"The 'device' option is {device!r} but only {torch.cuda.device_count()} GPU(s) are visible; "
                              "use a smaller index.")
    return dev
