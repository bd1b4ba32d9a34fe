"""The Hugging Face environment and huggingface_hub's errors, as genzoo reads them.

The environment (``HF_ENDPOINT``, ``HF_HUB_CACHE``/``HF_HOME``, ``HF_HUB_OFFLINE``, ``HF_TOKEN``)
is read at call time, so a process (or a test) can change it before calling. huggingface_hub's
errors become genzoo's (:mod:`zoo.errors`), each one line that says what to do, with any token
masked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from zoo._version import __version__
from zoo.errors import HubError, HubRepoNotFoundError, HubUnreachableError

if TYPE_CHECKING:
    from huggingface_hub import HfApi


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


def safe_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scrub(text: str) -> str:
    """``text`` with the value of ``HF_TOKEN`` (if any) masked: tokens never reach messages."""
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    return text.replace(token, "***") if token else text


def is_unreachable(e: BaseException) -> bool:
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


def unreachable_reason(e: BaseException | None) -> str:
    """One line saying why the Hub was not reached (offline mode, or the transport's error)."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    # huggingface_hub chains the transport error under its own; the cause is the short story.
    cause = e.__cause__ if e is not None and e.__cause__ is not None else e
    if cause is None or isinstance(cause, OfflineModeIsEnabled):
        return "offline mode (HF_HUB_OFFLINE / --offline): the Hub is not contacted"
    detail = scrub(str(cause).splitlines()[0]) if str(cause) else type(cause).__name__
    return f"the Hub at {safe_url(hub_endpoint())} cannot be reached ({detail})"


@contextmanager
def hub_errors(where: str) -> Iterator[None]:
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
        if is_unreachable(e):
            raise HubUnreachableError(unreachable_reason(e)) from e
        if isinstance(e, RevisionNotFoundError):
            raise HubError(f"revision not found: {where}. Check the branch, tag or sha.") from None
        if isinstance(e, GatedRepoError):
            raise HubError(f"{where} is gated: accept its terms and set HF_TOKEN.") from None
        if isinstance(e, RepositoryNotFoundError):
            raise HubRepoNotFoundError(
                f"not found: {where}. Check the repo id and revision; a private repo needs "
                "HF_TOKEN set to a token that can read it."
            ) from None
        if isinstance(e, HfHubHTTPError):
            raise HubError(f"the Hub refused {where}: {scrub(str(e).splitlines()[0])}") from None
        raise


def hub_api(token: str | bool | None) -> HfApi:
    """An :class:`huggingface_hub.HfApi` on :func:`hub_endpoint` that names genzoo as its client."""
    from huggingface_hub import HfApi

    return HfApi(
        endpoint=hub_endpoint(), token=token, library_name="genzoo", library_version=__version__
    )
