"""The built wheel's metadata, and ``genzoo[client]`` installed as a user installs it.

A fresh venv gets the wheel with its ``client`` extra, numpy 2 and the newest tritonclient the
registry serves: no torch, no ONNX Runtime, no CUDA package. Its SDK (sync and async, HTTP and
gRPC, system shared memory) and its CLI's remote commands run against the session's Triton and
must return the same bytes as this project's venv.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable
from email.parser import Parser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from packaging.requirements import Requirement
from PIL import Image

from serving.server.triton import TritonServer

HERE = Path(__file__).parent
ROOT = HERE.parents[1]

pytestmark = pytest.mark.slow


def requires_dist(wheel: Path) -> list[str]:
    """The ``Requires-Dist`` lines of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(z.read(name).decode())
    return meta.get_all("Requires-Dist") or []


def test_wheel_metadata_has_ranges_not_pins(dists: Any) -> None:
    """No ``==`` anywhere; the client extra is tritonclient's http and grpc parts, no torch."""
    reqs = requires_dist(dists.wheel)
    pinned = [r for r in reqs if any(s.operator in ("==", "===") for s in Requirement(r).specifier)]
    assert reqs and not pinned, pinned
    client = [r.split(";")[0].replace(" ", "") for r in reqs if 'extra == "client"' in r]
    base = [r for r in reqs if "extra ==" not in r]
    assert any(r.startswith("tritonclient[grpc,http]>=2.51") for r in client), client
    assert not [r for r in client + base if re.match(r"(torch|onnxruntime|cuda|nvidia)", r)]
    assert "numpy>=1.26" in base  # numpy 1.x or 2.x; only `serve` says <2
    serve = [r.split(";")[0] for r in reqs if 'extra == "serve"' in r]
    assert "numpy<2" in serve
    assert dists.sdist.stat().st_size > 0


def test_wheel_and_sdist_ship_every_family_table(dists: Any) -> None:
    """The ``models.toml`` of each family package that reads one at import is in both."""
    inits = ROOT.glob("zoo/models/*/__init__.py")
    readers = [p.parent for p in inits if "register_table()" in p.read_text(encoding="utf-8")]
    tables = sorted((p / "models.toml").relative_to(ROOT).as_posix() for p in readers)
    assert len(tables) >= 5, tables  # classifier, cyclegan, dcgan, stylegan2, vae
    with zipfile.ZipFile(dists.wheel) as z:
        assert set(tables) <= set(z.namelist()), tables
    with tarfile.open(dists.sdist) as t:
        # An sdist's members sit under its "<name>-<version>/" folder.
        shipped = {n.partition("/")[2] for n in t.getnames()}
    assert set(tables) <= shipped, tables


@pytest.fixture(scope="module")
def client_venv(dists: Any, fresh_venv: Callable[[str], Any]) -> Any:
    """``genzoo[client]`` from the wheel, numpy 2 and the newest tritonclient (no constraints)."""
    env = fresh_venv("client")
    seconds = env.pip_install(f"genzoo[client] @ {dists.wheel.as_uri()}", "numpy>=2")
    print(f"client venv installed in {seconds:.0f} s, {env.size_mib():.0f} MiB")
    return env


def newest_tritonclient(env: Any) -> str:
    """The newest tritonclient release the registry serves (``pip index versions``)."""
    done = env.run("python", "-m", "pip", "index", "versions", "tritonclient")
    assert done.returncode == 0, done.stderr
    return re.search(r"tritonclient \(([^)]+)\)", done.stdout).group(1)  # type: ignore[union-attr]


def test_client_install_has_no_torch_and_newest_tritonclient(client_venv: Any) -> None:
    """What `pip install "genzoo[client]"` brings: numpy 2, tritonclient, nothing heavy."""
    dists = client_venv.installed()
    heavy = [d for d in dists if re.match(r"(torch|onnxruntime|onnx$|cuda|nvidia)", d)]
    assert not heavy, heavy
    assert int(dists["numpy"].split(".")[0]) >= 2
    assert dists["tritonclient"] == newest_tritonclient(client_venv)
    # The CLI imports without torch: `zoo --help` lists the commands.
    done = client_venv.run("zoo", "--help")
    assert done.returncode == 0 and "generate" in done.stdout, done.stderr


def test_client_command_needing_torch_names_the_extra(client_venv: Any) -> None:
    """A command that needs torch prints one line naming the extra and exits 1."""
    done = client_venv.run("zoo", "export", "dcgan-mnist")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: torch is not installed. Install it with `pip install 'genzoo[torch]'`."
    )


def test_client_sdk_returns_the_project_venvs_bytes(
    client_venv: Any, triton: TritonServer, tmp_path: Path
) -> None:
    """Every SDK call in every mode: the fresh install's outputs equal the project venv's."""
    urls = [triton.http_url, f"grpc://{triton.grpc_url}"]
    script = HERE / "client_calls.py"
    ours, theirs = tmp_path / "ours.npz", tmp_path / "theirs.npz"
    # The script by its path (its folder is then sys.path[0]: only this file, no package).
    mine = subprocess.run(
        [sys.executable, script, *urls, ours], capture_output=True, text=True, timeout=300
    )
    assert mine.returncode == 0, mine.stderr
    t0 = time.monotonic()
    done = client_venv.run("python", script, *urls, theirs)
    assert done.returncode == 0, done.stderr
    print(f"client SDK calls: {time.monotonic() - t0:.1f} s")
    want, got = np.load(ours), np.load(theirs)
    assert sorted(want.files) == sorted(got.files) and len(want.files) > 50
    for key in want.files:
        assert want[key].dtype == got[key].dtype and want[key].shape == got[key].shape, key
        assert want[key].tobytes() == got[key].tobytes(), key
    versions = (theirs.with_suffix(".json")).read_text()
    assert '"numpy": "2.' in versions, versions


CLI_CALLS = [
    ["generate", "dcgan-mnist", "--seeds", "0-5", "--out", "{out}/generate.png"],
    ["generate", "stylegan2-mnist", "--seeds", "0-3", "--psi", "0.7", "--out", "{out}/psi.png"],
    ["translate", "cyclegan-digits", "{d0}", "{d1}", "--direction", "b2a", "--out",
     "{out}/translate.png"],
    ["inpaint", "vae-mnist", "{d0}", "{d1}", "--hole", "0,0,32,10", "--out", "{out}/inpaint.png"],
    ["encode", "vae-mnist", "{d0}", "{d1}", "--out", "{out}/codes.npz"],
    ["decode", "vae-mnist", "{out}/codes.npz", "--out", "{out}/decode.png"],
    ["reconstruct", "vae-mnist", "{d0}", "{d1}", "--out", "{out}/reconstruct.png"],
    ["classify", "classifier-mnist", "{d0}", "{d1}", "--json"],
    ["interpolate", "dcgan-mnist", "--seeds", "1,2", "--out", "{out}/morph.gif"],
    ["project", "stylegan2-mnist", "{d0}", "{d1}", "--steps", "0", "--out", "{out}/project"],
]  # fmt: skip


def test_client_cli_remote_commands_write_the_project_venvs_bytes(
    client_venv: Any, triton: TritonServer, tmp_path: Path
) -> None:
    """The CLI's remote commands (`--url`) from the fresh install: the same files and output."""
    digits = np.random.default_rng(0).integers(0, 256, (2, 32, 32), dtype=np.uint8)
    paths = {}
    for i, d in enumerate(digits):
        paths[f"d{i}"] = tmp_path / f"d{i}.png"
        Image.fromarray(d).save(paths[f"d{i}"])
    project_zoo = Path(sys.executable).parent / "zoo"
    # Folders of the same length and a wide terminal: rich wraps the paths it prints alike.
    for who, zoo in (("ours", str(project_zoo)), ("them", "zoo")):
        out = tmp_path / who
        out.mkdir()
        for call in CLI_CALLS:
            args = [a.format(out=out, **paths) for a in call] + ["--url", triton.http_url]
            run = client_venv.run if who == "them" else _run_here
            done = run(zoo, *args, COLUMNS="200")
            assert done.returncode == 0, (who, args, done.stdout, done.stderr)
            (out / f"{call[0]}-{call[1]}.stdout").write_text(done.stdout.replace(str(out), "OUT"))
    ours = sorted(p.relative_to(tmp_path / "ours") for p in (tmp_path / "ours").rglob("*"))
    theirs = sorted(p.relative_to(tmp_path / "them") for p in (tmp_path / "them").rglob("*"))
    assert ours == theirs and len(ours) > len(CLI_CALLS)
    for rel in ours:
        a, b = tmp_path / "ours" / rel, tmp_path / "them" / rel
        if a.is_file():
            assert a.read_bytes() == b.read_bytes(), rel


def _run_here(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the project venv's program (this checkout's package) with ``env`` added."""
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=300, env={**os.environ, **env}
    )


def test_client_bench_measures_triton_targets_without_torch(
    client_venv: Any, triton: TritonServer, tmp_path: Path
) -> None:
    """`zoo bench --url` on Triton targets runs without torch; the report says what it left out."""
    out = tmp_path / "bench"
    args = ["bench", "dcgan-mnist", "--targets", "triton-http,triton-grpc", "--url",
            triton.http_url, "--grpc-url", triton.grpc_url, "--batch", "8", "--concurrency", "1",
            "--duration", "0.3", "--warmup", "0.1", "--report", str(out)]  # fmt: skip
    done = client_venv.run("zoo", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((out / "bench.json").read_text())
    assert [c["status"] for c in report["results"]] == ["ok", "ok"]
    assert report["environment"]["versions"]["torch"] is None
    assert report["model"]["gflop_per_image"] is None and report["peak"] is None
    assert "FLOPs not counted (torch is not installed here" in (out / "bench.md").read_text()
    assert (out / "throughput.png").stat().st_size > 0
