"""Training the CNN digit classifier (family ``classifier``)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from zoo.data import Digits, load_digits
from zoo.pipeline import to_uint8_nhwc
from zoo.train.losses import augment
from zoo.train.trainer import TrainConfig, Trainer


class ClassifierTrainer(Trainer):
    """Digit classifier on MNIST + UCI digits, with small random affine augmentation."""

    default_lr = 1e-3

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        self.train_alone(self.new_model())
        m, u = load_digits("mnist", "train"), load_digits("uci-digits", "train")
        self.datasets = (
            Digits(np.concatenate([m.images, u.images]), np.concatenate([m.labels, u.labels])),
        )

    def step(self, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
        x, y = batches[0]
        clf = self.nets["model"]
        logits = clf(augment(x))
        loss = F.cross_entropy(logits, y)
        self.update("opt", loss)
        acc = (logits.argmax(1) == y).float().mean()
        return {"loss": loss.item(), "acc": acc.item()}

    @torch.no_grad()
    def samples(self) -> np.ndarray:
        """Test digits sorted by predicted class (a misfiled digit stands out in its row)."""
        clf = self.nets["model"].eval()
        test = load_digits("mnist", "test")
        x = torch.from_numpy(test.images[:200])
        pred = clf(x).argmax(1)
        rows = [x[pred == c][:8] for c in range(10)]
        rows = [torch.cat([r, -torch.ones(8 - len(r), *r.shape[1:])]) for r in rows]
        clf.train()
        return to_uint8_nhwc(torch.cat(rows).numpy())
