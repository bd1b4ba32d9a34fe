"""A family kept in the test suite goes end to end through genzoo's generic code (issue 14).

tests/toy_family/ is a complete family package (spec, network, trainer, evaluation
protocol, card parts) that no file of genzoo names. tests/toy_family/pipeline.py trains it with
``zoo train``, evaluates it, writes its card, exports it to ONNX, serves it from the real
Triton and calls it through the playground page; it runs in a process of its own, where
``ZOO_FAMILIES=toy_family`` registers the family, so this process's registry stays the zoo's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zoo.registry import list_models

TESTS = Path(__file__).resolve().parent


@pytest.mark.slow
def test_a_family_kept_in_the_tests_trains_evaluates_cards_exports_serves_and_shows(
    tmp_path: Path,
) -> None:
    env = dict(os.environ)
    env["ZOO_FAMILIES"] = "toy_family"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), env.get("PYTHONPATH")) if p)
    pipeline = TESTS / "toy_family" / "pipeline.py"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(pipeline)]
    command += [f"--basetemp={tmp_path / 'walk'}", "-x"]
    done = subprocess.run(
        command, env=env, cwd=TESTS.parent, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "8 passed" in done.stdout, done.stdout[-3000:]
    assert "toy-mnist" not in list_models()  # registered over there only


def test_an_unimportable_family_module_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "ZOO_FAMILIES": "no_such_family_module"}
    code = "import zoo.registry as r; r.list_models()"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "cannot import model family module 'no_such_family_module'" in done.stderr
    assert "ZOO_FAMILIES" in done.stderr
