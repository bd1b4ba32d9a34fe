"""What the hub code refuses: bad names, pickles, partial downloads; and tokens never leak."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import TYPE_CHECKING

import pytest
import torch

from zoo.errors import HubUnreachableError, InvalidNameError, UnsafeWeightsError
from zoo.hub import check_repo_id, check_revision, pull, pull_repo
from zoo.models.dcgan import DCGANGenerator
from zoo.registry import create_model, get_spec
from zoo.weights import save_weights

if TYPE_CHECKING:
    from tests.hub.conftest import CuttingProxy, Mirror

Cli = Callable[..., CompletedProcess[str]]

BAD_REVISIONS = [
    "../main",
    "a/../b",
    "..",
    "/etc",
    "main/",
    "a//b",
    ".hidden",
    "x.lock",
    "-rf",
    "main;ls",
    "$(id)",
    "a b",
    "",
    "%2e%2e",
    "main\n",
    "~1",
    "x" * 300,
]


@pytest.mark.parametrize("revision", BAD_REVISIONS)
def test_bad_revisions_are_refused_before_any_request(revision: str) -> None:
    with pytest.raises(InvalidNameError, match="invalid revision"):
        check_revision(revision)
    # pull validates before touching the network: no endpoint is configured to be reached.
    with pytest.raises(InvalidNameError):
        pull("dcgan-mnist", revision)


@pytest.mark.parametrize("revision", ["main", "v0.1", "refs/pr/1", "release-2024_01", "a" * 40])
def test_good_revisions_pass(revision: str) -> None:
    assert check_revision(revision) == revision


@pytest.mark.parametrize(
    "repo_id",
    ["genzoo", "a/b/c", "../x", "org/..", "org/-x", "org/x--y", "/x", "org/x y", "org/x\n"],
)
def test_bad_repo_ids_are_refused(repo_id: str) -> None:
    with pytest.raises(InvalidNameError, match="invalid repo id"):
        check_repo_id(repo_id)


def test_cli_bad_revision_is_one_red_line(hub_env: dict[str, str], zoo_cli: Cli) -> None:
    result = zoo_cli("pull", "dcgan-mnist@../../etc", env=hub_env)
    assert result.returncode == 1
    assert result.stderr.startswith("error: invalid revision")
    assert len(result.stderr.strip().splitlines()) == 1


def test_pickle_only_repo_is_refused(hub_env: dict[str, str], zoo_cli: Cli) -> None:
    result = zoo_cli("pull", "classifier-mnist", env=hub_env)
    assert result.returncode == 1
    assert "pytorch_model.bin" in result.stderr and "safetensors only" in result.stderr
    cache = Path(hub_env["HF_HOME"]) / "hub"
    assert not list(cache.rglob("pytorch_model.bin"))
    with pytest.raises(UnsafeWeightsError):
        pull_repo("genzoo/classifier-mnist", "main")


def test_interrupted_download_leaves_nothing_a_later_run_would_load(
    olah: Mirror,
    hub_env: dict[str, str],
    cutting_proxy: CuttingProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commit = olah.commits["dev"]
    monkeypatch.setenv("HF_ENDPOINT", cutting_proxy.url)
    with pytest.raises(HubUnreachableError):
        pull("dcgan-mnist", "dev")
    assert cutting_proxy.cut.is_set(), "the link was never cut: the test proved nothing"
    blobs = Path(hub_env["HF_HOME"]) / "hub" / "models--genzoo--dcgan-mnist" / "blobs"
    leftovers = [p.name for p in blobs.iterdir()] if blobs.exists() else []
    # Only the small files may be there; never a (partial) weights blob or a temp file.
    assert not [n for n in leftovers if n.endswith(".incomplete")]
    weights_sha = hashlib.sha256(olah.weights[commit]).hexdigest()
    assert weights_sha not in leftovers

    # A process killed mid-download leaves a uniquely named temp file: never picked up.
    blobs.mkdir(parents=True, exist_ok=True)
    (blobs / f"{weights_sha}.0badc0de.incomplete").write_bytes(olah.weights[commit][:1000])
    with pytest.raises(HubUnreachableError):
        pull("dcgan-mnist", "dev", offline=True)

    monkeypatch.setenv("HF_ENDPOINT", olah.url)
    pulled = pull("dcgan-mnist", "dev")
    assert pulled.weights.read_bytes() == olah.weights[commit]


def test_token_never_appears_in_output_logs_or_files(
    olah: Mirror, hub_env: dict[str, str], dead_endpoint: str, tmp_path: Path, zoo_cli: Cli
) -> None:
    token = "hf_" + secrets.token_hex(20)
    env = {**hub_env, "HF_TOKEN": token}
    run = tmp_path / "run"
    torch.manual_seed(3)
    save_weights(
        create_model("dcgan-mnist"), run, "dcgan-mnist", dict(get_spec("dcgan-mnist").config)
    )
    publish = ["publish", "dcgan-mnist", "--repo-id", "someone/dcgan", "--from", str(run)]
    commands: list[tuple[list[str], dict[str, str]]] = [
        (["pull", "dcgan-mnist@v0.1"], env),  # succeeds, token sent to the server
        (["pull", "dcgan-mnist@no-such-branch"], env),  # the Hub says no
        (["pull", "dcgan-mnist@no-such-branch"], {**env, "ZOO_DEBUG": "1"}),  # with traceback
        (["pull", "dcgan-mnist@v0.1"], {**env, "HF_ENDPOINT": dead_endpoint}),  # cache fallback
        ([*publish, "--dry-run"], env),
        ([*publish, "--to", str(tmp_path / "repo")], env),
        (publish, env),  # real upload code: the mirror refuses it
        (publish, {**env, "HF_ENDPOINT": dead_endpoint, "ZOO_DEBUG": "1"}),  # unreachable
    ]
    outputs = []
    for args, e in commands:
        result = zoo_cli(*args, env=e)
        outputs += [result.stdout, result.stderr]
    assert sum(bool(o) for o in outputs) >= len(commands), "commands printed nothing"
    assert all(token not in o for o in outputs)
    written = [*Path(hub_env["HF_HOME"]).rglob("*"), *(tmp_path / "repo").rglob("*")]
    for path in written:
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


def test_from_pretrained_refuses_pickles_too(olah: Mirror, hub_env: dict[str, str]) -> None:
    with pytest.raises(UnsafeWeightsError, match="safetensors only"):
        DCGANGenerator.from_pretrained("genzoo/classifier-mnist")
