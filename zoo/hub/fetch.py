"""Pull and verify: a zoo name or a Hub repo → one commit's files in the HF cache, checked.

Pulling goes through ``huggingface_hub`` into the standard HF cache. A pull resolves the
revision to a commit once and downloads that commit's files together (``snapshot_download``),
so a branch moving meanwhile cannot mix two commits. The weights are checked against a sha256
before anything loads them: the registry's digest for the revision it pins, else the Hub's own
LFS metadata for that revision. When the Hub cannot be reached, the cache and then the copy
bundled with the package stand in, after the same check. Only safetensors are ever read; a
repo that offers only a pickle is refused.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from zoo._version import __version__
from zoo.errors import (
    HubRepoNotFoundError,
    HubUnreachableError,
    IntegrityError,
    WeightsNotFoundError,
)
from zoo.hub.environment import (
    hub_api,
    hub_cache_dir,
    hub_endpoint,
    hub_errors,
    hub_offline,
    safe_url,
    unreachable_reason,
)
from zoo.hub.names import check_repo_id, check_revision, is_git_sha, is_sha256, parse_model_ref
from zoo.naming import check_model_name
from zoo.registry import get_spec
from zoo.settings import CARD_NAME, CONFIG_NAME, EVAL_NAME, SAMPLES_NAME, WEIGHTS_NAME
from zoo.weights import (
    PICKLE_NAMES,
    bundled_dir,
    load_model_from_dir,
    require_safetensors,
    sha256_file,
    verify_sha256,
)

if TYPE_CHECKING:
    import torch
    from huggingface_hub import HfApi
    from torch import nn

logger = logging.getLogger(__name__)

Source = Literal["hub", "cache", "bundled"]

#: Files of a model repo: what a pull fetches from one commit and a publish copies from its
#: source folder (config and weights required, the card, eval and samples when present).
REPO_FILES = (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME, EVAL_NAME, SAMPLES_NAME)


@dataclass(frozen=True)
class PulledModel:
    """Where a pull put a model's files, which revision they are, and where they came from."""

    repo_id: str  # Hub repo id, e.g. "genzoo/dcgan-mnist"
    revision: str  # what was asked for: branch, tag or sha
    commit: str | None  # the commit sha it resolved to (None for the bundled copy)
    path: Path  # folder holding config.json, model.safetensors (and README.md, eval.json ...)
    source: Source  # "hub" (fetched/checked online), "cache" (HF cache, no network), "bundled"
    sha256: str  # verified digest of model.safetensors
    name: str | None = None  # registry name, when the repo is a zoo entry
    message: str = ""  # one line for the user when a fallback was taken ("" otherwise)

    @property
    def dir(self) -> Path:
        """Alias of :attr:`path`."""
        return self.path

    @property
    def weights(self) -> Path:
        """The verified ``model.safetensors``."""
        return self.path / WEIGHTS_NAME

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (used by ``zoo pull --json``)."""
        d = asdict(self)
        d["path"] = str(self.path)
        d["weights"] = str(self.weights)
        return d

    def load(
        self,
        *,
        device: str | torch.device = "cpu",
        dtype: torch.dtype | None = None,
        strict: bool = True,
        expected_class: type | None = None,
        **config_overrides: Any,
    ) -> nn.Module:
        """The model, built from ``config.json``, with these weights (checked again) loaded."""
        return load_model_from_dir(
            self.path,
            sha256=self.sha256,
            device=device,
            dtype=dtype,
            strict=strict,
            overrides=config_overrides,
            expected_class=expected_class,
        )


def pull(
    name: str,
    revision: str | None = None,
    *,
    force: bool = False,
    offline: bool | None = None,
    token: str | bool | None = None,
    cache_dir: str | Path | None = None,
) -> PulledModel:
    """Fetch the zoo model ``name`` (``NAME@REV`` works too) and return where its files are.

    The sha256 is the registry's for the revision it pins, else the Hub's metadata. When the
    Hub cannot be reached (or ``offline``, default ``HF_HUB_OFFLINE``), the HF cache and then
    the bundled copy stand in; the returned ``message`` says so. The bundled copy also stands
    in for the pinned revision when the Hub has no such repo (the sha256 is the same).
    ``token`` and ``cache_dir`` mean what they mean to huggingface_hub (defaults ``HF_TOKEN``,
    the HF cache).
    """
    name, revision = parse_model_ref(name, revision)
    spec = get_spec(name)
    rev = revision or spec.revision
    pinned = rev == spec.revision and bool(spec.sha256)
    try:
        pulled = pull_repo(
            spec.repo_id,
            rev,
            sha256=spec.sha256 if pinned else None,
            force=force,
            offline=offline,
            token=token,
            cache_dir=cache_dir,
        )
    except HubUnreachableError as e:
        if rev != spec.revision:
            raise HubUnreachableError(
                f"{e}; {spec.repo_id}@{rev} is not in the cache, and the bundled copy is "
                f"revision {spec.revision!r}: pull without a revision to use it."
            ) from None
        return _bundled_instead(name, str(e))
    except HubRepoNotFoundError as e:
        # A Hub that has no such repo (not published there yet, a private mirror without it)
        # loses nothing against the bundled copy of the pinned revision: the same sha256.
        if not pinned:
            raise
        return _bundled_instead(name, str(e))
    return replace(pulled, name=name)


def _bundled_instead(name: str, why: str) -> PulledModel:
    """The bundled copy of ``name``, its message saying why the Hub's could not be used."""
    try:
        bundled = pull_bundled(name)
    except WeightsNotFoundError as missing:
        raise WeightsNotFoundError(f"{why}; {missing}") from None
    return replace(bundled, message=f"{why}; using the bundled copy in {bundled.path}")


def pull_bundled(name: str) -> PulledModel:
    """The copy of ``name`` shipped with the package, after its sha256 check."""
    spec = get_spec(check_model_name(name))
    folder = bundled_dir(name)
    if not spec.sha256:
        raise WeightsNotFoundError(
            f"{name} has no trained weights bundled or registered yet: train them with "
            f"`zoo train {name}`, or pull when the Hub can be reached."
        )
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise WeightsNotFoundError(f"the bundled copy of {name} is missing: no {weights}.")
    verify_sha256(weights, spec.sha256)
    return PulledModel(
        repo_id=spec.repo_id,
        revision=spec.revision,
        commit=None,
        path=folder,
        source="bundled",
        sha256=spec.sha256,
        name=name,
    )


def pull_repo(
    repo_id: str,
    revision: str = "main",
    *,
    sha256: str | None = None,
    force: bool = False,
    offline: bool | None = None,
    token: str | bool | None = None,
    cache_dir: str | Path | None = None,
) -> PulledModel:
    """Fetch the files of one commit of any Hub repo (:data:`REPO_FILES`), verified.

    ``revision`` is resolved to a commit once; every file then comes from that commit, so a
    branch that moves meanwhile cannot mix two commits. ``sha256`` is the expected digest of
    the weights; ``None`` takes it from the Hub's LFS metadata of that commit (online) or from
    the cache's content-addressed blob name (offline). Raises :class:`HubUnreachableError`
    when the Hub is out of reach and the revision is not cached.
    """
    check_repo_id(repo_id)
    check_revision(revision)
    cache = Path(cache_dir).expanduser() if cache_dir is not None else hub_cache_dir()
    offline = hub_offline() if offline is None else offline
    reason: BaseException | None = None
    if not offline:
        try:
            return _pull_online(
                repo_id, revision, sha256=sha256, force=force, token=token, cache=cache
            )
        except HubUnreachableError as e:
            reason = e.__cause__
    cached = _pull_cached(repo_id, revision, sha256=sha256, cache=cache)
    why = unreachable_reason(reason)
    if cached is None:
        raise HubUnreachableError(why)
    return replace(cached, message=f"{why}; using the cached copy" if reason else "")


def _resolve_commit(api: HfApi, repo_id: str, revision: str, cache: Path) -> str:
    """The commit ``revision`` names now (cached in the HF cache's ``refs/``, for offline use).

    When the Hub cannot be reached, huggingface_hub answers from the cached ref and logs a
    warning; the metadata request that follows fails the same way and the pull's own one-line
    note says so, so huggingface_hub's log is held back for this call.
    """
    hf_log = logging.getLogger("huggingface_hub.hf_api")
    hf_log.addFilter(_drop)
    try:
        return api.resolve_revision(repo_id, revision=revision, cache_dir=cache).resolved
    finally:
        hf_log.removeFilter(_drop)


def _drop(record: logging.LogRecord) -> bool:
    return False


def _remote_files(api: HfApi, repo_id: str, commit: str) -> dict[str, Any]:
    """The Hub's metadata of the files a pull cares about at ``commit``, keyed by path."""
    infos = api.get_paths_info(
        repo_id, [*REPO_FILES, *PICKLE_NAMES], revision=commit, repo_type="model"
    )
    return {info.path: info for info in infos}


def _snapshot(
    repo_id: str,
    revision: str,
    files: tuple[str, ...],
    *,
    force: bool,
    token: str | bool | None,
    cache: Path,
    local_only: bool = False,
) -> Path:
    """The snapshot folder of ``repo_id@revision`` in the HF cache, holding ``files`` (if any)."""
    from huggingface_hub import snapshot_download

    path = snapshot_download(
        repo_id,
        revision=revision,
        repo_type="model",
        allow_patterns=list(files),
        cache_dir=cache,
        endpoint=hub_endpoint(),
        force_download=force,
        token=token,
        local_files_only=local_only,
        library_name="genzoo",
        library_version=__version__,
    )
    return Path(path)


def _expected_from_metadata(info: Any, where: str) -> str:
    """The digest the Hub publishes for a weights file: LFS sha256, else the git blob id."""
    lfs = getattr(info, "lfs", None)
    sha = getattr(lfs, "sha256", None) if lfs is not None else None
    if isinstance(sha, str) and is_sha256(sha):
        return sha
    blob_id = getattr(info, "blob_id", None)
    if isinstance(blob_id, str) and is_git_sha(blob_id):
        return blob_id
    raise IntegrityError(f"the Hub gives no digest for {where}, so it cannot be verified.")


def _matches(path: Path, expected: str) -> bool:
    """Whether ``path`` has the sha256 (64 hex) or git blob id (40 hex) ``expected``."""
    if len(expected) == 40:
        return git_blob_id(path) == expected
    return sha256_file(path) == expected


def git_blob_id(path: Path) -> str:
    """The git object id (sha1 of ``blob <size>\\0<bytes>``) of a file stored without LFS."""
    h = hashlib.sha1(usedforsecurity=False)
    h.update(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _pull_online(
    repo_id: str,
    revision: str,
    *,
    sha256: str | None,
    force: bool,
    token: str | bool | None,
    cache: Path,
) -> PulledModel:
    where = f"{repo_id}@{revision}"
    api = hub_api(token)
    with hub_errors(f"{where} on {safe_url(hub_endpoint())}"):
        commit = _resolve_commit(api, repo_id, revision, cache)
        files = _remote_files(api, repo_id, commit)
    require_safetensors(where, set(files), missing=f"{where} has no {WEIGHTS_NAME}.")
    if CONFIG_NAME not in files:
        raise WeightsNotFoundError(f"{where} has no {CONFIG_NAME}.")
    expected = sha256 or _expected_from_metadata(files[WEIGHTS_NAME], f"{where}/{WEIGHTS_NAME}")
    present = tuple(f for f in REPO_FILES if f in files)
    message = ""
    with hub_errors(f"{where} on {safe_url(hub_endpoint())}"):
        folder = _snapshot(repo_id, commit, present, force=force, token=token, cache=cache)
        if not _matches(folder / WEIGHTS_NAME, expected):
            # A corrupt (or tampered) cache blob: fetch it again rather than load it.
            logger.warning(
                "cached %s of %s failed its sha256 check; re-fetching", WEIGHTS_NAME, where
            )
            message = f"the cached {WEIGHTS_NAME} of {where} was corrupt; fetched it again"
            _snapshot(repo_id, commit, (WEIGHTS_NAME,), force=True, token=token, cache=cache)
    weights = folder / WEIGHTS_NAME
    if not _matches(weights, expected):
        source = "the registry" if sha256 else "the Hub's metadata"
        raise IntegrityError(
            f"{WEIGHTS_NAME} of {where} from {safe_url(hub_endpoint())} does not match the "
            f"digest {expected[:12]}… from {source}: the file was changed or tampered with. "
            "Pull a revision you trust (`zoo pull NAME@SHA`)."
        )
    return PulledModel(
        repo_id=repo_id,
        revision=revision,
        commit=commit,
        path=folder,
        source="hub",
        sha256=sha256_file(weights),
        message=message,
    )


def _pull_cached(
    repo_id: str, revision: str, *, sha256: str | None, cache: Path
) -> PulledModel | None:
    """The cached copy of ``repo_id@revision``, verified, or ``None`` when it is not cached."""
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = _snapshot(
            repo_id, revision, REPO_FILES, force=False, token=None, cache=cache, local_only=True
        )
    except LocalEntryNotFoundError:  # not cached, or a snapshot an interrupted pull left partial
        return None
    weights = folder / WEIGHTS_NAME
    if not weights.is_file() or not (folder / CONFIG_NAME).is_file():
        return None
    # The cache names each blob after its Hub etag (the LFS sha256, or the git blob id).
    blob_name = weights.resolve().name
    expected = sha256 or (blob_name if is_sha256(blob_name) or is_git_sha(blob_name) else "")
    if not expected or not _matches(weights, expected):
        raise IntegrityError(
            f"the cached {WEIGHTS_NAME} of {repo_id}@{revision} ({weights.resolve()}) is corrupt "
            "or was tampered with, so it was not loaded. Run `zoo pull NAME --force` with the "
            "Hub reachable to fetch it again."
        )
    commit = folder.name
    return PulledModel(
        repo_id=repo_id,
        revision=revision,
        commit=commit if is_git_sha(commit) else None,
        path=folder,
        source="cache",
        sha256=sha256_file(weights),
    )
