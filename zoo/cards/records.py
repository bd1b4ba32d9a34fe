"""The records a model folder keeps next to its weights: ``eval.json`` and ``training.json``.

``eval.json`` is the :class:`~zoo.evaluate.EvalReport` of ``zoo eval NAME --write``, stamped
with the sha256 of the weights it measured (:func:`check_current` refuses a stale one);
``training.json`` is what the trainer wrote: the command, seed, epochs, time, versions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo.errors import IntegrityError, WeightsNotFoundError
from zoo.evaluate import EvalReport
from zoo.registry import ModelSpec
from zoo.settings import EVAL_NAME
from zoo.weights import bundled_dir, write_atomic

#: File the trainer writes next to the weights: the command, seed, epochs, time, versions.
TRAINING_NAME = "training.json"


def write_eval(report: EvalReport, folder: Path) -> Path:
    """Store ``report`` as ``folder/eval.json``."""
    path = Path(folder) / EVAL_NAME
    text = json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"
    write_atomic(path, lambda p: p.write_text(text))
    return path


def read_eval(name: str, folder: Path | None = None) -> EvalReport:
    """The stored :class:`EvalReport` of ``name`` (from ``folder``, default the bundled one)."""
    path = (folder or bundled_dir(name)) / EVAL_NAME
    if not path.is_file():
        raise WeightsNotFoundError(
            f"no {EVAL_NAME} for {name} in {path.parent}; run `zoo eval {name} --write` "
            f"(or `zoo card {name} --eval`)."
        )
    return EvalReport.from_dict(json.loads(path.read_text()))


def check_current(report: EvalReport, spec: ModelSpec) -> None:
    """Raise :class:`IntegrityError` unless ``report`` measured the registry's weights."""
    if report.sha256 != spec.sha256:
        raise IntegrityError(
            f"{EVAL_NAME} of {spec.name} measured weights {report.sha256[:12] or '(none)'}…, but "
            f"the registry ships {spec.sha256[:12] or '(none)'}…; re-evaluate with "
            f"`zoo card {spec.name} --eval` (or `make cards`)."
        )


def read_training(folder: Path) -> dict[str, Any] | None:
    """The trainer's ``training.json`` of a model folder, or ``None`` when absent."""
    path = Path(folder) / TRAINING_NAME
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data
