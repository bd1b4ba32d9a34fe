"""DCGAN and its class-conditional variant (label embedding in G, projection in D).

Radford et al., "Unsupervised Representation Learning with Deep Convolutional GANs" (2016);
the conditional discriminator follows Miyato & Koyama, "cGANs with Projection Discriminator"
(2018).
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from zoo.hub_mixin import HubMixin
from zoo.models.layers import num_doublings, slerp


class DCGANGenerator(nn.Module, HubMixin):
    """Latent (and optional class label) → image, by transposed convolutions from 4×4."""

    def __init__(
        self,
        z_dim: int = 64,  # latent size
        width: int = 32,  # channels at the last hidden layer; doubles per step toward 4×4
        resolution: int = 32,  # output side in pixels (power of two ≥ 8)
        channels: int = 1,  # output image channels
        num_classes: int = 0,  # > 0 makes it conditional on a class label
        embed_dim: int = 16,  # label embedding size (conditional only)
    ) -> None:
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        n = num_doublings(resolution)
        widths = [width * 2 ** (n - 1 - i) for i in range(n)]  # 4×4 … res/2
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        in_dim = z_dim + (embed_dim if num_classes else 0)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(in_dim, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        for a, b in itertools.pairwise(widths):
            layers += [
                nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False),
                nn.BatchNorm2d(b),
                nn.ReLU(True),
            ]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1], shape ``(B, channels, resolution, resolution)``."""
        if self.embed is not None:
            if label is None:
                raise ValueError("this generator is conditional: pass a class label per latent")
            z = torch.cat([z, self.embed(label)], dim=1)
        return self.net(z[:, :, None, None])

    def generate(self, z: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """The ``generate`` entry point (same as calling the module)."""
        return self(z, label)

    def interpolate(
        self,
        z: torch.Tensor,
        z_to: torch.Tensor,
        t: torch.Tensor,
        label: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The ``interpolate`` entry point: slerp in z at ``t`` (B,), the label held."""
        return self(slerp(z, z_to, t), label)


class DCGANDiscriminator(nn.Module):
    """Image (and optional label) → realness score; projection term when conditional.

    A conditional discriminator also has an auxiliary classifier head (AC-GAN, Odena et al.
    2017) that the training loop uses to push generated digits toward their label.
    """

    def __init__(
        self,
        width: int = 32,  # channels of the first layer; doubles per step down to 4×4
        resolution: int = 32,  # input side in pixels
        channels: int = 1,  # input image channels
        num_classes: int = 0,  # > 0 adds a projection term for the label
    ) -> None:
        super().__init__()
        n = num_doublings(resolution)
        layers: list[nn.Module] = []
        c_in = channels
        for i in range(n):
            c_out = width * 2**i
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            c_in = c_out
        self.features = nn.Sequential(*layers, nn.Flatten())
        feat = c_in * 4 * 4
        self.head = nn.Linear(feat, 1)
        self.project = nn.Embedding(num_classes, feat) if num_classes else None
        self.classifier = nn.Linear(feat, num_classes) if num_classes else None

    def forward(self, x: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of shape ``(B,)`` (logits for BCE, critic values for WGAN)."""
        return self.score_and_classify(x, label)[0]

    def score_and_classify(
        self, x: torch.Tensor, label: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Scores ``(B,)`` and, when conditional, class logits ``(B, num_classes)``."""
        h = self.features(x)
        out = self.head(h).squeeze(1)
        if self.project is None or self.classifier is None:
            return out, None
        if label is None:
            raise ValueError("this discriminator is conditional: pass labels")
        return out + (self.project(label) * h).sum(1), self.classifier(h)
