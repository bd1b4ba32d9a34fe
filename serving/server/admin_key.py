"""Triton's restricted admin APIs: the key, the header that carries it, the flags that set it.

With a key, Triton's model-repository (index, load, unload), shared-memory, statistics, trace
and logging APIs answer only requests that carry it in the :data:`ADMIN_KEY_HEADER` header
(:func:`admin_headers`); health, metadata, model configuration and inference stay open, so the
SDK needs no key to infer. ``zoo serve`` generates a key into a 0600 file
(:func:`write_admin_key`) or takes ``ZOO_ADMIN_KEY`` (:func:`read_admin_key`); the
launcher (:mod:`serving.server.triton`) and the deploy manifests pass
:func:`restricted_api_flags`. Triton 2.51 takes the key on its command line only (no file or
environment option), so local users who can list processes can read it; the restriction keeps
out remote callers.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from zoo.errors import InvalidInputError
from zoo.settings import admin_key_env

#: Triton APIs that need the admin key when the server is restricted: loading, unloading and
#: listing models, shared-memory regions, statistics, trace and log settings. Health, metadata,
#: model configuration and inference stay open (a client needs nothing else to infer).
RESTRICTED_APIS = ("model-repository", "shared-memory", "statistics", "trace", "logging")
#: HTTP header that carries the admin key (gRPC: the same name after ``triton-grpc-protocol-``).
ADMIN_KEY_HEADER = "zoo-admin-key"
#: Prefix Triton puts before the header name of a restricted gRPC protocol.
GRPC_RESTRICTED_PREFIX = "triton-grpc-protocol-"
#: What an admin key may hold: it must survive Triton's ``APIS:header=value`` flag and a header.
_ADMIN_KEY = re.compile(r"[A-Za-z0-9._~+/-]{16,256}")


def restricted_api_flags(key: str) -> list[str]:
    """Triton's flags that put :data:`RESTRICTED_APIS` behind :data:`ADMIN_KEY_HEADER` = ``key``.

    Over HTTP (``--http-restricted-api``) and gRPC (``--grpc-restricted-protocol``); ``key``
    may be a placeholder the process's launcher expands (Kubernetes: ``$(ZOO_ADMIN_KEY)``).
    """
    restricted = f"{','.join(RESTRICTED_APIS)}:{ADMIN_KEY_HEADER}={key}"
    return [f"--http-restricted-api={restricted}", f"--grpc-restricted-protocol={restricted}"]


def admin_headers(key: str | None, protocol: str = "http") -> dict[str, str]:
    """Headers that carry ``key`` to the restricted APIs over ``protocol`` (none for no key).

    Pass them to tritonclient calls (``headers=``); Triton expects the header as
    ``zoo-admin-key`` over HTTP and ``triton-grpc-protocol-zoo-admin-key`` over gRPC.
    """
    if key is None:
        return {}
    name = ADMIN_KEY_HEADER if protocol == "http" else GRPC_RESTRICTED_PREFIX + ADMIN_KEY_HEADER
    return {name: key}


def check_admin_key(key: str, source: str) -> str:
    """``key`` if it can be an admin key, else :class:`InvalidInputError` naming ``source``."""
    if not _ADMIN_KEY.fullmatch(key):
        raise InvalidInputError(
            f"the admin key from {source} must be 16-256 characters of letters, digits and "
            "._~+/- (no spaces, ':' or '='); make one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
    return key


def write_admin_key(path: Path) -> str:
    """Write a fresh random admin key to ``path``, readable by this user only (0600)."""
    key = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    # Created 0600 (never readable by others, not even for a moment), then moved into place.
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return key


def read_admin_key(path: Path | None = None) -> str | None:
    """The admin key from ``path`` (a file holding it), else ``ZOO_ADMIN_KEY``, else ``None``."""
    if path is not None:
        try:
            text = Path(path).read_text().strip()
        except OSError as e:
            raise InvalidInputError(
                f"cannot read the admin key file {path} ({e.strerror}); `zoo serve` prints "
                "where it wrote the key."
            ) from None
        return check_admin_key(text, str(path))
    key = admin_key_env()
    return None if key is None else check_admin_key(key, "ZOO_ADMIN_KEY")
