"""The Hub: pull weights by name, publish them, load them in one line.

Pulling goes through ``huggingface_hub`` into the standard HF cache and honours
``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HUB_OFFLINE`` and ``HF_HOME`` (read at call time). A pull
resolves the revision to a commit once and downloads that commit's files together, and the
weights are checked against a sha256 before anything loads them. When the Hub cannot be
reached, the cache and then the copy bundled with the package stand in, after the same check.
Only safetensors are ever read.

One module per job:

- :mod:`zoo.hub.names`: revisions, repo ids, ``NAME[@REVISION]``, checked before use;
- :mod:`zoo.hub.environment`: the HF environment and huggingface_hub's errors as genzoo's;
- :mod:`zoo.hub.fetch`: pull and verify (:func:`pull`, the one weight resolver);
- :mod:`zoo.hub.loading`: :func:`load` (``zoo.load``), a local folder, a model's saved config;
- :mod:`zoo.hub.publishing`: assemble a repo and upload it, or write it with git;
- :mod:`zoo.hub.git_lfs`: the local git repository in the Hub's layout (Git LFS for weights).
"""

from __future__ import annotations

from zoo.hub.environment import hub_cache_dir, hub_endpoint, hub_offline
from zoo.hub.fetch import REPO_FILES, PulledModel, git_blob_id, pull, pull_bundled, pull_repo
from zoo.hub.git_lfs import LFS_SUFFIXES, write_git_repo
from zoo.hub.loading import load, load_from_dir, model_config_of, zoo_name_of
from zoo.hub.names import check_repo_id, check_revision, parse_model_ref
from zoo.hub.publishing import (
    PublishResult,
    UploadPatterns,
    assemble_repo,
    minimal_card,
    publish,
    staging_dir,
    upload_folder,
)

__all__ = [
    "LFS_SUFFIXES",
    "REPO_FILES",
    "PublishResult",
    "PulledModel",
    "UploadPatterns",
    "assemble_repo",
    "check_repo_id",
    "check_revision",
    "git_blob_id",
    "hub_cache_dir",
    "hub_endpoint",
    "hub_offline",
    "load",
    "load_from_dir",
    "minimal_card",
    "model_config_of",
    "parse_model_ref",
    "publish",
    "pull",
    "pull_bundled",
    "pull_repo",
    "staging_dir",
    "upload_folder",
    "write_git_repo",
    "zoo_name_of",
]
