"""`zoo soak` against the session's server: mixed load with zero errors, memory tracked."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from serving.apps.soak import run_soak
from serving.client import ServerUnavailableError
from serving.server.triton import free_port
from zoo.errors import InvalidInputError

if TYPE_CHECKING:
    from tests.reliability.conftest import SoakRun, ZooServe


def test_short_soak_has_zero_errors_and_tracks_memory(
    soak_run: SoakRun, zoo_serve: ZooServe, still_serving: Callable[[], None]
) -> None:
    result = soak_run.result
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["errors"] == 0 and report["error_samples"] == []
    # How many requests fit in 12 s is a speed (zoo bench's business): any number above zero.
    assert report["requests"] > 0 and report["images"] >= report["requests"]
    # Every request was answered by version 1, the only one the repository has.
    assert report["versions"] == {"1": report["requests"]}
    assert sum(sum(i["versions"].values()) for i in report["intervals"]) <= report["requests"]
    assert set(report["models"]) == {
        "dcgan-mnist",
        "cgan-mnist",
        "stylegan2-mnist",
        "vae-mnist",
        "classifier-mnist",
    }
    assert report["url"] == zoo_serve.http_url and report["grpc_url"] == zoo_serve.grpc_url
    intervals = report["intervals"]
    assert intervals and report["requests"] >= sum(i["requests"] for i in intervals)
    assert all(i["errors"] == 0 for i in intervals)
    assert all(i["p99_ms"] >= i["p50_ms"] > 0 for i in intervals if i["requests"])
    # RSS of tritonserver and its Python-backend stubs: one stub per model, each with numpy,
    # ONNX Runtime and the zoo imported, so well above 100 MiB.
    assert report["server_pid"] == zoo_serve.triton_pid()
    assert all(i["rss_mib"] > 100 for i in intervals)
    written = json.loads((soak_run.out_dir / "soak.json").read_text())
    assert written == report
    md = (soak_run.out_dir / "soak.md").read_text()
    assert "| t (s) | requests | errors |" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [int(r.split("|")[2]) for r in rows] == [i["requests"] for i in intervals]
    still_serving()


def test_soak_refuses_unbounded_or_unreachable_runs() -> None:
    with pytest.raises(InvalidInputError, match="--duration"):
        run_soak(["dcgan-mnist"], duration_s=0)
    with pytest.raises(InvalidInputError, match="--concurrency"):
        run_soak(["dcgan-mnist"], concurrency=10_000)
    with pytest.raises(ServerUnavailableError, match="zoo serve"):
        run_soak(["dcgan-mnist"], url=f"127.0.0.1:{free_port()}", duration_s=1, timeout_s=5)
