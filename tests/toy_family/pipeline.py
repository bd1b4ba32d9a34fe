"""The toy family end to end: run by tests/test_toy_family.py in a process of its own.

That process has ``ZOO_FAMILIES=toy_family`` and ``tests/`` on ``PYTHONPATH``, so the registry
finds the family there (and in Triton's backend stubs) and nowhere else: the main test
process's registry stays the zoo's. Each step is genzoo's generic code, called as a user would:
``zoo train`` (the CLI), :func:`zoo.evaluate.evaluate`, :func:`zoo.cards.write_card`,
:func:`export.onnx.export_onnx`, :func:`serving.server.repository.build_repository`, the real
Triton with :class:`serving.client.ZooClient`, and the playground page through gradio_client.
The steps share one module-scoped trained model and run in file order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from torch import nn
from typer.testing import CliRunner

from serving.apps.playground import served_models, start_playground, visibility
from serving.client import ZooClient
from serving.server.repository import RepositoryOptions, build_repository
from serving.server.triton import ServerConfig, TritonServer, free_port
from zoo.cli.main import app
from zoo.evaluate import EvalReport, evaluate
from zoo.images import make_grid
from zoo.latent import seed_to_latent
from zoo.pipeline import to_uint8_nhwc
from zoo.registry import get_family, get_spec, list_models
from zoo.runners import torch_runner
from zoo.weights import load_model_from_dir

NAME = "toy-mnist"
SEEDS = [0, 1, 2, 3]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scratch space of the whole walk."""
    return tmp_path_factory.mktemp("toy")


@pytest.fixture(scope="module")
def trained(work: Path) -> nn.Module:
    """``zoo train toy-mnist`` for a few steps, then its weights loaded sha256-checked."""
    run = work / "run"
    result = CliRunner().invoke(
        app, ["train", NAME, "--epochs", "1", "--max-steps", "5", "--out", str(run), "--json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads((run / "model" / "training.json").read_text())
    assert record["steps"] == 5 and record["command"].startswith(f"zoo train {NAME}")
    return load_model_from_dir(run / "model", sha256=record["sha256"])


@pytest.fixture(scope="module")
def report(trained: nn.Module) -> EvalReport:
    """Its evaluation by the family's protocol, the model run by a torch runner."""
    return evaluate(
        NAME, runner_factory=lambda name, entry: torch_runner(name, entry, module=trained), n=10
    )


def _torch_images(module: nn.Module, seeds: list[int]) -> np.ndarray:
    import torch

    z = torch.from_numpy(seed_to_latent(np.asarray(seeds), get_spec(NAME).config["z_dim"]))
    with torch.no_grad():
        return to_uint8_nhwc(module.generate(z).numpy())


def test_the_registry_found_the_family() -> None:
    assert os.environ["ZOO_FAMILIES"] == "toy_family"
    assert NAME in list_models(family="toy")
    spec = get_spec(NAME)
    assert get_family(spec.family).pipeline_tag == "unconditional-image-generation"
    assert spec.entry_point().inputs[0].shape == (8,)
    variant = get_spec(NAME, resolution=16)  # the signature follows the config
    assert variant.entry_point().outputs[0].shape == (1, 16, 16)


def test_it_trains(trained: nn.Module) -> None:
    assert type(trained).__name__ == "ToyGenerator"
    assert _torch_images(trained, SEEDS).shape == (4, 32, 32, 1)


def test_it_is_evaluated_against_its_family_targets(report: EvalReport) -> None:
    assert report.family == "toy" and report.n == 10
    moments = report.metric("moment_distance")
    assert moments.target == get_family("toy").targets["moment_distance"]
    assert moments.value is not None and not moments.higher_is_better  # the family says so
    assert moments.met == (moments.value <= moments.target)
    assert report.metric("fid").value is not None  # the generic distribution metrics ran


def test_it_is_carded(trained: nn.Module, report: EvalReport, work: Path) -> None:
    from zoo.cards import write_card

    files = write_card(NAME, folder=work / "card", module=trained, report=report)
    text = files.readme.read_text()
    assert "pipeline_tag: unconditional-image-generation" in text
    assert f"zoo generate {NAME} --seeds 0-15" in text  # the family's usage text
    assert "| moment distance to MNIST |" in text
    with Image.open(files.samples) as picture:
        assert picture.format == "PNG" and picture.width >= 300


def test_it_exports_to_onnx(trained: nn.Module, work: Path) -> None:
    from export.onnx import export_onnx

    result = export_onnx(NAME, "generate", out_dir=work / "onnx", module=trained, parity_n=4)
    assert result.passed, result


@pytest.fixture(scope="module")
def server(trained: nn.Module, work: Path) -> Iterator[TritonServer]:
    """The real Triton serving a repository built from the trained module."""
    repo = work / "repository"
    build_repository(
        [NAME],
        out_dir=repo,
        options=RepositoryOptions(backend="onnxruntime", instances=1, threads=1),
        modules={NAME: trained},
        parity_n=2,
    )
    config = ServerConfig.on_free_ports(repo)
    with TritonServer(config, log_file=work / "tritonserver.log").start(timeout=300) as running:
        yield running


def test_triton_serves_it(server: TritonServer, trained: nn.Module) -> None:
    with ZooClient(server.http_url) as client:
        assert NAME in client.list_models()
        served = client.generate(NAME, seeds=SEEDS)
    # uint8 rounding of the same float graph: at most one grey level apart from torch.
    diff = np.abs(served.astype(int) - _torch_images(trained, SEEDS).astype(int))
    assert served.shape == (4, 32, 32, 1) and diff.max() <= 1


def test_the_playground_shows_it(server: TritonServer, work: Path) -> None:
    from gradio_client import Client

    (model,) = served_models([NAME])
    shown = visibility(model)
    assert shown["generator"] and not shown["label"] and not shown["psi"]
    with ZooClient(server.http_url) as sdk:
        expected = make_grid(sdk.generate(NAME, seeds=SEEDS))[..., 0]
    with start_playground(server.http_url, port=free_port()) as page:
        visitor: Any = Client(page.url, verbose=False, download_files=str(work / "visitor"))
        try:
            grid, status = visitor.predict(NAME, 0, 4, "0", 1.0, "", api_name="/generate")
        finally:
            visitor.close()
    with Image.open(grid) as picture:
        np.testing.assert_array_equal(np.asarray(picture), expected)
    assert f"`{NAME}` generate" in status
