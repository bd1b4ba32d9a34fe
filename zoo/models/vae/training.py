"""Training the convolutional VAE (family ``vae``)."""

from __future__ import annotations

from typing import cast

import numpy as np
import torch
import torch.nn.functional as F

from zoo.data import load_digits
from zoo.latent import seed_to_latent
from zoo.models.vae.network import ConvVAE
from zoo.pipeline import to_uint8_nhwc
from zoo.train.losses import random_masks
from zoo.train.trainer import SAMPLE_SEEDS, TrainConfig, Trainer


class VAETrainer(Trainer):
    """VAE: Bernoulli likelihood of [0, 1] pixels + KL; half the batch sees a masked input."""

    default_lr = 1e-3

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        self.train_alone(self.new_model())
        self.datasets = (load_digits("mnist", "train"),)

    def step(self, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
        x, _ = batches[0]
        vae = cast(ConvVAE, self.nets["model"])
        mask = random_masks(x.shape[0], x.shape[-1])
        mask[: x.shape[0] // 2] = 1.0  # half the batch unmasked: plain reconstruction
        mu, logvar = vae.encode(x, mask)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        target = (x + 1) / 2
        rec = F.binary_cross_entropy_with_logits(vae.decode_logits(z), target, reduction="none")
        rec = rec.flatten(1).sum(1).mean()
        kl = (-0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(1)).mean()
        loss = rec + kl
        self.update("opt", loss)
        return {"loss": loss.item(), "rec": rec.item(), "kl": kl.item()}

    @torch.no_grad()
    def samples(self) -> np.ndarray:
        """Top half: prior samples; bottom half: test digits and their reconstructions."""
        vae = cast(ConvVAE, self.nets["model"].eval())
        z = torch.from_numpy(seed_to_latent(SAMPLE_SEEDS[:32], self.model_config["latent_dim"]))
        test = torch.from_numpy(load_digits("mnist", "test").images[:16])
        out = torch.cat([vae.sample(z), test, vae.reconstruct(test)])
        vae.train()
        return to_uint8_nhwc(out.numpy())
