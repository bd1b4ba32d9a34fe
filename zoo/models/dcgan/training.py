"""Training DCGAN and its class-conditional variant (families ``dcgan`` and ``cgan``)."""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F

from zoo.data import load_digits
from zoo.models.dcgan.network import DCGANDiscriminator
from zoo.train.losses import g_loss, spectral_normalize
from zoo.train.trainer import GanTrainer, TrainConfig


class DCGANTrainer(GanTrainer):
    """DCGAN and conditional DCGAN (projection D, auxiliary classifier, mode seeking)."""

    lambda_ms = 1.0
    lambda_cls = 1.0

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        mc = self.model_config
        self.nets = {"model": self.new_model()}
        self.conditional = bool(mc.get("num_classes"))
        disc = DCGANDiscriminator(
            mc["width"], mc["resolution"], mc["channels"], mc.get("num_classes", 0)
        )
        if self.loss != "wgan-gp":
            # Without it the unnormalised discriminator won early and the generators collapsed
            # (cgan-mnist drew one image per class whatever the seed); WGAN-GP has its penalty.
            spectral_normalize(disc)
        self._setup(disc, (0.5, 0.999))
        self.datasets = (load_digits("mnist", "train"),)

    def step(self, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
        real, labels = batches[0]
        g, d = self.nets["model"], cast(DCGANDiscriminator, self.nets["disc"])
        n, zdim = real.shape[0], self.model_config["z_dim"]
        lab = labels if self.conditional else None

        def critic(x: torch.Tensor) -> torch.Tensor:
            return d(x, lab)

        for _ in range(self.n_critic):
            fake = g(torch.randn(n, zdim), lab).detach()
            loss_d = self._d_step(real, fake, critic)
            if self.conditional:
                # AC-GAN: the discriminator learns to classify real digits only (a head trained
                # on fakes too would learn the generator's mistakes); with projection alone the
                # generator drew the wrong digit for about 4 labels in 10.
                cls_real = d.score_and_classify(real, lab)[1]
                assert cls_real is not None
                loss_d = loss_d + self.lambda_cls * F.cross_entropy(cls_real, labels)
            self.update("opt_d", loss_d)
        assert self.loss is not None
        z1 = torch.randn(n, zdim)
        fake1 = g(z1, lab)
        score, cls_fake = d.score_and_classify(fake1, lab)
        loss_g = g_loss(self.loss, score)
        losses = {"loss_d": loss_d.item(), "loss_g": loss_g.item()}
        if cls_fake is not None:
            loss_cls = F.cross_entropy(cls_fake, labels)
            loss_g = loss_g + self.lambda_cls * loss_cls
            losses["class"] = loss_cls.item()
            # Mode seeking (Mao et al. 2019): two latents for the same labels must give images
            # as far apart as the latents are; without it the generator drew one image per class.
            z2 = torch.randn(n, zdim)
            ratio = (fake1 - g(z2, lab)).abs().mean(dim=(1, 2, 3)) / (z1 - z2).abs().mean(dim=1)
            loss_ms = 1.0 / (ratio.mean() + 1e-5)
            loss_g = loss_g + self.lambda_ms * loss_ms
            losses["mode_seeking"] = loss_ms.item()
        self.update("opt_g", loss_g)
        return losses
