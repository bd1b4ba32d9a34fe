"""Publish: assemble a model repo (config, weights, card, eval, samples) and send it.

The assembled folder is either uploaded with :class:`huggingface_hub.HfApi` or written as a
local git repository with the weights in Git LFS layout (:mod:`zoo.hub.git_lfs`), which any
HF-compatible server (e.g. the olah mirror) can serve.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from zoo.errors import (
    HubError,
    HubUnreachableError,
    InvalidNameError,
    WeightsNotFoundError,
)
from zoo.hub.environment import (
    hub_api,
    hub_endpoint,
    is_unreachable,
    safe_url,
    scrub,
    unreachable_reason,
)
from zoo.hub.fetch import REPO_FILES
from zoo.hub.git_lfs import write_git_repo
from zoo.hub.names import check_repo_id, check_revision
from zoo.naming import check_model_name
from zoo.registry import get_spec
from zoo.settings import CARD_NAME, CONFIG_NAME, WEIGHTS_NAME
from zoo.weights import (
    bundled_dir,
    find_weights_file,
    load_model_from_dir,
    read_config,
    sha256_file,
    verify_sha256,
)


@dataclass(frozen=True)
class UploadPatterns:
    """``upload_folder``'s file filters (glob patterns), as ``push_to_hub`` takes them."""

    allow_patterns: list[str] | str | None = None  # upload only files matching one of these
    ignore_patterns: list[str] | str | None = None  # never upload files matching these
    delete_patterns: list[str] | str | None = None  # delete remote files matching these


@dataclass(frozen=True)
class PublishResult:
    """What a publish did (or, for a dry run, would do)."""

    repo_id: str  # target repo id
    revision: str  # branch written
    mode: Literal["upload", "git", "dry-run"]  # Hub upload, local git repo, or nothing
    files: dict[str, str]  # file name -> sha256 of what was (or would be) published
    commit: str | None = None  # commit sha (upload/git)
    tag: str | None = None  # tag created, if any
    url: str | None = None  # commit URL on the Hub (upload)
    path: Path | None = None  # the local repo (git)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (used by ``zoo publish --json``)."""
        d = asdict(self)
        d["path"] = str(self.path) if self.path else None
        return d


def assemble_repo(name: str, folder: Path, *, source: Path | None = None) -> dict[str, str]:
    """Copy the repo files of ``name`` into ``folder``; return ``{file: sha256}``.

    ``source`` defaults to the bundled folder, whose weights must match the registry's
    sha256. Any other source (e.g. a training run) must hold a ``config.json`` for ``name``
    whose weights load into that architecture. A missing card is written from the registry.
    """
    spec = get_spec(check_model_name(name))
    src = bundled_dir(name) if source is None else Path(source)
    hint = f"train it with `zoo train {name}`" if source is None else "check --from"
    weights = find_weights_file(src, missing=f"no {WEIGHTS_NAME} in {src}: {hint}.")
    cfg = read_config(src)
    if cfg.get("model_name") != name:
        raise InvalidNameError(
            f"{src / CONFIG_NAME} is for {cfg.get('model_name')!r}, not {name!r}."
        )
    if source is None:
        if not spec.sha256:
            raise WeightsNotFoundError(
                f"{name} has no sha256 in the registry yet: its weights are not trained."
            )
        verify_sha256(weights, spec.sha256)
    else:  # new weights: prove they are safetensors of this architecture
        load_model_from_dir(src, sha256=None)
    folder.mkdir(parents=True, exist_ok=True)
    for fname in REPO_FILES:
        if (src / fname).is_file():
            shutil.copyfile(src / fname, folder / fname)
    if not (folder / CARD_NAME).is_file():
        (folder / CARD_NAME).write_text(minimal_card(name, sha256_file(folder / WEIGHTS_NAME)))
    if source is None:  # the copy, not just the source, must be the registered bytes
        verify_sha256(folder / WEIGHTS_NAME, spec.sha256)
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}


def minimal_card(name: str, sha256: str | None = None) -> str:
    """A model card of zoo entry ``name`` from the registry alone, for a folder without one."""
    spec = get_spec(name)
    tags = "\n".join(f"- {t}" for t in ("genzoo", spec.family, *spec.tags))
    datasets = "\n".join(f"- {d}" for d in spec.datasets)
    digest = f"- weights sha256: `{sha256}`\n" if sha256 else ""
    return (
        f"---\nlicense: {spec.license}\nlibrary_name: genzoo\ntags:\n{tags}\n"
        f"datasets:\n{datasets}\n---\n\n# {spec.name}\n\n{spec.description}\n\n"
        f"- family: {spec.family}\n- resolution: {spec.resolution}×{spec.resolution}, "
        f"{spec.channels} channel(s)\n- entry points: {', '.join(spec.entry_names)}\n{digest}\n"
        f"```python\nimport zoo\nmodel = zoo.load({spec.name!r})\n```\n"
    )


def publish(
    name: str,
    repo_id: str,
    *,
    revision: str = "main",
    tag: str | None = None,
    private: bool | None = None,
    commit_message: str | None = None,
    dry_run: bool = False,
    to: Path | None = None,
    source: Path | None = None,
    token: str | None = None,
    create_pr: bool = False,
    patterns: UploadPatterns | None = None,
) -> PublishResult:
    """Publish the weights of ``name`` as the Hub repo ``repo_id``.

    Uploads with :class:`huggingface_hub.HfApi` (``create_repo``, ``upload_folder``,
    ``create_tag``; ``token``, default ``HF_TOKEN``, authenticates; ``create_pr`` opens a
    pull request against ``revision`` instead of committing to it; ``patterns`` filter what
    goes up and what is deleted, as in ``upload_folder``). ``to`` writes a local git
    repository (weights in Git LFS layout) instead; ``dry_run`` only assembles and reports.
    """
    check_repo_id(repo_id)
    check_revision(revision)
    if tag is not None:
        check_revision(tag)
    if dry_run and to is not None:
        raise InvalidNameError("give either --dry-run or --to DIR, not both.")
    message = commit_message or f"Publish {name} with genzoo"
    with staging_dir() as staging:
        files = assemble_repo(name, staging, source=source)
        if dry_run:
            return PublishResult(repo_id, revision, "dry-run", files, tag=tag)
        if to is not None:
            commit = write_git_repo(staging, Path(to), branch=revision, tag=tag, message=message)
            return PublishResult(repo_id, revision, "git", files, commit, tag, path=Path(to))
        commit, url = upload_folder(
            staging,
            repo_id,
            revision=revision,
            tag=tag,
            private=private,
            commit_message=message,
            token=token,
            create_pr=create_pr,
            patterns=patterns,
        )
        return PublishResult(repo_id, revision, "upload", files, commit, tag, url=url)


@contextmanager
def staging_dir() -> Iterator[Path]:
    """A temporary folder to assemble a repo in, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="genzoo-publish-") as tmp:
        yield Path(tmp)


def upload_folder(
    folder: Path,
    repo_id: str,
    *,
    revision: str = "main",
    tag: str | None = None,
    private: bool | None = None,
    commit_message: str,
    token: str | None = None,
    create_pr: bool = False,
    patterns: UploadPatterns | None = None,
) -> tuple[str, str]:
    """Upload ``folder`` to ``repo_id@revision`` with ``HfApi`` in one commit; (sha, URL).

    Creates the repo (and the branch) when missing; tags the new commit when ``tag`` is set.
    With ``create_pr`` the commit goes to a new pull request against ``revision``.
    """
    api = hub_api(token)
    where = f"{repo_id}@{revision} on {safe_url(hub_endpoint())}"
    try:
        api.create_repo(repo_id, private=private, repo_type="model", exist_ok=True)
        if revision != "main":
            api.create_branch(repo_id, branch=revision, repo_type="model", exist_ok=True)
        info = api.upload_folder(
            repo_id=repo_id,
            folder_path=folder,
            revision=revision,
            repo_type="model",
            commit_message=commit_message,
            create_pr=create_pr,
            **asdict(patterns or UploadPatterns()),
        )
        if tag is not None:
            api.create_tag(repo_id, tag=tag, revision=info.oid, repo_type="model")
    except Exception as e:
        if is_unreachable(e):
            raise HubUnreachableError(f"cannot publish {where}: {unreachable_reason(e)}") from e
        detail = scrub(str(e).splitlines()[0]) if str(e) else type(e).__name__
        response = getattr(e, "response", None)
        status = getattr(response, "status_code", 0)
        hint = (
            "set HF_TOKEN to a token with write access to the repo"
            if status in (401, 403)
            else "check the repo id, and that the endpoint accepts uploads"
        )
        raise HubError(f"the Hub refused the upload to {where}: {detail}. {hint}.") from None
    return info.oid, info.commit_url
