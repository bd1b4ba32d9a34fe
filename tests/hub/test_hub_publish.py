"""``zoo publish``: a --to DIR repo served by the mirror pulls back bit-identical; uploads.

The upload itself (``HfApi.create_repo/upload_folder/create_tag``) cannot reach a real Hub
here; the mirror has no upload API, so the tests check the real code reaches it and turns
the refusal into one clear line.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import TYPE_CHECKING

import pytest
import torch
from safetensors.torch import load_file

from zoo.errors import (
    HubError,
    IntegrityError,
    InvalidNameError,
    UnsafeWeightsError,
    WeightsNotFoundError,
)
from zoo.hub import assemble_repo, pull, write_git_repo
from zoo.models.vae import ConvVAE
from zoo.registry import create_model, get_spec
from zoo.weights import save_weights, sha256_file

if TYPE_CHECKING:
    from tests.hub.conftest import Mirror

Cli = Callable[..., CompletedProcess[str]]


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; return stdout."""
    out = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    return out.stdout.decode().strip()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vae-mnist weights folder like a training run writes, with an eval report."""
    folder = tmp_path_factory.mktemp("run") / "vae-mnist"
    torch.manual_seed(7)
    save_weights(create_model("vae-mnist"), folder, "vae-mnist", dict(get_spec("vae-mnist").config))
    (folder / "eval.json").write_text(json.dumps({"psnr": 20.5}))
    return folder


def test_publish_to_dir_then_pull_is_bit_identical(
    olah: Mirror, hub_env: dict[str, str], trained_run: Path, zoo_cli: Cli
) -> None:
    repo = olah.repo_dir("genzoo/vae-mnist")
    args = ["publish", "vae-mnist", "--repo-id", "genzoo/vae-mnist", "--from", str(trained_run)]
    first = zoo_cli(*args, "--to", str(repo), "--tag", "rt-1", "--json", env=hub_env)
    assert first.returncode == 0, first.stderr
    published = json.loads(first.stdout)
    assert published["mode"] == "git"
    assert set(published["files"]) == {"config.json", "model.safetensors", "README.md", "eval.json"}

    pulled = pull("vae-mnist", "rt-1")
    assert pulled.commit == published["commit"]
    assert pulled.weights.read_bytes() == (trained_run / "model.safetensors").read_bytes()
    assert (pulled.path / "README.md").read_text().startswith("---\n")

    # The folder is a git repo in the Hub's layout: weights as an LFS pointer, real bytes in
    # the LFS store and in the working tree.
    pointer = git(repo, "show", "rt-1:model.safetensors")
    assert f"oid sha256:{pulled.sha256}" in pointer
    assert sha256_file(repo / "model.safetensors") == pulled.sha256

    # A second publish is a new commit on top; the first stays reachable by its tag.
    torch.manual_seed(8)
    newer = trained_run.parent / "newer"
    save_weights(create_model("vae-mnist"), newer, "vae-mnist", dict(get_spec("vae-mnist").config))
    second = zoo_cli(
        "publish", "vae-mnist", "--repo-id", "genzoo/vae-mnist", "--from", str(newer),
        "--to", str(repo), "--revision", "exp", "--commit-message", "try", "--json",
        env=hub_env,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    exp = pull("vae-mnist", "exp")
    assert exp.commit == json.loads(second.stdout)["commit"]
    assert exp.weights.read_bytes() == (newer / "model.safetensors").read_bytes()
    assert git(repo, "log", "-1", "--format=%P%n%s", "exp").splitlines() == [
        published["commit"],
        "try",
    ]
    assert pull("vae-mnist", "rt-1").weights.read_bytes() == pulled.weights.read_bytes()

    vae = ConvVAE.from_pretrained("genzoo/vae-mnist", revision="rt-1")
    expected = load_file(str(trained_run / "model.safetensors"))
    assert all(torch.equal(vae.state_dict()[k], v) for k, v in expected.items())


def test_publish_refuses_existing_tag_and_non_git_dir(tmp_path: Path, trained_run: Path) -> None:
    staged = tmp_path / "staged"
    assemble_repo("vae-mnist", staged, source=trained_run)
    repo = tmp_path / "repo"
    write_git_repo(staged, repo, tag="v1", message="one")
    with pytest.raises(InvalidNameError, match="already exists"):
        write_git_repo(staged, repo, tag="v1", message="two")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("mine")
    with pytest.raises(InvalidNameError, match="not a git repository"):
        write_git_repo(staged, plain, message="x")


def test_publish_checks_what_it_copies(tmp_path: Path, trained_run: Path) -> None:
    # --from a folder of another model, or of the wrong architecture, is refused.
    with pytest.raises(InvalidNameError, match="is for 'vae-mnist'"):
        assemble_repo("dcgan-mnist", tmp_path / "a", source=trained_run)
    spec = get_spec("vae-mnist")
    if not spec.sha256:
        with pytest.raises(WeightsNotFoundError):
            assemble_repo("vae-mnist", tmp_path / "b")
    else:  # the bundled copy must hash to the registry's sha256
        files = assemble_repo("vae-mnist", tmp_path / "b")
        assert files["model.safetensors"] == spec.sha256


def test_publish_refuses_tampered_bundled_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trained_run: Path
) -> None:
    # A bundled folder whose bytes are not the registry's: point bundled_dir at a stand-in
    # (a monkeypatch, since the real bundled folder is shared and must stay intact).
    import zoo.hub.publishing

    if not get_spec("vae-mnist").sha256:
        pytest.skip("vae-mnist has no registered sha256 yet")
    fake_bundle = tmp_path / "vae-mnist"
    fake_bundle.mkdir()
    for f in trained_run.iterdir():
        (fake_bundle / f.name).write_bytes(f.read_bytes())
    monkeypatch.setattr(zoo.hub.publishing, "bundled_dir", lambda name: fake_bundle)
    with pytest.raises(IntegrityError, match="does not match"):
        assemble_repo("vae-mnist", tmp_path / "out")


def test_dry_run_lists_files_and_uploads_nothing(
    hub_env: dict[str, str], trained_run: Path, zoo_cli: Cli
) -> None:
    result = zoo_cli(
        "publish", "vae-mnist", "--repo-id", "someone/vae", "--from", str(trained_run),
        "--dry-run", env=hub_env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "would publish 4 files to someone/vae@main" in result.stdout
    assert sha256_file(trained_run / "model.safetensors") in result.stdout


def test_upload_reaches_the_server_and_a_refusal_is_one_line(
    olah: Mirror, hub_env: dict[str, str], trained_run: Path
) -> None:
    # The mirror has no upload API: HfApi.create_repo gets a 405, reported as one line.
    model = ConvVAE.from_pretrained(trained_run)
    with pytest.raises(HubError, match="refused the upload to someone/vae@main") as err:
        model.push_to_hub("someone/vae")
    assert "\n" not in str(err.value)


def test_publish_refuses_a_source_that_offers_only_a_pickle(tmp_path: Path) -> None:
    # The same refusal as a pull's (zoo.weights.require_safetensors): nothing is assembled.
    run = tmp_path / "run"
    run.mkdir()
    (run / "pytorch_model.bin").write_bytes(b"\x80\x04not-safe")
    with pytest.raises(UnsafeWeightsError, match=r"pytorch_model\.bin.*safetensors only"):
        assemble_repo("vae-mnist", tmp_path / "out", source=run)
    assert not (tmp_path / "out").exists()
