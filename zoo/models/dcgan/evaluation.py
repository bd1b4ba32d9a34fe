"""Evaluation protocols of DCGAN and the cGAN (``zoo eval``).

- dcgan: seeds ``seed … seed+n−1`` → images; FID, precision and recall against the MNIST test
  split, class coverage of the predicted classes.
- cgan: seed ``seed+i`` with class ``i mod 10``; label accuracy (the evaluator must predict the
  requested class), FID, precision, recall and class coverage.
"""

from __future__ import annotations

import numpy as np

from zoo import metrics
from zoo.evaluate import EvalContext, MakeRunner, generate_batched


def evaluate_dcgan(ctx: EvalContext, make: MakeRunner) -> None:
    """FID, precision, recall and class coverage of the images of ``n`` seeds."""
    ctx.distribution_metrics(generate_batched(make("generate"), ctx.seeds()))


def evaluate_cgan(ctx: EvalContext, make: MakeRunner) -> None:
    """Label accuracy (first), then :func:`evaluate_dcgan`'s figures, classes cycling 0–9."""
    runner = make("generate")
    labels = np.arange(ctx.n) % 10
    classes = ctx.distribution_metrics(generate_batched(runner, ctx.seeds(), labels=labels))
    ctx.add("label_accuracy", metrics.accuracy(classes, labels), "label accuracy")
    ctx.metrics.insert(0, ctx.metrics.pop())  # the headline figure first
