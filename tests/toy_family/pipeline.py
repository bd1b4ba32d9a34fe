"""The toy family end to end: run by tests/test_toy_family.py in a process of its own.

That process has ``ZOO_FAMILIES=toy_family`` and ``tests/`` on ``PYTHONPATH``, so the registry
finds the family there (and in Triton's backend stubs) and nowhere else: the main test
process's registry stays the zoo's. Each step is genzoo's generic code, called as a user would:
``zoo train`` (the CLI), :func:`zoo.evaluate.evaluate`, :func:`zoo.cards.write_card`,
:func:`export.onnx.export_onnx`, :func:`serving.server.repository.build_repository`, the real
Triton with :class:`serving.client.ZooClient`, and the playground page through gradio_client.
Its second entry point, ``scaled``, has inputs no built-in family names (``zeta``, a seed's
latent; ``noise_scale``, a scalar with a default): they go the same way, read by their roles.
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
from serving.server.wire import declared_roles, wire_inputs
from zoo.cli.main import app
from zoo.errors import InvalidInputError
from zoo.evaluate import EvalReport, evaluate
from zoo.images import make_grid
from zoo.latent import seed_to_latent
from zoo.pipeline import generator_inputs, is_seeded, to_uint8_nhwc
from zoo.registry import get_family, get_spec, list_models, triton_model_name
from zoo.roles import IMPLIED, role_of, scalar, seed_latent
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
    # The second entry point's input names are no built-in's: their roles are stated.
    scaled = spec.entry_point("scaled")
    assert not {t.name for t in scaled.inputs} & set(IMPLIED)
    assert [role_of(t) for t in scaled.inputs] == [seed_latent(), scalar(1.0)]
    assert is_seeded(scaled)
    wire = wire_inputs(scaled)
    assert [(w.name, w.optional) for w in wire] == [("seed", False), ("noise_scale", True)]
    assert declared_roles(scaled) == {"noise_scale": scalar(1.0)}  # "seed" says its own
    zeta, noise = generator_inputs(scaled, SEEDS, noise_scale=0.5)
    np.testing.assert_array_equal(zeta, seed_to_latent(np.asarray(SEEDS), 8))
    np.testing.assert_array_equal(noise, np.full(4, 0.5, np.float32))
    with pytest.raises(InvalidInputError, match="noise_scale must be a finite number"):
        generator_inputs(scaled, SEEDS, noise_scale=float("nan"))
    with pytest.raises(InvalidInputError, match="takes no input zoom"):
        generator_inputs(scaled, SEEDS, zoom=2.0)


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

    for entry in get_spec(NAME).entry_names:  # generate, and scaled: its inputs sampled by role
        result = export_onnx(NAME, entry, out_dir=work / "onnx", module=trained, parity_n=4)
        assert result.passed, (entry, result)


@pytest.fixture(scope="module")
def server(trained: nn.Module, work: Path) -> Iterator[TritonServer]:
    """The real Triton serving a repository built from the trained module."""
    repo = work / "repository"
    build_repository(
        [NAME],
        out_dir=repo,
        options=RepositoryOptions(engine="onnxruntime", instances=1, threads=1),
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


def test_triton_serves_its_second_entry_point_by_role(
    server: TritonServer, trained: nn.Module
) -> None:
    import torch

    with ZooClient(server.http_url) as client:
        sig = client.signature(NAME, ("scaled",))
        assert sig.name == f"{NAME}_scaled" and set(sig.inputs) == {"seed", "noise_scale"}
        assert sig.role("noise_scale") == scalar(1.0)  # declared by the served config
        assert sig.role("seed") == seed_latent()  # implied by its wire name
        same = client.call(NAME, "scaled", seed=SEEDS)["image"]  # noise_scale left out: 1
        half = client.call(NAME, "scaled", seed=SEEDS, noise_scale=0.5)["image"]
        with pytest.raises(InvalidInputError, match="noise_scale must be a finite number"):
            client.call(NAME, "scaled", seed=SEEDS, noise_scale=float("nan"))
        with pytest.raises(InvalidInputError, match="takes no input zoom"):
            client.call(NAME, "scaled", seed=SEEDS, zoom=2.0)
        # The server checks by role too: the same words for a request that skips the SDK.
        bad = {"seed": np.asarray([[0]]), "noise_scale": np.asarray([[np.inf]], np.float32)}
        with pytest.raises(InvalidInputError, match="noise_scale must be a finite number"):
            client.infer(sig, bad)
        generated = client.generate(NAME, seeds=SEEDS)
    np.testing.assert_array_equal(same, generated)
    z = torch.from_numpy(seed_to_latent(np.asarray(SEEDS), 8))
    with torch.no_grad():
        expected = to_uint8_nhwc(trained.scaled(z, torch.full((4,), 0.5)).numpy())
    assert np.abs(half.astype(int) - expected.astype(int)).max() <= 1


def test_the_playground_shows_it(server: TritonServer, work: Path) -> None:
    from gradio_client import Client

    (model,) = served_models([triton_model_name(NAME, e) for e in get_spec(NAME).entry_names])
    shown = visibility(model)
    assert shown["generator"] and not shown["label"] and not shown["psi"]
    assert shown["run"] and model.other_seeded == ("scaled",)  # its own entry point, by role
    with ZooClient(server.http_url) as sdk:
        expected = make_grid(sdk.generate(NAME, seeds=SEEDS))[..., 0]
        scaled = make_grid(sdk.call(NAME, "scaled", seed=SEEDS, noise_scale=0.5)["image"])
    with start_playground(server.http_url, port=free_port()) as page:
        visitor: Any = Client(page.url, verbose=False, download_files=str(work / "visitor"))
        try:
            grid, status = visitor.predict(NAME, 0, 4, "0", 1.0, "", api_name="/generate")
            run = visitor.predict(NAME, "scaled", 0, 4, "0", "noise_scale=0.5", api_name="/run")
        finally:
            visitor.close()
    with Image.open(grid) as picture:
        np.testing.assert_array_equal(np.asarray(picture), expected)
    assert f"`{NAME}` generate" in status
    with Image.open(run[0]) as picture:
        np.testing.assert_array_equal(np.asarray(picture), scaled[..., 0])
    assert f"`{NAME}` scaled" in run[1] and "noise_scale 0.5" in run[1]
