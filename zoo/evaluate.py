"""``zoo eval``: a model's quality metrics on the test split, with real-vs-real floors.

Every metric is computed in the feature space of the trained classifier ``classifier-mnist``
(see :mod:`zoo.metrics` for the formulas). The evaluator always runs in torch; the model under
test runs through a :class:`~zoo.runners.Runner`, so the same protocol checks an exported
ONNX Runtime or TensorRT graph (``runner_factory``) as well as the torch weights.

Protocol per family (``n`` samples, default 1,000 = the MNIST test split):

- classifier: accuracy on the MNIST test split (target) and on the UCI test split.
- dcgan, stylegan2: seeds ``seed … seed+n−1`` → images; FID, precision and recall against the
  MNIST test split, class coverage of the predicted classes. StyleGAN2 also at ψ = 0.7.
- cgan: seed ``seed+i`` with class ``i mod 10``; label accuracy (the evaluator must predict the
  requested class), FID, precision, recall and class coverage.
- vae: reconstruction PSNR, ELBO (nats per image, one posterior sample), FID of prior samples,
  and inpainting PSNR on the unknown half of each digit (top half for even indices, bottom
  half for odd) against filling it with the training mean image.
- stylegan2-encoder: ``project`` on the MNIST test split: PSNR of the encoder's
  reconstructions, the share whose class (the evaluator's) survives projection; on
  :data:`REFINE_N` of them (spread evenly over the split), PSNR and class kept after the
  default refinement (:mod:`zoo.models.stylegan2.projection`), and the share keeping that
  class when layers from :data:`RESTYLE_LAYER` on take seed ``seed + i``'s styles; perceptual
  path length of the generator in the evaluator's feature space, in z and in w (the ratio
  w / z must stay below 1).
- cyclegan: label preservation UCI → MNIST and MNIST → UCI (the evaluator's class of the
  translation must equal the source label) and FID of the translations against the target
  domain's test split.

The floor beside a FID (and precision/recall) is the same figure for real data: a random
subset of the training split, as large as the generated set, against the same test set —
the best a perfect generator could expect from this many samples.
"""

from __future__ import annotations

import functools
import math
import time
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from zoo import metrics
from zoo.data import DATASETS, Digits, load_digits
from zoo.errors import InvalidInputError
from zoo.latent import seed_to_latent
from zoo.pipeline import from_uint8_nhwc, generator_inputs
from zoo.registry import get_spec
from zoo.runners import Runner, torch_runner

if TYPE_CHECKING:
    import torch
    from torch import nn

    from zoo.models.classifier.network import DigitClassifier
    from zoo.models.stylegan2.network import StyleGAN2Projector

#: ``runner_factory(model_name, entry_name) -> Runner``: how the model under test is run.
RunnerFactory = Callable[[str, str], Runner]

#: Name of the model whose features and predictions every metric uses.
EVALUATOR = "classifier-mnist"
#: Default number of samples (the size of the MNIST test split).
DEFAULT_N = 1000
#: Images per runner call.
BATCH = 250
#: Truncation ψ of StyleGAN2's second evaluation.
TRUNCATED_PSI = 0.7
#: Stream of the seed rule for the VAE's posterior sample in the ELBO (latents use stream 0).
ELBO_STREAM = 11

#: Digits refined in the encoder's evaluation (refinement costs ~100 generator passes each).
REFINE_N = 200
#: First w index restyled by a seed in the encoder's evaluation (the fine layers, 16² and 32²).
RESTYLE_LAYER = 4

#: Metrics where lower is better; everything else is higher-is-better.
LOWER_IS_BETTER = frozenset({"fid", "class_ratio_max", "ppl_z", "ppl_w", "ppl_ratio_w_z"})

#: Targets the issue sets beyond those in each ModelSpec (``spec.metric_targets`` wins).
_FAMILY_TARGETS: dict[str, dict[str, float]] = {
    "dcgan": {"classes_covered": 10},
    "stylegan2": {"classes_covered": 10},
    "stylegan2-encoder": {"ppl_ratio_w_z": 1.0},
}


@dataclass(frozen=True)
class Metric:
    """One figure of an evaluation, with its target and real-data reference."""

    name: str  # key, e.g. "fid", "precision", "fid_psi0.7"
    value: float | None  # None when undefined (e.g. max/min ratio with a class missing)
    label: str  # human-readable name
    dataset: str = "mnist"  # data set it is measured against
    target: float | None = None  # goal the shipped weights must reach
    floor: float | None = None  # the same figure for real data (or the baseline it beats)
    floor_label: str = ""  # what ``floor`` is, e.g. "real vs real", "mean fill"

    @property
    def higher_is_better(self) -> bool:
        """Whether a larger value is better (false for FID and ratios)."""
        return not any(self.name == k or self.name.startswith(f"{k}_") for k in LOWER_IS_BETTER)

    @property
    def met(self) -> bool | None:
        """Whether the target is reached; ``None`` when the metric has no target."""
        if self.target is None:
            return None
        if self.value is None:
            return False
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


@dataclass(frozen=True)
class EvalReport:
    """The result of :func:`evaluate`: metrics plus how they were obtained."""

    model: str  # registry name
    family: str  # architecture family
    backend: str  # how the model under test ran ("torch", "onnxruntime", ...)
    n: int  # samples per generated set / test images used
    seed: int  # first seed; also seeds the real-data subsets
    sha256: str  # weights digest in the registry at evaluation time
    metrics: tuple[Metric, ...]  # in display order
    details: dict[str, Any] = field(default_factory=dict)  # histograms, confusion matrix
    seconds: float = 0.0  # wall time of the evaluation
    torch_version: str = ""  # torch used by the evaluator

    def metric(self, name: str) -> Metric:
        """The metric called ``name``."""
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"{self.model} has no metric {name!r}")

    @property
    def targets_met(self) -> bool:
        """Whether every metric with a target reaches it."""
        return all(m.met is not False for m in self.metrics)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``eval.json`` of a model folder)."""
        d = asdict(self)
        d["metrics"] = [
            {**asdict(m), "higher_is_better": m.higher_is_better, "met": m.met}
            for m in self.metrics
        ]
        d["targets_met"] = self.targets_met
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalReport:
        """Inverse of :meth:`to_dict`."""
        fields = {f for f in Metric.__dataclass_fields__}
        ms = tuple(Metric(**{k: v for k, v in m.items() if k in fields}) for m in data["metrics"])
        keep = {f for f in cls.__dataclass_fields__} - {"metrics"}
        return cls(metrics=ms, **{k: v for k, v in data.items() if k in keep})


class _Evaluator:
    """The classifier's features and predicted classes, in torch, in batches."""

    def __init__(self, module: nn.Module) -> None:
        from torch import nn

        # ``module`` is a DigitClassifier (or any module with ``features`` and ``classify``).
        # A DigitClassifier's logits are ``head(features)``: one pass then gives both.
        self.module = module.eval()
        self._features = cast("Callable[[torch.Tensor], torch.Tensor]", module.features)
        self._classify = cast("Callable[[torch.Tensor], torch.Tensor]", module.classify)
        head = getattr(module, "head", None)
        self._head = head if isinstance(head, nn.Linear) else None

    def features_and_classes(
        self, images: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        import torch

        feats, classes = [], []
        with torch.inference_mode():
            for i in range(0, len(images), BATCH):
                x = torch.from_numpy(np.ascontiguousarray(images[i : i + BATCH], np.float32))
                f = self._features(x)
                logits = self._head(f) if self._head is not None else self._classify(x)
                feats.append(f.double().numpy())
                classes.append(logits.argmax(1).numpy())
        return np.concatenate(feats), np.concatenate(classes).astype(np.int64)


#: Evaluator features of real data, per evaluator module (treated as frozen): they are the
#: same for every model, so evaluating the whole zoo in one process computes them once.
_REAL_FEATURES: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], npt.NDArray[np.float64]]]
_REAL_FEATURES = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=1)
def _bundled_evaluator(sha256: str) -> nn.Module:
    """The trained classifier (``zoo.hub.load``), loaded once per weights digest."""
    from zoo.hub import load

    return load(EVALUATOR)


def _as_float_images(out: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Graph outputs as float32; a uint8 NHWC image export is mapped back to [-1, 1] NCHW."""
    if out.dtype == np.uint8 and out.ndim == 4:
        return from_uint8_nhwc(out)
    return out.astype(np.float32, copy=False)


def _run(runner: Runner, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[Any], ...]:
    """Call ``runner`` in batches of :data:`BATCH` and concatenate each output (as float32)."""
    parts: list[tuple[npt.NDArray[Any], ...]] = []
    for i in range(0, len(inputs[0]), BATCH):
        outs = runner(*(a[i : i + BATCH] for a in inputs))
        parts.append(tuple(_as_float_images(np.asarray(o)) for o in outs))
    return tuple(np.concatenate(col) for col in zip(*parts, strict=True))


def _subset(d: Digits, size: int, rng: np.random.Generator) -> Digits:
    """``size`` items of ``d`` (all when ``size`` ≥ len), in a random but fixed order."""
    if size >= len(d):
        return d
    idx = np.sort(rng.permutation(len(d))[:size])
    return Digits(d.images[idx], d.labels[idx])


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


class _Context:
    """Shared state of one evaluation: evaluator, data, targets, collected metrics."""

    def __init__(self, model: str, ev: _Evaluator, n: int, seed: int) -> None:
        self.spec = get_spec(model)
        self.ev = ev
        self.n = n
        self.seed = seed
        self.targets = {**_FAMILY_TARGETS.get(self.spec.family, {}), **self.spec.metric_targets}
        self.metrics: list[Metric] = []
        self.details: dict[str, Any] = {}

    def add(self, name: str, value: float, label: str, **kw: Any) -> None:
        self.metrics.append(
            Metric(name, _finite(float(value)), label, target=self.targets.get(name), **kw)
        )

    def test_set(self, dataset: str) -> Digits:
        """The test split of ``dataset``, cut to ``n`` items chosen by the seed."""
        rng = np.random.default_rng([self.seed, DATASETS.index(dataset)])
        return _subset(load_digits(dataset, "test"), self.n, rng)

    def features(self, dataset: str, size: int | None = None) -> npt.NDArray[np.float64]:
        """Evaluator features of the test set (``size`` None) or of ``size`` training images."""
        cache = _REAL_FEATURES.setdefault(self.ev.module, {})
        key = (dataset, size, self.n, self.seed)
        if key not in cache:
            if size is None:
                images = self.test_set(dataset).images
            else:
                rng = np.random.default_rng([self.seed, DATASETS.index(dataset), size])
                images = _subset(load_digits(dataset, "train"), size, rng).images
            cache[key] = self.ev.features_and_classes(images)[0]
        return cache[key]

    def distribution_metrics(
        self,
        fake: npt.NDArray[np.float32],
        dataset: str = "mnist",
        *,
        name: str = "fid",
        label: str = "",
        suffix: str = "",
        with_pr: bool = True,
        with_coverage: bool = True,
    ) -> npt.NDArray[np.int64]:
        """FID (+ precision/recall, class coverage) of ``fake`` against ``dataset``'s test split."""
        real_f = self.features(dataset)
        floor_f = self.features(dataset, len(fake))
        fake_f, fake_c = self.ev.features_and_classes(fake)
        rr = "real vs real"
        what = f" ({suffix.strip('_').replace('psi', 'ψ=')})" if suffix else ""
        self.add(
            f"{name}{suffix}",
            metrics.fid(fake_f, real_f),
            label or f"FID{what}",
            dataset=dataset,
            floor=metrics.fid(floor_f, real_f),
            floor_label=rr,
        )
        if with_pr:
            p, r = metrics.precision_recall(real_f, fake_f)
            fp, fr = metrics.precision_recall(real_f, floor_f)
            self.add(f"precision{suffix}", p, f"precision{what}", floor=fp, floor_label=rr)
            self.add(f"recall{suffix}", r, f"recall{what}", floor=fr, floor_label=rr)
        if with_coverage:
            cov = metrics.class_coverage(fake_c)
            self.add(f"classes_covered{suffix}", cov.covered, f"classes covered{what}")
            self.add(f"class_ratio_max{suffix}", cov.ratio_max_min, f"max/min class ratio{what}")
            self.details[f"class_histogram{suffix}"] = list(cov.histogram)
        return fake_c


def _generate(runner: Runner, seeds: npt.NDArray[np.int64], **kw: Any) -> npt.NDArray[np.float32]:
    return _run(runner, *generator_inputs(runner.entry, seeds, **kw))[0].astype(np.float32)


def _eval_classifier(ctx: _Context, make: Callable[[str], Runner]) -> None:
    runner = make("classify")
    for dataset, name, label in (
        ("mnist", "accuracy", "test accuracy (MNIST)"),
        ("uci-digits", "accuracy_uci", "test accuracy (UCI digits)"),
    ):
        test = ctx.test_set(dataset)
        pred = metrics.predicted_classes(_run(runner, test.images)[0])
        ctx.add(name, metrics.accuracy(pred, test.labels), label, dataset=dataset)
        confusion = np.zeros((10, 10), dtype=np.int64)
        np.add.at(confusion, (test.labels, pred), 1)
        ctx.details[f"confusion_{dataset}"] = confusion.tolist()


def _eval_unconditional(ctx: _Context, make: Callable[[str], Runner]) -> None:
    runner = make("generate")
    seeds = ctx.seed + np.arange(ctx.n)
    ctx.distribution_metrics(_generate(runner, seeds))
    if ctx.spec.family == "stylegan2":
        images = _generate(runner, seeds, psi=TRUNCATED_PSI)
        ctx.distribution_metrics(images, suffix=f"_psi{TRUNCATED_PSI}")


def _eval_conditional(ctx: _Context, make: Callable[[str], Runner]) -> None:
    runner = make("generate")
    seeds = ctx.seed + np.arange(ctx.n)
    labels = np.arange(ctx.n) % 10
    classes = ctx.distribution_metrics(_generate(runner, seeds, labels=labels))
    ctx.add("label_accuracy", metrics.accuracy(classes, labels), "label accuracy")
    ctx.metrics.insert(0, ctx.metrics.pop())  # the headline figure first


def half_masks(n: int, side: int) -> npt.NDArray[np.float32]:
    """Masks ``(n, 1, side, side)``, 1 = known: top half unknown for even i, bottom for odd."""
    mask = np.ones((n, 1, side, side), dtype=np.float32)
    mask[0::2, :, : side // 2] = 0.0
    mask[1::2, :, side // 2 :] = 0.0
    return mask


def _eval_vae(ctx: _Context, make: Callable[[str], Runner]) -> None:
    test = ctx.test_set("mnist")
    x = test.images
    recon = _run(make("reconstruct"), x)[0]
    ctx.add("psnr_db", metrics.psnr(recon, x), "reconstruction PSNR (dB)")

    mu, logvar = _run(make("encode"), x)
    eps = seed_to_latent(ctx.seed + np.arange(len(x)), mu.shape[1], stream=ELBO_STREAM)
    z = (mu + np.exp(0.5 * logvar) * eps).astype(np.float32)
    decoded = _run(make("decode"), z)[0]
    elbo = metrics.bernoulli_elbo((decoded + 1) / 2, (x + 1) / 2, mu, logvar)
    ctx.add("elbo_nats", float(elbo.mean()), "ELBO (nats per image)")

    mask = half_masks(len(x), x.shape[-1])
    hidden = mask * x + (1 - mask) * -1.0  # unknown pixels blacked out before the model sees them
    filled = _run(make("inpaint"), hidden, mask)[0]
    mean_image = load_digits("mnist", "train").images.mean(axis=0, keepdims=True)
    mean_fill = mask * x + (1 - mask) * mean_image
    unknown = 1.0 - mask
    model_db = metrics.psnr(filled, x, unknown)
    base_db = metrics.psnr(mean_fill, x, unknown)
    ctx.add(
        "inpaint_psnr_db",
        model_db,
        "inpainting PSNR, unknown half (dB)",
        floor=base_db,
        floor_label="mean fill",
    )
    ctx.add("inpaint_gain_db", model_db - base_db, "inpainting gain over mean fill (dB)")

    samples = _generate(make("sample"), ctx.seed + np.arange(ctx.n))
    ctx.distribution_metrics(samples, with_pr=False, with_coverage=False)


def _eval_cyclegan(ctx: _Context, make: Callable[[str], Runner]) -> None:
    for entry, source, target, key, label in (
        ("translate_a2b", "uci-digits", "mnist", "a2b", "UCI → MNIST"),
        ("translate_b2a", "mnist", "uci-digits", "b2a", "MNIST → UCI"),
    ):
        src = ctx.test_set(source)
        out = _run(make(entry), src.images)[0].astype(np.float32)
        _, classes = ctx.ev.features_and_classes(out)
        ctx.add(
            f"label_preservation_{key}",
            metrics.accuracy(classes, src.labels),
            f"label preservation {label}",
            dataset=source,
        )
        ctx.distribution_metrics(
            out, target, name=f"fid_{key}", label=f"FID {label}", with_pr=False, with_coverage=False
        )


def _eval_encoder(ctx: _Context, make: Callable[[str], Runner]) -> None:
    import torch

    from zoo.hub import load
    from zoo.models.stylegan2 import projection

    test = ctx.test_set("mnist")
    x = test.images
    ws, rec = _run(make("project"), x)
    _, true_c = ctx.ev.features_and_classes(x)
    _, rec_c = ctx.ev.features_and_classes(rec.astype(np.float32))
    ctx.add("psnr_db", metrics.psnr(rec, x), "projection PSNR, encoder alone (dB)")
    ctx.add("class_kept", metrics.accuracy(rec_c, true_c), "class kept by projection")

    projector = cast("StyleGAN2Projector", load(ctx.spec.name))
    generator = projector.generator
    classifier = cast("DigitClassifier", ctx.ev.module)
    # Every (n / REFINE_N)-th digit: the test split is ordered by class, so a prefix is not.
    pick = np.unique(np.linspace(0, len(x) - 1, min(REFINE_N, len(x))).round().astype(int))
    k = len(pick)
    sub, ws0 = torch.from_numpy(x[pick]), torch.from_numpy(ws[pick].astype(np.float32))
    refined = projection.refine_ws(projector, classifier, sub, ws0)
    with torch.no_grad():
        refined_rec = generator.synthesis(refined).numpy()
        mix_z = torch.from_numpy(seed_to_latent(ctx.seed + np.arange(k), generator.z_dim))
        layer = torch.full((k,), RESTYLE_LAYER, dtype=torch.int64)
        restyled = generator.synthesize(refined, torch.ones(k), mix_z, layer).numpy()
    steps = projection.DEFAULT_STEPS
    ctx.add(
        "refined_psnr_db",
        metrics.psnr(refined_rec, x[pick]),
        f"projection PSNR, {steps} refinement steps, {k} digits (dB)",
        floor=metrics.psnr(rec[pick], x[pick]),
        floor_label="encoder alone, same digits",
    )
    _, refined_c = ctx.ev.features_and_classes(refined_rec)
    _, restyled_c = ctx.ev.features_and_classes(restyled)
    ctx.add("refined_class_kept", metrics.accuracy(refined_c, true_c[pick]), "class kept, refined")
    ctx.add(
        "restyled_class_kept",
        metrics.accuracy(restyled_c, refined_c),
        f"class kept, ws {RESTYLE_LAYER}+ from a seed",
    )
    ppl = {
        space: projection.perceptual_path_length(generator, classifier, space=space, seed=ctx.seed)
        for space in ("z", "w")
    }
    ctx.add("ppl_z", ppl["z"], "perceptual path length in z (classifier features)")
    ctx.add("ppl_w", ppl["w"], "perceptual path length in w (classifier features)")
    ctx.add("ppl_ratio_w_z", ppl["w"] / ppl["z"], "PPL ratio w / z")


_FAMILIES: dict[str, Callable[[_Context, Callable[[str], Runner]], None]] = {
    "classifier": _eval_classifier,
    "dcgan": _eval_unconditional,
    "stylegan2": _eval_unconditional,
    "stylegan2-encoder": _eval_encoder,
    "cgan": _eval_conditional,
    "vae": _eval_vae,
    "cyclegan": _eval_cyclegan,
}


def evaluate(
    model_name: str,
    *,
    runner_factory: RunnerFactory | None = None,
    n: int | None = None,
    seed: int = 0,
    evaluator: nn.Module | None = None,
    backend: str = "torch",
) -> EvalReport:
    """Compute ``model_name``'s metrics on the test split (see the module docstring).

    ``runner_factory(model_name, entry)`` runs the model under test (default: torch over the
    trained weights, :func:`zoo.runners.torch_runner`; ``export.runners.runner_factory``
    gives one for every backend); ``evaluator`` is the classifier behind the metrics
    (default: the trained ``classifier-mnist``), treated as frozen: its features of the real
    data are cached per module; ``backend`` only labels the report.
    """
    import torch

    spec = get_spec(model_name)
    n = DEFAULT_N if n is None else n
    if not isinstance(n, int) or n < 10:
        raise InvalidInputError(f"n must be an integer ≥ 10 (samples per set), got {n!r}.")
    if seed < 0:
        raise InvalidInputError(f"seed must be ≥ 0, got {seed}.")
    if spec.family not in _FAMILIES:
        raise InvalidInputError(f"no evaluation protocol for the {spec.family!r} family.")
    start = time.perf_counter()
    if evaluator is None:
        evaluator = _bundled_evaluator(get_spec(EVALUATOR).sha256)
    factory = runner_factory
    if factory is None:
        from zoo.hub import load

        trained: nn.Module = load(model_name)  # once for every entry point

        def factory(name: str, entry: str) -> Runner:
            return torch_runner(name, entry, module=trained)

    ctx = _Context(model_name, _Evaluator(evaluator), n, seed)
    _FAMILIES[spec.family](ctx, lambda entry: factory(model_name, entry))
    return EvalReport(
        model=model_name,
        family=spec.family,
        backend=backend,
        n=n,
        seed=seed,
        sha256=spec.sha256,
        metrics=tuple(ctx.metrics),
        details=ctx.details,
        seconds=round(time.perf_counter() - start, 2),
        torch_version=torch.__version__,
    )


def compare_reports(
    expected: EvalReport, actual: EvalReport, *, rel: float = 0.02, abs_: float = 0.02
) -> list[str]:
    """Metrics whose values differ by more than ``max(abs_, rel·|expected|)``; empty if none."""
    problems: list[str] = []
    for m in expected.metrics:
        try:
            got = actual.metric(m.name).value
        except KeyError:
            problems.append(f"{m.name}: missing")
            continue
        if m.value is None or got is None:
            if m.value != got:
                problems.append(f"{m.name}: expected {m.value}, got {got}")
        elif abs(got - m.value) > max(abs_, rel * abs(m.value)):
            problems.append(f"{m.name}: expected {m.value:.4g}, got {got:.4g}")
    return problems
