"""Build the folder that travels to a GPU machine with no network (``make gpu-bundle``).

The device machine has Python 3.12, a CUDA build of torch and numpy 2.x, and nothing else of
ours. This gathers what it lacks into one ignored folder (default ``.gpu-bundle/``):

- ``triton.tar.xz``: the embedded Triton from this venv's ``nvidia-pytriton`` wheel, cut to what
  the launcher runs (``tritonserver``, the Python backend, the Python 3.12 stub, the local
  response cache and the libraries they link), in the wheel's own layout
  (``pytriton/tritonserver/...`` beside ``nvidia_pytriton.libs/``) so their RPATHs still hold;
- ``wheels/``: cp312 wheels for the Python packages the image lacks or has in versions that do
  not work with Triton 2.51 (numpy<2 for the stub, tritonclient without its perf_analyzer
  binaries, its JSON and protobuf versions, setuptools with ``pkg_resources``);
- ``bundle.json``: what is in it, with sizes and sha256.

The project itself travels as the working tree. ``scripts/gpu_check.py --bundle DIR`` unpacks
all this into a venv on the device. The folder must stay under ``--max-mib`` (60 MiB), and,
with the working tree, under the 64 MiB a device call carries: both are checked here.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zoo.weights import sha256_file

#: The device image's Python; the stub and the wheels are for it.
DEVICE_PYTHON = "3.12"
#: cp312 wheels the device installs (pip --no-index --no-deps). Pinned: what CI here runs with.
WHEELS = (
    "numpy==1.26.4",  # the Python-backend stub returns empty tensors with numpy 2.x
    "tritonclient==2.51.0",  # matches tritonserver 2.51; repacked without perf_analyzer
    "python-rapidjson==1.25",  # tritonclient.grpc imports it
    "protobuf==4.25.9",  # tritonclient 2.51 needs protobuf<5
    "setuptools==79.0.1",  # tritonclient.utils.shared_memory imports pkg_resources (gone in 80)
)
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
#: What a device call carries in all (working tree + carried folders).
TRAVEL_LIMIT_MIB = 64.0
MIB = 2**20
#: ``pytriton/__init__.py`` in the bundle.
PYTRITON_INIT = '''"""The server part of nvidia-pytriton (tritonserver, its Python backend), as
carried by genzoo's GPU bundle (`make gpu-bundle`); pytriton's Python API is not included."""
'''


def pytriton_site() -> Path:
    """The site-packages folder holding this venv's ``pytriton`` (found without importing it)."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("nvidia-pytriton is not installed in this venv: run `make setup` first.")
    return Path(next(iter(spec.submodule_search_locations))).resolve().parent


def triton_files(site: Path, python: str) -> list[Path]:
    """The embedded Triton's files the launcher uses with ``python``, relative to ``site``."""
    server = Path("pytriton") / "tritonserver"
    stub = server / "python_backend_stubs" / python / "triton_python_backend_stub"
    files = [
        server / "bin" / "tritonserver",
        server / "backends" / "python" / "libtriton_python.so",
        server / "backends" / "python" / "triton_python_backend_utils.py",
        stub,
        *(p.relative_to(site) for p in sorted((site / server / "caches").rglob("*.so"))),
    ]
    # Every library the wheel bundles, except the interpreter it carries for another
    # Python's stub: the stub used links the device's own libpython3.X.
    libs = sorted((site / "nvidia_pytriton.libs").iterdir())
    files += [p.relative_to(site) for p in libs if not p.name.startswith("libpython")]
    missing = [str(f) for f in files if not (site / f).is_file()]
    if missing:
        sys.exit(f"the nvidia-pytriton install lacks {', '.join(missing)}; reinstall it.")
    return files


def pack_triton(site: Path, dest: Path, python: str) -> None:
    """``triton.tar.xz`` of :func:`triton_files` (xz on every core, Python's lzma reads it)."""
    with tempfile.TemporaryDirectory() as tmp:
        tar_path = Path(tmp) / "triton.tar"
        with tarfile.open(tar_path, "w") as tar:
            for rel in triton_files(site, python):
                tar.add(site / rel, arcname=str(rel))
            # A regular package, so that it wins over a pytriton later on sys.path (a folder
            # without __init__.py would lose to it); pytriton's Python API is not carried.
            init = PYTRITON_INIT.encode()
            info = tarfile.TarInfo("pytriton/__init__.py")
            info.size, info.mode = len(init), 0o644
            tar.addfile(info, io.BytesIO(init))
        subprocess.run(["xz", "-9e", "-T0", "-f", str(tar_path)], check=True)
        shutil.move(str(tar_path) + ".xz", dest)


def slim_wheel(wheel: Path) -> None:
    """Rewrite ``wheel`` without its ``.data/data/bin`` programs (perf_analyzer: 40 MB)."""
    tmp = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        dropped = {i.filename for i in src.infolist() if ".data/data/bin/" in i.filename}
        for info in src.infolist():
            if info.filename in dropped:
                continue
            data = src.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                lines = data.decode().splitlines()
                data = "".join(
                    f"{x}\n" for x in lines if x.split(",", 1)[0] not in dropped
                ).encode()
            out.writestr(info, data)
    tmp.replace(wheel)


def download_wheels(dest: Path, python: str) -> None:
    """The wheels of :data:`WHEELS` for ``python``, without dependencies (the image has the
    rest)."""
    dest.mkdir(parents=True, exist_ok=True)
    platforms = [a for p in PLATFORMS for a in ("--platform", p)]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            python,
            "--implementation",
            "cp",
            *platforms,
            "-d",
            str(dest),
            *WHEELS,
        ],
        check=True,
    )
    for wheel in dest.glob("tritonclient-*.whl"):
        slim_wheel(wheel)


def tree_bytes(root: Path) -> int:
    """Bytes of what a device call sends besides the carried folders: git's tracked and
    untracked-but-not-ignored files."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    return sum(
        (root / p.decode()).stat().st_size for p in listed if p and (root / p.decode()).is_file()
    )


def main(argv: list[str] | None = None) -> int:
    """Build the bundle; exit 1 when it is over its size limits."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(".gpu-bundle"), help="bundle folder")
    parser.add_argument("--max-mib", type=float, default=60.0, help="size limit of the bundle")
    parser.add_argument(
        "--python", default=DEVICE_PYTHON, help="the device's Python (3.12; another to rehearse)"
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    site = pytriton_site()
    pack_triton(site, out / "triton.tar.xz", args.python)
    download_wheels(out / "wheels", args.python)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    contents: dict[str, dict[str, Any]] = {
        str(p.relative_to(out)): {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
        for p in files
    }
    manifest = {
        "built": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": args.python,
        "wheels": list(WHEELS),
        "triton_from": str(site / "pytriton"),
        "files": contents,
    }
    (out / "bundle.json").write_text(json.dumps(manifest, indent=2) + "\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / MIB
    tree = tree_bytes(Path.cwd()) / MIB
    for name, info in contents.items():
        print(f"{info['bytes'] / MIB:8.2f} MiB  {name}")
    print(f"{size:8.2f} MiB  {out}/ (limit {args.max_mib:.0f} MiB)")
    print(
        f"{size + tree:8.2f} MiB  with the working tree ({tree:.2f} MiB), what a device call "
        f"carries (limit {TRAVEL_LIMIT_MIB:.0f} MiB)"
    )
    if size > args.max_mib or size + tree > TRAVEL_LIMIT_MIB:
        print("make gpu-bundle: the bundle is over its size limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
