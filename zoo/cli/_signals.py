"""How foreground servers (``zoo serve``, ``zoo playground``) stop: SIGINT exactly as SIGTERM."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: The signals that stop a foreground server.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[Callable[[], None]]:
    """Handle SIGINT and SIGTERM alike for the ``with`` block; yields ``serving()``.

    Both get an explicit handler, because a process started with ``&`` from a
    non-interactive shell inherits SIGINT as ignored and Python then never raises
    KeyboardInterrupt (DESIGN.md). Until the caller calls ``serving()``, either signal
    interrupts the start with KeyboardInterrupt, so what was half started is cleaned up on
    the way out; after it, either signal sets ``stop``: the caller's wait loop ends and it
    shuts down in order, and a second signal cannot cut that shutdown short. The previous
    handlers come back when the block ends.
    """
    started = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()
        if not started.is_set():
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        yield started.set
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
