"""Security against the running server: loopback only, warnings otherwise, no token anywhere.

Elsewhere: safetensors only and sha256 checks (tests/test_weights.py, tests/hub), pickle
refusal and token scrubbing in hub commands (tests/hub/test_hub_security.py), names and
revisions (test_reliability_properties.py here).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest

from serving.server import triton as server_mod
from serving.server.triton import LOOPBACK, ServerConfig, TritonServer
from zoo.errors import TritonNotFoundError

if TYPE_CHECKING:
    from tests.reliability.conftest import SoakRun, ZooServe


def test_server_listens_on_loopback_only(zoo_serve: ZooServe) -> None:
    config = ServerConfig()
    assert {a for _, a, _ in config.ports()} == {LOOPBACK}
    pid = zoo_serve.triton_pid()
    assert pid is not None
    listening = [
        c.laddr
        for c in psutil.Process(pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    ports = {a.port for a in listening}
    http_port = int(zoo_serve.http_url.rsplit(":", 1)[1])
    grpc_port = int(zoo_serve.grpc_url.rsplit(":", 1)[1])
    assert {http_port, grpc_port, zoo_serve.metrics_port} <= ports
    for a in listening:  # gRPC's IPv6 socket reports loopback as ::ffff:127.0.0.1
        ip = ipaddress.ip_address(a.ip)
        mapped = getattr(ip, "ipv4_mapped", None)
        assert (mapped or ip).is_loopback, f"listening on {a.ip}:{a.port}"


@pytest.mark.parametrize("what", ["http", "grpc", "metrics"])
def test_binding_another_address_warns(
    what: str, rel_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_binary() -> Path:
        raise TritonNotFoundError("stopped before launching: this test checks the warning only")

    monkeypatch.setattr(server_mod, "find_binary", no_binary)
    config = ServerConfig(model_repository=rel_repo, **{f"{what}_address": "0.0.0.0"})
    label = {"http": "HTTP", "grpc": "gRPC", "metrics": "metrics"}[what]
    with (
        pytest.warns(UserWarning, match=f"Triton {label} binds 0.0.0.0") as record,
        pytest.raises(TritonNotFoundError),
    ):
        TritonServer(config).start()
    assert len(record) == 1  # only the exposed port is named


def test_token_never_reaches_anything_serve_or_soak_wrote(
    zoo_serve: ZooServe, soak_run: SoakRun
) -> None:
    token = zoo_serve.env["HF_TOKEN"].encode()
    # The token really was in their environment (else this test would prove nothing).
    pid = zoo_serve.triton_pid()
    assert pid is not None
    for proc in (zoo_serve.proc.pid, pid):
        assert token in Path(f"/proc/{proc}/environ").read_bytes()
    texts = {
        "soak stdout": soak_run.result.stdout.encode(),
        "soak stderr": soak_run.result.stderr.encode(),
    }
    files = [zoo_serve.stdout, zoo_serve.stderr, zoo_serve.log]
    files += [p for p in soak_run.out_dir.rglob("*") if p.is_file()]
    files += [p for p in zoo_serve.home.rglob("*") if p.is_file()]
    for path in files:
        texts[str(path)] = path.read_bytes()
    assert texts[str(zoo_serve.log)], "the Triton log is empty"
    assert b"models up" in texts[str(zoo_serve.stdout)]
    leaked = [where for where, data in texts.items() if token in data]
    assert not leaked, f"HF_TOKEN found in {leaked}"
