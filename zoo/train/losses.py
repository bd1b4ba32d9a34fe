"""The losses, regularisers and augmentations the trainers share.

Every random draw here comes from the global torch RNG, which the loop seeds before each step
(:mod:`zoo.train.loop`), so a trainer that calls them stays deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from zoo.errors import InvalidInputError

GanLoss = Literal["bce", "hinge", "wgan-gp", "lsgan"]
#: The GAN losses ``--loss`` takes.
GAN_LOSSES: tuple[str, ...] = ("bce", "hinge", "wgan-gp", "lsgan")


def unknown_gan_loss(kind: str) -> InvalidInputError:
    """The error for a GAN loss that is not one of :data:`GAN_LOSSES`."""
    return InvalidInputError(f"unknown GAN loss {kind!r}; choose one of {', '.join(GAN_LOSSES)}.")


def d_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Discriminator loss on real and fake scores (WGAN-GP's penalty is added separately)."""
    if kind == "bce":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    if kind == "wgan-gp":
        return fake.mean() - real.mean()
    if kind == "lsgan":
        return 0.5 * ((real - 1).square().mean() + fake.square().mean())
    raise unknown_gan_loss(kind)


def g_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    """Generator loss on the discriminator's scores of fakes (non-saturating for BCE)."""
    if kind == "bce":
        return F.softplus(-fake).mean()
    if kind in ("hinge", "wgan-gp"):
        return -fake.mean()
    if kind == "lsgan":
        return 0.5 * (fake - 1).square().mean()
    raise unknown_gan_loss(kind)


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP: ``(‖∇D(x̂)‖ - 1)²`` at random interpolates of real and fake images."""
    t = torch.rand(real.shape[0], 1, 1, 1)
    x = (t * real + (1 - t) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()


def r1_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor) -> torch.Tensor:
    """R1: squared gradient norm of the discriminator at real images."""
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return grad.square().flatten(1).sum(1).mean()


def spectral_normalize(net: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) on every conv, linear and embedding layer."""
    from torch.nn.utils.parametrizations import spectral_norm

    for module in list(net.modules()):
        if isinstance(module, (nn.Conv2d, nn.Linear, nn.Embedding)):
            spectral_norm(module)
    return net


def augment(x: torch.Tensor, *, max_shift: float = 0.1, max_rot: float = 0.2) -> torch.Tensor:
    """Random small rotation, scale and shift of a batch (draws from the global RNG)."""
    n = x.shape[0]
    ang = (torch.rand(n) * 2 - 1) * max_rot
    scale = 1 + (torch.rand(n) * 2 - 1) * 0.1
    shift = (torch.rand(n, 2) * 2 - 1) * max_shift
    cos, sin = torch.cos(ang) / scale, torch.sin(ang) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Pad with the background value (-1), not zero.
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


def random_masks(n: int, side: int) -> torch.Tensor:
    """Masks (1 = known) hiding a random half (top/bottom/left/right) or a random box."""
    masks = torch.ones(n, 1, side, side)
    kind = torch.randint(0, 5, (n,))
    h = side // 2
    for i in range(n):
        k = int(kind[i])
        if k == 0:
            masks[i, :, :h] = 0
        elif k == 1:
            masks[i, :, h:] = 0
        elif k == 2:
            masks[i, :, :, :h] = 0
        elif k == 3:
            masks[i, :, :, h:] = 0
        else:
            y, x = (int(v) for v in torch.randint(0, side - h, (2,)))
            masks[i, :, y : y + h, x : x + h] = 0
    return masks
