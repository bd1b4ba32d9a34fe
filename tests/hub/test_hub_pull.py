"""``zoo pull`` against a real HF-compatible server (olah): revisions, cache, fallbacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import TYPE_CHECKING, Any

import pytest
import torch
from safetensors.torch import load

from zoo.errors import HubRepoNotFoundError, HubUnreachableError, IntegrityError
from zoo.hub import pull
from zoo.registry import create_model, get_spec
from zoo.weights import bundled_dir, save_weights, sha256_file

TRAINED = (
    bool(get_spec("dcgan-mnist").sha256)
    and (bundled_dir("dcgan-mnist") / "model.safetensors").is_file()
)
NOT_TRAINED = "dcgan-mnist has no trained weights committed and registered yet"

if TYPE_CHECKING:
    from tests.hub.conftest import Mirror

Cli = Callable[..., CompletedProcess[str]]


@pytest.mark.parametrize("label", ["main", "dev", "v0.1", "sha"])
def test_pull_by_branch_tag_and_sha_gets_those_bytes(
    olah: Mirror, hub_env: dict[str, str], label: str
) -> None:
    commit = olah.commits["v0.1" if label == "sha" else label]
    revision = None if label == "main" else commit if label == "sha" else label
    pulled = pull("dcgan-mnist", revision)
    assert pulled.source == "hub"
    assert pulled.commit == commit
    assert pulled.weights.read_bytes() == olah.weights[commit]
    assert pulled.sha256 == sha256_file(pulled.weights)
    assert (pulled.path / "config.json").is_file()
    # The standard HF cache layout, under HF_HOME.
    assert pulled.path.is_relative_to(Path(hub_env["HF_HOME"]) / "hub")
    assert pulled.path.parent.parent.name == "models--genzoo--dcgan-mnist"


def test_pull_by_name_checks_the_registry_pin_when_trained(
    olah: Mirror, hub_env: dict[str, str]
) -> None:
    if not (TRAINED and olah.bundled_main):
        pytest.skip(NOT_TRAINED)
    pulled = pull("dcgan-mnist")
    assert pulled.sha256 == get_spec("dcgan-mnist").sha256
    assert pulled.weights.read_bytes() == olah.weights[olah.commits["main"]]


def test_pull_plain_git_weights_are_checked_by_blob_id(
    olah: Mirror, hub_env: dict[str, str]
) -> None:
    # cgan-mnist's weights are a plain git blob (no LFS): the Hub's digest is the git blob id.
    pulled = pull("cgan-mnist@" + olah.commits["cgan"])
    assert pulled.weights.read_bytes() == olah.weights[olah.commits["cgan"]]


def test_cli_pull_then_offline_pull_comes_from_the_cache(
    olah: Mirror, hub_env: dict[str, str], zoo_cli: Cli
) -> None:
    online = zoo_cli("pull", "dcgan-mnist@v0.1", "--json", env=hub_env)
    assert online.returncode == 0, online.stderr
    first = json.loads(online.stdout)
    assert first["source"] == "hub"
    assert first["commit"] == olah.commits["v0.1"]

    offline = zoo_cli(
        "pull",
        "dcgan-mnist",
        "--revision",
        "v0.1",
        "--json",
        env={**hub_env, "HF_HUB_OFFLINE": "1"},
    )
    assert offline.returncode == 0, offline.stderr
    second = json.loads(offline.stdout)
    assert second["source"] == "cache"
    assert (second["path"], second["sha256"]) == (first["path"], first["sha256"])
    assert Path(second["weights"]).read_bytes() == olah.weights[olah.commits["v0.1"]]


def test_corrupt_cache_blob_is_refused_offline_and_refetched_online(
    olah: Mirror, hub_env: dict[str, str]
) -> None:
    good = pull("dcgan-mnist", "dev")
    blob = good.weights.resolve()
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle of the tensors
    blob.write_bytes(bytes(data))

    with pytest.raises(IntegrityError, match="corrupt") as err:
        pull("dcgan-mnist", "dev", offline=True)
    assert "zoo pull" in str(err.value)

    again = pull("dcgan-mnist", "dev")
    assert "corrupt" in again.message
    assert again.weights.read_bytes() == olah.weights[olah.commits["dev"]]


def test_unknown_name_suggests_close_ones(hub_env: dict[str, str], zoo_cli: Cli) -> None:
    result = zoo_cli("pull", "dcgan-mnst", env=hub_env)
    assert result.returncode == 1
    assert "Did you mean: dcgan-mnist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_hub_uses_the_cache_for_a_cached_revision(
    olah: Mirror,
    hub_env: dict[str, str],
    dead_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    zoo_cli: Cli,
) -> None:
    pull("dcgan-mnist", "v0.1")
    result = zoo_cli("pull", "dcgan-mnist@v0.1", env={**hub_env, "HF_ENDPOINT": dead_endpoint})
    assert result.returncode == 0, result.stderr
    note = result.stderr.strip().splitlines()  # one line, not huggingface_hub's log as well
    assert len(note) == 1 and "cannot be reached" in note[0] and "cached copy" in note[0]
    monkeypatch.setenv("HF_ENDPOINT", dead_endpoint)
    pulled = pull("dcgan-mnist", "v0.1")
    assert pulled.source == "cache"
    assert "cannot be reached" in pulled.message
    assert pulled.weights.read_bytes() == olah.weights[olah.commits["v0.1"]]


def test_unreachable_hub_and_uncached_revision_is_one_clear_error(
    hub_env: dict[str, str], dead_endpoint: str, zoo_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**hub_env, "HF_ENDPOINT": dead_endpoint}
    result = zoo_cli("pull", "dcgan-mnist@v0.1", env=env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "cannot be reached" in result.stderr
    assert "bundled copy is revision 'main'" in result.stderr
    monkeypatch.setenv("HF_ENDPOINT", dead_endpoint)
    with pytest.raises(HubUnreachableError, match="cannot be reached"):
        pull("dcgan-mnist", "v0.1")


def test_unreachable_hub_falls_back_to_the_bundled_copy(
    hub_env: dict[str, str], dead_endpoint: str, zoo_cli: Cli
) -> None:
    if not TRAINED:
        pytest.skip(NOT_TRAINED)
    env = {**hub_env, "HF_ENDPOINT": dead_endpoint}
    result = zoo_cli("pull", "dcgan-mnist", "--json", env=env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["source"] == "bundled"
    assert out["sha256"] == get_spec("dcgan-mnist").sha256
    assert Path(out["path"]) == bundled_dir("dcgan-mnist")
    note = result.stderr.strip().splitlines()
    assert len(note) == 1 and "cannot be reached" in note[0] and "bundled copy" in note[0]


def test_offline_flag_goes_to_cache_then_bundled(hub_env: dict[str, str], zoo_cli: Cli) -> None:
    # --offline never contacts the Hub: with an empty cache only the bundled copy can answer.
    result = zoo_cli("pull", "dcgan-mnist", "--offline", "--json", env=hub_env)
    if TRAINED:
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["source"] == "bundled"
    else:
        assert result.returncode == 1
        assert "no trained weights" in result.stderr
    assert not (Path(hub_env["HF_HOME"]) / "hub" / "models--genzoo--dcgan-mnist").exists()


def test_a_branch_moved_during_a_pull_still_gives_one_commits_files(
    olah: Mirror, hub_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The branch moves on the real server right after the pull resolved it, before any file is
    # fetched: a pull that asked for files by branch name would mix (or refuse) two commits.
    # The hook wraps zoo.hub's resolution step only to hit that window deterministically.
    import zoo.hub.fetch

    repo_id = "genzoo/dcgan-mnist"
    first = olah.commits["v0.1"]
    torch.manual_seed(11)
    save_weights(create_model("dcgan-mnist"), tmp_path, "dcgan-mnist", {})
    newer = {n: (tmp_path / n).read_bytes() for n in ("config.json", "model.safetensors")}
    moved = olah.commit_on_branch(repo_id, "race-next", first, {**newer, "README.md": b"# moved\n"})
    olah.git(repo_id, "branch", "-f", "race", first)
    resolve = zoo.hub.fetch._resolve_commit

    def resolve_then_move(*args: Any, **kwargs: Any) -> str:
        commit = resolve(*args, **kwargs)
        olah.git(repo_id, "update-ref", "refs/heads/race", moved)
        return commit

    monkeypatch.setattr(zoo.hub.fetch, "_resolve_commit", resolve_then_move)
    try:
        pulled = pull("dcgan-mnist", "race")
        monkeypatch.setattr(zoo.hub.fetch, "_resolve_commit", resolve)
        assert pulled.commit == first
        assert pulled.weights.read_bytes() == olah.weights[first]
        assert (pulled.path / "README.md").read_text() == "# dcgan-mnist v0.1\n"
        config_then = olah.git(repo_id, "show", f"{first}:config.json")
        assert (pulled.path / "config.json").read_text().strip() == config_then
        again = pull("dcgan-mnist", "race")  # the branch did move: the next pull sees it
        assert again.commit == moved
        assert again.weights.read_bytes() == newer["model.safetensors"]
        assert (again.path / "README.md").read_text() == "# moved\n"
    finally:
        olah.git(repo_id, "branch", "-D", "race", "race-next")


def test_the_card_picture_and_eval_json_come_along(olah: Mirror, hub_env: dict[str, str]) -> None:
    if not (TRAINED and olah.bundled_main):
        pytest.skip(NOT_TRAINED)
    pulled = pull("dcgan-mnist")
    for name in ("config.json", "README.md", "eval.json", "samples.png"):
        assert (pulled.path / name).read_bytes() == (bundled_dir("dcgan-mnist") / name).read_bytes()
    assert not (pulled.path / "training.json").exists()  # only the repo files a pull asks for


def test_a_repo_in_the_older_config_layout_still_loads(
    olah: Mirror, hub_env: dict[str, str]
) -> None:
    commit = olah.commits["legacy"]
    pulled = pull("dcgan-mnist", "legacy")
    assert "config" in json.loads((pulled.path / "config.json").read_text())
    model = pulled.load()
    assert model.zoo_name == "dcgan-mnist"
    expected = load(olah.weights[commit])
    assert all(torch.equal(model.state_dict()[k], v) for k, v in expected.items())


def test_a_hub_without_the_repo_gives_the_bundled_copy_of_the_pinned_revision(
    hub_env: dict[str, str], zoo_cli: Cli
) -> None:
    # The mirror answers but holds no genzoo/stylegan2-mnist (as huggingface.co before publishing).
    spec = get_spec("stylegan2-mnist")
    pulled = pull("stylegan2-mnist")
    assert pulled.source == "bundled"
    assert "not found: genzoo/stylegan2-mnist" in pulled.message
    assert sha256_file(pulled.weights) == spec.sha256
    result = zoo_cli("pull", "stylegan2-mnist", "--json", env=hub_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "bundled"


def test_a_hub_without_the_repo_is_an_error_for_any_other_revision(
    hub_env: dict[str, str],
) -> None:
    # Only the pinned revision has a stand-in with the same sha256; v9 has none.
    with pytest.raises(HubRepoNotFoundError, match="not found: genzoo/stylegan2-mnist@v9"):
        pull("stylegan2-mnist", "v9")
