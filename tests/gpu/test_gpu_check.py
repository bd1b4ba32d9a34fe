"""``scripts/gpu_check.py`` in its quick CPU mode, so the GPU check cannot rot between GPU runs,
and the pieces of it and of ``scripts/build_gpu_bundle.py`` that need no GPU (the bench's
goals are tested in ``tests/bench/test_bench_gpu_goals.py``)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from serving.apps.bench.results import BenchReport

ROOT = Path(__file__).resolve().parents[2]


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_quick_mode_runs_every_stage_on_cpu(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "gpu_check.py"),
            "--device",
            "cpu",
            "--quick",
            "--out",
            str(out),
            "--budget-s",
            "120",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = sorted(p.name for p in out.iterdir())
    assert len(files) <= 8  # what a device call brings back
    assert {"gpu-check.json", "gpu-check.md", "throughput.png", "pytest.log"} <= set(files)
    result = json.loads((out / "gpu-check.json").read_text())
    assert result["schema"] == "genzoo.gpu-check/3"
    assert result["mode"] == "quick" and result["environment"]["device"] == "cpu"
    assert result["pytest"]["exit_code"] == 0 and "skipped" in result["pytest"]["summary"]
    assert result["peak"]["fp32"]["gflops"] > 0
    (bench,) = result["bench"]
    assert bench["model"] == "dcgan-mnist" and bench["status"] == "ok"
    report = BenchReport.from_dict(bench["report"])  # one report format: zoo bench's
    assert report.schema == "genzoo.bench/2" and report.peak == result["peak"]["fp32"]
    assert report.settings["triton_runner"] == "torch" and not report.goals
    ok = {c.target for c in report.results if c.ok}
    assert ok == {"torch", "torch-cl", "triton-grpc"}, report.results
    served = [c for c in report.results if c.target == "triton-grpc"]
    assert all(c.measured.error_count == 0 and c.server and c.server.requests > 0 for c in served)
    goals = {g["id"]: g for g in result["goals"]}
    assert goals["served_dcgan"]["value"] is not None
    assert goals["served_large"]["met"] is None and goals["fp16_peak"]["met"] is None
    md = (out / "gpu-check.md").read_text()
    assert md.startswith("# GPU check — cpu") and "| triton-grpc | 8 | 2 |" in md


def test_slim_wheel_drops_the_programs_and_their_record_lines(tmp_path: Path) -> None:
    bundle = _script("build_gpu_bundle")
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    record = (
        "pkg/__init__.py,sha256=x,1\npkg-1.0.data/data/bin/tool,sha256=y,9\n"
        "pkg-1.0.dist-info/RECORD,,\n"
    )
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("pkg/__init__.py", "x = 1\n")
        z.writestr("pkg-1.0.data/data/bin/tool", b"\x7fELF" + bytes(5))
        z.writestr("pkg-1.0.dist-info/RECORD", record)
    bundle.slim_wheel(wheel)
    with zipfile.ZipFile(wheel) as z:
        assert sorted(z.namelist()) == ["pkg-1.0.dist-info/RECORD", "pkg/__init__.py"]
        assert z.read("pkg-1.0.dist-info/RECORD").decode() == (
            "pkg/__init__.py,sha256=x,1\npkg-1.0.dist-info/RECORD,,\n"
        )
        assert z.read("pkg/__init__.py") == b"x = 1\n"


def _wheel(path: Path, name: str) -> None:
    """A minimal pure-Python wheel of package ``name`` (version 1.0)."""
    dist = f"{name}-1.0.dist-info"
    files = {
        f"{name}/__init__.py": "WHERE = 'bundle'\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{dist}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    files[f"{dist}/RECORD"] = "".join(f"{f},,\n" for f in [*files, f"{dist}/RECORD"])
    with zipfile.ZipFile(path / f"{name}-1.0-py3-none-any.whl", "w") as z:
        for f, text in files.items():
            z.writestr(f, text)


@pytest.mark.slow
def test_setup_from_bundle_puts_the_bundle_first_then_the_host(tmp_path: Path) -> None:
    import tarfile

    gpu_check, builder = _script("gpu_check"), _script("build_gpu_bundle")
    bundle = tmp_path / "bundle"
    (bundle / "wheels").mkdir(parents=True)
    ver = f"{sys.version_info[0]}.{sys.version_info[1]}"
    (bundle / "bundle.json").write_text(json.dumps({"python": ver}))
    _wheel(bundle / "wheels", "genzoo_bundle_probe")
    site = tmp_path / "site"  # the wheel's layout, with placeholder files
    for rel in [
        "bin/tritonserver",
        "backends/python/libtriton_python.so",
        "backends/python/triton_python_backend_utils.py",
        f"python_backend_stubs/{ver}/triton_python_backend_stub",
        "caches/local/libtritoncache_local.so",
    ]:
        (site / "pytriton" / "tritonserver" / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / "pytriton" / "tritonserver" / rel).write_text("placeholder\n")
    (site / "nvidia_pytriton.libs").mkdir()
    for lib in ("libtritonserver-1.so", "libpython3-2.13.so.1.0"):
        (site / "nvidia_pytriton.libs" / lib).write_text("placeholder\n")
    builder.pack_triton(site, bundle / "triton.tar.xz", ver)
    with tarfile.open(bundle / "triton.tar.xz") as tar:
        names = tar.getnames()
    assert "nvidia_pytriton.libs/libtritonserver-1.so" in names and "pytriton/__init__.py" in names
    assert not any("libpython" in n for n in names)  # another Python's interpreter stays behind

    py = gpu_check.setup_from_bundle(bundle, tmp_path / "venv")
    probe = (
        "import json, genzoo_bundle_probe, torch, serving.server.triton as s; "
        "print(json.dumps([genzoo_bundle_probe.__file__, torch.__file__, s.__file__, "
        "str(s.wheel_dir())]))"
    )
    out = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, check=True)
    probe_file, torch_file, server_file, wheel_dir = json.loads(out.stdout)
    venv = str(tmp_path / "venv")
    assert probe_file.startswith(venv)  # the bundle's wheels, installed into the venv
    assert not torch_file.startswith(venv)  # the host's torch, through the .pth file
    assert server_file == str(ROOT / "serving" / "server" / "triton.py")  # the working tree
    assert wheel_dir.startswith(venv) and wheel_dir.endswith("pytriton/tritonserver")
    assert Path(wheel_dir, "bin", "tritonserver").is_file()

    (bundle / "bundle.json").write_text(json.dumps({"python": "2.7"}))
    with pytest.raises(SystemExit, match=r"the bundle is for Python 2\.7"):
        gpu_check.setup_from_bundle(bundle, tmp_path / "venv2")
