"""The toy family's trainer: match the per-pixel mean and spread of real digits."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zoo.data import load_digits
from zoo.train.trainer import TrainConfig, Trainer


class ToyTrainer(Trainer):
    """Latents from torch's seeded generator; the loss compares moments, no discriminator."""

    default_lr = 1e-2

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        self.train_alone(self.new_model())
        self.datasets = (load_digits("mnist", "train"),)

    def step(self, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
        real = batches[0][0]
        fake = self.nets["model"](torch.randn(len(real), self.model_config["z_dim"]))
        loss = F.mse_loss(fake.mean(0), real.mean(0)) + F.mse_loss(fake.std(0), real.std(0))
        self.update("opt", loss)
        return {"moments": loss.item()}
