"""Training every zoo family, deterministically and resumably.

One :class:`Trainer` drives a family-specific :class:`Task` (the networks, optimizers and one
training step). A run directory holds:

- ``checkpoint.safetensors`` + ``checkpoint.json``: every network and optimizer tensor (no
  pickles), the step reached and the run's settings; written atomically every
  ``checkpoint_every`` steps and at the end of each epoch;
- ``samples/epoch_NNN.png``: a grid from fixed seeds after each epoch;
- ``metrics.jsonl``: one JSON line per epoch (mean losses, seconds);
- ``model/``: the shipped module in Hub layout (``config.json``, ``model.safetensors``) and
  ``training.json`` (the exact command, seed, epochs, time, versions).

Determinism: before step ``s`` the global torch RNG is seeded with ``mix(seed, s)`` and the
data order of epoch ``e`` comes from ``mix(seed, -1 - e)``. A run resumed from any
checkpoint therefore takes exactly the steps an uninterrupted run takes and ends at the same
weights (same thread count and torch build).
"""

from __future__ import annotations

import copy
import json
import math
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from zoo.data import Digits, load_digits
from zoo.errors import CheckpointError, InvalidInputError
from zoo.images import save_grid
from zoo.latent import mix_seed, seed_to_latent
from zoo.pipeline import to_uint8_nhwc
from zoo.registry import create_model, get_spec
from zoo.weights import save_weights, write_atomic

if TYPE_CHECKING:
    from zoo.models.classifier import DigitClassifier
    from zoo.models.cyclegan import CycleGAN
    from zoo.models.dcgan import DCGANDiscriminator
    from zoo.models.stylegan2 import StyleGAN2Generator, StyleGAN2Projector
    from zoo.models.vae import ConvVAE

GanLoss = Literal["bce", "hinge", "wgan-gp", "lsgan"]
GAN_LOSSES: tuple[str, ...] = ("bce", "hinge", "wgan-gp", "lsgan")
CHECKPOINT_TENSORS = "checkpoint.safetensors"
CHECKPOINT_META = "checkpoint.json"
TRAINING_META = "training.json"
_SAMPLE_SEEDS = np.arange(64)


@dataclass
class TrainConfig:
    """Settings of one training run; a resumed run must use the same ones."""

    model_name: str  # registry name
    epochs: int = 10  # passes over the training set
    batch_size: int = 64  # images per step
    seed: int = 0  # seeds initialisation, data order and every random draw
    loss: GanLoss | None = None  # GAN loss; None = the family's default
    lr: float | None = None  # learning rate; None = the family's default
    max_steps: int | None = None  # stop after this many steps in total (for quick runs)
    checkpoint_every: int = 0  # also checkpoint every N steps (0 = at epoch ends only)
    overrides: dict[str, Any] = field(default_factory=dict)  # model config overrides
    limit: int | None = None  # use only the first N images of each data set (quick runs)
    r1_gamma: float | None = None  # StyleGAN2's R1 weight; None = the family's default


# ----------------------------------------------------------------------------- losses


def d_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Discriminator loss on real and fake scores (WGAN-GP's penalty is added separately)."""
    if kind == "bce":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    if kind == "wgan-gp":
        return fake.mean() - real.mean()
    if kind == "lsgan":
        return 0.5 * ((real - 1).square().mean() + fake.square().mean())
    raise InvalidInputError(f"unknown GAN loss {kind!r}; choose one of {', '.join(GAN_LOSSES)}.")


def g_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    """Generator loss on the discriminator's scores of fakes (non-saturating for BCE)."""
    if kind == "bce":
        return F.softplus(-fake).mean()
    if kind in ("hinge", "wgan-gp"):
        return -fake.mean()
    if kind == "lsgan":
        return 0.5 * (fake - 1).square().mean()
    raise InvalidInputError(f"unknown GAN loss {kind!r}; choose one of {', '.join(GAN_LOSSES)}.")


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP: ``(‖∇D(x̂)‖ - 1)²`` at random interpolates of real and fake images."""
    t = torch.rand(real.shape[0], 1, 1, 1)
    x = (t * real + (1 - t) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()


def r1_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor) -> torch.Tensor:
    """R1: squared gradient norm of the discriminator at real images."""
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return grad.square().flatten(1).sum(1).mean()


def augment(x: torch.Tensor, *, max_shift: float = 0.1, max_rot: float = 0.2) -> torch.Tensor:
    """Random small rotation, scale and shift of a batch (draws from the global RNG)."""
    n = x.shape[0]
    ang = (torch.rand(n) * 2 - 1) * max_rot
    scale = 1 + (torch.rand(n) * 2 - 1) * 0.1
    shift = (torch.rand(n, 2) * 2 - 1) * max_shift
    cos, sin = torch.cos(ang) / scale, torch.sin(ang) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Pad with the background value (-1), not zero.
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


# ----------------------------------------------------------------------------- tasks


class Task:
    """One family's networks, optimizers and training step."""

    #: Everything whose state a checkpoint holds.
    nets: dict[str, nn.Module]
    optims: dict[str, torch.optim.Optimizer]
    #: Data sets: the first one sets the epoch length; the others are cycled alongside.
    datasets: tuple[Digits, ...]
    default_loss: str | None = None
    default_lr: float = 2e-4

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.spec = get_spec(cfg.model_name)
        self.model_config = {**self.spec.config, **cfg.overrides}
        self.loss = cfg.loss or self.default_loss
        self.lr = cfg.lr or self.default_lr

    def shipped(self) -> nn.Module:
        """The module that ships (the registered model), in eval mode."""
        return self.nets["model"]

    def step(self, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
        """One optimisation step on one batch per data set; returns losses by name."""
        raise NotImplementedError

    @torch.no_grad()
    def samples(self) -> np.ndarray:
        """uint8 NHWC pictures of the current state, for the per-epoch grid."""
        model = self.shipped().eval()
        entry = self.spec.entry_point()
        z = torch.from_numpy(seed_to_latent(_SAMPLE_SEEDS, entry.inputs[0].shape[0]))
        names = [t.name for t in entry.inputs]
        args: list[torch.Tensor] = [z]
        if "label" in names:
            args.append(torch.arange(len(z)) % 10)
        if "psi" in names:
            args += [torch.ones(len(z)), z]
        out = getattr(model, entry.name)(*args)
        model.train()
        return to_uint8_nhwc(out.numpy())


class _GanTask(Task):
    """Generator ``model`` against discriminator ``disc`` with a selectable loss."""

    default_loss = "bce"
    n_critic = 1

    def _setup(self, disc: nn.Module, betas: tuple[float, float]) -> None:
        g = self.nets["model"]
        self.nets["disc"] = disc
        lr_d = self.lr
        if self.loss == "wgan-gp":
            betas, self.n_critic = (0.0, 0.9), 2
        self.optims = {
            "opt_g": torch.optim.Adam(g.parameters(), lr=self.lr, betas=betas),
            "opt_d": torch.optim.Adam(disc.parameters(), lr=lr_d, betas=betas),
        }

    def _d_step(
        self, real: torch.Tensor, fake: torch.Tensor, critic: Callable[[torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        assert self.loss is not None
        loss = d_loss(self.loss, critic(real), critic(fake))
        if self.loss == "wgan-gp":
            loss = loss + 10.0 * gradient_penalty(critic, real, fake)
        return loss


class DCGANTask(_GanTask):
    """DCGAN and conditional DCGAN (projection D, auxiliary classifier, mode seeking)."""

    lambda_ms = 1.0
    lambda_cls = 1.0

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        from zoo.models.dcgan import DCGANDiscriminator

        mc = self.model_config
        self.nets = {"model": create_model(cfg.model_name, **cfg.overrides)}
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
        g, d = self.nets["model"], cast("DCGANDiscriminator", self.nets["disc"])
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
            self.optims["opt_d"].zero_grad(set_to_none=True)
            loss_d.backward()
            self.optims["opt_d"].step()
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
        self.optims["opt_g"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.optims["opt_g"].step()
        return losses


def spectral_normalize(net: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) on every conv, linear and embedding layer."""
    from torch.nn.utils.parametrizations import spectral_norm

    for module in list(net.modules()):
        if isinstance(module, (nn.Conv2d, nn.Linear, nn.Embedding)):
            spectral_norm(module)
    return net


class StyleGAN2Task(_GanTask):
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
        from zoo.models.stylegan2 import StyleGAN2Discriminator

        mc = self.model_config
        g = create_model(cfg.model_name, **cfg.overrides)
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
        g = cast("StyleGAN2Generator", self.nets["model"])
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
        self.optims["opt_d"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.optims["opt_d"].step()
        assert self.loss is not None
        loss_g = g_loss(self.loss, critic(self._fake(n)))
        self.optims["opt_g"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.optims["opt_g"].step()
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), g.parameters(), strict=True):
                pe.lerp_(p, 1 - self.ema_beta)
            for be, b in zip(ema.buffers(), g.buffers(), strict=True):
                be.copy_(b)
        self._steps += 1
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}


class VAETask(Task):
    """VAE: Bernoulli likelihood of [0, 1] pixels + KL; half the batch sees a masked input."""

    default_lr = 1e-3

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        vae = create_model(cfg.model_name, **cfg.overrides)
        self.nets = {"model": vae}
        self.optims = {"opt": torch.optim.Adam(vae.parameters(), lr=self.lr)}
        self.datasets = (load_digits("mnist", "train"),)

    def step(self, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
        x, _ = batches[0]
        vae = cast("ConvVAE", self.nets["model"])
        mask = random_masks(x.shape[0], x.shape[-1])
        mask[: x.shape[0] // 2] = 1.0  # half the batch unmasked: plain reconstruction
        mu, logvar = vae.encode(x, mask)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        target = (x + 1) / 2
        rec = F.binary_cross_entropy_with_logits(vae.decode_logits(z), target, reduction="none")
        rec = rec.flatten(1).sum(1).mean()
        kl = (-0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(1)).mean()
        loss = rec + kl
        self.optims["opt"].zero_grad(set_to_none=True)
        loss.backward()
        self.optims["opt"].step()
        return {"loss": loss.item(), "rec": rec.item(), "kl": kl.item()}

    @torch.no_grad()
    def samples(self) -> np.ndarray:
        """Top half: prior samples; bottom half: test digits and their reconstructions."""
        vae = cast("ConvVAE", self.nets["model"].eval())
        z = torch.from_numpy(seed_to_latent(_SAMPLE_SEEDS[:32], self.model_config["latent_dim"]))
        test = torch.from_numpy(load_digits("mnist", "test").images[:16])
        out = torch.cat([vae.sample(z), test, vae.reconstruct(test)])
        vae.train()
        return to_uint8_nhwc(out.numpy())


def random_masks(n: int, side: int) -> torch.Tensor:
    """Masks (1 = known) hiding a random half (top/bottom/left/right) or a random box."""
    masks = torch.ones(n, 1, side, side)
    kind = torch.randint(0, 5, (n,))
    h = side // 2
    for i in range(n):
        k = int(kind[i])
        if k == 0:
            masks[i, :, :h] = 0
        elif k == 1:
            masks[i, :, h:] = 0
        elif k == 2:
            masks[i, :, :, :h] = 0
        elif k == 3:
            masks[i, :, :, h:] = 0
        else:
            y, x = (int(v) for v in torch.randint(0, side - h, (2,)))
            masks[i, :, y : y + h, x : x + h] = 0
    return masks


class CycleGANTask(Task):
    """CycleGAN: adversarial (least squares by default) + cycle + identity losses."""

    default_loss = "lsgan"
    lambda_cycle = 10.0
    lambda_identity = 5.0

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        from zoo.models.cyclegan import PatchDiscriminator

        mc = self.model_config
        cg = create_model(cfg.model_name, **cfg.overrides)
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
        cg = cast("CycleGAN", self.nets["model"])
        d_a, d_b = self.nets["disc_a"], self.nets["disc_b"]
        assert self.loss is not None
        fake_b, fake_a = cg.g_ab(a), cg.g_ba(b)
        adv = g_loss(self.loss, d_b(fake_b)) + g_loss(self.loss, d_a(fake_a))
        cycle = (cg.g_ba(fake_b) - a).abs().mean() + (cg.g_ab(fake_a) - b).abs().mean()
        ident = (cg.g_ab(b) - b).abs().mean() + (cg.g_ba(a) - a).abs().mean()
        loss_g = adv + self.lambda_cycle * cycle + self.lambda_identity * ident
        self.optims["opt_g"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.optims["opt_g"].step()
        loss_d = d_loss(self.loss, d_b(b), d_b(fake_b.detach())) + d_loss(
            self.loss, d_a(a), d_a(fake_a.detach())
        )
        self.optims["opt_d"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.optims["opt_d"].step()
        return {"loss_g": loss_g.item(), "loss_d": loss_d.item(), "cycle": cycle.item()}

    @torch.no_grad()
    def samples(self) -> np.ndarray:
        """Rows: UCI digits, their MNIST-style translations, MNIST digits, their UCI style."""
        cg = cast("CycleGAN", self.nets["model"].eval())
        a = torch.from_numpy(load_digits("uci-digits", "test").images[:16])
        b = torch.from_numpy(load_digits("mnist", "test").images[:16])
        out = torch.cat([a, cg.translate_a2b(a), b, cg.translate_b2a(b)])
        cg.train()
        return to_uint8_nhwc(out.numpy())


class ClassifierTask(Task):
    """Digit classifier on MNIST + UCI digits, with small random affine augmentation."""

    default_lr = 1e-3

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        clf = create_model(cfg.model_name, **cfg.overrides)
        self.nets = {"model": clf}
        self.optims = {"opt": torch.optim.Adam(clf.parameters(), lr=self.lr)}
        m, u = load_digits("mnist", "train"), load_digits("uci-digits", "train")
        self.datasets = (
            Digits(np.concatenate([m.images, u.images]), np.concatenate([m.labels, u.labels])),
        )

    def step(self, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float]:
        x, y = batches[0]
        clf = self.nets["model"]
        logits = clf(augment(x))
        loss = F.cross_entropy(logits, y)
        self.optims["opt"].zero_grad(set_to_none=True)
        loss.backward()
        self.optims["opt"].step()
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


class StyleGAN2EncoderTask(Task):
    """An encoder into the frozen stylegan2-mnist's W+ (pSp/e4e style), on two kinds of data.

    Generated digits (z → w, with mixing and truncation, → image) have a known answer: the
    encoder regresses their ws and the reconstruction their pixels. Real MNIST digits have
    none: their reconstruction through the frozen generator must match them in pixels and in
    the zoo classifier's feature space. A small penalty keeps each digit's per-layer ws near
    their mean, as e4e does, so the ws stay where the generator was trained.
    """

    default_lr = 1e-3
    feature_weight = 0.5  # classifier-feature loss, relative to the pixel loss
    offset_weight = 0.01  # e4e-style penalty on ws' spread across layers
    mix_prob = 0.5  # generated digits drawn with style mixing

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        from zoo.hub import load

        proj = cast("StyleGAN2Projector", create_model(cfg.model_name, **cfg.overrides))
        # The generator is the shipped one, tensor for tensor, and is never optimised.
        shipped: nn.Module = load("stylegan2-mnist")
        proj.generator.load_state_dict(shipped.state_dict())
        proj.generator.requires_grad_(False)
        self.nets = {"model": proj}
        self.optims = {"opt": torch.optim.Adam(proj.encoder.parameters(), lr=self.lr)}
        classifier: nn.Module = load("classifier-mnist")
        self.classifier = cast("DigitClassifier", classifier.eval().requires_grad_(False))
        self.datasets = (load_digits("mnist", "train"),)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier.features(x)

    def _projector(self) -> StyleGAN2Projector:
        return cast("StyleGAN2Projector", self.nets["model"])

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
        self.optims["opt"].zero_grad(set_to_none=True)
        loss.backward()
        self.optims["opt"].step()
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


TASKS: dict[str, type[Task]] = {
    "dcgan": DCGANTask,
    "cgan": DCGANTask,
    "stylegan2": StyleGAN2Task,
    "stylegan2-encoder": StyleGAN2EncoderTask,
    "vae": VAETask,
    "cyclegan": CycleGANTask,
    "classifier": ClassifierTask,
}


# ----------------------------------------------------------------------------- checkpoints


def _state_tensors(task: Task) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Flatten every net and optimizer state into safetensors + JSON-able metadata."""
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {}
    for name, net in task.nets.items():
        for k, v in net.state_dict().items():
            tensors[f"{name}/{k}"] = v.detach().contiguous().clone()
    for name, opt in task.optims.items():
        sd = opt.state_dict()
        meta[name] = {"param_groups": sd["param_groups"], "state": {}}
        for idx, st in sd["state"].items():
            scalars = {}
            for k, v in st.items():
                if isinstance(v, torch.Tensor):
                    tensors[f"{name}/state/{idx}/{k}"] = v.detach().contiguous().clone()
                else:
                    scalars[k] = v
            meta[name]["state"][str(idx)] = scalars
    return tensors, meta


def _load_state(task: Task, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    for name, net in task.nets.items():
        prefix = f"{name}/"
        sd = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        net.load_state_dict(sd, strict=True)
    for name, opt in task.optims.items():
        if name not in meta:
            raise CheckpointError(f"the checkpoint has no state for optimizer {name!r}.")
        state: dict[int, dict[str, Any]] = {int(i): dict(s) for i, s in meta[name]["state"].items()}
        prefix = f"{name}/state/"
        for k, v in tensors.items():
            if k.startswith(prefix):
                idx, key = k[len(prefix) :].split("/", 1)
                state.setdefault(int(idx), {})[key] = v
        opt.load_state_dict({"state": state, "param_groups": meta[name]["param_groups"]})


def save_checkpoint(task: Task, run_dir: Path, step: int) -> None:
    """Write the run's full state at ``step`` (tensors first, then the JSON that names them)."""
    from safetensors.torch import save_file

    tensors, optim_meta = _state_tensors(task)
    write_atomic(run_dir / CHECKPOINT_TENSORS, lambda p: save_file(tensors, str(p)))
    meta = {
        "step": step,
        "config": asdict(task.cfg),
        "optimizers": optim_meta,
        "extra": {"steps": getattr(task, "_steps", None)},
    }
    write_atomic(run_dir / CHECKPOINT_META, lambda p: p.write_text(json.dumps(meta, indent=1)))


def load_checkpoint(task: Task, run_dir: Path) -> int:
    """Restore ``task`` from ``run_dir``; returns the step to continue from."""
    from safetensors.torch import load_file

    meta_path, tensor_path = run_dir / CHECKPOINT_META, run_dir / CHECKPOINT_TENSORS
    if not meta_path.is_file() or not tensor_path.is_file():
        raise CheckpointError(f"no checkpoint in {run_dir}: expected {CHECKPOINT_META} there.")
    meta = json.loads(meta_path.read_text())
    saved = meta["config"]
    for key in (
        "model_name",
        "batch_size",
        "seed",
        "loss",
        "lr",
        "overrides",
        "limit",
        "r1_gamma",
    ):
        if saved.get(key) != asdict(task.cfg).get(key):
            raise CheckpointError(
                f"the checkpoint in {run_dir} was made with {key}={saved.get(key)!r}, this run "
                f"uses {asdict(task.cfg).get(key)!r}; resume with the same settings."
            )
    _load_state(task, load_file(str(tensor_path)), meta["optimizers"])
    if meta["extra"].get("steps") is not None:
        task._steps = meta["extra"]["steps"]  # type: ignore[attr-defined]
    return int(meta["step"])


# ----------------------------------------------------------------------------- trainer


def _epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(mix_seed(seed, -1 - epoch))
    return torch.randperm(n, generator=g)


def _batches(task: Task, epoch: int) -> Iterator[list[tuple[torch.Tensor, torch.Tensor]]]:
    """Batches of epoch ``epoch``: one per data set, later sets cycled to the first's length."""
    bs, seed = task.cfg.batch_size, task.cfg.seed
    main = task.datasets[0]
    order = _epoch_order(seed, epoch, len(main))
    others = [
        torch.cat(
            [
                _epoch_order(seed, 1000 * (j + 1) + epoch * 100 + r, len(d))
                for r in range(math.ceil(len(main) / len(d)))
            ]
        )
        for j, d in enumerate(task.datasets[1:])
    ]
    for i in range(len(main) // bs):
        out = []
        for d, idx in zip(task.datasets, [order, *others], strict=True):
            sel = idx[i * bs : (i + 1) * bs].numpy()
            out.append((torch.from_numpy(d.images[sel]), torch.from_numpy(d.labels[sel])))
        yield out


def steps_per_epoch(task: Task) -> int:
    """Optimisation steps in one epoch."""
    return len(task.datasets[0]) // task.cfg.batch_size


@dataclass
class TrainResult:
    """Where a finished run put its files."""

    run_dir: Path
    model_dir: Path
    sha256: str
    steps: int
    seconds: float


def train(
    cfg: TrainConfig,
    run_dir: Path,
    *,
    resume: bool = False,
    on_step: Callable[[int, int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train ``cfg.model_name`` into ``run_dir``; ``resume`` continues from its checkpoint.

    ``on_step(step, total_steps, losses)`` is called after every step (the CLI's progress bar).
    """
    spec = get_spec(cfg.model_name)
    if spec.family not in TASKS:
        raise InvalidInputError(f"no trainer for family {spec.family!r}.")
    if cfg.loss is not None and cfg.loss not in GAN_LOSSES:
        raise InvalidInputError(
            f"unknown GAN loss {cfg.loss!r}; choose one of {', '.join(GAN_LOSSES)}."
        )
    if cfg.epochs < 1 or cfg.batch_size < 2:
        raise InvalidInputError("--epochs must be ≥ 1 and --batch-size ≥ 2.")
    torch.manual_seed(cfg.seed)
    task = TASKS[spec.family](cfg)
    if cfg.limit is not None:
        task.datasets = tuple(
            Digits(d.images[: cfg.limit], d.labels[: cfg.limit]) for d in task.datasets
        )
    if task.default_loss is None and cfg.loss is not None:
        raise InvalidInputError(f"{cfg.model_name} is not a GAN: drop --loss.")
    for net in task.nets.values():
        net.train()
    per_epoch = steps_per_epoch(task)
    if per_epoch == 0:
        raise InvalidInputError(f"--batch-size {cfg.batch_size} is larger than the data set.")
    total = per_epoch * cfg.epochs
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    run_dir.mkdir(parents=True, exist_ok=True)
    step = load_checkpoint(task, run_dir) if resume else 0
    if not resume:
        (run_dir / "metrics.jsonl").unlink(missing_ok=True)
    t0 = time.perf_counter()
    while step < total:
        epoch, skip = divmod(step, per_epoch)
        sums: dict[str, float] = {}
        count = 0
        for i, batch in enumerate(_batches(task, epoch)):
            if i < skip:
                continue
            if step >= total:
                break
            torch.manual_seed(mix_seed(cfg.seed, step))
            losses = task.step(batch)
            step += 1
            count += 1
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v
            if on_step is not None:
                on_step(step, total, losses)
            if cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                save_checkpoint(task, run_dir, step)
        save_checkpoint(task, run_dir, step)
        if step % per_epoch == 0 or step >= total:
            record = {
                "epoch": epoch + 1,
                "step": step,
                "seconds": round(time.perf_counter() - t0, 2),
                **{k: v / max(count, 1) for k, v in sums.items()},
            }
            with open(run_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            save_grid(task.samples(), run_dir / "samples" / f"epoch_{epoch + 1:03d}.png")
    seconds = time.perf_counter() - t0
    model_dir = run_dir / "model"
    model = task.shipped().eval()
    sha = save_weights(model, model_dir, cfg.model_name, task.model_config)
    info = {
        "command": reproduce_command(cfg),
        "model_name": cfg.model_name,
        "epochs": cfg.epochs,
        "steps": step,
        "batch_size": cfg.batch_size,
        "seed": cfg.seed,
        "loss": task.loss,
        "lr": task.lr,
        "seconds": round(seconds, 1),
        "sha256": sha,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
    }
    write_atomic(
        model_dir / TRAINING_META, lambda p: p.write_text(json.dumps(info, indent=2) + "\n")
    )
    return TrainResult(run_dir, model_dir, sha, step, seconds)


def reproduce_command(cfg: TrainConfig) -> str:
    """The ``zoo train`` command that repeats this run from scratch (resumes included)."""
    parts = ["zoo", "train", cfg.model_name, "--epochs", str(cfg.epochs)]
    parts += ["--batch-size", str(cfg.batch_size), "--seed", str(cfg.seed)]
    if cfg.loss:
        parts += ["--loss", cfg.loss]
    if cfg.lr:
        parts += ["--lr", repr(cfg.lr)]
    if cfg.r1_gamma is not None:
        parts += ["--r1-gamma", repr(cfg.r1_gamma)]
    if cfg.max_steps is not None:
        parts += ["--max-steps", str(cfg.max_steps)]
    return shlex.join(parts)
