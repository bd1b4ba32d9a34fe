"""zoo.evaluate: every family's protocol runs and reports; shipped figures reproduce."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pytest
from torch import nn

from zoo.cards import check_current, read_eval
from zoo.data import load_digits
from zoo.errors import IntegrityError, InvalidInputError
from zoo.evaluate import EvalReport, Metric, compare_reports, evaluate
from zoo.models.stylegan2.evaluation import REFINE_N
from zoo.models.vae.evaluation import half_masks
from zoo.registry import EntryPoint, get_spec

_EXPECTED = {
    "classifier": {"accuracy", "accuracy_uci"},
    "dcgan": {"fid", "precision", "recall", "classes_covered", "class_ratio_max"},
    "cgan": {"label_accuracy", "fid", "precision", "recall", "classes_covered", "class_ratio_max"},
    "vae": {"psnr_db", "elbo_nats", "inpaint_psnr_db", "inpaint_gain_db", "fid"},
    "cyclegan": {"label_preservation_a2b", "fid_a2b", "label_preservation_b2a", "fid_b2a"},
    "stylegan2-encoder": {
        "psnr_db",
        "class_kept",
        "refined_psnr_db",
        "refined_class_kept",
        "restyled_class_kept",
        "ppl_z",
        "ppl_w",
        "ppl_ratio_w_z",
    },
}
_EXPECTED["stylegan2"] = _EXPECTED["dcgan"] | {f"{m}_psi0.7" for m in _EXPECTED["dcgan"]}


def test_every_family_reports_its_metrics_and_targets(
    model_name: str, random_reports: Callable[[str], EvalReport]
) -> None:
    spec = get_spec(model_name)
    report = random_reports(model_name)
    assert {m.name for m in report.metrics} == _EXPECTED[spec.family]
    for name, target in spec.metric_targets.items():
        assert report.metric(name).target == target
    assert report.n == 40 and report.sha256 == spec.sha256
    for m in report.metrics:
        if m.name.startswith("fid"):
            assert m.floor is not None and m.floor >= 0 and m.floor_label == "real vs real"
    # eval.json is strict JSON and round-trips.
    text = json.dumps(report.to_dict(), allow_nan=False)
    again = EvalReport.from_dict(json.loads(text))
    assert again == report
    assert compare_reports(report, again) == []


class _ReplayGenerator:
    """A stand-in generator returning real MNIST training digits (or noise), one per seed.

    It replaces a trained generator, which this test must not depend on: real digits are
    what a perfect generator would produce, noise what a broken one would.
    """

    def __init__(self, entry: EntryPoint, noise: bool) -> None:
        self.model_name, self.entry, self.noise = "dcgan-mnist", entry, noise
        self.images = load_digits("mnist", "train").images

    def __call__(self, z: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        n = len(z)
        if self.noise:
            rng = np.random.default_rng(0)
            return (rng.uniform(-1, 1, (n, 1, 32, 32)).astype(np.float32),)
        # Use the latent to pick a digit, so different seeds give different images.
        idx = (np.abs(np.asarray(z, np.float64)[:, :4]).sum(1) * 1e6).astype(np.int64)
        return (self.images[idx % len(self.images)],)


def test_real_digits_score_near_the_floor_and_noise_far_from_it(
    random_evaluator: nn.Module,
) -> None:
    entry = get_spec("dcgan-mnist").entry_point()

    def report(noise: bool) -> EvalReport:
        return evaluate(
            "dcgan-mnist",
            runner_factory=lambda _n, _e: _ReplayGenerator(entry, noise),
            evaluator=random_evaluator,
            n=300,
        )

    real, noise = report(False), report(True)
    fid_real, fid_noise = real.metric("fid"), noise.metric("fid")
    assert fid_real.value is not None and fid_noise.value is not None
    assert fid_real.floor is not None
    assert fid_real.value < 3 * fid_real.floor + 1e-6 < fid_noise.value
    assert real.metric("precision").value > 0.5  # type: ignore[operator]
    assert noise.metric("precision").value < 0.1  # type: ignore[operator]
    assert noise.metric("recall").value < 0.1  # type: ignore[operator]


def test_half_masks_hide_top_then_bottom() -> None:
    m = half_masks(3, 4)
    assert m.shape == (3, 1, 4, 4)
    assert m[0, 0, :2].sum() == 0 and m[0, 0, 2:].all()
    assert m[1, 0, 2:].sum() == 0 and m[1, 0, :2].all()
    assert m[2, 0, :2].sum() == 0


def test_metric_direction_and_target_status() -> None:
    assert Metric("fid", 5.0, "FID", target=10.0).met is True
    assert Metric("fid_a2b", 12.0, "FID", target=10.0).met is False
    assert Metric("class_ratio_max_psi0.7", None, "ratio", target=3.0).met is False
    assert Metric("precision", 0.8, "p", target=0.7).met is True
    assert Metric("recall", 0.8, "r").met is None


def test_compare_reports_flags_drift() -> None:
    base = EvalReport("m", "dcgan", "torch", 10, 0, "", (Metric("fid", 10.0, "FID"),))
    close = EvalReport("m", "dcgan", "torch", 10, 0, "", (Metric("fid", 10.1, "FID"),))
    far = EvalReport("m", "dcgan", "torch", 10, 0, "", (Metric("fid", 12.0, "FID"),))
    assert compare_reports(base, close) == []
    assert compare_reports(base, far) == ["fid: expected 10, got 12"]


@pytest.mark.parametrize("n", [0, 5])
def test_too_few_samples_is_refused(n: int) -> None:
    with pytest.raises(InvalidInputError, match="n must be"):
        evaluate("dcgan-mnist", n=n)


def test_stale_eval_json_is_refused() -> None:
    spec = get_spec("dcgan-mnist")
    stale = EvalReport(spec.name, spec.family, "torch", 10, 0, "0" * 64, ())
    with pytest.raises(IntegrityError, match="zoo card dcgan-mnist --eval"):
        check_current(stale, spec)


#: Class shares measured after REFINE_N gradient-descent refinements (the encoder's). Float
#: kernels differ between CPU types (oneDNN and MKL pick AVX-512 or AVX2 code paths), and 100
#: Adam steps carry such last-bit differences far enough to flip a borderline digit: on an AMD
#: EPYC host restyled_class_kept reads 0.99 where the shipped eval.json says 0.985, one digit of
#: REFINE_N = 200. These two are held to one digit of REFINE_N, every other figure to 1e-3.
AFTER_REFINEMENT = ("refined_class_kept", "restyled_class_kept")


def test_eval_reproduces_the_shipped_figures(
    model_name: str, require_shipped: Callable[..., None]
) -> None:
    require_shipped(model_name)
    stored = read_eval(model_name)
    check_current(stored, get_spec(model_name))
    again = evaluate(model_name, n=stored.n, seed=stored.seed)
    exact = [m for m in stored.metrics if m.name not in AFTER_REFINEMENT]
    refined = [m for m in stored.metrics if m.name in AFTER_REFINEMENT]
    assert compare_reports(replace(stored, metrics=tuple(exact)), again, rel=1e-3, abs_=1e-3) == []
    one_digit = 1.0 / REFINE_N + 1e-9
    assert (
        compare_reports(replace(stored, metrics=tuple(refined)), again, rel=0, abs_=one_digit) == []
    )
