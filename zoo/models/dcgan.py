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
from zoo.models.layers import num_doublings
from zoo.models.signatures import generate_entry
from zoo.registry import ModelSpec, TensorSpec, register_model


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


_DCGAN = {"z_dim": 64, "width": 32, "resolution": 32, "channels": 1}


@register_model(
    ModelSpec(
        name="dcgan-mnist",
        family="dcgan",
        description="DCGAN generating 32×32 MNIST digits from a seed.",
        entry_points=(generate_entry(64, 1, 32, doc="seed latent → digit"),),
        resolution=32,
        channels=1,
        config=_DCGAN,
        datasets=("mnist",),
        sha256="f964045147b3fda6ffd85c373d144bf56656fec6b44a366a58270fea4bea3954",
        tags=("gan", "dcgan", "unconditional-image-generation"),
        metric_targets={"precision": 0.7, "recall": 0.5, "class_ratio_max": 3.0},
    )
)
def dcgan_mnist(**config: int) -> DCGANGenerator:
    """DCGAN generator for MNIST."""
    return DCGANGenerator(**config)


_CGAN = {**_DCGAN, "num_classes": 10, "embed_dim": 16}


@register_model(
    ModelSpec(
        name="cgan-mnist",
        family="cgan",
        description="Class-conditional DCGAN: a seed and a digit class → that digit.",
        entry_points=(
            generate_entry(
                64, 1, 32, TensorSpec("label", "int64", (), "class 0–9"), doc="seed + class → digit"
            ),
        ),
        resolution=32,
        channels=1,
        config=_CGAN,
        datasets=("mnist",),
        sha256="e2c9b10530d6496695e206a123315c224b0a523a836f942377e7beca00cb4d72",
        tags=("gan", "conditional-image-generation"),
        metric_targets={"label_accuracy": 0.95},
    )
)
def cgan_mnist(**config: int) -> DCGANGenerator:
    """Conditional DCGAN generator for MNIST."""
    return DCGANGenerator(**config)
