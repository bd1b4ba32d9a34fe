"""``zoo playground`` as a user runs it: with --url, and starting (and stopping) its own Triton."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving.client import ZooClient
from serving.server.triton import TritonServer, free_port

ZOO = str(Path(sys.executable).parent / "zoo")
READY = re.compile(r"playground ready\s+(http://\S+)\s+\(Triton (\S+)\)")


class Running:
    """A ``zoo playground`` process whose output is read line by line."""

    def __init__(self, args: list[str], home: Path) -> None:
        # PYTHONFAULTHANDLER: a process that will not stop dumps every thread's stack on SIGABRT.
        env = {**os.environ, "ZOO_HOME": str(home), "COLUMNS": "200", "PYTHONFAULTHANDLER": "1"}
        self.proc = subprocess.Popen(
            [ZOO, "playground", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 240) -> re.Match[str]:
        """The first output line matching ``pattern``; fails if the process ends first."""
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                pytest.fail(f"zoo playground ended: {''.join(self.seen)}")
            self.seen.append(line)
            if match := pattern.search(line):
                return match

    def stop(self, sig: int) -> int:
        """Send ``sig`` and return the exit code; fails with every thread's stack if it hangs."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)
            self.proc.wait(timeout=30)
            rest = iter(lambda: self.lines.get(timeout=10), None)
            pytest.fail(f"zoo playground did not stop within 60 s:\n{''.join([*self.seen, *rest])}")


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for r in started:
        if r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()


def test_with_url_serves_the_page_on_loopback(
    running: list[Running], playground_triton: TritonServer, tmp_path: Path
) -> None:
    port = free_port()
    r = Running(["--url", playground_triton.http_url, "--port", str(port)], tmp_path)
    running.append(r)
    url, triton = r.wait_for(READY).groups()
    assert url.startswith(f"http://127.0.0.1:{port}") and triton == playground_triton.http_url
    with urllib.request.urlopen(url, timeout=30) as page:
        assert page.status == 200 and "genzoo playground" in page.read().decode()
    assert r.stop(signal.SIGINT) == 0
    assert ZooClient(playground_triton.http_url).ready()  # a server it did not start keeps going


def test_grpc_protocol_calls_triton_over_grpc(
    running: list[Running], playground_triton: TritonServer, tmp_path: Path
) -> None:
    """``--protocol grpc --url`` the gRPC port: the page's client checks the server over gRPC
    before it says ready (the same port spoken to over HTTP would answer nothing).
    """
    url = playground_triton.grpc_url
    r = Running(["--url", url, "--protocol", "grpc", "--port", str(free_port())], tmp_path)
    running.append(r)
    page, triton = r.wait_for(READY).groups()
    assert triton == url
    with urllib.request.urlopen(page, timeout=30) as answer:
        assert answer.status == 200 and "genzoo playground" in answer.read().decode()
    assert r.stop(signal.SIGINT) == 0
    assert not ZooClient(url, protocol="http", timeout=5).ready()  # HTTP there: no answer
    assert ZooClient(url, protocol="grpc").ready()


def test_without_url_starts_triton_and_stops_it_on_exit(
    running: list[Running], playground_repo: Path, tmp_path: Path
) -> None:
    args = ["--repository", str(playground_repo), "--models", "classifier-mnist"]
    r = Running([*args, "--port", str(free_port())], tmp_path)
    running.append(r)
    _, triton = r.wait_for(READY).groups()
    with ZooClient(triton) as client:
        assert client.list_models() == ["classifier-mnist"]
    assert r.stop(signal.SIGTERM) == 0
    assert not ZooClient(triton, timeout=5).ready()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--protocol", "carrier-pigeon"], "--protocol must be http or grpc"),
        (["--url", f"127.0.0.1:{free_port()}"], "is not ready"),
        (["--url", "127.0.0.1:1", "--models", "dcgan-mnist"], "leave them out with --url"),
    ],
)
def test_bad_options_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [ZOO, "playground", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "ZOO_HOME": str(tmp_path), "COLUMNS": "300"},
        timeout=120,
    )
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1
