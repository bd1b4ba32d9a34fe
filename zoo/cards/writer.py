"""Writing a model's card: ``eval.json``, ``samples.png`` and ``README.md`` into its folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zoo.cards.readme import render_card
from zoo.cards.records import check_current, read_eval, read_training, write_eval
from zoo.cards.samples import render_samples
from zoo.evaluate import EvalReport, evaluate
from zoo.registry import get_spec
from zoo.settings import CARD_NAME, EVAL_NAME, SAMPLES_NAME, WEIGHTS_NAME
from zoo.weights import bundled_dir, write_atomic

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class CardFiles:
    """Paths written by :func:`write_card`."""

    readme: Path
    samples: Path
    eval_json: Path


def write_card(
    name: str,
    *,
    folder: Path | None = None,
    module: nn.Module | None = None,
    report: EvalReport | None = None,
    refresh: bool = False,
    n: int | None = None,
) -> CardFiles:
    """Write ``README.md`` and ``samples.png`` of ``name`` into ``folder`` (default: bundled).

    ``refresh`` first re-evaluates (``n`` samples) and writes ``eval.json``; otherwise the
    report is ``report`` or the folder's (else the bundled) ``eval.json``, which must have
    measured the registry's weights. ``module`` replaces the trained weights (the card then
    describes that module: no sha256 check, no training record from the bundled folder).
    """
    spec = get_spec(name)
    src = bundled_dir(name)
    out = Path(folder) if folder is not None else src
    out.mkdir(parents=True, exist_ok=True)
    if refresh:
        report = evaluate(name, n=n)
    elif report is None:
        report = read_eval(name, out if (out / EVAL_NAME).is_file() else src)
    shipped = module is None
    if module is None:
        from zoo.hub import load

        check_current(report, spec)
        module = load(name)
    eval_json = write_eval(report, out)  # the card's figures travel with it
    samples = render_samples(name, out / SAMPLES_NAME, module=module, report=report)
    weights = src / WEIGHTS_NAME
    text = render_card(
        spec,
        report,
        training=read_training(src) if shipped else read_training(out),
        weights_bytes=weights.stat().st_size if shipped else None,
        parameters=sum(p.numel() for p in module.parameters()),
    )
    readme = out / CARD_NAME
    write_atomic(readme, lambda p: p.write_text(text))
    return CardFiles(readme, samples, eval_json)
