"""``zoo eval`` and ``zoo card`` through typer's test runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zoo.cards import read_eval
from zoo.cli.main import app

runner = CliRunner()


def _one_error_line(result: object, *needles: str) -> None:
    out = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 1, out  # type: ignore[attr-defined]
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert lines[0].startswith("error:"), out
    for needle in needles:
        assert needle in lines[0], out


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["eval", "dcgan-mnsit"], ("unknown model", "dcgan-mnist")),
        (["eval", "../etc"], ("unknown model",)),
        (["eval", "dcgan-mnist", "--engine", "tpu"], ("unknown engine",)),
        (["eval", "dcgan-mnist", "--engine", "onnxruntime", "--write"], ("--write",)),
        (["card"], ("--all",)),
        (["card", "no-such-model"], ("unknown model",)),
    ],
)
def test_bad_input_is_one_line_and_exit_1(args: list[str], needles: tuple[str, ...]) -> None:
    _one_error_line(runner.invoke(app, args), *needles)


def test_eval_json_on_shipped_weights(require_shipped: Callable[..., None]) -> None:
    require_shipped("classifier-mnist")
    result = runner.invoke(app, ["eval", "classifier-mnist", "--json", "--n", "200"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "classifier-mnist" and data["n"] == 200
    names = [m["name"] for m in data["metrics"]]
    assert names == ["accuracy", "accuracy_uci"]
    stored = read_eval("classifier-mnist")
    # 200 of the 1,000 test digits: the accuracy stays close to the full-split figure.
    assert data["metrics"][0]["value"] == pytest.approx(stored.metric("accuracy").value, abs=0.05)


def test_eval_table_shows_floor_and_targets(require_shipped: Callable[..., None]) -> None:
    require_shipped("dcgan-mnist")
    result = runner.invoke(app, ["eval", "dcgan-mnist", "--n", "100"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "real vs real" in result.output and "≥ 0.7" in result.output
    assert "targets" in result.output


def test_card_command_writes_into_out(tmp_path: Path, require_shipped: Callable[..., None]) -> None:
    require_shipped("classifier-mnist")
    result = runner.invoke(app, ["card", "classifier-mnist", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "classifier-mnist"
    assert (folder / "README.md").is_file() and (folder / "samples.png").is_file()
    assert read_eval("classifier-mnist", folder) == read_eval("classifier-mnist")
