"""The stop rule of foreground servers: SIGINT and SIGTERM alike, whatever was inherited.

Each scenario runs in a fresh interpreter that signals itself. Signalling the test process
instead would interrupt whatever earlier tests left running in it (gRPC's and ONNX Runtime's
native threads, finalizers): a CI run of the whole suite once died there with SIGSEGV, in the
first of these tests, after 888 had passed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = """\
import os
import signal
import threading

from zoo.cli._signals import stop_on_signals
"""


def run_alone(scenario: str) -> None:
    """Run ``scenario`` (Python source) in a fresh interpreter; it prints ``ok`` when its
    assertions held."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(scenario)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok", result.stdout + result.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_sets_stop_and_a_second_one_interrupts_the_start(sig: int) -> None:
    run_alone(
        f"""
        stop = threading.Event()
        first_only_set_stop = False
        try:
            with stop_on_signals(stop):
                os.kill(os.getpid(), {int(sig)})  # handlers run in the main thread, next bytecode
                assert stop.is_set()
                first_only_set_stop = True
                os.kill(os.getpid(), {int(sig)})
                raise SystemExit("a second signal while starting must interrupt the start")
        except KeyboardInterrupt:
            assert first_only_set_stop, "the first signal must not interrupt the start"
            print("ok")
        """
    )


def test_once_serving_signals_only_set_stop_even_if_sigint_was_ignored() -> None:
    run_alone(
        """
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as `&` in a script leaves it
        stop = threading.Event()
        with stop_on_signals(stop) as serving:
            serving()
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGINT):
                os.kill(os.getpid(), sig)
            assert stop.is_set()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # restored
        print("ok")
        """
    )
