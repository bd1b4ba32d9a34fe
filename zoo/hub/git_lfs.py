"""Git and Git LFS plumbing: a local git repository in the Hub's layout, for ``publish --to``.

The weights (and PNGs) go in as Git LFS pointers with their objects under ``.git/lfs/objects``,
as ``git lfs`` stores them, so the repository can be served by an HF-compatible server or
pushed with ``git lfs push``. Only plain ``git`` is needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from zoo.errors import HubError, InvalidNameError
from zoo.hub.names import check_revision
from zoo.weights import sha256_file

#: Files stored through Git LFS in a repo written by ``publish(to=...)``, as the Hub does.
LFS_SUFFIXES = (".safetensors", ".png")


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
