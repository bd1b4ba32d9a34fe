"""A real HF-compatible server for the hub tests: the olah mirror on loopback, offline mode.

The mirror serves git repositories from a temporary folder (``<mirror>/models/<org>/<name>``),
built here with plain git and the Git LFS object layout, independently of ``zoo.hub``'s own
writer, so the pull tests do not rest on the publish code:

- ``genzoo/dcgan-mnist``: ``v0.1`` (tag) → ``main`` (two commits), plus a ``dev`` branch off
  ``v0.1`` and a ``legacy`` branch whose ``config.json`` has the layout before constructor
  arguments moved to the top level (``{"model_name", "family", "config": {...}}``). ``main``
  carries the bundled folder (trained weights, card, eval.json, samples.png) once the weights
  are committed (so the registry's sha256 applies), random weights until then.
- ``genzoo/cgan-mnist``: one commit, the weights stored as a plain git blob (no LFS).
- ``genzoo/classifier-mnist``: only a ``pytorch_model.bin``, which pulls must refuse.

olah lives in ``.venv-olah`` (``make olah``; ``make test`` creates it), since its pins clash
with ours.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from zoo.registry import create_model, get_spec
from zoo.settings import CONFIG_NAME, WEIGHTS_NAME
from zoo.weights import bundled_dir, save_weights, sha256_file

REPO_ROOT = Path(__file__).resolve().parents[2]
OLAH_CLI = Path(os.environ.get("ZOO_OLAH_CLI", REPO_ROOT / ".venv-olah" / "bin" / "olah-cli"))

_GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "tests",
    "GIT_AUTHOR_EMAIL": "tests@localhost",
    "GIT_COMMITTER_NAME": "tests",
    "GIT_COMMITTER_EMAIL": "tests@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; return stdout."""
    out = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, env=_GIT_ENV
    )
    return out.stdout.decode().strip()


def commit_files(repo: Path, files: dict[str, bytes], message: str, *, lfs: bool = True) -> str:
    """Commit ``files`` as the Hub stores them: ``*.safetensors`` as Git LFS pointers."""
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "-q", "-b", "main")
    for name, data in files.items():
        if lfs and name.endswith(".safetensors"):
            oid = hashlib.sha256(data).hexdigest()
            obj = repo / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid
            obj.parent.mkdir(parents=True, exist_ok=True)
            obj.write_bytes(data)
            data = (
                f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(data)}\n"
            ).encode()
        (repo / name).write_bytes(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def model_files(name: str, seed: int, folder: Path) -> dict[str, bytes]:
    """``config.json`` + ``model.safetensors`` of ``name`` with random weights from ``seed``."""
    torch.manual_seed(seed)
    model = create_model(name)
    save_weights(model, folder, name, dict(get_spec(name).config))
    return {n: (folder / n).read_bytes() for n in (CONFIG_NAME, WEIGHTS_NAME)}


def legacy_config(name: str) -> bytes:
    """A ``config.json`` of ``name`` in the layout genzoo wrote before the Hub mixin."""
    spec = get_spec(name)
    cfg = {"model_name": name, "family": spec.family, "config": dict(spec.config)}
    return (json.dumps(cfg, indent=2, sort_keys=True) + "\n").encode()


def bundled_files(name: str) -> dict[str, bytes] | None:
    """The bundled folder of ``name`` when its trained weights are committed and registered."""
    spec = get_spec(name)
    folder = bundled_dir(name)
    weights = folder / WEIGHTS_NAME
    if not spec.sha256 or not weights.is_file() or sha256_file(weights) != spec.sha256:
        return None
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@dataclass
class Mirror:
    """The running olah mirror and what its repos hold."""

    url: str  # http://127.0.0.1:PORT
    root: Path  # mirrors-path: repos at <root>/models/<org>/<name>
    commits: dict[str, str] = field(default_factory=dict)  # label -> commit sha
    weights: dict[str, bytes] = field(default_factory=dict)  # commit sha -> safetensors bytes
    bundled_main: bool = False  # dcgan-mnist main holds the bundled (registry-pinned) weights

    def repo_dir(self, repo_id: str) -> Path:
        """Where the git repo of ``repo_id`` lives in the mirror."""
        return self.root / "models" / repo_id

    def git(self, repo_id: str, *args: str) -> str:
        """Run git in the mirror's repo of ``repo_id`` (the server sees the change at once)."""
        return git(self.repo_dir(repo_id), *args)

    def commit_on_branch(
        self, repo_id: str, branch: str, start: str, files: dict[str, bytes]
    ) -> str:
        """Commit ``files`` on ``branch`` (created at ``start``); the checkout goes back to main."""
        repo = self.repo_dir(repo_id)
        git(repo, "checkout", "-q", "-B", branch, start)
        try:
            return commit_files(repo, files, f"on {branch}")
        finally:
            git(repo, "checkout", "-q", "main")


def _build_repos(root: Path, work: Path) -> Mirror:
    mirror = Mirror(url="", root=root)
    dcgan = root / "models" / "genzoo" / "dcgan-mnist"
    c1_files = model_files("dcgan-mnist", 1, work / "c1")
    c1 = commit_files(dcgan, {**c1_files, "README.md": b"# dcgan-mnist v0.1\n"}, "v0.1")
    git(dcgan, "tag", "v0.1")
    bundled = bundled_files("dcgan-mnist")
    mirror.bundled_main = bundled is not None
    c2_files = bundled or model_files("dcgan-mnist", 2, work / "c2")
    c2 = commit_files(dcgan, c2_files, "retrained")
    git(dcgan, "checkout", "-q", "-b", "dev", c1)
    c3_files = model_files("dcgan-mnist", 3, work / "c3")
    c3 = commit_files(dcgan, c3_files, "experiment")
    git(dcgan, "checkout", "-q", "-b", "legacy", c1)
    c4_files = model_files("dcgan-mnist", 6, work / "c4")
    c4_files[CONFIG_NAME] = legacy_config("dcgan-mnist")
    c4 = commit_files(dcgan, c4_files, "config.json in the older layout")
    git(dcgan, "checkout", "-q", "main")
    for label, sha, files in (
        ("v0.1", c1, c1_files),
        ("main", c2, c2_files),
        ("dev", c3, c3_files),
        ("legacy", c4, c4_files),
    ):
        mirror.commits[label] = sha
        mirror.weights[sha] = files[WEIGHTS_NAME]

    cgan = root / "models" / "genzoo" / "cgan-mnist"
    plain = model_files("cgan-mnist", 4, work / "cgan")
    mirror.commits["cgan"] = commit_files(cgan, plain, "plain git, no LFS", lfs=False)
    mirror.weights[mirror.commits["cgan"]] = plain[WEIGHTS_NAME]

    pickled = root / "models" / "genzoo" / "classifier-mnist"
    cfg = model_files("classifier-mnist", 5, work / "cls")[CONFIG_NAME]
    # Never loaded by anyone: the pull must refuse before fetching it.
    commit_files(pickled, {CONFIG_NAME: cfg, "pytorch_model.bin": b"\x80\x04not-safe"}, "pickle")
    return mirror


def _die_with_parent() -> None:
    # Linux: the server gets SIGTERM if pytest dies, so no orphan outlives the run.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@pytest.fixture(scope="session")
def olah(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirror]:
    """Build the mirror's repos, start olah on a free loopback port, stop it afterwards."""
    if not OLAH_CLI.exists():
        pytest.fail(f"{OLAH_CLI} is missing: run `make olah` (make test creates it).")
    base = tmp_path_factory.mktemp("olah")
    mirror = _build_repos(base / "mirror", base / "work")
    port = free_port()
    mirror.url = f"http://127.0.0.1:{port}"
    (base / "repos").mkdir()
    config = base / "olah.toml"
    config.write_text(
        "[basic]\n"
        f'host = "127.0.0.1"\nport = {port}\n'
        f'repos-path = "{base / "repos"}"\nmirrors-path = ["{mirror.root}"]\n'
        # Upstream is a closed port: the mirror never reaches the real Hub.
        'hf-scheme = "http"\nhf-netloc = "127.0.0.1:9"\nhf-lfs-netloc = "127.0.0.1:9"\n'
        "[accessibility]\noffline = true\n"
    )
    log = open(base / "olah.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [str(OLAH_CLI), "-c", str(config)],
        cwd=base,  # olah writes ./logs
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    try:
        _wait_ready(proc, f"{mirror.url}/api/models/genzoo/dcgan-mnist/revision/main", base)
        yield mirror
    finally:
        _stop(proc)
        log.close()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, base: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (base / "olah.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"olah exited with {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    _stop(proc)
    pytest.fail(f"olah did not answer {url} within 90 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def hub_env(olah: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point this process (and the environment for subprocesses) at the mirror, fresh cache."""
    for var in (
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_HUB_OFFLINE",
        "HF_HUB_CACHE",
        "ZOO_DEBUG",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", olah.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    return dict(os.environ)


def run_zoo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the ``zoo`` CLI in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-c", "from zoo.cli.main import app; app()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture
def zoo_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``zoo_cli(*args, env=...)`` runs the CLI in a subprocess."""
    return run_zoo


@pytest.fixture
def dead_endpoint() -> str:
    """A loopback URL where nothing listens: the Hub "cannot be reached"."""
    return f"http://127.0.0.1:{free_port()}"


class CuttingProxy:
    """A loopback TCP relay to the mirror that breaks the network in the middle of a download.

    It forwards bytes both ways until one connection has carried ``limit`` bytes back to the
    client, then closes that connection and stops listening, as a dropped link would: the
    client sees a truncated body, then refused connections on its retries.
    """

    def __init__(self, upstream_port: int, limit: int) -> None:
        self.upstream_port, self.limit = upstream_port, limit
        self.cut = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self.cut.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, self.limit), daemon=True
            ).start()
        self._server.close()

    def _pump(self, src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while data := src.recv(65536):
                if limit is not None and sent + len(data) > limit:
                    dst.sendall(data[: limit - sent])
                    self.cut.set()
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        """Stop listening (idempotent)."""
        self.cut.set()
        self._thread.join(timeout=5)


@pytest.fixture
def cutting_proxy(olah: Mirror) -> Iterator[CuttingProxy]:
    """A relay to the mirror that drops the link after 64 KiB of one response."""
    port = int(olah.url.rsplit(":", 1)[1])
    proxy = CuttingProxy(port, limit=64 * 1024)
    yield proxy
    proxy.close()
