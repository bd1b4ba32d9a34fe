"""The CNN classifier: a model of the zoo and the evaluator behind every metric.

Its penultimate activations are the feature space for FID and precision/recall, since no
Inception weights can be fetched here. It is trained on MNIST and the upsampled UCI digits,
so it can judge images of both CycleGAN domains.
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.hub_mixin import HubMixin


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(True),
        nn.MaxPool2d(2),
    ]


class DigitClassifier(nn.Module, HubMixin):
    """Image → class logits; :meth:`features` gives the embedding the metrics use."""

    def __init__(
        self,
        width: int = 32,  # channels of the first block; doubles per block
        resolution: int = 32,  # input side in pixels (divisible by 8)
        channels: int = 1,  # input image channels
        num_classes: int = 10,  # output classes
        feature_dim: int = 128,  # size of the embedding used by the metrics
    ) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            *_block(channels, width), *_block(width, 2 * width), *_block(2 * width, 4 * width)
        )
        side = resolution // 8
        self.embed = nn.Sequential(
            nn.Flatten(), nn.Linear(4 * width * side * side, feature_dim), nn.ReLU(True)
        )
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding of shape ``(B, feature_dim)``."""
        return self.embed(self.trunk(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(B, num_classes)``."""
        return self.head(self.features(x))

    def classify(self, image: torch.Tensor) -> torch.Tensor:
        """The ``classify`` entry point: logits."""
        return self(image)
