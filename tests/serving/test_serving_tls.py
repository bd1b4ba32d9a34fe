"""TLS, bearer tokens and headers through a real nginx in front of the session's Triton.

nginx (Debian's nginx-light, `make nginx`) terminates TLS with a certificate from a trustme CA
and proxies HTTP (``proxy_pass``) and gRPC over HTTP/2 (``grpc_pass``) to the real Triton; it
answers 401 without an ``Authorization`` header and 403 with the wrong token, before the
request reaches Triton. A third port also demands a client certificate (mutual TLS).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from serving.client import (
    AsyncZooClient,
    AuthenticationError,
    InvalidInputError,
    TLSError,
    ZooClient,
)
from serving.client.transport import parse_endpoint
from serving.server.triton import TritonServer, free_port
from zoo.cli.main import app

trustme = pytest.importorskip("trustme", reason="trustme makes the test certificates (dev extra)")

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
PROTOCOLS = ("http", "grpc")

NGINX_CONF = """
{user}
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_max_body_size 0;
    ssl_certificate {tmp}/server.pem;
    ssl_certificate_key {tmp}/server.key;
    map $http_authorization $auth_status {{
        "" 401;
        "Bearer {token}" 0;
        default 403;
    }}
    server {{
        listen 127.0.0.1:{https} ssl;
        location / {{
            if ($auth_status = 401) {{ return 401; }}
            if ($auth_status = 403) {{ return 403; }}
            proxy_pass http://{triton_http};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
    server {{
        listen 127.0.0.1:{grpcs} ssl http2;
        location / {{
            if ($auth_status = 401) {{ return 401; }}
            if ($auth_status = 403) {{ return 403; }}
            grpc_pass grpc://{triton_grpc};
        }}
    }}
    server {{
        listen 127.0.0.1:{mtls} ssl;
        ssl_client_certificate {tmp}/ca.pem;
        ssl_verify_client on;
        location / {{
            proxy_pass http://{triton_http};
        }}
    }}
}}
"""


@dataclass(frozen=True)
class Proxy:
    """The running nginx: its TLS URLs, the CA that signed it, the token it wants."""

    https: str  # https://127.0.0.1:port → Triton HTTP
    grpcs: str  # grpcs://127.0.0.1:port → Triton gRPC
    mtls: str  # https://127.0.0.1:port that also demands a client certificate
    ca_cert: Path  # the trustme CA's PEM
    other_ca_cert: Path  # a CA that did not sign the server's certificate
    client_cert: Path  # a client certificate (with its key) signed by the CA
    token: str

    def url(self, protocol: str) -> str:
        return self.https if protocol == "http" else self.grpcs

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def proxy(triton: TritonServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """nginx on loopback terminating TLS in front of the session's Triton (one per module)."""
    if NGINX is None:
        pytest.skip("nginx is not installed (`make nginx` installs Debian's nginx-light)")
    tmp = tmp_path_factory.mktemp("nginx")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    trustme.CA().cert_pem.write_to_path(str(tmp / "other-ca.pem"))
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    leaf.private_key_pem.write_to_path(str(tmp / "server.key"))
    leaf.cert_chain_pems[0].write_to_path(str(tmp / "server.pem"))
    for pem in leaf.cert_chain_pems[1:]:
        pem.write_to_path(str(tmp / "server.pem"), append=True)
    ca.issue_cert("genzoo-client@example.org").private_key_and_cert_chain_pem.write_to_path(
        str(tmp / "client.pem")
    )
    token = secrets.token_urlsafe(24)
    ports = {"https": free_port(), "grpcs": free_port(), "mtls": free_port()}
    conf = NGINX_CONF.format(
        # as root, nginx's workers would run as nobody, who cannot reach the temp folders
        user="user root;" if os.geteuid() == 0 else "",
        tmp=tmp,
        token=token,
        triton_http=triton.http_url,
        triton_grpc=triton.grpc_url,
        **ports,
    )
    (tmp / "nginx.conf").write_text(conf)
    proc = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait_for_ports(proc, ports.values(), tmp / "error.log")
        yield Proxy(
            https=f"https://127.0.0.1:{ports['https']}",
            grpcs=f"grpcs://127.0.0.1:{ports['grpcs']}",
            mtls=f"https://127.0.0.1:{ports['mtls']}",
            ca_cert=tmp / "ca.pem",
            other_ca_cert=tmp / "other-ca.pem",
            client_cert=tmp / "client.pem",
            token=token,
        )
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful stop of master and worker
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert token not in (tmp / "error.log").read_text(), "nginx logged the token"


def _wait_for_ports(proc: subprocess.Popen, ports: object, log: Path) -> None:
    import socket

    deadline = time.monotonic() + 30
    for port in ports:  # type: ignore[attr-defined]
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"nginx exited ({proc.returncode}): {err} {log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"nginx did not listen on {port}: {log.read_text()}")
                time.sleep(0.1)


def direct(triton: TritonServer, protocol: str) -> ZooClient:
    return ZooClient(triton.http_url if protocol == "http" else triton.grpc_url, protocol=protocol)


# -- URLs and options, no server ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kwargs", "protocol", "hostport", "tls"),
    [
        ("127.0.0.1:8000", {}, "http", "127.0.0.1:8000", False),
        ("http://h:1", {}, "http", "h:1", False),
        ("https://h", {}, "http", "h:443", True),
        ("grpc://h", {}, "grpc", "h:8001", False),
        ("GRPCS://h:9/", {}, "grpc", "h:9", True),
        ("h:2", {"protocol": "grpc", "ssl": True}, "grpc", "h:2", True),
        ("h", {"protocol": "grpc"}, "grpc", "h:8001", False),
    ],
)
def test_url_schemes(url: str, kwargs: dict, protocol: str, hostport: str, tls: bool) -> None:
    ep = parse_endpoint(url, **kwargs)
    assert (ep.protocol, ep.hostport, ep.tls) == (protocol, hostport, tls)


@pytest.mark.parametrize(
    ("url", "kwargs", "match"),
    [
        ("ftp://h:1", {}, "cannot connect over ftp://"),
        ("https://h:1", {"protocol": "grpc"}, "drop one of them"),
        ("https://h:1", {"ssl": False}, "is TLS"),
        ("http://h:1", {"ssl": True}, "https:// or grpcs://"),
        ("http://h:1", {"ca_cert": "ca.pem"}, "only apply over TLS"),
        ("https://h:1", {"ca_cert": "/nonexistent/ca.pem"}, "no PEM file"),
        ("h:1", {"headers": {"Bad Name": "x"}}, "names are non-empty"),
        ("https://h:1/prefix", {}, "host:port"),
    ],
)
def test_what_cannot_be_honoured_is_an_error(url: str, kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        parse_endpoint(url, **kwargs)


def test_header_values_stay_out_of_reprs_and_messages() -> None:
    secret = "s3cr3t-token-value"
    client = ZooClient("grpcs://h:1", headers={"Authorization": f"Bearer {secret}"})
    assert client.endpoint.headers == (("authorization", f"Bearer {secret}"),)  # gRPC: lower
    assert secret not in repr(client) and "authorization" in repr(client)
    assert secret not in repr(client.endpoint)
    with pytest.raises(InvalidInputError) as info:
        parse_endpoint("h:1", headers={"X-Token": f"{secret}\r\nInjected: 1"})
    assert secret not in str(info.value)


# -- through the proxy ------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_tls_with_token_matches_direct_calls(
    proxy: Proxy, triton: TritonServer, protocol: str
) -> None:
    seeds = [11, 12, 13, 14, 15, 16, 17, 18]
    with direct(triton, protocol) as plain:
        want = plain.generate("dcgan-mnist", seeds)
        want_logits = plain.classify("classifier-mnist", want)
    with ZooClient(proxy.url(protocol), ca_cert=proxy.ca_cert, headers=proxy.auth) as zoo:
        assert zoo.ready()
        assert "dcgan-mnist" in zoo.list_models()
        got = zoo.generate("dcgan-mnist", seeds)
        got_logits = zoo.classify("classifier-mnist", want)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()
    assert got_logits.tobytes() == want_logits.tobytes()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_async_client_over_tls(proxy: Proxy, triton: TritonServer, protocol: str) -> None:
    with direct(triton, protocol) as plain:
        want = plain.generate("cgan-mnist", range(70), labels=7)  # two chunks (max batch 64)

    async def main() -> np.ndarray:
        async with AsyncZooClient(
            proxy.url(protocol), ca_cert=proxy.ca_cert, headers=proxy.auth
        ) as zoo:
            return await zoo.generate("cgan-mnist", range(70), labels=7)

    assert asyncio.run(main()).tobytes() == want.tobytes()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_missing_or_wrong_token_is_an_authentication_error(proxy: Proxy, protocol: str) -> None:
    with (
        ZooClient(proxy.url(protocol), ca_cert=proxy.ca_cert) as zoo,
        pytest.raises(AuthenticationError, match="wants credentials") as info,
    ):
        zoo.generate("dcgan-mnist", [1])
    assert isinstance(info.value, PermissionError) and "Authorization" in str(info.value)
    wrong = {"Authorization": "Bearer not-the-token"}
    with (
        ZooClient(proxy.url(protocol), ca_cert=proxy.ca_cert, headers=wrong) as zoo,
        pytest.raises(AuthenticationError, match="refused the credentials") as info,
    ):
        zoo.ready()  # ready() raises too: refused is not "not ready"
    assert "not-the-token" not in str(info.value)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_untrusted_certificate_is_a_tls_error(proxy: Proxy, protocol: str) -> None:
    for ca in (proxy.other_ca_cert, None):  # a CA that did not sign it; the system's CAs
        with (
            ZooClient(proxy.url(protocol), ca_cert=ca, headers=proxy.auth) as zoo,
            pytest.raises(TLSError, match="not trusted") as info,
        ):
            zoo.list_models()
        assert "ca_cert" in str(info.value) and proxy.token not in str(info.value)
        assert isinstance(info.value, ConnectionError)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_tls_to_a_plain_port_is_a_tls_error(triton: TritonServer, protocol: str) -> None:
    url = triton.http_url if protocol == "http" else triton.grpc_url
    with ZooClient(url, protocol=protocol, ssl=True) as zoo, pytest.raises(TLSError) as info:  # type: ignore[arg-type]
        zoo.list_models()
    assert "the server does not speak TLS on that port" in str(info.value)  # not the generic hint


def test_mutual_tls_with_a_client_certificate(proxy: Proxy, triton: TritonServer) -> None:
    with direct(triton, "http") as plain:
        want = plain.generate("dcgan-mnist", [5, 6])
    with ZooClient(proxy.mtls, ca_cert=proxy.ca_cert, client_cert=proxy.client_cert) as zoo:
        assert zoo.generate("dcgan-mnist", [5, 6]).tobytes() == want.tobytes()


def test_cli_https_with_token_from_the_environment(
    proxy: Proxy, triton: TritonServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    base = ["generate", "dcgan-mnist", "--seeds", "0-3"]
    direct_png, tls_png = tmp_path / "direct.png", tmp_path / "tls.png"
    result = runner.invoke(app, [*base, "--url", triton.http_url, "--out", str(direct_png)])
    assert result.exit_code == 0, result.output
    tls = ["--url", proxy.https, "--ca-cert", str(proxy.ca_cert)]

    result = runner.invoke(app, [*base, *tls, "--out", str(tls_png)])  # no token
    assert result.exit_code == 1 and "wants credentials" in result.output

    monkeypatch.setenv("ZOO_TOKEN", proxy.token)
    result = runner.invoke(app, [*base, *tls, "--out", str(tls_png)])
    assert result.exit_code == 0, result.output
    assert tls_png.read_bytes() == direct_png.read_bytes()
    assert proxy.token not in result.output

    grpc = ["--url", proxy.grpcs, "--ca-cert", str(proxy.ca_cert)]
    result = runner.invoke(app, [*base, *grpc, "--header", "authorization=Bearer wrong"])
    assert result.exit_code == 1 and "refused the credentials" in result.output  # --header wins
    assert "Bearer wrong" not in result.output


def test_soak_cli_over_tls_with_token(
    proxy: Proxy, triton: TritonServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    args = ["soak", "dcgan-mnist", "--duration", "2", "--interval", "1", "--concurrency", "2"]
    args += ["--url", proxy.https, "--grpc-url", proxy.grpcs, "--ca-cert", str(proxy.ca_cert)]
    args += ["--pid", str(triton.pid), "--json"]
    result = runner.invoke(app, args)  # no token: refused before any load
    assert result.exit_code == 1 and "wants credentials" in result.output

    monkeypatch.setenv("ZOO_TOKEN", proxy.token)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["models"] == ["dcgan-mnist"]
    assert report["requests"] > 0 and report["errors"] == 0
    assert proxy.token not in result.output


def test_playground_cli_over_tls_with_token(
    proxy: Proxy, triton: TritonServer, tmp_path: Path
) -> None:
    zoo = str(Path(sys.executable).parent / "zoo")
    args = [zoo, "playground", "--url", proxy.grpcs, "--ca-cert", str(proxy.ca_cert)]
    args += ["--port", str(free_port())]
    env = {**os.environ, "ZOO_HOME": str(tmp_path), "COLUMNS": "200"}
    env.pop("ZOO_TOKEN", None)
    refused = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode == 1 and "wants credentials" in refused.stdout + refused.stderr

    env["ZOO_TOKEN"] = proxy.token
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    seen = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # ends if the process does
            seen.append(line)
            if match := re.search(r"playground ready\s+(http://\S+)", line):
                with urllib.request.urlopen(match.group(1), timeout=30) as page:
                    assert page.status == 200 and "genzoo playground" in page.read().decode()
                break
        else:
            pytest.fail(f"zoo playground ended: {''.join(seen)}")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proxy.token not in "".join(seen)
