"""What a trainer is: its settings, the :class:`Trainer` base and the shared GAN base.

A family's trainer (``zoo/models/<family>/training.py``, named by its ``Family.trainer``)
subclasses :class:`Trainer` (or :class:`GanTrainer`): it builds the networks, optimizers and
data sets and takes one step; :func:`zoo.train.train` runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.data import Digits
from zoo.pipeline import generator_inputs, to_uint8_nhwc
from zoo.registry import create_model, get_spec
from zoo.roles import role_of
from zoo.train.losses import GanLoss, d_loss, gradient_penalty

#: Seeds of the per-epoch sample grid.
SAMPLE_SEEDS = np.arange(64)


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


class Trainer:
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

    def new_model(self) -> nn.Module:
        """The registered network with this run's config overrides, freshly initialised."""
        return create_model(self.cfg.model_name, **self.cfg.overrides)

    def train_alone(self, model: nn.Module, params: Iterable[nn.Parameter] | None = None) -> None:
        """Train ``model`` (``nets["model"]``) alone, with one Adam optimizer ``opt`` at ``lr``.

        ``params`` are the parameters it optimises (default: all of ``model``'s).
        """
        self.nets = {"model": model}
        trained = model.parameters() if params is None else params
        self.optims = {"opt": torch.optim.Adam(trained, lr=self.lr)}

    def update(self, optim: str, loss: torch.Tensor) -> None:
        """One step of the optimizer ``optim`` down ``loss`` (gradients cleared first)."""
        self.optims[optim].zero_grad(set_to_none=True)
        loss.backward()
        self.optims[optim].step()

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
        # Seeds' latents, labels cycling through the classes, every scalar at its default.
        labels = [SAMPLE_SEEDS % t.classes for t in entry.inputs if role_of(t).kind == "label"]
        inputs = generator_inputs(entry, SAMPLE_SEEDS, labels=labels[0] if labels else None)
        out = getattr(model, entry.name)(*(torch.from_numpy(a) for a in inputs))
        model.train()
        return to_uint8_nhwc(out.numpy())


class GanTrainer(Trainer):
    """Generator ``model`` against discriminator ``disc`` with a selectable loss."""

    default_loss = "bce"
    n_critic = 1

    def _setup(self, disc: nn.Module, betas: tuple[float, float]) -> None:
        """Add ``disc`` and the two Adam optimizers (WGAN-GP: its betas and two critic steps)."""
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
        """The discriminator's loss on real and fake images (plus WGAN-GP's penalty)."""
        assert self.loss is not None
        loss = d_loss(self.loss, critic(real), critic(fake))
        if self.loss == "wgan-gp":
            loss = loss + 10.0 * gradient_penalty(critic, real, fake)
        return loss
