"""Packaging fixtures: the wheel and sdist built from this checkout, and fresh virtualenvs.

The venvs install from the built wheel, never from the checkout, and run from a temp folder
with an environment that cannot see it (no PYTHONPATH, cwd elsewhere). pip's own cache (warm
after the first run) keeps the installs to tens of seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import venv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Dists:
    """What ``python -m build`` wrote."""

    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class FreshVenv:
    """A virtualenv outside the checkout, and how to run its programs there."""

    path: Path
    home: Path  # the cwd of every command: a temp folder, not the checkout

    @property
    def python(self) -> Path:
        """The venv's interpreter."""
        return self.path / "bin" / "python"

    def env(self, **extra: str) -> dict[str, str]:
        """This process's environment minus what could reach the checkout or the suite's settings
        (PYTHONPATH, the active venv, ZOO_* and HF_*), the venv's bin first on PATH. HOME stays:
        pip's cache and configuration are the user's."""
        drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in drop and not k.startswith(("ZOO_", "HF_"))
        }
        env["PATH"] = f"{self.path / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
        env["HF_ENDPOINT"] = "http://127.0.0.1:9"  # as the suite's: no test reaches the Hub
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        return {**env, **extra}

    def run(
        self, *args: str | Path, timeout: float = 300, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run ``args`` (a program of the venv's bin, or any command) in :attr:`home`."""
        cmd = [str(a) for a in args]
        if (self.path / "bin" / cmd[0]).exists():
            cmd[0] = str(self.path / "bin" / cmd[0])
        return subprocess.run(
            cmd,
            cwd=self.home,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def pip_install(self, *requirements: str, timeout: float = 600) -> float:
        """``pip install`` into the venv; the seconds it took. Fails the test with pip's output."""
        t0 = time.monotonic()
        # --no-compile: no .pyc for torch's thousands of modules up front (a third of the time);
        # Python writes the ones it imports when it imports them, as it does for any install.
        args = ("install", "-q", "--no-compile", *requirements)
        done = self.run("python", "-m", "pip", *args, timeout=timeout)
        assert done.returncode == 0, done.stdout + done.stderr
        return time.monotonic() - t0

    def size_mib(self) -> float:
        """What the venv takes on disk (its files, pip's own included), in MiB."""
        files = (p for p in self.path.rglob("*") if p.is_file() and not p.is_symlink())
        return sum(p.stat().st_size for p in files) / 2**20

    def installed(self) -> dict[str, str]:
        """Every installed distribution's normalized name → version."""
        code = (
            "import json; from importlib import metadata as m; print(json.dumps("
            "{d.metadata['Name'].lower().replace('_', '-'): d.version for d in m.distributions()}))"
        )
        done = self.run("python", "-c", code)
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """The wheel and sdist of this checkout (``python -m build``), checked by ``twine check``."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    (wheel,) = out.glob("genzoo-*.whl")
    (sdist,) = out.glob("genzoo-*.tar.gz")
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    return Dists(wheel, sdist)


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], FreshVenv]:
    """``fresh_venv(name)``: a new virtualenv (with pip) in a temp folder of its own."""

    def make(name: str) -> FreshVenv:
        root = tmp_path_factory.mktemp(name)
        path, home = root / "venv", root / "home"
        home.mkdir()
        venv.EnvBuilder(with_pip=True, clear=True).create(path)
        return FreshVenv(path, home)

    return make


@pytest.fixture(scope="session")
def checkout() -> Path:
    """The root of this checkout (its constraints files; what a fresh venv must not read)."""
    return ROOT
