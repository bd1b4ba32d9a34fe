"""The ``zoo`` CLI through typer's runner: listing, info, training, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from zoo.cli.main import app
from zoo.registry import list_models

runner = CliRunner()


def test_list_json_names_every_model() -> None:
    result = runner.invoke(app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    assert sorted(m["name"] for m in json.loads(result.stdout)) == list_models()


def test_info_json_has_signature_and_hub_repo() -> None:
    result = runner.invoke(app, ["info", "stylegan2-mnist", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["repo_id"] == "genzoo/stylegan2-mnist"
    names = [t["name"] for t in info["entry_points"][0]["inputs"]]
    assert names == ["z", "psi", "mix_z"]


def test_unknown_model_is_one_line_with_a_suggestion() -> None:
    result = runner.invoke(app, ["info", "dcgan-mnst"])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "dcgan-mnist" in lines[0]


def test_train_runs_and_writes_weights(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["train", "dcgan-mnist", "--max-steps", "2", "--out", str(out), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["steps"] == 2
    assert (out / "model" / "model.safetensors").is_file()
    resumed = runner.invoke(app, [*args[:3], "3", *args[4:], "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["steps"] == 3


def test_train_bad_loss_is_one_line() -> None:
    result = runner.invoke(app, ["train", "dcgan-mnist", "--loss", "mse", "--max-steps", "1"])
    assert result.exit_code == 1
    assert "unknown GAN loss" in result.output
