"""The toy family's network (torch): a latent → an image through one linear layer and tanh."""

from __future__ import annotations

import torch
from torch import nn

from zoo.hub_mixin import HubMixin


class ToyGenerator(nn.Module, HubMixin):
    """``generate``: latent ``(B, z_dim)`` → image ``(B, channels, resolution, resolution)``;
    ``scaled``: the same from a scaled latent."""

    def __init__(self, z_dim: int = 8, resolution: int = 32, channels: int = 1) -> None:
        super().__init__()
        self.z_dim, self.shape = z_dim, (channels, resolution, resolution)
        self.linear = nn.Linear(z_dim, channels * resolution * resolution)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1]."""
        return torch.tanh(self.linear(z)).view(-1, *self.shape)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """The ``generate`` entry point (same as calling the module)."""
        return self(z)

    def scaled(self, zeta: torch.Tensor, noise_scale: torch.Tensor) -> torch.Tensor:
        """The ``scaled`` entry point: the latent ``(B, z_dim)`` times ``noise_scale`` ``(B,)``."""
        return self(zeta * noise_scale[:, None])
