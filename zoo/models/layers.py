"""Small layers shared by the families."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class EqualLinear(nn.Module):
    """Fully connected layer with equalized learning rate (weights scaled at run time)."""

    def __init__(
        self,
        in_features: int,  # input width
        out_features: int,  # output width
        *,
        bias_init: float = 0.0,  # initial bias value (1 for StyleGAN2's style affines)
        lr_multiplier: float = 1.0,  # learning-rate scale (0.01 for the mapping network)
        activation: bool = False,  # leaky ReLU with gain sqrt(2)
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_multiplier))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)
        return F.leaky_relu(x, 0.2) * math.sqrt(2) if self.activation else x


class EqualConv2d(nn.Module):
    """Convolution with equalized learning rate, 'same' padding, optional 2× down-sampling."""

    def __init__(
        self,
        in_channels: int,  # input channels
        out_channels: int,  # output channels
        kernel_size: int,  # square kernel side
        *,
        down: bool = False,  # average-pool 2× after the convolution
        activation: bool = True,  # leaky ReLU with gain sqrt(2)
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2
        self.down = down
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=self.padding)
        if self.down:
            x = F.avg_pool2d(x, 2)
        return F.leaky_relu(x, 0.2) * math.sqrt(2) if self.activation else x


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between latents ``a`` and ``b`` ``(B, D)`` at ``t`` ``(B,)``.

    Gaussian latents live near a sphere, where a straight line would pass through the
    unlikely region near its centre (White, "Sampling Generative Networks", 2016); nearly
    parallel latents fall back to the straight line.
    """
    t = t[:, None]
    cos = F.cosine_similarity(a, b, dim=1, eps=1e-8)[:, None].clamp(-1.0, 1.0)
    omega = torch.acos(cos)
    sin = torch.sin(omega)
    near = sin < 1e-4
    safe = torch.where(near, torch.ones_like(sin), sin)
    arc = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / safe
    return torch.where(near, torch.lerp(a, b, t), arc)


def num_doublings(resolution: int, start: int = 4) -> int:
    """How many 2× steps lead from ``start`` to ``resolution`` (a power of two ≥ 8)."""
    n = round(math.log2(resolution / start))
    if resolution < 2 * start or start * 2**n != resolution:
        raise ValueError(f"resolution must be a power of two ≥ {2 * start}, got {resolution}")
    return n
