"""The release record of a model version: where its weights came from and the gates it passed.

Kept in the version folder's ``export.json`` (key :data:`RELEASE_KEY`) by ``zoo repo build``
(version 1: the revision it pulled) and by ``zoo rollout`` (every later version), and read by
``zoo repo list`` (:mod:`serving.server.versions`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from export.artifacts import META_NAME
from zoo.weights import write_atomic

#: Key of the release record in a version's ``export.json``.
RELEASE_KEY = "release"


@dataclass(frozen=True)
class Release:
    """Where one version's weights came from and the gates it passed."""

    # where the weights were found: "hub", "cache" or "bundled" (a revision of the model's Hub
    # repo, as zoo.hub.pull found it), "folder" (--from), "build" (an export without a record)
    source: str
    revision: str  # Hub revision asked for, the folder's path, or "" for "build"
    sha256: str  # the weights' sha256 (model.safetensors), or the build's weights digest
    commit: str | None = None  # the Hub commit the revision resolved to
    repo_id: str = ""  # Hub repo id (source "hub")
    gates: dict[str, Any] = field(default_factory=dict)  # {"parity": {...}, "quality": {...}}

    def short(self) -> dict[str, str]:
        """What the Triton config records of it."""
        return {"revision": self.commit or self.revision, "sha256": self.sha256}

    def gate_summary(self) -> str:
        """``"parity passed, quality passed"``: each gate and its verdict."""
        return ", ".join(
            f"{gate} {'passed' if result.get('passed') else 'failed'}"
            for gate, result in self.gates.items()
        )


def read_release(version_dir: Path) -> Release:
    """The release record of a version folder (a plain build: what its export says)."""
    try:
        meta = json.loads((version_dir / META_NAME).read_text())
    except (OSError, ValueError):
        meta = {}
    rec = meta.get(RELEASE_KEY)
    if isinstance(rec, dict):
        return Release(**rec)
    weights = meta.get("weights", {})
    gates = {"parity": {"passed": bool(meta.get("passed"))}} if meta else {}
    return Release(source="build", revision="", sha256=str(weights.get("sha256", "")), gates=gates)


def record_release(folder: Path, release: Release) -> None:
    """Write ``release`` into the ``export.json`` of the version folder ``folder`` (atomically)."""
    path = folder / META_NAME
    meta = json.loads(path.read_text())
    meta[RELEASE_KEY] = asdict(release)
    write_atomic(path, lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))
