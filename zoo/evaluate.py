"""``zoo eval``: a model's quality metrics on the test split, with real-vs-real floors.

Every metric is computed in the feature space of the trained classifier :data:`EVALUATOR`
(see :mod:`zoo.metrics` for the formulas). The evaluator always runs in torch; the model under
test runs through a :class:`~zoo.runners.Runner`, so the same protocol checks an exported
ONNX Runtime or TensorRT graph (``runner_factory``) as well as the torch weights.

What is measured is the family's: :func:`evaluate` runs the protocol its
:class:`~zoo.registry.Family` names (``protocol(ctx, make)``, in the family's ``evaluation``
module, which documents it) with the family's targets under the model's own. This module is
the kit a protocol uses: the :class:`EvalContext` (data, evaluator, targets; it collects the
:class:`Metric` s), :func:`run_batched` / :func:`generate_batched` to run the model under test,
and the report (:class:`EvalReport`, :func:`compare_reports`).

The floor beside a FID (and precision/recall) is the same figure for real data: a random
subset of the training split, as large as the generated set, against the same test set —
the best a perfect generator could expect from this many samples.
"""

from __future__ import annotations

import functools
import math
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from zoo import metrics
from zoo.data import DATASETS, Digits, load_digits
from zoo.errors import InvalidInputError
from zoo.pipeline import from_uint8_nhwc, generator_inputs
from zoo.registry import ModelSpec, get_family, get_spec, lower_is_better_metrics
from zoo.runners import Runner, torch_runner

if TYPE_CHECKING:
    import torch
    from torch import nn

#: ``runner_factory(model_name, entry_name) -> Runner``: how the model under test is run.
RunnerFactory = Callable[[str, str], Runner]
#: ``make(entry) -> Runner``: the model under test's entry point ``entry``, for a protocol.
MakeRunner = Callable[[str], Runner]

#: Name of the model whose features and predictions every metric uses.
EVALUATOR = "classifier-mnist"
#: Default number of samples (the size of the MNIST test split).
DEFAULT_N = 1000
#: Images per runner call.
BATCH = 250
#: Metrics of this kit where lower is better (families add theirs: Family.lower_is_better).
LOWER_IS_BETTER = frozenset({"fid", "class_ratio_max"})


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
        """Whether a larger value is better: false for FID and the class ratio (and their
        variants, e.g. ``fid_psi0.7``) and for the metrics a family declares lower-is-better."""
        lower = LOWER_IS_BETTER | lower_is_better_metrics()
        return not any(self.name == k or self.name.startswith(f"{k}_") for k in lower)

    @property
    def met(self) -> bool | None:
        """Whether the target is reached; ``None`` when the metric has no target."""
        if self.target is None:
            return None
        if self.value is None:
            return False
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


#: EvalReport fields stored under another key in eval.json (see :meth:`EvalReport.to_dict`).
_EVAL_KEYS = {"engine": "backend"}
_FIELDS_OF_KEYS = {key: name for name, key in _EVAL_KEYS.items()}


@dataclass(frozen=True)
class EvalReport:
    """The result of :func:`evaluate`: metrics plus how they were obtained."""

    model: str  # registry name
    family: str  # architecture family
    engine: str  # what ran the model under test ("torch", "onnxruntime", ...)
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
        """JSON-ready form (the ``eval.json`` of a model folder).

        ``engine`` is stored under its old key ``backend``: eval.json ships beside the weights
        and on the Hub, and the shipped files stay byte-identical (issue 26).
        """
        d = {_EVAL_KEYS.get(k, k): v for k, v in asdict(self).items()}
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
        data = {_FIELDS_OF_KEYS.get(k, k): v for k, v in data.items()}
        return cls(metrics=ms, **{k: v for k, v in data.items() if k in keep})


class Evaluator:
    """The evaluator's features and predicted classes of images, in torch, in batches."""

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
        """Features ``(N, d)`` and predicted classes ``(N,)`` of [-1, 1] NCHW ``images``."""
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


def run_batched(runner: Runner, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[Any], ...]:
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


class EvalContext:
    """One evaluation as its protocol sees it: spec, n, seed, targets, data, evaluator, metrics.

    The protocol adds its figures with :meth:`add` (or :meth:`distribution_metrics`), in
    display order, into ``metrics``; ``details`` holds what the card draws (histograms,
    confusion matrices).
    """

    def __init__(
        self,
        spec: ModelSpec,
        evaluator: Evaluator,
        n: int,
        seed: int,
        targets: Mapping[str, float],
    ) -> None:
        self.spec = spec
        self.evaluator = evaluator
        self.n = n  # samples per generated set / test images used
        self.seed = seed  # first seed; also seeds the real-data subsets
        self.targets = dict(targets)  # metric name → target
        self.metrics: list[Metric] = []
        self.details: dict[str, Any] = {}

    def add(self, name: str, value: float, label: str, **kw: Any) -> None:
        """Append the metric ``name``, with its target if it has one (``kw``: Metric fields)."""
        self.metrics.append(
            Metric(name, _finite(float(value)), label, target=self.targets.get(name), **kw)
        )

    def seeds(self) -> npt.NDArray[np.int64]:
        """The seeds of a generated set: ``seed … seed + n − 1``."""
        return self.seed + np.arange(self.n)

    def test_set(self, dataset: str) -> Digits:
        """The test split of ``dataset``, cut to ``n`` items chosen by the seed."""
        rng = np.random.default_rng([self.seed, DATASETS.index(dataset)])
        return _subset(load_digits(dataset, "test"), self.n, rng)

    def features(self, dataset: str, size: int | None = None) -> npt.NDArray[np.float64]:
        """Evaluator features of the test set (``size`` None) or of ``size`` training images."""
        cache = _REAL_FEATURES.setdefault(self.evaluator.module, {})
        key = (dataset, size, self.n, self.seed)
        if key not in cache:
            if size is None:
                images = self.test_set(dataset).images
            else:
                rng = np.random.default_rng([self.seed, DATASETS.index(dataset), size])
                images = _subset(load_digits(dataset, "train"), size, rng).images
            cache[key] = self.evaluator.features_and_classes(images)[0]
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
        fake_f, fake_c = self.evaluator.features_and_classes(fake)
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


#: ``protocol(ctx, make)``: a family's evaluation (``Family.protocol``), adding to ``ctx``.
EvalProtocol = Callable[[EvalContext, MakeRunner], None]


def generate_batched(
    runner: Runner, seeds: npt.NDArray[np.int64], **kw: Any
) -> npt.NDArray[np.float32]:
    """Images of ``seeds`` from a seeded generator's runner (``kw``: its other inputs)."""
    return run_batched(runner, *generator_inputs(runner.entry, seeds, **kw))[0].astype(np.float32)


def evaluate(
    model_name: str,
    *,
    runner_factory: RunnerFactory | None = None,
    n: int | None = None,
    seed: int = 0,
    evaluator: nn.Module | None = None,
    engine: str = "torch",
) -> EvalReport:
    """Compute ``model_name``'s metrics on the test split: its family's protocol.

    ``runner_factory(model_name, entry)`` runs the model under test (default: torch over the
    trained weights, :func:`zoo.runners.torch_runner`; ``export.runners.runner_factory``
    gives one for every engine); ``evaluator`` is the classifier behind the metrics
    (default: the trained ``classifier-mnist``), treated as frozen: its features of the real
    data are cached per module; ``engine`` only labels the report.
    """
    import torch

    spec = get_spec(model_name)
    n = DEFAULT_N if n is None else n
    if not isinstance(n, int) or n < 10:
        raise InvalidInputError(f"n must be an integer ≥ 10 (samples per set), got {n!r}.")
    if seed < 0:
        raise InvalidInputError(f"seed must be ≥ 0, got {seed}.")
    family = get_family(spec.family)
    protocol: EvalProtocol = family.part("protocol")
    start = time.perf_counter()
    if evaluator is None:
        evaluator = _bundled_evaluator(get_spec(EVALUATOR).sha256)
    factory = runner_factory
    if factory is None:
        from zoo.hub import load

        trained: nn.Module = load(model_name)  # once for every entry point

        def factory(name: str, entry: str) -> Runner:
            return torch_runner(name, entry, module=trained)

    targets = {**family.targets, **spec.metric_targets}
    ctx = EvalContext(spec, Evaluator(evaluator), n, seed, targets)
    protocol(ctx, lambda entry: factory(model_name, entry))
    return EvalReport(
        model=model_name,
        family=spec.family,
        engine=engine,
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
