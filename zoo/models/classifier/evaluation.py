"""The classifier's evaluation protocol (``zoo eval classifier-mnist``).

Accuracy on the MNIST test split (its target) and on the UCI test split, with the confusion
matrix of each (the card draws them).
"""

from __future__ import annotations

import numpy as np

from zoo import metrics
from zoo.evaluate import EvalContext, MakeRunner, run_batched


def evaluate_classifier(ctx: EvalContext, make: MakeRunner) -> None:
    """Test accuracy on MNIST and on UCI digits; their confusion matrices in ``details``."""
    runner = make("classify")
    for dataset, name, label in (
        ("mnist", "accuracy", "test accuracy (MNIST)"),
        ("uci-digits", "accuracy_uci", "test accuracy (UCI digits)"),
    ):
        test = ctx.test_set(dataset)
        pred = metrics.predicted_classes(run_batched(runner, test.images)[0])
        ctx.add(name, metrics.accuracy(pred, test.labels), label, dataset=dataset)
        confusion = np.zeros((10, 10), dtype=np.int64)
        np.add.at(confusion, (test.labels, pred), 1)
        ctx.details[f"confusion_{dataset}"] = confusion.tolist()
