"""perf_analyzer's library links: a link left dangling by an earlier install is repaired."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from serving.apps.bench.peers import perf_analyzer_command


def test_a_dangling_library_link_from_an_earlier_venv_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CI keeps /tmp across runs: a link made by a venv since deleted must not stay broken.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    links = tmp_path / f"zoo-perf-analyzer-libs-{os.getuid()}"
    links.mkdir()
    (links / "libb64.so.0d").symlink_to(tmp_path / "gone" / "libb64-0000.so.0d")
    cmd, env = perf_analyzer_command()  # tritonclient 2.51 (constraints.txt) carries it: no skip
    link = links / "libb64.so.0d"
    assert link.is_symlink() and link.resolve().is_file(), os.readlink(link)
    assert env["LD_LIBRARY_PATH"].split(os.pathsep)[0] == str(links)
    # The binary now loads: --help exits without a missing-library error.
    run = subprocess.run([*cmd, "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert "error while loading shared libraries" not in run.stderr, run.stderr
    assert not list(links.glob(".*")), "no staged link is left behind"
