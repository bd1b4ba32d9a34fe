"""Convolutional VAE with a mask-aware encoder: sample, encode, decode, reconstruct, inpaint.

Kingma & Welling, "Auto-Encoding Variational Bayes" (2014). The encoder sees the image with
its unknown pixels zeroed *and* the mask (1 = known, 0 = missing), and is trained on randomly
masked digits, so inpainting is one encode/decode pass composited with the known pixels —
no optimisation loop, and it exports to one graph. With a full mask it is a plain VAE.

The decoder emits Bernoulli logits ``l``; the image is ``tanh(l / 2) = 2σ(l) − 1`` in [-1, 1],
and the ELBO uses the Bernoulli likelihood of the [0, 1] pixels.
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.hub_mixin import HubMixin
from zoo.models.layers import num_doublings, slerp


class ConvVAE(nn.Module, HubMixin):
    """Encoder (image, mask) → (mu, logvar); decoder latent → image."""

    def __init__(
        self,
        latent_dim: int = 16,  # size of the latent code (the compressed representation)
        width: int = 32,  # channels of the first encoder layer; doubles per step
        resolution: int = 32,  # image side in pixels
        channels: int = 1,  # image channels
    ) -> None:
        super().__init__()
        self.latent_dim, self.channels, self.resolution = latent_dim, channels, resolution
        n = num_doublings(resolution)
        enc: list[nn.Module] = []
        c_in = 2 * channels  # image with holes zeroed, plus the mask
        for i in range(n):
            c_out = width * 2**i
            enc += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, True)]
            c_in = c_out
        self.encoder = nn.Sequential(*enc, nn.Flatten())
        self.top = c_in
        self.to_stats = nn.Linear(c_in * 16, 2 * latent_dim)
        self.from_latent = nn.Linear(latent_dim, c_in * 16)
        dec: list[nn.Module] = []
        for i in reversed(range(1, n)):
            a, b = width * 2**i, width * 2 ** (i - 1)
            dec += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.BatchNorm2d(b), nn.ReLU(True)]
        dec += [nn.ConvTranspose2d(width, channels, 4, 2, 1)]
        self.decoder = nn.Sequential(*dec)

    def encode(
        self, image: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior ``(mu, logvar)``, each ``(B, latent_dim)``; ``mask`` 1 = known pixel."""
        if mask is None:
            mask = torch.ones_like(image)
        stats = self.to_stats(self.encoder(torch.cat([image * mask, mask], dim=1)))
        mu, logvar = stats.chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits of the [0, 1] pixels, ``(B, C, H, W)``."""
        h = self.from_latent(z).view(-1, self.top, 4, 4)
        return self.decoder(h)

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """Latent → image in [-1, 1]."""
        return torch.tanh(0.5 * self.decode_logits(latent))

    def sample(self, z: torch.Tensor) -> torch.Tensor:
        """Prior sample → image (the ``sample`` entry point; ``z`` from the seed rule)."""
        return self.decode(z)

    def interpolate(self, z: torch.Tensor, z_to: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The ``interpolate`` entry point: the sampler's slerp in z at ``t`` (B,), decoded."""
        return self.decode(slerp(z, z_to, t))

    def reconstruct(self, image: torch.Tensor) -> torch.Tensor:
        """Image → its reconstruction through the posterior mean."""
        return self.decode(self.encode(image)[0])

    def inpaint(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Fill the pixels where ``mask`` is 0; known pixels are kept as they are."""
        mask = (mask > 0.5).to(image.dtype)
        filled = self.decode(self.encode(image, mask)[0])
        return mask * image + (1 - mask) * filled

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Reconstruction (same as :meth:`reconstruct`)."""
        return self.reconstruct(image)
