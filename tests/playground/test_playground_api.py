"""The page's named API through ``gradio_client``: the SDK's pictures, several visitors at once.

``gradio_client`` is a real client of the page (Gradio's own, over its HTTP queue API), as a
script or another service would use it. To see calls run side by side without timing them,
the page calls Triton through :class:`HoldingProxy`, a loopback HTTP proxy that holds every
inference request until four are waiting at once: with fewer running side by side, the held
ones are refused when the wait gives up, and the calls fail.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from serving.apps.playground import MAX_CONCURRENT_CALLS, Playground, start_playground
from serving.client import ZooClient
from serving.server.triton import LOOPBACK, TritonServer, free_port
from zoo.images import make_grid

#: Visitors whose calls must run side by side.
VISITORS = 4
#: How long a held request waits for the others before the proxy refuses it (a guard against
#: hanging, not a measurement: under a working limit the four arrive within seconds).
HOLD_TIMEOUT_S = 120.0
#: Hop-by-hop headers a proxy does not pass on (RFC 9110 §7.6.1), and the length it recomputes.
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class HoldingProxy:
    """A loopback HTTP proxy to Triton that holds inference requests until ``n`` wait at once.

    Everything else (health, metadata, model configs) passes straight through. ``peak`` is the
    most inference requests that were inside the proxy at the same time.
    """

    def __init__(self, upstream: str, n: int) -> None:
        self.upstream_host, port = upstream.rsplit(":", 1)
        self.upstream_port = int(port)
        self.barrier = threading.Barrier(n, timeout=HOLD_TIMEOUT_S)
        self.inside = 0
        self.peak = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((LOOPBACK, free_port()), self._handler())
        self.server.daemon_threads = True
        self.url = f"{LOOPBACK}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HoldingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.barrier.abort()  # release anything still held
        self.server.shutdown()
        self.server.server_close()

    def _hold(self) -> bool:
        """Wait until ``n`` inference requests are here; False if the wait was given up."""
        with self._lock:
            self.inside += 1
            self.peak = max(self.peak, self.inside)
        try:
            self.barrier.wait()
            return True
        except threading.BrokenBarrierError:
            return False
        finally:
            with self._lock:
                self.inside -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as tritonclient's connection pool uses

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.endswith("/infer") and not proxy._hold():
                    self._reply(503, {"Content-Type": "application/json"}, b'{"error":"held"}')
                    return
                upstream = http.client.HTTPConnection(
                    proxy.upstream_host, proxy.upstream_port, timeout=HOLD_TIMEOUT_S
                )
                try:
                    headers = {
                        k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS
                    }
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    kept = {k: v for k, v in answer.getheaders() if k.lower() not in _HOP_HEADERS}
                    self._reply(answer.status, kept, data)
                finally:
                    upstream.close()

            def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _forward  # noqa: N815 (http.server's naming)

        return Handler


@pytest.fixture
def visitor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A factory of ``gradio_client.Client`` s of a page: one per visitor, no telemetry."""
    from gradio_client import Client

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    made: list[Any] = []

    def make(page: Playground) -> Any:
        client = Client(
            page.url,
            verbose=False,
            analytics_enabled=False,
            download_files=str(tmp_path / f"visitor{len(made)}"),
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def _png(path: str) -> np.ndarray:
    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.asarray(im)


def test_named_endpoints_give_the_sdks_images(
    playground: Playground, sdk: ZooClient, visitor: Any, tmp_path: Path
) -> None:
    from gradio_client import handle_file

    page = visitor(playground)
    endpoints = page.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {
        "/generate",
        "/interpolate",
        "/project",
        "/translate",
        "/classify",
        "/encode_decode",
        "/inpaint",
        "/run",
    }

    grid, status = page.predict("cgan-mnist", 10, 6, "7", 1.0, "", api_name="/generate")
    expected = make_grid(sdk.generate("cgan-mnist", range(10, 16), labels=7))[..., 0]
    np.testing.assert_array_equal(_png(grid), expected)
    assert "seeds 10–15" in status and "class 7" in status

    grid, _ = page.predict("stylegan2-mnist", 3, 4, "0", 0.5, "11", api_name="/generate")
    expected = make_grid(sdk.generate("stylegan2-mnist", range(3, 7), psi=0.5, mix_seeds=[11] * 4))
    np.testing.assert_array_equal(_png(grid), expected[..., 0])

    digit = sdk.generate("cgan-mnist", [5], labels=3)[0]
    path = tmp_path / "digit.png"
    Image.fromarray(digit[..., 0]).save(path)
    sketch = {
        "background": handle_file(str(path)),
        "layers": [],
        "composite": handle_file(str(path)),
    }
    out, status = page.predict("cyclegan-digits", sketch, "a2b", api_name="/translate")
    np.testing.assert_array_equal(
        _png(out), sdk.translate("cyclegan-digits", digit[None], "a2b")[0, ..., 0]
    )
    assert "translate_a2b" in status


def test_four_visitors_calls_run_side_by_side(
    playground_triton: TritonServer, sdk: ZooClient, visitor: Any
) -> None:
    assert MAX_CONCURRENT_CALLS >= VISITORS
    with (
        HoldingProxy(playground_triton.http_url, VISITORS) as proxy,
        start_playground(proxy.url, port=free_port()) as page,
    ):
        clients = [visitor(page) for _ in range(VISITORS)]
        jobs = [
            c.submit("stylegan2-mnist", 100 * i, 2, "0", 1.0, "", api_name="/generate")
            for i, c in enumerate(clients)
        ]
        try:
            results = [job.result(timeout=HOLD_TIMEOUT_S * 2) for job in jobs]
        except Exception as e:  # gradio_client's AppError: the page showed the refusal
            pytest.fail(
                f"{VISITORS} visitors' calls did not run side by side (at most {proxy.peak} "
                f"reached the server at once): {e}"
            )
        assert proxy.peak == VISITORS  # all four were held inside the proxy at once
    for i, (grid, _status) in enumerate(results):
        expected = make_grid(sdk.generate("stylegan2-mnist", [100 * i, 100 * i + 1]))[..., 0]
        np.testing.assert_array_equal(_png(grid), expected)
