"""The peers ``zoo bench`` measures Triton against: LitServe, and perf_analyzer as the load.

- ``litserve``: the same ONNX graph behind LitServe (:mod:`serving.apps.bench.litserve_app`),
  JSON over HTTP, started here as its own process;
- ``triton-perf``: the same Triton loaded by ``perf_analyzer`` (C++), a yardstick showing how
  much of a figure is the Python client.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serving.apps.bench.payload import decode_tensors, encode_tensors
from serving.apps.bench.results import Figures, Latency
from serving.apps.bench.targets import (
    RequestMaker,
    Target,
    TargetUnavailableError,
    Wire,
    triton_statistics,
)
from serving.server.admin_key import admin_headers
from serving.server.triton import LOOPBACK, free_port, stop_process_group
from zoo.errors import InvalidInputError, ServerStartError, ZooError

if TYPE_CHECKING:
    from serving.server.triton import TritonServer


# ---------------------------------------------------------------------------------------------
# LitServe.
# ---------------------------------------------------------------------------------------------


@dataclass
class LitServeOptions:
    """How the LitServe peer batches and runs."""

    max_batch_size: int = 64  # requests LitServe batches together
    batch_timeout: float = 0.001  # seconds it waits to fill a batch (Triton's queue delay)
    threads: int = 1  # ONNX Runtime intra-op threads in its worker (a run sets its own)


class LitServeProcess:
    """The LitServe peer as a subprocess on a free loopback port, in its own process group."""

    def __init__(
        self,
        model: str,
        entry: str,
        onnx_path: Path,
        options: LitServeOptions,
        *,
        log_file: Path,
    ) -> None:
        self.port = free_port()
        self.url = f"{LOOPBACK}:{self.port}"
        self.log_file = log_file
        self.cmd = [
            sys.executable,
            "-m",
            "serving.apps.bench.litserve_app",
            f"--model={model}",
            f"--entry={entry}",
            f"--onnx={onnx_path}",
            f"--host={LOOPBACK}",
            f"--port={self.port}",
            f"--threads={options.threads}",
            f"--max-batch-size={options.max_batch_size}",
            f"--batch-timeout={options.batch_timeout}",
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> LitServeProcess:
        """Start it and wait for ``/health``."""
        from serving.server.triton import _die_with_parent  # new process group, dies with us

        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        root = Path(__file__).resolve().parents[3]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(
                self.cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerStartError(
                    f"LitServe exited during start-up (code {self.process.returncode}); "
                    f"see {self.log_file}."
                )
            try:
                with urllib.request.urlopen(f"http://{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise ServerStartError(
            f"LitServe was not ready after {timeout:.0f} s; see {self.log_file}."
        )

    @property
    def pid(self) -> int | None:
        """Process id (and process group) of the server."""
        return self.process.pid if self.process else None

    def stop(self, grace: float = 10.0) -> None:
        """SIGINT, then SIGKILL the whole group (LitServe's API server and worker processes)."""
        proc, self.process = self.process, None
        if proc is not None:
            stop_process_group(proc, grace)


class LitServeTarget(Target):
    """JSON over HTTP to the LitServe peer: ``http.client`` per thread, or one aiohttp session."""

    name = "litserve"

    def __init__(self, server: LitServeProcess) -> None:
        import threading

        self.server = server
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(LOOPBACK, self.server.port, timeout=60)
            self._local.conn = conn
        return conn

    def call(self, wire: Wire) -> int:
        """POST one request on this thread's keep-alive connection; decode the images."""
        body = json.dumps(encode_tensors(wire))
        conn = self._connection()
        try:
            conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self._local.conn = None
            raise
        return _images_of(resp.status, data)

    async def open_async(self) -> None:
        """One aiohttp session on the running loop (connection pool without a cap)."""
        import aiohttp

        self.aclient = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=60)
        )

    async def acall(self, wire: Wire) -> int:
        """POST one request through the aiohttp session."""
        body = json.dumps(encode_tensors(wire))
        async with self.aclient.post(
            f"http://{self.server.url}/predict",
            data=body,
            headers={"Content-Type": "application/json"},
        ) as resp:
            return _images_of(resp.status, await resp.read())

    def server_pgid(self) -> int | None:
        """Process group of the LitServe subprocess."""
        return self.server.pid


def _images_of(status: int, data: bytes) -> int:
    if status != 200:
        raise RuntimeError(f"LitServe answered {status}: {data[:200]!r}")
    out = decode_tensors(json.loads(data))
    return len(next(iter(out.values())))


# ---------------------------------------------------------------------------------------------
# perf_analyzer: Triton's C++ load generator, as a yardstick for the Python client.
# ---------------------------------------------------------------------------------------------


class PerfAnalyzerError(ZooError, RuntimeError):
    """perf_analyzer exited without a result; the message carries its last lines."""


def perf_analyzer_command() -> tuple[list[str], dict[str, str]]:
    """The ``perf_analyzer`` of the ``tritonclient`` wheel, and an environment it runs in.

    The wheel's binary links ``libb64.so.0d`` and ``libcudart.so.12`` by their plain names; the
    ``nvidia-pytriton`` wheel has both under hashed names, so links with the plain names go
    into a private folder on ``LD_LIBRARY_PATH``.
    """
    import tempfile

    from serving.server.triton import wheel_dir

    binary = Path(sys.executable).parent / "perf_analyzer"
    if not binary.is_file():
        found = shutil.which("perf_analyzer")
        if found is None:
            raise TargetUnavailableError(
                "perf_analyzer is not installed (tritonclient 2.51's wheel carries it; later "
                "releases: pip install perf-analyzer)"
            )
        binary = Path(found)
    libs = wheel_dir().parent.parent / "nvidia_pytriton.libs"
    links = Path(tempfile.gettempdir()) / f"zoo-perf-analyzer-libs-{os.getuid()}"
    links.mkdir(exist_ok=True)
    for plain, prefix in (("libb64.so.0d", "libb64-"), ("libcudart.so.12", "libcudart-")):
        target = next(iter(sorted(libs.glob(f"{prefix}*"))), None)
        if target is not None:
            _point_link(links / plain, target)
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        p for p in (str(links), env.get("LD_LIBRARY_PATH")) if p
    )
    return [str(binary)], env


def _point_link(link: Path, target: Path) -> None:
    """Make ``link`` a symlink to ``target``, replacing one that points elsewhere.

    The folder outlives the virtual environment that made it (a ``/tmp`` kept across runs,
    a venv removed or moved), so a link left by an earlier install may dangle; it is
    replaced by an atomic rename, so concurrent benches never see a missing link.
    """
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    staged = link.with_name(f".{link.name}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    staged.symlink_to(target)
    os.replace(staged, link)


def run_perf_analyzer(
    url: str,
    triton_model: str,
    maker: RequestMaker,
    *,
    concurrency: int,
    duration: float,
    work: Path,
    protocol: str = "grpc",
    headers: Mapping[str, str] | None = None,
) -> Figures:
    """One cell measured by ``perf_analyzer`` over ``protocol`` (requests from ``maker``).

    Its own warm-up and trials stand in for ours: three windows of ``duration`` seconds at
    most, the last one reported (stability is not required: a loaded machine never settles).
    ``headers`` go with every HTTP request (``-H``; perf_analyzer sends none over gRPC).
    """
    if headers and protocol != "http":
        raise InvalidInputError("perf_analyzer sends headers (-H) over HTTP only.")
    import csv
    import resource

    cmd, env = perf_analyzer_command()
    data = work / f"perf-input-{maker.batch}.json"
    data.write_text(json.dumps({"data": [_perf_entry(maker(i)) for i in range(256)]}))
    out_csv = work / f"perf-{maker.batch}-{concurrency}.csv"
    cmd += ["-m", triton_model, "-u", url, "-i", protocol, "-b", str(maker.batch)]
    for key, value in (headers or {}).items():
        cmd += ["-H", f"{key}:{value}"]
    cmd += ["--concurrency-range", str(concurrency), "--input-data", str(data)]
    cmd += ["--measurement-interval", str(max(100, int(duration * 1000)))]
    cmd += ["--stability-percentage", "999", "--max-trials", "3", "-f", str(out_csv)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60 + 10 * duration)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or not out_csv.is_file():
        output = (proc.stdout + proc.stderr).strip()
        if "is restricted, expecting header" in output:
            raise PerfAnalyzerError(_PERF_RESTRICTED)
        tail = output.splitlines()[-3:]
        raise PerfAnalyzerError("perf_analyzer failed: " + " | ".join(tail))
    with open(out_csv) as f:
        row = {k.strip(): v.strip() for k, v in next(csv.DictReader(f)).items() if k}
    rate = float(row["Inferences/Second"])  # images per second (batch × requests)

    def ms(column: str) -> float | None:
        value = row.get(column)
        return float(value) / 1e3 if value else None  # the CSV has microseconds

    us = {k: ms(f"{k} latency") for k in ("p50", "p90", "p99")}
    us["Avg"] = ms("Avg latency")
    if us["Avg"] is None:  # 2.51 writes the mean as its parts, client + server
        parts = [
            ms(c)
            for c in (
                "Client Send",
                "Network+Server Send/Recv",
                "Server Queue",
                "Server Compute Input",
                "Server Compute Infer",
                "Server Compute Output",
                "Client Recv",
            )
        ]
        us["Avg"] = sum(p for p in parts if p is not None) if any(parts) else None
    p50, p90, p99 = us["p50"], us["p90"], us["p99"]
    if p50 is None or p90 is None or p99 is None:
        raise PerfAnalyzerError(f"perf_analyzer's CSV has no p50/p90/p99 latency: {sorted(row)}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Figures(
        client="perf_analyzer",
        throughput=rate,
        requests=None,
        images=None,
        wall_s=None,
        error_count=0,
        errors=(),
        latency_ms=Latency(None, us["Avg"], p50, p90, p99, None),
        client_cpu_cores=cpu / elapsed,  # its warm-up and every trial included
        process_cpu_cores=None,
        server_cpu_cores=None,  # the run fills in the server's figures
        perf_analyzer=row,
        protocol=protocol,
    )


_PERF_RESTRICTED = (
    "the server restricts its statistics API, which perf_analyzer reads after each window: "
    "pass the server's admin key (--admin-key-file, or ZOO_ADMIN_KEY); perf_analyzer then "
    "loads it over HTTP, since it sends headers (-H) over HTTP only."
)


def _perf_entry(wire: Wire) -> dict[str, Any]:
    """One perf_analyzer input-data step: every wire tensor of one request, batch axis cut."""
    return {
        name: {"content": arr[0].ravel().tolist(), "shape": list(arr.shape[1:])}
        for name, arr in wire.items()
    }


class PerfAnalyzerTarget(Target):
    """``triton-perf``: Triton over gRPC loaded by ``perf_analyzer`` instead of the Python SDK.

    Not a client a user calls: it shows what the server does when the client costs next to
    nothing, so the report can tell client-bound figures from server-bound ones. With an
    :attr:`admin_key` (a server whose statistics API is restricted) the load goes over HTTP,
    the one protocol on which perf_analyzer sends the key's header; the cells say which.
    """

    name = "triton-perf"

    def __init__(
        self,
        grpc_url: str,
        triton_model: str,
        *,
        stats_url: str,
        server: TritonServer | None,
        admin_key: str | None = None,
    ) -> None:
        perf_analyzer_command()  # unavailable → TargetUnavailableError now, not per cell
        self.admin_key = admin_key
        self.grpc_url = grpc_url
        self.triton_model = triton_model
        self.stats_url = stats_url
        self.server = server

    def measure(
        self, maker: RequestMaker, *, concurrency: int, duration: float, work: Path
    ) -> Figures:
        """One cell's figures (see :func:`run_perf_analyzer`)."""
        over_http = self.admin_key is not None
        return run_perf_analyzer(
            self.stats_url if over_http else self.grpc_url,
            self.triton_model,
            maker,
            concurrency=concurrency,
            duration=duration,
            work=work,
            protocol="http" if over_http else "grpc",
            headers=admin_headers(self.admin_key, "http") if over_http else None,
        )

    def server_stats(self) -> dict[str, Any] | None:
        """Triton's statistics for the model."""
        return triton_statistics(self.stats_url, self.triton_model, admin_key=self.admin_key)

    def server_pgid(self) -> int | None:
        """Process group of the embedded server (``None`` for ``--url``)."""
        return self.server.pid if self.server is not None else None
