"""CycleGAN between UCI digits (domain A, 8×8 upsampled) and MNIST (domain B).

Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
Networks" (2017): ResNet generators (reflection padding, instance norm) in both directions
and PatchGAN discriminators for training.
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.hub_mixin import HubMixin


class ResidualBlock(nn.Module):
    """Two 3×3 convolutions with instance norm and a skip connection."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Image → image: 7×7 stem, strided down-sampling, residual blocks, up-sampling."""

    def __init__(
        self,
        channels: int = 1,  # image channels, in and out
        width: int = 16,  # stem channels; doubles per down-sampling
        n_down: int = 2,  # number of 2× down-sampling steps
        n_blocks: int = 4,  # residual blocks at the bottleneck
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(channels, width, 7),
            nn.InstanceNorm2d(width),
            nn.ReLU(True),
        ]
        c = width
        for _ in range(n_down):
            layers += [nn.Conv2d(c, 2 * c, 3, 2, 1), nn.InstanceNorm2d(2 * c), nn.ReLU(True)]
            c *= 2
        layers += [ResidualBlock(c) for _ in range(n_blocks)]
        for _ in range(n_down):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1),
                nn.InstanceNorm2d(c // 2),
                nn.ReLU(True),
            ]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN: a grid of realness logits, one per overlapping patch."""

    def __init__(self, channels: int = 1, width: int = 32, n_layers: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(1, n_layers):
            layers += [
                nn.Conv2d(c, 2 * c, 4, 2, 1),
                nn.InstanceNorm2d(2 * c),
                nn.LeakyReLU(0.2, True),
            ]
            c *= 2
        layers += [nn.Conv2d(c, 1, 3, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CycleGAN(nn.Module, HubMixin):
    """Both generators of a CycleGAN: ``g_ab`` (A → B) and ``g_ba`` (B → A)."""

    def __init__(
        self,
        channels: int = 1,  # image channels
        width: int = 16,  # generator stem channels
        n_down: int = 2,  # down-sampling steps per generator
        n_blocks: int = 4,  # residual blocks per generator
        resolution: int = 32,  # image side (any multiple of 2**n_down)
    ) -> None:
        super().__init__()
        if resolution % 2**n_down:
            raise ValueError(f"resolution {resolution} must be a multiple of {2**n_down}")
        self.g_ab = ResnetGenerator(channels, width, n_down, n_blocks)
        self.g_ba = ResnetGenerator(channels, width, n_down, n_blocks)

    def translate_a2b(self, image: torch.Tensor) -> torch.Tensor:
        """Domain A (UCI digit) → domain B (MNIST style)."""
        return self.g_ab(image)

    def translate_b2a(self, image: torch.Tensor) -> torch.Tensor:
        """Domain B (MNIST digit) → domain A (UCI style)."""
        return self.g_ba(image)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`translate_a2b`."""
        return self.g_ab(image)
