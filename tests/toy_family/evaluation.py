"""The toy family's evaluation: the kit's FID, precision and recall, and its own moment distance.

``moment_distance`` is the training loss measured on the test split: the RMS difference of the
per-pixel means plus that of the per-pixel spreads. Lower is better (the family says so).
"""

from __future__ import annotations

import numpy as np

from zoo.evaluate import EvalContext, MakeRunner, generate_batched


def evaluate_toy(ctx: EvalContext, make: MakeRunner) -> None:
    """The generated set against the MNIST test split."""
    fake = generate_batched(make("generate"), ctx.seeds())
    ctx.distribution_metrics(fake, with_coverage=False)
    real = ctx.test_set("mnist").images

    def rms(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.sqrt(np.mean((a - b) ** 2)))

    distance = rms(fake.mean(0), real.mean(0)) + rms(fake.std(0), real.std(0))
    ctx.add("moment_distance", distance, "moment distance to MNIST")
