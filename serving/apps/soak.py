"""A soak test: bounded, mixed loopback load on a running Triton, watched over time.

``concurrency`` worker threads send requests back to back for ``duration_s`` seconds (the
closed-loop threads of ``zoo bench``, :func:`serving.apps.bench.load.run_threads`). The mix rotates
through the given zoo models, batch sizes and both protocols (every kind and batch size over
HTTP, then over gRPC), with fresh seeds for every generator request so Triton's response cache does
not answer for the model. Every ``interval_s`` a sampler records the requests, errors and
latency percentiles of that interval and the resident memory (RSS) of the server process and
its Python-backend stubs (psutil), so a leak shows up as a slope and a stall as a gap.

Image-input models (classifiers, translators, the VAE's encoder) get a fixed batch of images
and must give the same answer every time: a changed answer counts as an error ("wrong
answer"), as does any exception, so a soak with zero errors means every request was served
and answered consistently.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from serving.apps.bench import load as loadgen
from serving.apps.bench.stats import summarize
from serving.apps.bench.targets import RequestMaker
from serving.client import ModelNotFoundError, ServerUnavailableError, ZooClient, ZooClientError
from serving.client.ports import HTTP_PORT, default_grpc_url
from serving.client.signature import GENERATE_ENTRIES
from zoo.errors import InvalidInputError
from zoo.pipeline import is_seeded
from zoo.registry import EntryPoint, get_spec, list_models

#: Batch sizes the mix rotates through.
BATCH_SIZES = (1, 4, 16)
#: Protocols the workers alternate between.
PROTOCOLS = ("http", "grpc")
#: Upper bounds: a soak never runs longer or with more workers than this.
MAX_DURATION_S = 24 * 3600.0
MAX_CONCURRENCY = 256
#: First seed of the generator requests (request ``i`` of batch ``b`` draws ``b`` from
#: ``SEED_BASE + i * b``): well away from the seeds people try by hand.
SEED_BASE = 10_000_000


@dataclass
class SoakInterval:
    """Figures of one reporting interval."""

    t_s: float  # seconds since the start, at the end of the interval
    requests: int  # requests completed in the interval (errors included)
    errors: int  # requests that failed or answered wrongly
    p50_ms: float  # latency percentiles of the interval's successful requests
    p99_ms: float
    images_per_s: float  # images served per second in the interval
    rss_mib: float  # server + backend stubs, resident memory (0 when the pid is unknown)
    versions: dict[str, int] = field(default_factory=dict)  # model version → requests it answered


@dataclass
class SoakReport:
    """What :func:`run_soak` measured."""

    url: str  # HTTP endpoint
    grpc_url: str  # gRPC endpoint
    models: list[str]  # zoo models in the mix
    duration_s: float  # measured wall time
    concurrency: int  # worker threads
    requests: int = 0  # requests completed
    images: int = 0  # images carried by successful requests
    errors: int = 0  # failed or wrong requests
    error_samples: list[str] = field(default_factory=list)  # first distinct messages
    p50_ms: float = 0.0  # latency over the whole run
    p99_ms: float = 0.0
    server_pid: int | None = None  # the process whose RSS is tracked
    intervals: list[SoakInterval] = field(default_factory=list)  # over time
    versions: dict[str, int] = field(default_factory=dict)  # model version → requests answered

    @property
    def rss_growth_mib(self) -> float:
        """RSS of the last interval minus that of the first (0 without RSS figures)."""
        rss = [i.rss_mib for i in self.intervals if i.rss_mib > 0]
        return rss[-1] - rss[0] if len(rss) >= 2 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = asdict(self)
        out["rss_growth_mib"] = round(self.rss_growth_mib, 1)
        return out

    def to_markdown(self) -> str:
        """A Markdown table over time plus the totals."""
        lines = [
            f"Soak: {', '.join(self.models)}; {self.concurrency} workers (HTTP + gRPC), "
            f"batch sizes {', '.join(map(str, BATCH_SIZES))}, {self.duration_s:.0f} s.",
            "",
            f"Requests {self.requests}, errors {self.errors}, images {self.images}, "
            f"p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, "
            f"RSS growth {self.rss_growth_mib:+.1f} MiB; answered by model version "
            f"{versions_text(self.versions)}.",
            "",
            "| t (s) | requests | errors | p50 (ms) | p99 (ms) | img/s | RSS (MiB) | versions |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        lines += [
            f"| {i.t_s:.0f} | {i.requests} | {i.errors} | {i.p50_ms:.1f} | {i.p99_ms:.1f} | "
            f"{i.images_per_s:.0f} | {i.rss_mib:.0f} | {versions_text(i.versions)} |"
            for i in self.intervals
        ]
        if self.error_samples:
            lines += ["", "Errors seen:", *(f"- {e}" for e in self.error_samples)]
        return "\n".join(lines) + "\n"

    def write(self, out_dir: Path) -> tuple[Path, Path]:
        """Write ``soak.json`` and ``soak.md`` into ``out_dir``; return their paths."""
        from zoo.weights import write_atomic

        out_dir.mkdir(parents=True, exist_ok=True)
        js, md = out_dir / "soak.json", out_dir / "soak.md"
        write_atomic(js, lambda p: p.write_text(json.dumps(self.to_dict(), indent=2) + "\n"))
        write_atomic(md, lambda p: p.write_text(self.to_markdown()))
        return js, md


def versions_text(versions: Mapping[str, int]) -> str:
    """``"1: 120, 2: 80"`` (requests per answering version), or ``"-"``."""
    return ", ".join(f"{v}: {n}" for v, n in sorted(versions.items())) or "-"


def server_rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` and all its descendants, MiB (0 if it is gone)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue  # a stub that exited between the listing and the read
    return total / 2**20


def find_server_pid(port: int) -> int | None:
    """The pid of the process listening on TCP ``port`` on this machine, if it can be seen."""
    import psutil

    for proc in psutil.process_iter(["pid"]):
        try:
            conns = proc.net_connections(kind="tcp")
        except psutil.Error:
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns):
            return int(proc.pid)
    return None


Call = Callable[[ZooClient, int, int], int]  # (client, request number, batch) → images


def _calls(models: Sequence[str]) -> list[tuple[str, Call]]:
    """One request kind per model: (label, call), on its generator or else its first task."""
    calls: list[tuple[str, Call]] = []
    for name in models:
        entries = _soaked_entries(name)
        spec = get_spec(name)
        entry = spec.entry_point(next(e for e in entries if e in spec.entry_names))
        calls.append((f"{name}:{entry.name}", _call(name, entries, entry)))
    return calls


def _soaked_entries(name: str) -> tuple[str, ...]:
    """The entry points a soak calls ``name`` through: generation, else its first one."""
    names = get_spec(name).entry_names
    return GENERATE_ENTRIES if set(names) & set(GENERATE_ENTRIES) else (names[0],)


def _call(name: str, entries: tuple[str, ...], entry: EntryPoint) -> Call:
    """Requests from ``zoo bench``'s :class:`RequestMaker`: fresh seeds for a generator (the
    response cache must not answer for the model), one fixed batch of images otherwise, which
    must get the same answer every time."""
    makers = {batch: RequestMaker(entry, batch, base=SEED_BASE) for batch in BATCH_SIZES}
    expected: dict[int, dict[str, np.ndarray]] = {}
    lock = threading.Lock()

    def call(zoo: ZooClient, i: int, batch: int) -> int:
        out = zoo.infer(zoo.signature(name, entries), makers[batch](i))
        if is_seeded(entry):
            image = next(iter(out.values()))
            if image.shape[0] != batch or image.dtype != np.uint8:
                raise InvalidInputError(
                    f"wrong answer: {name} returned {image.shape} {image.dtype}"
                )
            return batch
        with lock:
            ref = expected.setdefault(batch, out)
        if not all(_same(out[k], ref[k]) for k in ref):
            raise InvalidInputError(f"wrong answer: {name} changed its output for the same images")
        return batch

    return call


def _same(out: np.ndarray, ref: np.ndarray) -> bool:
    """Whether ``out`` answers as ``ref`` did: the dynamic batcher may run a request with
    others, so float round-off (one grey level in uint8) is allowed."""
    tol = 1 if out.dtype == np.uint8 else 1e-3
    diff = np.abs(out.astype(np.float64) - ref.astype(np.float64))
    return out.shape == ref.shape and float(diff.max(initial=0.0)) <= tol


def run_soak(
    models: Sequence[str] | None = None,
    *,
    url: str = f"127.0.0.1:{HTTP_PORT}",
    grpc_url: str | None = None,
    duration_s: float = 60.0,
    concurrency: int = 4,
    interval_s: float = 5.0,
    server_pid: int | None = None,
    timeout_s: float = 30.0,
    on_interval: Callable[[SoakInterval], None] | None = None,
    connection: Mapping[str, Any] | None = None,
) -> SoakReport:
    """Load the Triton at ``url`` (HTTP) / ``grpc_url`` for ``duration_s`` and report.

    ``models`` default to every zoo model the server serves. ``grpc_url`` defaults to the HTTP
    host on the default gRPC port (:func:`serving.client.ports.default_grpc_url`; ``grpcs://`` when
    ``url`` is ``https://``). ``server_pid`` (default: the process listening on the HTTP port,
    when visible) is whose RSS is tracked. ``connection`` holds the clients' TLS and header
    options (``headers``, ``ca_cert``, ``client_cert``, ``client_key``), for both protocols.
    """
    if not 0 < duration_s <= MAX_DURATION_S:
        raise InvalidInputError(f"--duration must lie in (0, {MAX_DURATION_S:.0f}] seconds.")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidInputError(f"--concurrency must lie in 1..{MAX_CONCURRENCY}.")
    if interval_s <= 0:
        raise InvalidInputError("--interval must be positive.")
    options = dict(connection or {})
    http = ZooClient(url, protocol="http", timeout=timeout_s, **options)
    if grpc_url is None:
        grpc_url = ("grpcs://" if http.endpoint.tls else "") + default_grpc_url(http.url)
    grpc = ZooClient(grpc_url, protocol="grpc", timeout=timeout_s, **options)
    with http, grpc:
        # Raises ServerUnavailableError when nobody answers.
        names = list(models) if models else [m for m in list_models() if _served(http, m)]
        if not names:
            raise InvalidInputError(f"the server at {http.url} serves no zoo model to soak.")
        calls = _calls(names)
        for label, call in calls:  # one warm-up request each; fails early on a bad mix
            try:
                call(http, 0, 1)
                call(grpc, 0, 1)
            except ServerUnavailableError:
                raise  # nobody answers: not the mix's fault
            except ZooClientError as e:
                raise InvalidInputError(f"{label} cannot be soaked: {e}") from e
        pid = (
            server_pid
            if server_pid is not None
            else find_server_pid(int(http.url.rpartition(":")[2]))
        )
        report = SoakReport(http.url, grpc.url, names, duration_s, concurrency, server_pid=pid)
        _drive(report, calls, (http, grpc), interval_s, on_interval)
    return report


def _served(zoo: ZooClient, model: str) -> bool:
    """Whether the server serves what a soak calls ``model`` through.

    Asked through the model's readiness, not the repository index: a server that restricts
    its admin APIs (``zoo serve`` off loopback) answers it without the admin key.
    """
    try:
        zoo.signature(model, _soaked_entries(model))
    except ModelNotFoundError:
        return False
    return True


def _drive(
    report: SoakReport,
    calls: list[tuple[str, Call]],
    clients: tuple[ZooClient, ZooClient],
    interval_s: float,
    on_interval: Callable[[SoakInterval], None] | None,
) -> None:
    """Run the mix on ``zoo bench``'s closed-loop threads; sample every ``interval_s``."""
    lock = threading.Lock()
    window: list[tuple[float, int, bool]] = []  # (latency s, images, ok) since last sample
    window_versions: dict[str, int] = {}  # model version → requests answered, since last sample
    all_latencies: list[float] = []
    cycle = len(calls) * len(BATCH_SIZES)  # every kind and batch size, then the other protocol

    def request(i: int) -> int:
        _, call = calls[i % len(calls)]
        batch = BATCH_SIZES[(i // len(calls)) % len(BATCH_SIZES)]
        client = clients[(i // cycle) % len(clients)]
        images = call(client, i, batch)
        version = str(client.answered_version)  # this thread's last answer
        with lock:
            window_versions[version] = window_versions.get(version, 0) + 1
        return images

    def done(latency: float, images: int, error: str | None) -> None:
        with lock:
            window.append((latency, images, error is None))
            if error is not None and error not in report.error_samples:
                report.error_samples = [*report.error_samples, error][:5]

    stop = threading.Event()
    start = time.monotonic()
    driver = threading.Thread(
        target=loadgen.run_threads,
        args=(request,),
        kwargs={
            "concurrency": report.concurrency,
            "duration": report.duration_s,
            "warmup": 0.0,
            "max_requests": sys.maxsize,
            "on_done": done,
            "pause_after_error": 0.1,  # a failing server is not hammered in a tight loop
            "stop": stop,
        },
        daemon=True,
    )
    driver.start()
    end = start + report.duration_s
    last = start
    try:
        while True:
            time.sleep(max(0.0, min(interval_s, end - time.monotonic())))
            now = time.monotonic()
            finished = now >= end or not driver.is_alive()
            with lock:
                sample, window[:] = list(window), []
                versions = dict(window_versions)
                window_versions.clear()
            ok = [lat for lat, _, good in sample if good]
            all_latencies += ok
            p50, p99 = _p50_p99(ok)
            interval = SoakInterval(
                t_s=round(now - start, 1),
                requests=len(sample),
                errors=sum(not good for _, _, good in sample),
                p50_ms=p50,
                p99_ms=p99,
                images_per_s=sum(n for _, n, _ in sample) / max(now - last, 1e-9),
                rss_mib=round(server_rss_mib(report.server_pid), 1) if report.server_pid else 0.0,
                versions=versions,
            )
            last = now
            report.intervals.append(interval)
            report.requests += interval.requests
            report.errors += interval.errors
            report.images += sum(n for _, n, _ in sample)
            _add_counts(report.versions, versions)
            if on_interval:
                on_interval(interval)
            if finished:
                break
    finally:
        stop.set()
        driver.join()
    # Requests that completed after the last sample are counted too.
    report.requests += len(window)
    report.errors += sum(not good for _, _, good in window)
    report.images += sum(n for _, n, _ in window)
    _add_counts(report.versions, window_versions)
    all_latencies += [lat for lat, _, good in window if good]
    report.duration_s = round(time.monotonic() - start, 1)
    report.p50_ms, report.p99_ms = _p50_p99(all_latencies)


def _add_counts(total: dict[str, int], more: Mapping[str, int]) -> None:
    for key, n in more.items():
        total[key] = total.get(key, 0) + n


def _p50_p99(latencies_s: list[float]) -> tuple[float, float]:
    """p50 and p99 in ms, to 0.01 ms, as ``zoo bench`` computes them (0 without requests)."""
    if not latencies_s:
        return 0.0, 0.0
    s = summarize(latencies_s)
    return round(s.p50, 2), round(s.p99, 2)
