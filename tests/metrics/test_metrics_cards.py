"""Model cards: YAML metadata that parses, model-index equal to eval.json, a real PNG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard, ModelCardData
from PIL import Image
from torch import nn

from zoo.cards import read_eval, read_training, render_card, write_card, write_eval
from zoo.evaluate import EvalReport
from zoo.registry import create_model, get_spec
from zoo.settings import CARD_NAME, EVAL_NAME, SAMPLES_NAME, WEIGHTS_NAME
from zoo.weights import bundled_dir

#: The Hub's task ids for images (its pipeline tags: huggingface.js, packages/tasks/src/
#: pipelines.ts, modality "cv"); a card's pipeline tag and model-index task types must be one.
HUB_IMAGE_TASKS = {
    "depth-estimation",
    "image-classification",
    "image-feature-extraction",
    "image-segmentation",
    "image-to-image",
    "image-to-text",
    "image-to-video",
    "mask-generation",
    "object-detection",
    "text-to-image",
    "unconditional-image-generation",
    "zero-shot-image-classification",
}
#: Hub dataset ids of the zoo's data sets: MNIST is https://huggingface.co/datasets/ylecun/mnist;
#: the UCI optical digits have no canonical Hub copy, so their figures stay out of model-index.
HUB_DATASET_IDS = {"mnist": "ylecun/mnist"}


def _front_matter(text: str) -> dict[str, object]:
    assert text.startswith("---\n")
    head, _, _ = text[4:].partition("\n---\n")
    data = yaml.safe_load(head)
    assert isinstance(data, dict)
    return data


def _check_card(folder: Path, report: EvalReport) -> None:
    spec = get_spec(report.model)
    text = (folder / CARD_NAME).read_text()
    meta = _front_matter(text)
    assert meta["library_name"] == "genzoo"
    assert meta["license"] == spec.license
    assert spec.family in meta["tags"]  # type: ignore[operator]
    # Parse the model-index the way the Hub does and compare it with eval.json.
    card = ModelCard(text)
    assert isinstance(card.data, ModelCardData)
    results = card.data.eval_results or []
    assert card.data.model_name == spec.name
    # Hub ids only: a task from the Hub's list, data sets that resolve on the Hub.
    assert card.data.pipeline_tag in HUB_IMAGE_TASKS
    assert set(card.data.datasets or []) == {
        HUB_DATASET_IDS[d] for d in spec.datasets if d in HUB_DATASET_IDS
    }
    for r in results:
        assert r.task_type == card.data.pipeline_tag, r
        assert r.dataset_type in HUB_DATASET_IDS.values(), r
    dataset_of = {m.name: m.dataset for m in report.metrics}
    assert all(r.dataset_type == HUB_DATASET_IDS[dataset_of[r.metric_type]] for r in results)
    from_card = {r.metric_type: r.metric_value for r in results}
    expected = {
        m.name: m.value
        for m in report.metrics
        if m.value is not None and m.dataset in HUB_DATASET_IDS
    }
    assert from_card.keys() == expected.keys()
    for name, value in expected.items():
        assert from_card[name] == pytest.approx(value, rel=1e-5, abs=1e-9), name
    for m in report.metrics:  # the table shows every metric
        assert f"| {m.label} |" in text
    assert f"]({SAMPLES_NAME})" in text
    with Image.open(folder / SAMPLES_NAME) as img:
        assert img.format == "PNG" and img.width >= 300 and img.height >= 200


def test_card_from_random_weights(
    model_name: str,
    tmp_path: Path,
    random_modules: Callable[[str], nn.Module],
    random_reports: Callable[[str], EvalReport],
) -> None:
    report = random_reports(model_name)
    files = write_card(
        model_name, folder=tmp_path, module=random_modules(model_name), report=report
    )
    assert files.readme == tmp_path / CARD_NAME
    assert read_eval(model_name, tmp_path) == report
    _check_card(tmp_path, report)
    text = files.readme.read_text()
    assert "## Usage" in text and f"zoo pull {model_name}" in text
    assert "## Training" in text


def test_shipped_card_matches_its_eval_json(
    model_name: str, require_shipped: Callable[..., None]
) -> None:
    require_shipped(model_name, card=True)
    folder = bundled_dir(model_name)
    report = read_eval(model_name)
    _check_card(folder, report)
    text = (folder / CARD_NAME).read_text()
    assert get_spec(model_name).sha256 in text  # the card names the weights it describes
    if (folder / "training.json").is_file():
        import json

        assert json.loads((folder / "training.json").read_text())["command"] in text


def test_shipped_card_text_is_what_the_card_writer_renders(
    model_name: str, require_shipped: Callable[..., None]
) -> None:
    """Each shipped README.md is render_card's text of its eval.json, as write_card calls it."""
    require_shipped(model_name, card=True)
    folder = bundled_dir(model_name)
    text = render_card(
        get_spec(model_name),
        read_eval(model_name),
        training=read_training(folder),
        weights_bytes=(folder / WEIGHTS_NAME).stat().st_size,
        parameters=sum(p.numel() for p in create_model(model_name).parameters()),
    )
    assert text == (folder / CARD_NAME).read_text()


def test_shipped_eval_json_is_what_write_eval_writes_of_it(
    model_name: str, require_shipped: Callable[..., None], tmp_path: Path
) -> None:
    """eval.json reads back and writes out byte for byte (``engine`` keeps its key ``backend``)."""
    require_shipped(model_name)
    shipped = bundled_dir(model_name) / EVAL_NAME
    report = read_eval(model_name)
    assert report.engine == "torch"
    assert write_eval(report, tmp_path).read_bytes() == shipped.read_bytes()
