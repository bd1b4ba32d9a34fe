"""``zoo pull --force`` downloads again what the cache already holds (against the olah mirror)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from zoo.cli.main import app

if TYPE_CHECKING:
    from tests.hub.conftest import Mirror


def test_pull_force_downloads_the_cached_file_again(olah: Mirror, hub_env: dict[str, str]) -> None:
    def pull(*flags: str) -> tuple[dict[str, str], Path]:
        done = CliRunner().invoke(app, ["pull", "dcgan-mnist@dev", "--json", *flags])
        assert done.exit_code == 0, done.output
        out = json.loads(done.stdout)
        return out, Path(out["weights"]).resolve()  # the cache's blob behind the snapshot link

    first, blob = pull()
    born = blob.stat().st_ino, blob.stat().st_mtime_ns
    second, same = pull()
    assert same == blob and (same.stat().st_ino, same.stat().st_mtime_ns) == born  # cached
    forced, again = pull("--force")
    assert again.read_bytes() == olah.weights[olah.commits["dev"]]
    assert (again.stat().st_ino, again.stat().st_mtime_ns) != born  # a fresh download
    assert forced["source"] == second["source"] == first["source"] == "hub"
    assert forced["sha256"] == first["sha256"] and forced["commit"] == olah.commits["dev"]
