"""The CycleGAN's evaluation protocol (``zoo eval cyclegan-digits``).

Label preservation UCI → MNIST and MNIST → UCI (the evaluator's class of the translation must
equal the source label) and FID of the translations against the target domain's test split.
"""

from __future__ import annotations

import numpy as np

from zoo import metrics
from zoo.evaluate import EvalContext, MakeRunner, run_batched


def evaluate_cyclegan(ctx: EvalContext, make: MakeRunner) -> None:
    """Label preservation and FID of each direction's translations of the source test split."""
    for entry, source, target, key, label in (
        ("translate_a2b", "uci-digits", "mnist", "a2b", "UCI → MNIST"),
        ("translate_b2a", "mnist", "uci-digits", "b2a", "MNIST → UCI"),
    ):
        src = ctx.test_set(source)
        out = run_batched(make(entry), src.images)[0].astype(np.float32)
        _, classes = ctx.evaluator.features_and_classes(out)
        ctx.add(
            f"label_preservation_{key}",
            metrics.accuracy(classes, src.labels),
            f"label preservation {label}",
            dataset=source,
        )
        ctx.distribution_metrics(
            out, target, name=f"fid_{key}", label=f"FID {label}", with_pr=False, with_coverage=False
        )
