"""Names the hub code accepts: revisions, Hub repo ids and ``NAME[@REVISION]`` references.

Every user-supplied name is checked here before it becomes a path or a URL.
"""

from __future__ import annotations

import re

from zoo.errors import InvalidNameError
from zoo.naming import check_model_name

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# A branch or tag: path-like segments of safe characters (git's own rules are looser).
_REF_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$")
_REPO_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


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


def is_git_sha(text: str) -> bool:
    """Whether ``text`` is a 40-hex git object id: a commit sha, or a file's git blob id."""
    return bool(_HEX40.fullmatch(text))


def is_sha256(text: str) -> bool:
    """Whether ``text`` is a 64-hex sha256 digest."""
    return bool(_HEX64.fullmatch(text))
