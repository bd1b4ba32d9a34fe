"""Closed-loop load generation: ``concurrency`` callers, each sending its next request as soon
as the last one returns, for a warm-up and then a measured window.

Two drivers share one result type: :func:`run_threads` (one OS thread per caller, blocking
clients) and :func:`run_asyncio` (one event loop, ``concurrency`` tasks, asyncio clients).
Both are bounded: a caller stops at the end of the window or when the run has sent
``max_requests`` requests, whichever comes first.

The client's own CPU time (``time.process_time`` over the window) is recorded with every run:
on a 2-core host the client competes with the server for the same cores, and a client using
most of a core is a bottleneck the report must show.

``zoo bench`` reads the :class:`LoadResult`; ``zoo soak`` (:mod:`serving.apps.soak`) drives the same
threads with no warm-up and watches every completion as it happens (``on_done``).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

#: Default bound on requests per measured cell (warm-up included).
MAX_REQUESTS = 200_000

#: A caller: request number → images it carried (blocking or awaitable).
SyncCall = Callable[[int], int]
AsyncCall = Callable[[int], Awaitable[int]]
#: Told of every completion, warm-up included: (latency s, images, error message or None).
OnDone = Callable[[float, int, str | None], object]


@dataclass
class LoadResult:
    """Raw figures of one measured window."""

    latencies_s: list[float] = field(default_factory=list)  # one per request in the window
    images: int = 0  # images in the window's requests
    requests: int = 0  # requests in the window
    errors: list[str] = field(default_factory=list)  # distinct error messages (first 5)
    error_count: int = 0  # failed requests, warm-up included
    wall_s: float = 0.0  # window length: warm-up end → last completion
    client_cpu_s: float = 0.0  # CPU time of this process over the window

    @property
    def throughput(self) -> float:
        """Images per second over the window."""
        return self.images / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def client_cpu_cores(self) -> float:
        """Cores this process kept busy on average over the window."""
        return self.client_cpu_s / self.wall_s if self.wall_s > 0 else 0.0


class _Recorder:
    """Collects completions; only requests that start inside the window count."""

    def __init__(
        self,
        warm_end: float,
        end: float,
        max_requests: int,
        on_window: Callable[[], object] | None = None,
        on_done: OnDone | None = None,
    ) -> None:
        self.on_window = on_window
        self.on_done = on_done
        self.warm_end = warm_end
        self.end = end
        self.max_requests = max_requests
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.result = LoadResult()
        self.last_done = warm_end
        self.cpu_at_window: float | None = None

    def next_request(self) -> int | None:
        """The next request number, or ``None`` when the run is over."""
        now = time.perf_counter()
        if now >= self.end:
            return None
        i = next(self.counter)  # itertools.count is atomic under the GIL
        if i >= self.max_requests:
            return None
        if now >= self.warm_end and self.cpu_at_window is None:
            with self.lock:
                if self.cpu_at_window is None:
                    if self.on_window is not None:
                        self.on_window()
                    self.cpu_at_window = time.process_time()
        return i

    def done(self, start: float, images: int) -> None:
        stop = time.perf_counter()
        if self.on_done is not None:
            self.on_done(stop - start, images, None)
        if start < self.warm_end:
            return
        with self.lock:
            self.result.latencies_s.append(stop - start)
            self.result.images += images
            self.result.requests += 1
            self.last_done = max(self.last_done, stop)

    def failed(self, start: float, err: BaseException) -> None:
        msg = f"{type(err).__name__}: {err}"
        if self.on_done is not None:
            self.on_done(time.perf_counter() - start, 0, msg)
        with self.lock:
            self.result.error_count += 1
            if len(self.result.errors) < 5 and msg not in self.result.errors:
                self.result.errors.append(msg)

    def finish(self) -> LoadResult:
        cpu_end = time.process_time()
        r = self.result
        r.wall_s = max(0.0, self.last_done - self.warm_end)
        if self.cpu_at_window is not None:
            r.client_cpu_s = cpu_end - self.cpu_at_window
        return r


def run_threads(
    call: SyncCall,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    max_requests: int = MAX_REQUESTS,
    on_window: Callable[[], object] | None = None,
    on_done: OnDone | None = None,
    pause_after_error: float = 0.0,
    stop: threading.Event | None = None,
) -> LoadResult:
    """Drive a blocking ``call`` from ``concurrency`` threads: ``warmup`` s, then ``duration`` s.

    ``on_window`` runs once, when the first request of the measured window is issued;
    ``on_done`` after every request (from the caller's thread). A caller that failed waits
    ``pause_after_error`` s before its next request (a failing server is not hammered in a
    tight loop); setting ``stop`` ends the run early.
    """
    start = time.perf_counter()
    rec = _Recorder(start + warmup, start + warmup + duration, max_requests, on_window, on_done)

    def worker() -> None:
        while (stop is None or not stop.is_set()) and (i := rec.next_request()) is not None:
            t0 = time.perf_counter()
            try:
                n = call(i)
            except Exception as e:
                rec.failed(t0, e)
                if pause_after_error:
                    time.sleep(pause_after_error)
                continue
            rec.done(t0, n)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rec.finish()


def run_asyncio(
    call: AsyncCall,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    max_requests: int = MAX_REQUESTS,
    setup: Callable[[], Awaitable[object]] | None = None,
    teardown: Callable[[], Awaitable[object]] | None = None,
    on_window: Callable[[], object] | None = None,
) -> LoadResult:
    """Drive an async ``call`` from ``concurrency`` tasks on one new event loop.

    ``setup``/``teardown`` run on that loop before and after (clients whose sessions belong
    to a loop are opened and closed there); ``on_window`` as in :func:`run_threads` (it blocks
    the loop while it runs: keep it short).
    """

    async def main() -> LoadResult:
        if setup is not None:
            await setup()
        try:
            start = time.perf_counter()
            rec = _Recorder(start + warmup, start + warmup + duration, max_requests, on_window)

            async def worker() -> None:
                while (i := rec.next_request()) is not None:
                    t0 = time.perf_counter()
                    try:
                        n = await call(i)
                    except Exception as e:
                        rec.failed(t0, e)
                        continue
                    rec.done(t0, n)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return rec.finish()
        finally:
            if teardown is not None:
                await teardown()

    return asyncio.run(main())
