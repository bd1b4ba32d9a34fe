"""``zoo card --all --eval``: every trained model re-evaluated and its card rewritten (into
``--out``, at the smallest ``--n`` the command takes, so the shipped cards stay as they are).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zoo.cli.main import app
from zoo.evaluate import evaluate
from zoo.registry import get_spec, list_models
from zoo.settings import EVAL_NAME
from zoo.weights import bundled_dir

#: The smallest sample count `zoo eval`/`zoo card` accept.
N = 10


@pytest.mark.slow
def test_card_all_eval_rewrites_every_trained_card(tmp_path: Path) -> None:
    trained = [m for m in list_models() if get_spec(m).sha256]
    assert trained, "no model has trained weights registered"
    shipped = {m: (bundled_dir(m) / EVAL_NAME).read_bytes() for m in trained}
    result = CliRunner().invoke(
        app, ["card", "--all", "--eval", "--n", str(N), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    for name in trained:
        folder = tmp_path / name
        line = f"{name}: wrote README.md, samples.png, eval.json in {folder}"
        assert line in " ".join(result.stdout.split()), result.stdout
        report = json.loads((folder / EVAL_NAME).read_text())
        assert report["model"] == name and report["n"] == N
        assert report["sha256"] == get_spec(name).sha256  # measured the registry's weights
        card = (folder / "README.md").read_text()
        assert all(m["label"] in card for m in report["metrics"])
        assert (folder / "samples.png").stat().st_size > 0
        assert (bundled_dir(name) / EVAL_NAME).read_bytes() == shipped[name]  # untouched
    # The figures are the evaluation protocol's, run in-process on the same seed and n.
    again = evaluate("classifier-mnist", n=N).to_dict()
    written = json.loads((tmp_path / "classifier-mnist" / EVAL_NAME).read_text())
    assert [(m["name"], m["value"]) for m in written["metrics"]] == [
        (m["name"], m["value"]) for m in again["metrics"]
    ]
