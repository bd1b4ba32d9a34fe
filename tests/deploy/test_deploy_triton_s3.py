"""The embedded Triton (nvidia-pytriton's tritonserver 2.51) serving a repository from S3.

The repository is pushed to the loopback S3 server with ``zoo repo push``'s function; Triton
reads it through its own S3 filesystem (``s3://http://127.0.0.1:PORT/bucket/prefix``, the
credentials in its environment), exactly as each replica of a cluster deployment does.
"""

from __future__ import annotations

import re
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from serving.apps.deploy import PENDING_METRIC
from serving.client import ZooClient
from serving.server.inprocess import InProcessZoo
from serving.server.storage import push_repository, triton_repository_path
from serving.server.triton import ServerConfig, TritonServer, free_port
from zoo.errors import ServerStartError


def test_triton_serves_the_pushed_repository_from_s3(
    deploy_repo: Path, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    uri = f"s3://{bucket}/prod/repo"
    push_repository(deploy_repo, uri, endpoint_url=s3_endpoint)
    repository = triton_repository_path(uri, s3_endpoint)
    config = ServerConfig.on_free_ports(
        repository,
    )
    server = TritonServer(config, log_file=tmp_path / "tritonserver.log")
    with server:
        log = server.log_file.read_text(errors="replace")
        # Triton's own record of where it loaded from: the bucket, not a local folder
        assert re.search(rf"model_repository_path\[0\]\s*\|\s*{re.escape(repository)}\s", log)
        with ZooClient(server.http_url) as client:
            assert client.list_models() == ["dcgan-mnist", "dcgan-mnist_interpolate"]
            served = client.generate("dcgan-mnist", seeds=range(6))
        with urllib.request.urlopen(server.metrics_url, timeout=10) as r:
            metrics = r.read().decode()
    local = InProcessZoo("onnxruntime", repository=deploy_repo, threads=1)
    expected = local.generate("dcgan-mnist", seeds=range(6))
    assert served.shape == expected.shape == (6, 32, 32, 1) and served.dtype == np.uint8
    # same ONNX graph, same inputs: at most a rounding step apart
    assert int(np.abs(served.astype(int) - expected.astype(int)).max()) <= 1
    # the per-pod metric the HorizontalPodAutoscaler scales on is one Triton exports
    assert f'{PENDING_METRIC}{{model="dcgan-mnist"' in metrics


def test_an_empty_prefix_stops_triton_with_its_own_reason(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    repository = triton_repository_path(f"s3://{bucket}/nothing-here", s3_endpoint)
    config = ServerConfig.on_free_ports(
        repository,
    )
    server = TritonServer(config, log_file=tmp_path / "tritonserver.log")
    with pytest.raises(ServerStartError) as info:
        server.start(timeout=60)
    assert not server.is_running()
    assert "repository path is not a valid directory" in str(info.value)


@dataclass
class _PollingConfig(ServerConfig):
    """The launcher's config plus Triton's poll mode (what ``zoo deploy --model-control poll``
    sets in the cluster), re-scanning the repository every second."""

    def args(self, backends_dir: Path, caches_dir: Path | None) -> list[str]:
        """The launcher's flags with poll mode in place of its explicit model control (Triton
        refuses --load-model in poll mode)."""
        control = ("--model-control-mode=", "--load-model=")
        flags = [f for f in super().args(backends_dir, caches_dir) if not f.startswith(control)]
        return [*flags, "--model-control-mode=poll", "--repository-poll-secs=1"]


def _model_ready(server: TritonServer, model: str) -> bool:
    try:
        url = f"http://{server.http_url}/v2/models/{model}/ready"
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_for(condition: Callable[[], bool], what: str, limit: float = 90.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"Triton did not {what} within {limit:.0f} s")


def test_poll_mode_follows_repo_push(
    deploy_repo: Path, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    """A push that adds a model gets it loaded; a push with delete=True gets it unloaded."""
    uri = f"s3://{bucket}/live"
    push_repository(deploy_repo, uri, endpoint_url=s3_endpoint)
    config = _PollingConfig(
        model_repository=triton_repository_path(uri, s3_endpoint),
        http_port=free_port(),
        grpc_port=free_port(),
        metrics_port=free_port(),
        allow_metrics=False,
        cache_size=0,
    )
    grown = tmp_path / "grown"
    shutil.copytree(deploy_repo, grown)
    shutil.copytree(grown / "dcgan-mnist", grown / "dcgan-canary")
    canary = grown / "dcgan-canary" / "config.pbtxt"
    canary.write_text(canary.read_text().replace('name: "dcgan-mnist"', 'name: "dcgan-canary"'))
    with TritonServer(config, log_file=tmp_path / "tritonserver.log") as server:
        assert _model_ready(server, "dcgan-mnist")
        assert not _model_ready(server, "dcgan-canary")
        push_repository(grown, uri, endpoint_url=s3_endpoint)
        _wait_for(lambda: _model_ready(server, "dcgan-canary"), "load the pushed model")
        removed = push_repository(deploy_repo, uri, endpoint_url=s3_endpoint, delete=True)
        assert "live/dcgan-canary/config.pbtxt" in removed.deleted
        _wait_for(
            lambda: "successfully unloaded 'dcgan-canary'" in server.log_file.read_text(),
            "unload the deleted model",
        )
        assert _model_ready(server, "dcgan-mnist")
