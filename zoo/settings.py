"""Defaults and environment, read in one place.

Values are read from the environment when first needed, so tests can set variables
with ``monkeypatch`` before calling into the library.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Folder holding the weights that ship inside the package, one Hub-layout folder per model.
BUNDLED_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

#: Default organisation on the Hugging Face Hub for the published zoo.
HUB_ORG = "genzoo"

#: File names of a model repository on the Hub.
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "README.md"
EVAL_NAME = "eval.json"
SAMPLES_NAME = "samples.png"


def zoo_home() -> Path:
    """Root for genzoo's own files (training runs, exports); ``ZOO_HOME`` or ``~/.cache/genzoo``."""
    return Path(os.environ.get("ZOO_HOME", Path.home() / ".cache" / "genzoo"))


def debug() -> bool:
    """Whether ``ZOO_DEBUG`` asks the CLI to show tracebacks."""
    return os.environ.get("ZOO_DEBUG", "") not in ("", "0", "false", "False")


def zoo_token() -> str | None:
    """``ZOO_TOKEN``: a bearer token the CLI sends to a Triton behind an authenticating proxy."""
    return os.environ.get("ZOO_TOKEN") or None


def model_repository_dir() -> Path:
    """The Triton model repository ``zoo export`` and ``zoo repo build`` write to.

    ``ZOO_MODEL_REPOSITORY`` when set, else ``model_repository/`` in the working directory.
    """
    return Path(os.environ.get("ZOO_MODEL_REPOSITORY", "model_repository"))


def admin_key_env() -> str | None:
    """``ZOO_ADMIN_KEY``: the key to a Triton's restricted admin APIs (serve, bench, soak)."""
    return os.environ.get("ZOO_ADMIN_KEY") or None


def family_modules() -> tuple[str, ...]:
    """``ZOO_FAMILIES``: modules of model families kept outside genzoo, separated by commas."""
    raw = os.environ.get("ZOO_FAMILIES", "")
    return tuple(m.strip() for m in raw.split(",") if m.strip())
