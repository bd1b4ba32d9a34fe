"""The load generator's bookkeeping with in-memory callers (counts, bounds, errors; no timing)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from serving.apps.bench.load import run_asyncio, run_threads
from serving.apps.bench.targets import RequestMaker, group_cpu_seconds, stats_delta
from serving.server.wire import graph_inputs, wire_inputs
from zoo.registry import get_spec, list_models


def test_threads_count_images_and_respect_the_request_bound() -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def call(i: int) -> int:
        with lock:
            seen.append(i)
        return 3

    r = run_threads(call, concurrency=4, duration=30.0, warmup=0.0, max_requests=200)
    assert len(seen) == 200 and sorted(seen) == list(range(200))  # each number once
    assert r.requests == len(r.latencies_s) == 200  # no warm-up: every request is measured
    assert r.images == 3 * r.requests
    assert r.error_count == 0 and r.throughput > 0


def test_errors_are_counted_not_raised() -> None:
    def call(i: int) -> int:
        if i % 2:
            raise ConnectionError("server went away")
        return 1

    r = run_threads(call, concurrency=2, duration=30.0, warmup=0.0, max_requests=50)
    assert r.error_count == 25
    assert r.requests == 25
    assert r.errors == ["ConnectionError: server went away"]


def test_every_completion_is_reported_and_stop_ends_the_run() -> None:
    """What ``zoo soak`` relies on: on_done for each request (warm-up too), then ``stop``."""
    seen: list[tuple[int, str | None]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def call(i: int) -> int:
        if i == 30:
            stop.set()
        if i % 3 == 0:
            raise ValueError(f"bad {i}")
        return 2

    def done(latency: float, images: int, error: str | None) -> None:
        assert latency >= 0
        with lock:
            seen.append((images, error))

    r = run_threads(
        call, concurrency=1, duration=30.0, warmup=30.0, max_requests=10**6, on_done=done, stop=stop
    )
    assert len(seen) == 31  # requests 0..30, then stop
    assert seen[0] == (0, "ValueError: bad 0") and seen[1] == (2, None)
    assert sum(e is not None for _, e in seen) == r.error_count == 11
    assert r.requests == 0  # all inside the warm-up: reported, not measured


def test_warmup_requests_are_not_measured() -> None:
    # Every request starts inside a warm-up longer than the request bound takes to exhaust.
    r = run_threads(lambda i: 1, concurrency=2, duration=1.0, warmup=30.0, max_requests=20)
    assert r.requests == 0 and r.latencies_s == []


def test_asyncio_driver_and_window_hook() -> None:
    opened: list[str] = []
    seen: list[int] = []

    async def call(i: int) -> int:
        seen.append(i)
        await asyncio.sleep(0)
        return 2

    async def setup() -> None:
        opened.append("setup")

    async def teardown() -> None:
        opened.append("teardown")

    r = run_asyncio(
        call,
        concurrency=8,
        duration=30.0,
        warmup=0.0,
        max_requests=100,
        setup=setup,
        teardown=teardown,
        on_window=lambda: opened.append("window"),
    )
    # The request bound ends the run long before the 30 s window: each number sent once,
    # every request measured (no warm-up).
    assert sorted(seen) == list(range(100))
    assert r.requests == len(r.latencies_s) == 100 and r.images == 200
    assert r.error_count == 0
    assert opened == ["setup", "window", "teardown"]


def test_request_maker_gives_distinct_seeds() -> None:
    maker = RequestMaker(get_spec("stylegan2-mnist").entry_point(), 4, base=1000)
    a, b = maker(0), maker(1)
    assert set(a) == {"seed", "psi", "mix_seed"}
    assert a["seed"].shape == (4, 1) and a["seed"].dtype == np.int64
    assert a["seed"].ravel().tolist() == [1000, 1001, 1002, 1003]
    assert b["seed"].ravel().tolist() == [1004, 1005, 1006, 1007]
    images = RequestMaker(get_spec("cyclegan-digits").entry_point(), 3)(0)
    assert images["image"].shape == (3, 32, 32, 1) and images["image"].dtype == np.uint8


@pytest.mark.parametrize(
    "name, entry",
    [(m, e.name) for m in list_models() for e in get_spec(m).entry_points],
)
def test_request_maker_fills_every_entry_point_the_server_accepts(name: str, entry: str) -> None:
    """interpolate's seed_to and t were left out, and synthesize sent a random mixing seed:
    Triton refused the bench's first request."""
    ep = get_spec(name).entry_point(entry)
    for i in (0, 5):
        wire = RequestMaker(ep, 16, base=10)(i)
        inputs = graph_inputs(ep, wire)  # the Triton Python model's checks and conversion
        assert [len(a) for a in inputs] == [16] * len(ep.inputs)
    required = {w.name for w in wire_inputs(ep) if not w.optional}
    assert required <= set(wire)


def test_stats_delta_per_request_means() -> None:
    def snap(n: int, ns: int, execs: int, infers: int) -> dict[str, object]:
        stats = {
            k: {"count": n, "ns": ns * (i + 1)}
            for i, k in enumerate(
                ("success", "queue", "compute_input", "compute_infer", "compute_output")
            )
        }
        return {"inference_stats": stats, "execution_count": execs, "inference_count": infers}

    d = stats_delta(snap(10, 1_000_000, 2, 10), snap(30, 5_000_000, 7, 50))
    assert d is not None
    assert d.requests == 20
    assert d.request_ms == (5_000_000 - 1_000_000) / 20 / 1e6
    assert d.compute_output_ms == 5 * (5_000_000 - 1_000_000) / 20 / 1e6
    assert d.executions == 5 and d.avg_batch == 8.0
    assert stats_delta(None, {}) is None


def test_group_cpu_seconds_sums_a_process_group() -> None:
    """A child in its own process group burns CPU; the group's figure is the child's."""
    import psutil

    assert group_cpu_seconds(None) is None
    burn = "import sys; sum(range(2 * 10**7)); print('done', flush=True); sys.stdin.read()"
    child = subprocess.Popen(
        [sys.executable, "-c", burn],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as the bench's servers
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "done\n"
        times = psutil.Process(child.pid).cpu_times()
        seconds = group_cpu_seconds(child.pid)
        assert seconds is not None and seconds > 0.05
        assert seconds == pytest.approx(times.user + times.system, abs=0.05)  # idle by now
        assert group_cpu_seconds(os.getpgid(0)) != seconds
    finally:
        child.kill()
        child.wait()
