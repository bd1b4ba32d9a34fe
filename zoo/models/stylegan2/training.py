"""Training StyleGAN2 (family ``stylegan2``) and its W+ encoder (``stylegan2-encoder``)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from zoo.data import load_digits
from zoo.errors import InvalidInputError
from zoo.hub import load
from zoo.models.stylegan2.network import (
    StyleGAN2Discriminator,
    StyleGAN2Generator,
    StyleGAN2Projector,
)
from zoo.pipeline import to_uint8_nhwc
from zoo.train.losses import augment, g_loss, r1_penalty
from zoo.train.trainer import GanTrainer, TrainConfig, Trainer

if TYPE_CHECKING:
    from zoo.models.classifier.network import DigitClassifier


class StyleGAN2Trainer(GanTrainer):
    """StyleGAN2: logistic loss, lazy R1, style mixing, EMA generator, packed discriminator."""

    r1_gamma = 0.05
    r1_every = 16  # lazy regularisation, as in StyleGAN2
    mix_prob = 0.9
    ema_beta = 0.995
    default_lr = 2e-3
    # PacGAN (Lin et al. 2018): the discriminator judges images in packs of this many, stacked
    # as channels, so a pack from a collapsed generator (copies of one digit) stands out.
    # Unpacked, every run collapsed to one digit within ~500 steps: R1 weight 0.05 to 10,
    # spectral norm, learning rates 2e-4 to 2e-3, DiffAugment, a latent-regression head and
    # a wider generator all failed; a mode-seeking term left a few shapes. Packs of 2 still
    # swung between 0s and 1s; packs of 4 drew all ten digits by epoch 15.
    pack = 4

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        mc = self.model_config
        g = self.new_model()
        self.nets = {"model": g}
        if cfg.batch_size % self.pack:
            raise InvalidInputError(
                f"--batch-size must be a multiple of {self.pack} for {cfg.model_name} (its "
                f"discriminator judges images {self.pack} at a time)."
            )
        disc = StyleGAN2Discriminator(
            mc["resolution"], mc["channels"] * self.pack, mc["width"], mc["max_channels"]
        )
        self._setup(disc, (0.0, 0.99))
        if cfg.r1_gamma is not None:
            self.r1_gamma = cfg.r1_gamma
        self.nets["ema"] = copy.deepcopy(g).eval().requires_grad_(False)
        self.datasets = (load_digits("mnist", "train"),)
        self._steps = 0

    def shipped(self) -> nn.Module:
        """The EMA of the generator's weights (smoother samples than the raw generator)."""
        return self.nets["ema"]

    def _fake(self, n: int) -> torch.Tensor:
        g = cast(StyleGAN2Generator, self.nets["model"])
        zdim = self.model_config["z_dim"]
        w = g.mapping(torch.randn(n, zdim))
        num_ws = g.synthesis.num_ws
        ws = w[:, None].repeat(1, num_ws, 1)
        if torch.rand(()) < self.mix_prob:
            cut = int(torch.randint(1, num_ws, ()))
            w2 = g.mapping(torch.randn(n, zdim))
            ws[:, cut:] = w2[:, None]
        out: torch.Tensor = g.synthesis(ws, noise_mode="random")
        return out

    def _packed(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` → ``(B / pack, C · pack, H, W)``: consecutive images in one pack."""
        return x.reshape(x.shape[0] // self.pack, -1, *x.shape[2:])

    def step(self, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
        real, _ = batches[0]
        n = real.shape[0]
        g, disc, ema = self.nets["model"], self.nets["disc"], self.nets["ema"]

        def critic(x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = disc(self._packed(x))
            return out

        loss_d = self._d_step(real, self._fake(n).detach(), critic)
        if self.loss != "wgan-gp" and self._steps % self.r1_every == 0:
            loss_d = loss_d + (self.r1_gamma / 2) * self.r1_every * r1_penalty(critic, real)
        self.update("opt_d", loss_d)
        assert self.loss is not None
        loss_g = g_loss(self.loss, critic(self._fake(n)))
        self.update("opt_g", loss_g)
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), g.parameters(), strict=True):
                pe.lerp_(p, 1 - self.ema_beta)
            for be, b in zip(ema.buffers(), g.buffers(), strict=True):
                be.copy_(b)
        self._steps += 1
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}


class StyleGAN2EncoderTrainer(Trainer):
    """An encoder into the frozen stylegan2-mnist's W+ (pSp/e4e style), on two kinds of data.

    Generated digits (z → w, with mixing and truncation, → image) have a known answer: the
    encoder regresses their ws and the reconstruction their pixels. Real MNIST digits have
    none: their reconstruction through the frozen generator must match them in pixels and in
    the zoo classifier's feature space. A small penalty keeps each digit's per-layer ws near
    their mean, as e4e does, so the ws stay where the generator was trained.
    """

    default_lr = 1e-3
    # Classifier-feature loss, relative to the pixel loss. At 0.5 the encoder alone kept the
    # class of 93.3% of the test digits (17.4 dB); at 2.0, 95.0% (16.7 dB). Four-epoch trials:
    # 0.5 → 82.4%, 2.0 → 87.1%; a KL term on the classifier's posteriors instead cost ~4 dB.
    feature_weight = 2.0
    offset_weight = 0.01  # e4e-style penalty on ws' spread across layers
    mix_prob = 0.5  # generated digits drawn with style mixing

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        proj = cast(StyleGAN2Projector, self.new_model())
        # The generator is the shipped one, tensor for tensor, and is never optimised.
        shipped: nn.Module = load("stylegan2-mnist")
        proj.generator.load_state_dict(shipped.state_dict())
        proj.generator.requires_grad_(False)
        self.train_alone(proj, proj.encoder.parameters())
        classifier: nn.Module = load("classifier-mnist")
        self.classifier = cast("DigitClassifier", classifier.eval().requires_grad_(False))
        self.datasets = (load_digits("mnist", "train"),)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier.features(x)

    def _projector(self) -> StyleGAN2Projector:
        return cast(StyleGAN2Projector, self.nets["model"])

    def step(self, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
        x = augment(batches[0][0], max_shift=0.05, max_rot=0.1)
        proj = self._projector()
        g = proj.generator
        n, num_ws = x.shape[0], g.synthesis.num_ws
        with torch.no_grad():
            psi = 0.5 + 0.5 * torch.rand(n)
            ws = g.mapping(torch.randn(n, g.z_dim), psi)[:, None].expand(-1, num_ws, -1)
            mix = g.mapping(torch.randn(n, g.z_dim), psi)[:, None].expand(-1, num_ws, -1)
            cut = torch.randint(1, num_ws, (n, 1, 1))
            cut = torch.where(torch.rand(n, 1, 1) < self.mix_prob, cut, num_ws)
            ws = torch.where(torch.arange(num_ws)[None, :, None] < cut, ws, mix)
            fake = g.synthesis(ws)
        ws_fake = proj.encode(fake)
        loss_w = F.mse_loss(ws_fake, ws)
        loss_fake = F.mse_loss(g.synthesis(ws_fake), fake)
        ws_real = proj.encode(x)
        rec = g.synthesis(ws_real)
        loss_pix = F.mse_loss(rec, x)
        target = self._features(x)
        loss_feat = F.mse_loss(self._features(rec), target) / target.square().mean().clamp_min(1e-8)
        loss_offset = (ws_real - ws_real.mean(1, keepdim=True)).square().mean()
        loss = (
            loss_w
            + loss_fake
            + loss_pix
            + self.feature_weight * loss_feat
            + self.offset_weight * loss_offset
        )
        self.update("opt", loss)
        return {
            "w": loss_w.item(),
            "fake_pixel": loss_fake.item(),
            "pixel": loss_pix.item(),
            "feature": loss_feat.item(),
        }

    @torch.no_grad()
    def samples(self) -> np.ndarray:
        """Test digits (odd rows) above their projections (even rows)."""
        proj = self._projector().eval()
        x = torch.from_numpy(load_digits("mnist", "test").images[:32])
        _, rec = proj.project(x)
        rows = torch.stack([x.view(4, 8, *x.shape[1:]), rec.view(4, 8, *x.shape[1:])], 1)
        proj.train()
        return to_uint8_nhwc(rows.reshape(-1, *x.shape[1:]).numpy())
