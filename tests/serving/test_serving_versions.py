"""Model versions on the session's server and in the repository: the SDK's ``version=``, the
version that answered, ``zoo repo list``, and what a rebuild keeps.

(The rollout itself, under load and against the Hub mirror, is tests/hub/test_hub_rollout.py.)
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from serving.client import AsyncZooClient, InvalidInputError, ModelNotFoundError, ZooClient
from serving.server.inprocess import InProcessZoo
from serving.server.repository import build_repository, render_config
from serving.server.triton import ServerConfig, TritonServer
from serving.server.versions import (
    STAGING_PREFIX,
    RolloutError,
    fetch_candidate,
    list_versions,
    read_config,
    served_versions,
    triton_models,
    write_served,
)
from zoo.cli.main import app

MODEL = "dcgan-mnist"


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_a_version_is_asked_for_and_the_answering_one_reported(
    triton: TritonServer, protocol: str
) -> None:
    url = triton.http_url if protocol == "http" else triton.grpc_url
    with ZooClient(url, protocol=protocol) as client:  # type: ignore[arg-type]
        assert client.answered_version is None
        plain = client.generate(MODEL, [5, 6])
        assert client.answered_version == 1
        assert np.array_equal(client.generate(MODEL, [5, 6], version=1), plain)
        assert client.answered_version == 1
        with pytest.raises(ModelNotFoundError, match="version"):
            client.generate(MODEL, [5, 6], version=9)
        for bad in ("latest", 0, -1, True):
            with pytest.raises(InvalidInputError, match="positive whole number"):
                client.generate(MODEL, [5, 6], version=bad)  # type: ignore[arg-type]


DIGITS = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 1), dtype=np.uint8)
MASKS = np.ones((2, 32, 32, 1), np.uint8)

#: Every call of the SDK but generate (above), on inputs it accepts: name → (model, arguments).
VERBS = {
    "translate": ("cyclegan-digits", (DIGITS,)),
    "encode": ("vae-mnist", (DIGITS,)),
    "decode": ("vae-mnist", (np.zeros((2, 16), np.float32),)),
    "reconstruct": ("vae-mnist", (DIGITS,)),
    "inpaint": ("vae-mnist", (DIGITS, MASKS)),
    "classify": ("classifier-mnist", (DIGITS,)),
    "project": ("stylegan2-mnist", (DIGITS,)),
    "synthesize": ("stylegan2-mnist", (np.zeros((2, 8, 64), np.float32),)),
    "interpolate": ("dcgan-mnist", (1, 2, [0.0, 1.0])),
}


def _same(a: object, b: object) -> bool:
    pairs = zip(a, b, strict=True) if isinstance(a, tuple) else [(a, b)]
    return all(np.array_equal(x, y) for x, y in pairs)  # type: ignore[arg-type]


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_call_takes_a_version(triton: TritonServer, verb: str) -> None:
    """version=1 answers as the default does; a version the server lacks is not found."""
    model, args = VERBS[verb]
    with ZooClient(triton.grpc_url, protocol="grpc") as client:
        call = getattr(client, verb)
        assert _same(call(model, *args, version=1), call(model, *args))
        assert client.answered_version == 1
        with pytest.raises(ModelNotFoundError, match="version"):
            call(model, *args, version=9)


def test_the_async_client_reports_each_tasks_answering_version(triton: TritonServer) -> None:
    async def run() -> None:
        async with AsyncZooClient(triton.http_url) as client:
            assert client.answered_version is None
            plain = await client.generate(MODEL, [5, 6])
            assert client.answered_version == 1
            assert np.array_equal(await client.generate(MODEL, [5, 6], version=1), plain)
            assert _same(
                await client.encode("vae-mnist", DIGITS, version=1),
                await client.encode("vae-mnist", DIGITS),
            )
            with pytest.raises(ModelNotFoundError, match="version"):
                await client.classify("classifier-mnist", DIGITS, version=9)

        async with AsyncZooClient(triton.http_url) as fresh:

            async def in_a_task() -> int | None:
                await fresh.generate(MODEL, [1])
                return fresh.answered_version

            assert await asyncio.create_task(in_a_task()) == 1
            assert fresh.answered_version is None  # the task's answer stays in the task

    asyncio.run(run())


def test_in_process_serving_refuses_a_version(serving_modules: dict[str, torch.nn.Module]) -> None:
    zoo = InProcessZoo(engine="torch", modules=serving_modules)
    with pytest.raises(InvalidInputError, match="one version"):
        zoo.generate(MODEL, [1], version=1)


def test_launcher_loads_everything_in_explicit_mode(tmp_path: Path) -> None:
    args = ServerConfig(model_repository=tmp_path).args(tmp_path / "backends", None)
    assert "--model-control-mode=explicit" in args and "--load-model=*" in args


def test_repo_list_shows_each_version(serving_repo: Path) -> None:
    result = CliRunner().invoke(
        app, ["repo", "list", MODEL, "--repository", str(serving_repo), "--json"]
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["model"], row["version"], row["served"], row["complete"]) == (MODEL, 1, True, True)
    assert row["release"]["source"] == "build" and len(row["release"]["sha256"]) == 64
    assert row["release"]["gates"] == {"parity": {"passed": True}}
    table = CliRunner().invoke(
        app, ["repo", "list", "--repository", str(serving_repo)], env={"COLUMNS": "200"}
    )
    assert table.exit_code == 0 and "parity passed" in table.stdout


def test_served_versions_follow_the_config_and_a_rebuild_keeps_them(
    serving_repo: Path, serving_modules: dict[str, torch.nn.Module], tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    names = triton_models(MODEL, serving_repo)
    for n in names:
        shutil.copytree(serving_repo / n, root / n)
        shutil.copytree(root / n / "1", root / n / "2")
    plain = {n: (root / n / "config.pbtxt").read_text() for n in names}
    assert served_versions(root / names[0]) == [2]  # Triton's default: the latest
    replaced = write_served(root, names, [1])
    assert replaced == plain
    assert served_versions(root / names[0]) == [1]
    params = read_config(root / names[0]).parameters
    assert json.loads(params["zoo_releases"].string_value)["1"]["sha256"]
    assert [(v.version, v.served) for v in list_versions(root, [MODEL])] == [(1, True), (2, False)]
    # A rebuild (exports up to date) keeps the served version; a plain build's config is the
    # writer's own text, without a version policy.
    build_repository([MODEL], out_dir=root, modules={MODEL: serving_modules[MODEL]}, parity_n=4)
    assert served_versions(root / names[0]) == [1]
    cfg = read_config(root / names[0])
    cfg.ClearField("version_policy")
    del cfg.parameters["zoo_releases"]
    assert render_config(cfg) == plain[names[0]]


def test_rollback_needs_an_earlier_version(serving_repo: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for n in triton_models(MODEL, serving_repo):
        shutil.copytree(serving_repo / n, root / n)
    result = CliRunner().invoke(app, ["rollback", MODEL, "--repository", str(root)])
    assert result.exit_code != 0
    assert "no earlier complete version" in result.output


def test_a_candidate_folder_is_checked_before_anything_loads(tmp_path: Path) -> None:
    from zoo.errors import UnsafeWeightsError
    from zoo.registry import create_model
    from zoo.weights import save_weights, sha256_file

    other = tmp_path / "cgan"
    save_weights(create_model("cgan-mnist"), other, "cgan-mnist", {})
    with pytest.raises(RolloutError, match="holds cgan-mnist, not dcgan-mnist"):
        fetch_candidate(MODEL, source_dir=other)
    ours = tmp_path / "dcgan"
    save_weights(create_model(MODEL), ours, MODEL, {})
    digest = sha256_file(ours / "model.safetensors")
    with pytest.raises(RolloutError, match="not the --sha256"):
        fetch_candidate(MODEL, source_dir=ours, sha256="0" * 64)
    module, release = fetch_candidate(MODEL, source_dir=ours, sha256=digest)
    assert (release.source, release.sha256) == ("folder", digest)
    assert module.zoo_name == MODEL
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_bytes((ours / "config.json").read_bytes())
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04never-unpickled")
    with pytest.raises(UnsafeWeightsError):
        fetch_candidate(MODEL, source_dir=pickled)
    with pytest.raises(ValueError, match="one of them"):
        fetch_candidate(MODEL)


def test_rollout_without_a_server_writes_the_next_version(
    serving_repo: Path, tmp_path: Path
) -> None:
    """--from a folder (here the bundled weights), no --url: the repository alone changes."""
    from zoo.weights import bundled_dir

    root = tmp_path / "repo"
    names = triton_models(MODEL, serving_repo)
    for n in names:
        shutil.copytree(serving_repo / n, root / n)
    args = ["rollout", MODEL, "--from", str(bundled_dir(MODEL)), "--repository", str(root)]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert (done["old"], done["new"], done["server"]) == ([1], 2, "")
    assert done["release"]["source"] == "folder"
    assert done["release"]["gates"]["quality"]["passed"]
    for n in names:
        assert served_versions(root / n) == [2]
        assert (root / n / "2" / "model.onnx").is_file() and (root / n / "2" / "model.py").is_file()
    assert not list(root.glob(f"*/{STAGING_PREFIX}*"))
