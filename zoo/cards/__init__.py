"""Model cards: ``eval.json``, ``samples.png`` and the Hugging Face ``README.md`` of a model.

A model folder (``zoo/weights/<name>/``, Hugging Face repo layout) holds, next to the weights:

- ``eval.json`` — the :class:`~zoo.evaluate.EvalReport` of ``zoo eval NAME --write``, stamped
  with the sha256 of the weights it measured;
- ``samples.png`` — a picture of what the model does, drawn by its family (``Family.samples``:
  a grid of seeds, source/translation pairs, confusion matrices);
- ``README.md`` — YAML metadata (licence, library, tags, data sets, pipeline tag and the
  metrics in the Hub's ``model-index`` form), the metrics table, the signature, usage and the
  exact command that trained the weights (from the trainer's ``training.json``).

When the weights change, ``zoo card NAME --eval`` (or ``make cards`` for every model)
re-evaluates and rewrites all three; a card is never written from an ``eval.json`` whose
sha256 is not the registry's.

The card is generic over the model's :class:`~zoo.registry.Family`: its Hub task is
``Family.pipeline_tag``, its picture ``Family.samples`` (a :data:`CardSamples`) and its usage
section ``Family.usage`` (a :data:`CardUsage`), both in the family's ``card`` module.

One job per module: :mod:`zoo.cards.records` reads and writes ``eval.json`` and
``training.json``; :mod:`zoo.cards.samples` is the drawing kit (:func:`grid_panel`,
:func:`seed_panel`, :func:`confusion_panel`, :func:`one_per_class`, :func:`run_entry`) and
writes ``samples.png``; :mod:`zoo.cards.usage` is the usage kit (:func:`usage_text` and, for
a seeded generator, :func:`seeded_usage`); :mod:`zoo.cards.readme` renders ``README.md``;
:mod:`zoo.cards.writer` writes all three (:func:`write_card`). The names families and the CLI
use are importable from ``zoo.cards``.
"""

from zoo.cards.readme import card_metadata, render_card
from zoo.cards.records import (
    TRAINING_NAME,
    check_current,
    read_eval,
    read_training,
    write_eval,
)
from zoo.cards.samples import (
    CardSamples,
    confusion_panel,
    grid_panel,
    one_per_class,
    render_samples,
    run_entry,
    seed_panel,
)
from zoo.cards.usage import CardUsage, seeded_usage, usage_text
from zoo.cards.writer import CardFiles, write_card

__all__ = [
    "TRAINING_NAME",
    "CardFiles",
    "CardSamples",
    "CardUsage",
    "card_metadata",
    "check_current",
    "confusion_panel",
    "grid_panel",
    "one_per_class",
    "read_eval",
    "read_training",
    "render_card",
    "render_samples",
    "run_entry",
    "seed_panel",
    "seeded_usage",
    "usage_text",
    "write_card",
    "write_eval",
]
