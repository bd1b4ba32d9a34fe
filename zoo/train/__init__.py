"""Training every zoo family, deterministically and resumably.

:mod:`zoo.train.loop` runs a family's :class:`Task` (its networks, optimizers and one step,
in ``zoo/models/<family>/training.py``, named by ``Family.task``), checkpoints it and ships its
weights; :mod:`zoo.train.task` holds the settings and the task bases, :mod:`zoo.train.losses`
the losses, regularisers and augmentations the tasks share.
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
    task_of,
    train,
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
from zoo.train.task import SAMPLE_SEEDS, GanTask, Task, TrainConfig

__all__ = [
    "CHECKPOINT_META",
    "CHECKPOINT_TENSORS",
    "GAN_LOSSES",
    "SAMPLE_SEEDS",
    "TRAINING_META",
    "GanLoss",
    "GanTask",
    "Task",
    "TrainConfig",
    "TrainResult",
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
    "task_of",
    "train",
    "unknown_gan_loss",
]
