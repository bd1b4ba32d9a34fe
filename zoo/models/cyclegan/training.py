"""Training CycleGAN between UCI digits and MNIST (family ``cyclegan``)."""

from __future__ import annotations

from typing import cast

import numpy as np
import torch

from zoo.data import load_digits
from zoo.models.cyclegan.network import CycleGAN, PatchDiscriminator
from zoo.pipeline import to_uint8_nhwc
from zoo.train.losses import d_loss, g_loss
from zoo.train.trainer import TrainConfig, Trainer


class CycleGANTrainer(Trainer):
    """CycleGAN: adversarial (least squares by default) + cycle + identity losses."""

    default_loss = "lsgan"
    lambda_cycle = 10.0
    lambda_identity = 5.0

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        mc = self.model_config
        cg = self.new_model()
        d_a, d_b = PatchDiscriminator(mc["channels"]), PatchDiscriminator(mc["channels"])
        self.nets = {"model": cg, "disc_a": d_a, "disc_b": d_b}
        betas = (0.5, 0.999)
        self.optims = {
            "opt_g": torch.optim.Adam(cg.parameters(), lr=self.lr, betas=betas),
            "opt_d": torch.optim.Adam(
                [*d_a.parameters(), *d_b.parameters()], lr=self.lr, betas=betas
            ),
        }
        # Epoch length follows MNIST (B); the smaller UCI set (A) is cycled alongside.
        self.datasets = (load_digits("mnist", "train"), load_digits("uci-digits", "train"))

    def step(self, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
        (b, _), (a, _) = batches
        cg = cast(CycleGAN, self.nets["model"])
        d_a, d_b = self.nets["disc_a"], self.nets["disc_b"]
        assert self.loss is not None
        fake_b, fake_a = cg.g_ab(a), cg.g_ba(b)
        adv = g_loss(self.loss, d_b(fake_b)) + g_loss(self.loss, d_a(fake_a))
        cycle = (cg.g_ba(fake_b) - a).abs().mean() + (cg.g_ab(fake_a) - b).abs().mean()
        ident = (cg.g_ab(b) - b).abs().mean() + (cg.g_ba(a) - a).abs().mean()
        loss_g = adv + self.lambda_cycle * cycle + self.lambda_identity * ident
        self.update("opt_g", loss_g)
        loss_d = d_loss(self.loss, d_b(b), d_b(fake_b.detach())) + d_loss(
            self.loss, d_a(a), d_a(fake_a.detach())
        )
        self.update("opt_d", loss_d)
        return {"loss_g": loss_g.item(), "loss_d": loss_d.item(), "cycle": cycle.item()}

    @torch.no_grad()
    def samples(self) -> np.ndarray:
        """Rows: UCI digits, their MNIST-style translations, MNIST digits, their UCI style."""
        cg = cast(CycleGAN, self.nets["model"].eval())
        a = torch.from_numpy(load_digits("uci-digits", "test").images[:16])
        b = torch.from_numpy(load_digits("mnist", "test").images[:16])
        out = torch.cat([a, cg.translate_a2b(a), b, cg.translate_b2a(b)])
        cg.train()
        return to_uint8_nhwc(out.numpy())
