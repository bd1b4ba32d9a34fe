"""A very short real run: ONNX Runtime in-process, the real embedded Triton over gRPC (SDK and
perf_analyzer), the real LitServe peer; then the CLI's report,
the config search and the refusals.

Figures are checked for shape and consistency only; no test asserts a timing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from serving.apps.bench.settings import (
    BenchSettings,
    check_loopback,
    check_signature,
    load_bench_module,
)
from serving.apps.bench.tune import TuneSettings
from serving.server.repository import parse_config
from zoo.cli.main import app
from zoo.errors import InvalidInputError, InvalidNameError
from zoo.overrides import parse_overrides
from zoo.registry import spec_of_module

runner = CliRunner()


#: The arguments of the short `zoo bench` run every report test reads.
BENCH_ARGS = [
    "bench",
    "dcgan-mnist",
    "--targets",
    "onnxruntime,triton-grpc,triton-shm,litserve,triton-perf",
    "--batch",
    "1,4",
    "--concurrency",
    "2",
    "--duration",
    "1",
    "--warmup",
    "0.2",
    "--threads",
    "1",
]


@pytest.fixture(scope="module")
def cli_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """``zoo bench`` for one second per cell, report written to a temp folder."""
    out = tmp_path_factory.mktemp("bench")
    args = [*BENCH_ARGS, "--report", str(out)]
    # The report records the command rebuilt from the parsed arguments, not sys.argv (pytest's).
    return out, runner.invoke(app, args)


def test_cli_run_prints_a_summary(cli_report: tuple[Path, Any]) -> None:
    _, result = cli_report
    assert result.exit_code == 0, result.output
    assert "triton-grpc" in result.output and "litserve" in result.output
    assert "triton-perf" in result.output


def test_report_is_well_formed(cli_report: tuple[Path, Any]) -> None:
    out, result = cli_report
    assert result.exit_code == 0, result.output
    report = json.loads((out / "bench.json").read_text())
    assert report["schema"] == "genzoo.bench/2"
    assert report["command"] == "zoo " + " ".join([*BENCH_ARGS, "--report", str(out)])
    env = report["environment"]
    assert env["cores"] >= 1 and env["cpu"]
    assert env["versions"]["tritonserver"] not in (None, "unknown")
    assert env["versions"]["litserve"] and env["versions"]["onnxruntime"]
    assert report["model"]["gflop_per_image"] > 0
    assert report["peak"]["gflops"] > 0

    cells = {(c["target"], c["batch"], c["concurrency"]): c for c in report["results"]}
    # In-process targets have one caller; servers run at the requested concurrency.
    assert set(cells) == {
        ("onnxruntime", 1, 1),
        ("onnxruntime", 4, 1),
        ("triton-grpc", 1, 2),
        ("triton-grpc", 4, 2),
        ("triton-shm", 1, 2),
        ("triton-shm", 4, 2),
        ("litserve", 1, 2),
        ("litserve", 4, 2),
        ("triton-perf", 1, 2),
        ("triton-perf", 4, 2),
    }
    for key, c in cells.items():
        assert c["status"] == "ok", c.get("reason")
        assert c["throughput"] > 0
        if key[0] == "triton-perf":  # perf_analyzer reports rates and percentiles only
            assert c["client"] == "perf_analyzer" and c["latency_ms"]["p50"] > 0
            assert c["server"]["requests"] > 0
            continue
        assert c["error_count"] == 0
        assert c["requests"] == len(c["latencies_ms"]) > 0
        assert c["images"] == c["batch"] * c["requests"]
        # The SDK's targets record which model version answered; in-process ones have none.
        assert c.get("model_version") == (1 if key[0].startswith("triton-") else None)
        lat = c["latency_ms"]
        assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
        assert c["gflops"] == pytest.approx(c["throughput"] * report["model"]["gflop_per_image"])
    for key in (("triton-grpc", 1, 2), ("triton-grpc", 4, 2)):
        srv = cells[key]["server"]
        assert srv["requests"] >= cells[key]["requests"]
        for part in ("queue_ms", "compute_input_ms", "compute_infer_ms", "compute_output_ms"):
            assert srv[part] >= 0
        assert srv["compute_infer_ms"] > 0 and 1 <= srv["avg_batch"] <= 2 * key[1]
        assert cells[key]["server_cpu_cores"] is not None
    assert {g["id"] for g in report["goals"]} >= {"grpc64", "dynamic", "p50", "litserve", "peak"}
    # triton-shm closed its client: no region of this process is left in /dev/shm
    assert not [
        p for p in Path("/dev/shm").iterdir() if p.name.startswith(f"genzoo_{os.getpid()}_")
    ]

    md = (out / "bench.md").read_text()
    assert "| triton-grpc | 4 | 2 |" in md and "| litserve | 1 | 2 |" in md
    for png in ("throughput.png", "latency.png"):
        with Image.open(out / png) as im:
            assert im.format == "PNG"


@pytest.mark.slow
def test_asyncio_client_drives_shared_memory(tmp_path: Path) -> None:
    """``--client asyncio`` sends triton-shm's tensors through the asyncio SDK's regions."""
    report_file = tmp_path / "bench.json"
    args = ["bench", "dcgan-mnist", "--targets", "triton-shm", "--client", "asyncio"]
    args += ["--batch", "2", "--concurrency", "2", "--duration", "0.5", "--warmup", "0.1"]
    result = runner.invoke(app, [*args, "--threads", "1", "--json-out", str(report_file)])
    assert result.exit_code == 0, result.output
    [cell] = json.loads(report_file.read_text())["results"]
    assert (cell["target"], cell["status"], cell["client"]) == ("triton-shm", "ok", "asyncio")
    assert cell["images"] == 2 * cell["requests"] > 0
    assert cell["server"]["requests"] >= cell["requests"]
    assert not [
        p for p in Path("/dev/shm").iterdir() if p.name.startswith(f"genzoo_{os.getpid()}_")
    ]


def test_cli_tune_writes_the_winner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A successful ``zoo bench --tune``: every candidate measured, the best one written."""
    # As on a one-core host: three candidates (one instance; three batching settings), three
    # Triton starts instead of six.
    monkeypatch.setattr("serving.apps.bench.tune.cores", lambda: 1)
    report = tmp_path / "tune.json"
    result = runner.invoke(
        app,
        [
            "bench",
            "dcgan-mnist",
            "--tune",
            "--p99-ms",
            "60000",  # every candidate fits: the test checks the plumbing, not the figures
            "--batch",
            "1",
            "--concurrency",
            "2",
            "--duration",
            "0.5",
            "--warmup",
            "0.1",
            "--repository",
            str(tmp_path / "repo"),
            "--json-out",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert [m["config"] for m in data["measurements"]] == [
        {"instances": 1, "threads": 1, "preferred_batch_sizes": [], "max_queue_delay_us": 0},
        {"instances": 1, "threads": 1, "preferred_batch_sizes": [1, 2], "max_queue_delay_us": 500},
        {"instances": 1, "threads": 1, "preferred_batch_sizes": [2], "max_queue_delay_us": 2000},
    ]
    assert all(m["error_count"] == 0 and m["throughput"] > 0 for m in data["measurements"])
    best = data["best"]
    assert best["throughput"] == max(m["throughput"] for m in data["measurements"])
    config_path = tmp_path / "repo" / "dcgan-mnist" / "config.pbtxt"
    # The winner is written for every entry point of the model (generate and interpolate).
    also = tmp_path / "repo" / "dcgan-mnist_interpolate" / "config.pbtxt"
    assert data["written"] == [str(config_path), str(also)]
    cfg = parse_config(config_path.read_text())
    want = best["config"]
    assert cfg.instance_group[0].count == want["instances"]
    assert list(cfg.dynamic_batching.preferred_batch_size) == want["preferred_batch_sizes"]
    assert cfg.dynamic_batching.max_queue_delay_microseconds == want["max_queue_delay_us"]
    assert cfg.parameters["zoo_threads"].string_value == str(want["threads"])
    assert cfg.response_cache.enable  # the measurement ran without it; the served config has it
    printed = "".join(result.output.split())  # rich wraps long lines at the terminal width
    assert "bestunderp99≤60000.0ms" in printed and f"wrote{config_path}" in printed


def test_tune_refuses_an_impossible_bound(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="must be a positive"):
        TuneSettings(model="dcgan-mnist", p99_ms=0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "10.1.2.3:8000"], "loopback"),
        (["--targets", "onnxruntime,nope"], "unknown target"),
        # TensorRT's engine is built on a GPU host: the bench reaches it only through Triton
        (["--targets", "tensorrt"], "unknown target(s) tensorrt"),
        (["--batch", "1,x"], "comma-separated integers"),
        (["--concurrency", "0"], "concurrency must lie in"),
        # --set resolution=64 is a variant now (signatures follow config); unknown keys are not
        (["--set", "nope=1"], "unknown config key"),
        (["--set", "nonsense"], "key=value"),
        (["--tune"], "--p99-ms"),
    ],
)
def test_cli_refusals_are_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["bench", "dcgan-mnist", "--duration", "0.1", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_settings_validation() -> None:
    with pytest.raises(InvalidNameError):
        BenchSettings(model="dcgan-mnist", client="processes")
    with pytest.raises(InvalidInputError):
        BenchSettings(model="dcgan-mnist", duration=0)
    s = BenchSettings(model="dcgan-mnist", url="http://localhost:9000")
    assert s.url == "localhost:9000" and s.grpc_url == "localhost:8001"
    assert check_loopback("127.0.0.5:1") == "127.0.0.5:1"
    assert check_loopback("[::1]:8000") == "[::1]:8000"
    with pytest.raises(InvalidInputError):
        check_loopback("example.com:8000")


def test_variants_follow_their_config() -> None:
    assert parse_overrides(["width=8", "n_blocks=1", "name=x"]) == {
        "width": 8,
        "n_blocks": 1,
        "name": "x",
    }
    module, weights = load_bench_module("cyclegan-digits", {"width": 8, "n_blocks": 1})
    assert "variant: width=8, n_blocks=1" in weights
    assert sum(p.numel() for p in module.parameters()) > 0
    big, _ = load_bench_module("dcgan-mnist", {"resolution": 64})  # 64² images: its own signature
    assert spec_of_module("dcgan-mnist", big).entry_point().outputs[0].shape == (1, 64, 64)
    # A module whose recorded config disagrees with what it computes is refused.
    object.__setattr__(big, "_hub_mixin_config", {**big._hub_mixin_config, "resolution": 32})
    with pytest.raises(InvalidInputError, match=r"resolution|defaults"):
        check_signature("dcgan-mnist", big)
