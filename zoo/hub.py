"""The Hub: pull weights by name, publish them, load them in one line.

Pulling goes through ``huggingface_hub`` into the standard HF cache and honours
``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HUB_OFFLINE`` and ``HF_HOME`` (read at call time). A pull
resolves the revision to a commit once and downloads that commit's files together
(``snapshot_download``), so a branch moving meanwhile cannot mix two commits. The
weights are checked against a sha256 before anything loads them: the registry's digest for
the revision it pins, else the Hub's own LFS metadata for that revision. When the Hub cannot
be reached, the cache and then the copy bundled with the package stand in, after the same
check. Only safetensors are ever read; a repo that offers only a pickle is refused.

Publishing assembles a repo folder (config, weights, card, eval, samples) and either uploads
it with :class:`huggingface_hub.HfApi` or writes it as a local git repository with the
weights in Git LFS layout, which any HF-compatible server (e.g. the olah mirror) can serve.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

from zoo.errors import (
    HubError,
    HubUnreachableError,
    IntegrityError,
    InvalidNameError,
    UnsafeWeightsError,
    WeightsNotFoundError,
)
from zoo.registry import check_model_name, get_spec
from zoo.settings import CARD_NAME, CONFIG_NAME, EVAL_NAME, SAMPLES_NAME, WEIGHTS_NAME
from zoo.weights import (
    PICKLE_NAMES,
    build_model,
    bundled_dir,
    load_model_from_dir,
    read_config,
    sha256_file,
    split_config,
    verify_sha256,
    zoo_config,
)

if TYPE_CHECKING:
    import torch
    from huggingface_hub import HfApi
    from torch import nn

logger = logging.getLogger(__name__)

Source = Literal["hub", "cache", "bundled"]
M = TypeVar("M")

#: Files of a model repo: what a pull fetches from one commit and a publish copies from its
#: source folder (config and weights required, the card, eval and samples when present).
REPO_FILES = (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME, EVAL_NAME, SAMPLES_NAME)
#: Files stored through Git LFS in a repo written by ``publish(to=...)``, as the Hub does.
LFS_SUFFIXES = (".safetensors", ".png")

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# A branch or tag: path-like segments of safe characters (git's own rules are looser).
_REF_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$")
_REPO_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


# ---------------------------------------------------------------------------------------------
# Validation: every user-supplied name is checked before it becomes a path or a URL.


def check_revision(revision: str) -> str:
    """Return ``revision`` if it is a safe branch, tag or commit sha, else raise.

    Allowed: segments of letters, digits, ``._-`` joined by single slashes (``main``,
    ``v1.0``, ``refs/pr/1``), or a 40-hex commit sha. Refused: ``..``, empty or dot-led
    segments, leading/trailing slashes, ``.lock`` endings, anything else.
    """
    bad = InvalidNameError(
        f"invalid revision {revision!r}: use a branch or tag name (letters, digits, '._-', "
        "single '/' between parts, e.g. 'main' or 'v1.0') or a 40-character commit sha."
    )
    if not isinstance(revision, str) or not revision or len(revision) > 200:
        raise bad
    if _HEX40.fullmatch(revision):
        return revision
    if ".." in revision or revision.endswith(".lock"):
        raise bad
    if not all(_REF_SEGMENT.fullmatch(part) for part in revision.split("/")):
        raise bad
    return revision


def check_repo_id(repo_id: str) -> str:
    """Return ``repo_id`` if it is a well-formed ``ORG/NAME`` Hub id, else raise."""
    parts = repo_id.split("/") if isinstance(repo_id, str) else []
    if (
        len(parts) != 2
        or not all(_REPO_PART.fullmatch(p) for p in parts)
        or ".." in repo_id
        or "--" in repo_id
        or any(p.endswith((".", "-")) for p in parts)
    ):
        raise InvalidNameError(
            f"invalid repo id {repo_id!r}: use ORG/NAME with letters, digits and '._-' "
            "(e.g. 'genzoo/dcgan-mnist')."
        )
    return repo_id


def parse_model_ref(ref: str, revision: str | None = None) -> tuple[str, str | None]:
    """Split ``NAME[@REVISION]`` into a checked name and revision (``revision`` may repeat it)."""
    name, sep, at_rev = ref.partition("@")
    if sep and revision is not None and revision != at_rev:
        raise InvalidNameError(
            f"{ref!r} names revision {at_rev!r} but --revision says {revision!r}; give one."
        )
    rev = at_rev if sep else revision
    return check_model_name(name), (check_revision(rev) if rev is not None else None)


# ---------------------------------------------------------------------------------------------
# Environment, read at call time so a process (or a test) can change it before calling.


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def hub_endpoint() -> str:
    """The Hub URL: ``HF_ENDPOINT`` or https://huggingface.co."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_cache_dir() -> Path:
    """The HF cache: ``HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    cache_root = os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    home = os.environ.get("HF_HOME", os.path.join(cache_root, "huggingface"))
    return Path(home).expanduser() / "hub"


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) asks for no network."""
    return _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(
        os.environ.get("TRANSFORMERS_OFFLINE")
    )


def _safe_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _scrub(text: str) -> str:
    """``text`` with the value of ``HF_TOKEN`` (if any) masked: tokens never reach messages."""
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    return text.replace(token, "***") if token else text


def _is_unreachable(e: BaseException) -> bool:
    """Whether ``e`` means "the Hub cannot be reached" rather than "the Hub said no".

    The types are huggingface_hub's own (and those of ``httpx2``, the HTTP client it speaks,
    for a link that drops mid-download): offline mode, a revision that could be resolved
    neither online nor from the cache, a snapshot the cache cannot complete, a server failure.
    """
    import httpx2
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RevisionResolutionError,
    )

    if isinstance(
        e,
        (
            OfflineModeIsEnabled,
            RevisionResolutionError,
            LocalEntryNotFoundError,
            httpx2.TransportError,
        ),
    ):
        return True
    if isinstance(e, HfHubHTTPError):  # a gateway or server failure is an outage, not a refusal
        return e.response is not None and e.response.status_code >= 500
    return False


def _unreachable_reason(e: BaseException | None) -> str:
    from huggingface_hub.errors import OfflineModeIsEnabled

    # huggingface_hub chains the transport error under its own; the cause is the short story.
    cause = e.__cause__ if e is not None and e.__cause__ is not None else e
    if cause is None or isinstance(cause, OfflineModeIsEnabled):
        return "offline mode (HF_HUB_OFFLINE / --offline): the Hub is not contacted"
    detail = _scrub(str(cause).splitlines()[0]) if str(cause) else type(cause).__name__
    return f"the Hub at {_safe_url(hub_endpoint())} cannot be reached ({detail})"


@contextmanager
def _hub_errors(where: str) -> Iterator[None]:
    """Turn huggingface_hub's errors for ``where`` into genzoo's, each one line with a fix."""
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        yield
    except Exception as e:
        if _is_unreachable(e):
            raise HubUnreachableError(_unreachable_reason(e)) from e
        if isinstance(e, RevisionNotFoundError):
            raise HubError(f"revision not found: {where}. Check the branch, tag or sha.") from None
        if isinstance(e, GatedRepoError):
            raise HubError(f"{where} is gated: accept its terms and set HF_TOKEN.") from None
        if isinstance(e, RepositoryNotFoundError):
            raise HubError(
                f"not found: {where}. Check the repo id and revision; a private repo needs "
                "HF_TOKEN set to a token that can read it."
            ) from None
        if isinstance(e, HfHubHTTPError):
            raise HubError(f"the Hub refused {where}: {_scrub(str(e).splitlines()[0])}") from None
        raise


# ---------------------------------------------------------------------------------------------
# Pull


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
    the bundled copy stand in; the returned ``message`` says so. ``token`` and ``cache_dir``
    mean what they mean to huggingface_hub (defaults ``HF_TOKEN``, the HF cache).
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
        try:
            bundled = pull_bundled(name)
        except WeightsNotFoundError as missing:
            raise WeightsNotFoundError(f"{e}; {missing}") from None
        return replace(bundled, message=f"{e}; using the bundled copy in {bundled.path}")
    return replace(pulled, name=name)


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
    why = _unreachable_reason(reason)
    if cached is None:
        raise HubUnreachableError(why)
    return replace(cached, message=f"{why}; using the cached copy" if reason else "")


def _api(token: str | bool | None) -> HfApi:
    from huggingface_hub import HfApi

    from zoo import __version__

    return HfApi(
        endpoint=hub_endpoint(), token=token, library_name="genzoo", library_version=__version__
    )


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

    from zoo import __version__

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
    if isinstance(sha, str) and _HEX64.fullmatch(sha):
        return sha
    blob_id = getattr(info, "blob_id", None)
    if isinstance(blob_id, str) and _HEX40.fullmatch(blob_id):
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
    api = _api(token)
    with _hub_errors(f"{where} on {_safe_url(hub_endpoint())}"):
        commit = _resolve_commit(api, repo_id, revision, cache)
        files = _remote_files(api, repo_id, commit)
    if WEIGHTS_NAME not in files:
        pickles = [p for p in PICKLE_NAMES if p in files]
        if pickles:
            raise UnsafeWeightsError(
                f"{where} offers only {', '.join(pickles)}, which would need unpickling; genzoo "
                "loads safetensors only. Ask the owner for a model.safetensors (or convert it)."
            )
        raise WeightsNotFoundError(f"{where} has no {WEIGHTS_NAME}.")
    if CONFIG_NAME not in files:
        raise WeightsNotFoundError(f"{where} has no {CONFIG_NAME}.")
    expected = sha256 or _expected_from_metadata(files[WEIGHTS_NAME], f"{where}/{WEIGHTS_NAME}")
    present = tuple(f for f in REPO_FILES if f in files)
    message = ""
    with _hub_errors(f"{where} on {_safe_url(hub_endpoint())}"):
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
            f"{WEIGHTS_NAME} of {where} from {_safe_url(hub_endpoint())} does not match the "
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
    expected = sha256 or (
        blob_name if _HEX64.fullmatch(blob_name) or _HEX40.fullmatch(blob_name) else ""
    )
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
        commit=commit if _HEX40.fullmatch(commit) else None,
        path=folder,
        source="cache",
        sha256=sha256_file(weights),
    )


# ---------------------------------------------------------------------------------------------
# Load: zoo.load and the family classes' from_pretrained


def load(
    name: str,
    revision: str | None = None,
    offline: bool | None = None,
    *,
    force: bool = False,
    token: str | bool | None = None,
    cache_dir: str | Path | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    strict: bool = True,
    expected_class: type[M] | None = None,
    **config_overrides: Any,
) -> M:
    """Pull ``name`` (a zoo name or a Hub ``ORG/NAME``, ``@REV`` works) and return the model.

    The model is in eval mode on ``device`` (and ``dtype``); its weights passed the sha256
    check twice (on pull and again right before loading). ``config_overrides`` replace
    constructor arguments; ``expected_class`` refuses a repo holding another architecture.
    A local folder is never looked for here (it would skip the sha256 gate unasked): load one
    with :func:`load_from_dir` or a class's ``from_pretrained``.
    """
    if "/" in name:
        repo_id, _, rev = name.partition("@")
        rev = rev or revision or "main"
        pulled = pull_repo(
            check_repo_id(repo_id),
            check_revision(rev),
            sha256=_registry_sha256(repo_id, rev),
            force=force,
            offline=offline,
            token=token,
            cache_dir=cache_dir,
        )
    else:
        pulled = pull(
            name, revision, force=force, offline=offline, token=token, cache_dir=cache_dir
        )
    if pulled.message:
        logger.warning(pulled.message)
    model = pulled.load(
        device=device,
        dtype=dtype,
        strict=strict,
        expected_class=expected_class,
        **config_overrides,
    )
    return cast(M, model)


def load_from_dir(
    folder: Path,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    strict: bool = True,
    expected_class: type[M] | None = None,
    **config_overrides: Any,
) -> M:
    """A model saved with ``save_pretrained`` in a local folder (safetensors only).

    A local folder has no outside digest to check against; its weights are read with
    safetensors, never unpickled, and must fit the architecture in its ``config.json``.
    """
    model = load_model_from_dir(
        folder,
        sha256=None,
        device=device,
        dtype=dtype,
        strict=strict,
        overrides=config_overrides,
        expected_class=expected_class,
    )
    return cast(M, model)


def _registry_sha256(repo_id: str, revision: str) -> str | None:
    """The registry's digest when ``repo_id@revision`` is exactly what a zoo entry pins."""
    from zoo.registry import list_models

    for name in list_models():
        spec = get_spec(name)
        if spec.repo_id == repo_id and spec.revision == revision and spec.sha256:
            return spec.sha256
    return None


def zoo_name_of(model: Any, model_name: str | None = None) -> str:
    """The zoo entry ``model`` belongs to: ``model_name``, else the name it was loaded by."""
    name = model_name or getattr(model, "zoo_name", None)
    if not name:
        raise InvalidNameError(
            "this model does not know its zoo name: pass model_name=... (see `zoo list`)."
        )
    return get_spec(check_model_name(name)).name


def model_config_of(model: Any, name: str, config: Any = None) -> dict[str, Any]:
    """The ``config.json`` of ``model`` saved as zoo entry ``name``, after checking it is one.

    ``config`` (constructor arguments as a dict or a dataclass, as ``save_pretrained`` takes
    it) defaults to the arguments the model captured when it was built.
    """
    if config is None:
        config = getattr(model, "_hub_mixin_config", None) or {}
    if is_dataclass(config) and not isinstance(config, type):
        config = asdict(config)
    _, args = split_config(dict(config))
    # Building a fresh one proves the arguments make this zoo entry, of this class.
    build_model(name, args, expected_class=type(model), where=f"this {type(model).__name__}")
    return zoo_config(name, args)


# ---------------------------------------------------------------------------------------------
# Publish


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
    weights = src / WEIGHTS_NAME
    if not weights.is_file():
        pickles = [p for p in PICKLE_NAMES if (src / p).exists()]
        if pickles:
            raise UnsafeWeightsError(
                f"{src} offers only {', '.join(pickles)}; genzoo publishes safetensors only."
            )
        hint = f"train it with `zoo train {name}`" if source is None else "check --from"
        raise WeightsNotFoundError(f"no {WEIGHTS_NAME} in {src}: {hint}.")
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
        f"{spec.channels} channel(s)\n- entry points: {', '.join(spec.tasks)}\n{digest}\n"
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
    api = _api(token)
    where = f"{repo_id}@{revision} on {_safe_url(hub_endpoint())}"
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
        if _is_unreachable(e):
            raise HubUnreachableError(f"cannot publish {where}: {_unreachable_reason(e)}") from e
        detail = _scrub(str(e).splitlines()[0]) if str(e) else type(e).__name__
        response = getattr(e, "response", None)
        status = getattr(response, "status_code", 0)
        hint = (
            "set HF_TOKEN to a token with write access to the repo"
            if status in (401, 403)
            else "check the repo id, and that the endpoint accepts uploads"
        )
        raise HubError(f"the Hub refused the upload to {where}: {detail}. {hint}.") from None
    return info.oid, info.commit_url


# ---------------------------------------------------------------------------------------------
# A local git repository in the Hub's layout (Git LFS for weights), for --to DIR


def write_git_repo(
    folder: Path, repo: Path, *, branch: str = "main", tag: str | None = None, message: str
) -> str:
    """Commit the files of ``folder`` to branch ``branch`` of the git repo ``repo``.

    Creates the repo when missing. Large binary files go in as Git LFS pointers with their
    objects under ``.git/lfs/objects``, as ``git lfs`` would store them, so the repo can be
    served by an HF-compatible server or pushed with ``git lfs push``. Other files already in
    the branch are kept (as ``upload_folder`` does). Returns the new commit sha.
    """
    check_revision(branch)
    repo = repo.resolve()
    if repo.exists() and not (repo / ".git").is_dir() and any(repo.iterdir()):
        raise InvalidNameError(f"{repo} exists and is not a git repository: choose another --to.")
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        _git(repo, "init", "-q", "-b", branch)
    if tag is not None and _git_ok(repo, "rev-parse", "-q", "--verify", f"refs/tags/{tag}"):
        raise InvalidNameError(f"tag {tag!r} already exists in {repo}: choose a new tag.")
    parent = _git_rev(repo, f"refs/heads/{branch}") or _git_rev(repo, "HEAD")
    index = repo / ".git" / "genzoo-publish.index"
    index.unlink(missing_ok=True)
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        if parent:
            _git(repo, "read-tree", parent, env=env)
        entries = {p.name: p for p in sorted(folder.iterdir()) if p.is_file()}
        if not parent or not _git_ok(repo, "cat-file", "-e", f"{parent}:.gitattributes"):
            attrs = repo / ".git" / "genzoo-gitattributes"
            attrs.write_text(
                "".join(f"*{s} filter=lfs diff=lfs merge=lfs -text\n" for s in LFS_SUFFIXES)
            )
            entries[".gitattributes"] = attrs
        for fname, path in entries.items():
            blob = _store_lfs(repo, path) if fname.endswith(LFS_SUFFIXES) else path.read_bytes()
            oid = _git(repo, "hash-object", "-w", "--stdin", data=blob)
            _git(repo, "update-index", "--add", "--cacheinfo", f"100644,{oid},{fname}", env=env)
        tree = _git(repo, "write-tree", env=env)
        args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
        commit = _git(repo, *args)
    finally:
        index.unlink(missing_ok=True)
        (repo / ".git" / "genzoo-gitattributes").unlink(missing_ok=True)
    _git(repo, "update-ref", f"refs/heads/{branch}", commit)
    if tag is not None:
        _git(repo, "tag", tag, commit)
    head = _git(repo, "symbolic-ref", "-q", "HEAD") if _git_ok(repo, "symbolic-ref", "HEAD") else ""
    if head == f"refs/heads/{branch}":
        # The checked-out branch moved: show its files (real content, as a git-lfs checkout).
        _git(repo, "read-tree", commit)
        for fname in entries:
            if fname != ".gitattributes":
                shutil.copyfile(folder / fname, repo / fname)
        _git(repo, "checkout-index", "-f", "--", ".gitattributes")
    return commit


def _store_lfs(repo: Path, path: Path) -> bytes:
    """Put ``path`` in the repo's LFS object store; return its pointer file's bytes."""
    sha = sha256_file(path)
    obj = repo / ".git" / "lfs" / "objects" / sha[:2] / sha[2:4] / sha
    if not obj.is_file():
        obj.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, obj)
    size = path.stat().st_size
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {size}\n".encode()


def _git_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "genzoo",
        "GIT_AUTHOR_EMAIL": "genzoo@localhost",
        "GIT_COMMITTER_NAME": "genzoo",
        "GIT_COMMITTER_EMAIL": "genzoo@localhost",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }
    return {**env, **(extra or {})}


def _git(
    repo: Path, *args: str, env: dict[str, str] | None = None, data: bytes | None = None
) -> str:
    """Run ``git -C repo args``; return its stripped stdout; raise a one-line error on failure."""
    if shutil.which("git") is None:
        raise HubError("publishing with --to needs git; install it (apt-get install git).")
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=data,
        capture_output=True,
        env=_git_env(env),
        check=False,
    )
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise HubError(f"git {args[0]} failed in {repo}: {err[-1] if err else proc.returncode}")
    return proc.stdout.decode().strip()


def _git_ok(repo: Path, *args: str) -> bool:
    return (
        subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, env=_git_env(None), check=False
        ).returncode
        == 0
    )


def _git_rev(repo: Path, ref: str) -> str | None:
    if not _git_ok(repo, "rev-parse", "-q", "--verify", f"{ref}^{{commit}}"):
        return None
    return _git(repo, "rev-parse", f"{ref}^{{commit}}")


__all__ = [
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
