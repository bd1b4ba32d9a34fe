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
    KeyboardInterrupt (DESIGN.md). Either signal sets ``stop``: the caller's wait loop ends and
    it shuts down in order, so a signal cannot cut that shutdown short. One that comes while
    starting lets the start finish and the caller then stops at once (what a supervisor's
    SIGTERM expects); a second one before the caller calls ``serving()`` interrupts the start
    with KeyboardInterrupt (a second Ctrl-C when a start takes long). The previous handlers
    come back when the block ends.
    """
    started = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        if stop.is_set() and not started.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        yield started.set
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
