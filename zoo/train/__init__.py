"""Training every zoo family, deterministically and resumably.

:mod:`zoo.train.loop` runs a family's :class:`Trainer` (its networks, optimizers and one step,
in ``zoo/models/<family>/training.py``, named by ``Family.trainer``), checkpoints it and ships its
weights; :mod:`zoo.train.trainer` holds the settings and the trainer bases,
:mod:`zoo.train.losses` the losses, regularisers and augmentations the trainers share.
"""

from __future__ import annotations

from zoo.train.loop import (
    CHECKPOINT_META,
    CHECKPOINT_TENSORS,
    TRAINING_META,
    TrainResult,
    load_checkpoint,
    reproduce_command,
    save_checkpoint,
    steps_per_epoch,
    train,
    trainer_of,
)
from zoo.train.losses import (
    GAN_LOSSES,
    GanLoss,
    augment,
    d_loss,
    g_loss,
    gradient_penalty,
    r1_penalty,
    random_masks,
    spectral_normalize,
    unknown_gan_loss,
)
from zoo.train.trainer import SAMPLE_SEEDS, GanTrainer, TrainConfig, Trainer

# Deprecated: the names Trainer and GanTrainer had before issue 26 ("one word per concept"),
# kept only so that a family package outside genzoo whose trainer subclasses them still
# imports; to be removed. New code says Trainer and GanTrainer.
Task = Trainer
GanTask = GanTrainer

__all__ = [
    "CHECKPOINT_META",
    "CHECKPOINT_TENSORS",
    "GAN_LOSSES",
    "SAMPLE_SEEDS",
    "TRAINING_META",
    "GanLoss",
    "GanTrainer",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "augment",
    "d_loss",
    "g_loss",
    "gradient_penalty",
    "load_checkpoint",
    "r1_penalty",
    "random_masks",
    "reproduce_command",
    "save_checkpoint",
    "spectral_normalize",
    "steps_per_epoch",
    "train",
    "trainer_of",
    "unknown_gan_loss",
]
