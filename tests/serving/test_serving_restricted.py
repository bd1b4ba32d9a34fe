"""Restricted admin APIs on a real Triton: inference needs no key, the admin APIs need it.

One embedded Triton serving dcgan-mnist from the session repository, restricted on loopback
(``ServerConfig.admin_key``, what ``zoo serve`` sets off loopback or with ``--restrict-apis``).
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import tritonclient.grpc as tgrpc
import tritonclient.http as thttp
from tritonclient.utils import InferenceServerException

from serving.client import AsyncZooClient, ServerError, ZooClient
from serving.server.admin_key import (
    ADMIN_KEY_HEADER,
    RESTRICTED_APIS,
    admin_headers,
    read_admin_key,
    write_admin_key,
)
from serving.server.triton import ServerConfig, TritonServer
from zoo.errors import InvalidInputError

if TYPE_CHECKING:
    from conftest import ProcessTools  # type: ignore[import-not-found]

KEY = secrets.token_urlsafe(32)

#: One call per restricted API group (all read-only, so the server is left as it was).
ADMIN_CALLS: dict[str, Callable[..., Any]] = {
    "model-repository": lambda c, **kw: c.get_model_repository_index(**kw),
    "statistics": lambda c, **kw: c.get_inference_statistics("dcgan-mnist", **kw),
    "trace": lambda c, **kw: c.get_trace_settings(**kw),
    "logging": lambda c, **kw: c.get_log_settings(**kw),
    "shared-memory": lambda c, **kw: c.get_system_shared_memory_status(**kw),
}


@pytest.fixture(scope="module")
def restricted(
    serving_repo: Path, tmp_path_factory: pytest.TempPathFactory, proc: ProcessTools
) -> Iterator[TritonServer]:
    """Triton with its admin APIs behind ``KEY``, on loopback."""
    cfg = proc.config(serving_repo, load_models=("dcgan-mnist",), admin_key=KEY)
    log = tmp_path_factory.mktemp("restricted") / "tritonserver.log"
    with TritonServer(cfg, log_file=log) as server:
        yield server


def _raw(server: TritonServer, protocol: str) -> Any:
    if protocol == "http":
        return thttp.InferenceServerClient(server.http_url)
    return tgrpc.InferenceServerClient(server.grpc_url)


def test_every_admin_api_is_covered() -> None:
    assert set(ADMIN_CALLS) == set(RESTRICTED_APIS)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_inference_needs_no_key(
    restricted: TritonServer, triton: TritonServer, protocol: str
) -> None:
    url = restricted.http_url if protocol == "http" else restricted.grpc_url
    with ZooClient(url, protocol=protocol) as zoo:  # type: ignore[arg-type]
        assert zoo.ready()
        images = zoo.generate("dcgan-mnist", range(4))
    with ZooClient(triton.http_url) as open_server:  # the unrestricted session server
        np.testing.assert_array_equal(images, open_server.generate("dcgan-mnist", range(4)))


def test_async_inference_needs_no_key(restricted: TritonServer) -> None:
    import asyncio

    async def run() -> np.ndarray:
        async with AsyncZooClient(restricted.grpc_url, protocol="grpc") as zoo:
            return await zoo.generate("dcgan-mnist", range(3))

    assert asyncio.run(run()).shape == (3, 32, 32, 1)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
@pytest.mark.parametrize("api", sorted(ADMIN_CALLS))
def test_admin_api_refuses_without_the_key_and_answers_with_it(
    restricted: TritonServer, protocol: str, api: str
) -> None:
    client = _raw(restricted, protocol)
    try:
        header = (
            ADMIN_KEY_HEADER if protocol == "http" else f"triton-grpc-protocol-{ADMIN_KEY_HEADER}"
        )
        with pytest.raises(
            InferenceServerException, match=f"restricted, expecting header '{header}'"
        ):
            ADMIN_CALLS[api](client)
        with pytest.raises(InferenceServerException, match="restricted"):
            ADMIN_CALLS[api](client, headers=admin_headers(KEY[::-1], protocol))  # a wrong key
        ADMIN_CALLS[api](client, headers=admin_headers(KEY, protocol))
    finally:
        client.close()


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_sdk_says_what_a_refusal_is(restricted: TritonServer, protocol: str) -> None:
    """gRPC refuses with UNAVAILABLE: the SDK must not call that "no server answers"."""
    url = restricted.http_url if protocol == "http" else restricted.grpc_url
    with ZooClient(url, protocol=protocol) as zoo, pytest.raises(ServerError, match="admin key"):  # type: ignore[arg-type]
        zoo.list_models()


def test_launcher_reads_its_own_index_with_the_key(restricted: TritonServer) -> None:
    states = restricted.model_states()  # [] if the index refused it
    assert [m.name for m in states if m.ready] == ["dcgan-mnist"]


def test_key_stays_out_of_the_log_and_repr(restricted: TritonServer) -> None:
    assert "Started HTTPService" in restricted.log_file.read_text()
    assert KEY not in restricted.log_file.read_text()
    assert KEY not in repr(restricted.config)
    # Triton 2.51 takes the key only as a flag: it is on tritonserver's command line.
    assert restricted.pid is not None
    assert KEY in Path(f"/proc/{restricted.pid}/cmdline").read_text()


def test_flags_carry_the_restriction(tmp_path: Path) -> None:
    args = ServerConfig(model_repository=tmp_path, admin_key=KEY).args(tmp_path, None)
    apis = "model-repository,shared-memory,statistics,trace,logging"
    assert f"--http-restricted-api={apis}:zoo-admin-key={KEY}" in args
    assert f"--grpc-restricted-protocol={apis}:zoo-admin-key={KEY}" in args
    assert not any(
        "restricted" in a for a in ServerConfig(model_repository=tmp_path).args(tmp_path, None)
    )


def test_admin_key_file_is_private_and_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "home" / "admin-key"
    first = write_admin_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_admin_key(path) == first
    assert write_admin_key(path) != first  # a new key each time
    assert os.listdir(path.parent) == ["admin-key"]  # no staging file left
    monkeypatch.setenv("ZOO_ADMIN_KEY", KEY)
    assert read_admin_key() == KEY
    monkeypatch.delenv("ZOO_ADMIN_KEY")
    assert read_admin_key() is None


@pytest.mark.parametrize("bad", ["short", "has space in it, long enough", "a:b=c" * 5, ""])
def test_a_key_triton_cannot_take_is_refused(
    bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOO_ADMIN_KEY", bad)
    if bad:
        with pytest.raises(InvalidInputError, match=r"ZOO_ADMIN_KEY .*token_urlsafe"):
            read_admin_key()
    else:
        assert read_admin_key() is None  # empty = not set
    (tmp_path / "key").write_text(bad or "x")
    with pytest.raises(InvalidInputError, match="key"):
        read_admin_key(tmp_path / "key")
    with pytest.raises(InvalidInputError, match="cannot read"):
        read_admin_key(tmp_path / "missing")


def test_bench_statistics_send_the_key(restricted: TritonServer) -> None:
    from tritonclient.utils import InferenceServerException

    from serving.apps.bench.targets import triton_statistics

    with pytest.raises(InferenceServerException) as refused:
        triton_statistics(restricted.http_url, "dcgan-mnist")
    assert refused.value.status() == "403"
    stats = triton_statistics(restricted.http_url, "dcgan-mnist", admin_key=KEY)
    assert stats["name"] == "dcgan-mnist" and "inference_stats" in stats


def test_soak_needs_no_key(restricted: TritonServer) -> None:
    """The soak finds what the server serves through readiness, which stays open."""
    from serving.apps.soak import run_soak

    report = run_soak(
        url=restricted.http_url,
        grpc_url=restricted.grpc_url,
        duration_s=1.0,
        concurrency=2,
        interval_s=1.0,
        server_pid=restricted.pid,
    )
    assert report.models == ["dcgan-mnist"]
    assert report.requests > 0 and report.errors == 0, report.error_samples


def test_bench_keeps_the_key_out_of_its_report() -> None:
    from serving.apps.bench.settings import BenchSettings

    settings = BenchSettings(model="dcgan-mnist", url="127.0.0.1:8000", admin_key=KEY)
    assert KEY not in repr(settings) and KEY not in str(settings.to_dict())


def test_perf_analyzer_loads_a_restricted_server_with_the_key(
    restricted: TritonServer, tmp_path: Path
) -> None:
    """perf_analyzer reads the restricted statistics API: without the key a clear error; with
    it the load goes over HTTP (its -H sends headers there only) and the cell is measured."""
    from serving.apps.bench.peers import PerfAnalyzerError, PerfAnalyzerTarget
    from serving.apps.bench.targets import RequestMaker
    from zoo.registry import get_spec

    maker = RequestMaker(get_spec("dcgan-mnist").entry_point(None), 4)
    target = PerfAnalyzerTarget(
        restricted.grpc_url, "dcgan-mnist", stats_url=restricted.http_url, server=None
    )
    with pytest.raises(PerfAnalyzerError, match="--admin-key-file"):
        target.measure(maker, concurrency=1, duration=0.2, work=tmp_path)
    target.admin_key = KEY
    # One-second windows: on a loaded 2-core host a 0.2 s window can end before any request
    # completes, and perf_analyzer then finds no valid measurement in its three trials.
    figures = target.measure(maker, concurrency=1, duration=1.0, work=tmp_path)
    assert figures.protocol == "http" and figures.throughput > 0
    assert KEY not in json.dumps(figures.to_dict())
