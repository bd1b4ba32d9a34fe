"""The stop rule of foreground servers: SIGINT and SIGTERM alike, whatever was inherited."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from zoo.cli._signals import stop_on_signals


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_sets_stop_and_a_second_one_interrupts_the_start(sig: int) -> None:
    stop = threading.Event()
    with pytest.raises(KeyboardInterrupt), stop_on_signals(stop):
        os.kill(os.getpid(), sig)  # handlers run in the main thread, at the next bytecode
        assert stop.is_set()
        os.kill(os.getpid(), sig)
        pytest.fail("a second signal while starting must interrupt the start")


def test_once_serving_signals_only_set_stop_even_if_sigint_was_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as `&` in a script leaves it
    try:
        stop = threading.Event()
        with stop_on_signals(stop) as serving:
            serving()
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGINT):
                os.kill(os.getpid(), sig)
            assert stop.is_set()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # restored
    finally:
        signal.signal(signal.SIGINT, previous)
