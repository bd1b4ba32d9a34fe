"""The full wheel installed in a fresh venv and run outside the checkout, as a user runs it.

pull (the Hub unreachable: the bundled copy) → export (`zoo repo build`) → `zoo serve` →
`zoo generate` → a short `zoo bench`, from a temp folder with an environment that cannot see
the checkout. The venv takes the checkout's constraints (torch 2.13.0 is the CPU wheel on disk;
without them pip would fetch a CUDA build of several GB).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from serving.client import ZooClient
from serving.server.triton import free_port

pytestmark = pytest.mark.slow


def test_full_wheel_runs_the_main_job_outside_the_checkout(
    dists: Any, fresh_venv: Callable[[str], Any], checkout: Path
) -> None:
    """Every step from the installed package; nothing read from the checkout."""
    env = fresh_venv("full")
    constraints = [
        a for f in ("constraints.txt", "constraints-lock.txt") for a in ("-c", f"{checkout / f}")
    ]
    seconds = env.pip_install(*constraints, f"genzoo[serve,bench] @ {dists.wheel.as_uri()}")
    print(f"full venv installed in {seconds:.0f} s, {env.size_mib():.0f} MiB")
    repo, out = env.home / "model_repository", env.home / "out"
    zoo_env = {"ZOO_MODEL_REPOSITORY": str(repo), "HF_HOME": str(env.home / "hf")}

    # The package and its bundled weights are the venv's, not the checkout's.
    where = env.run("python", "-c", "import zoo, sys; print(zoo.__file__); print(sys.path)")
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(env.path)), where.stdout
    assert str(checkout) not in where.stdout

    steps = [
        ("pull", "dcgan-mnist"),
        ("repo", "build", "-m", "dcgan-mnist", "--instances", "1", "--threads", "1"),
    ]
    for step in steps:
        t0 = time.monotonic()
        done = env.run("zoo", *step, **zoo_env)
        assert done.returncode == 0, (step, done.stdout, done.stderr)
        print(f"zoo {step[0]}: {time.monotonic() - t0:.0f} s")
        if step[0] == "pull":
            assert "bundled" in done.stdout, done.stdout
    assert (repo / "dcgan-mnist" / "config.pbtxt").is_file()
    assert list(repo.rglob("model.onnx")), "zoo repo build exported nothing"

    http, grpc, metrics = free_port(), free_port(), free_port()
    serve = subprocess.Popen(
        [str(env.path / "bin" / "zoo"), "serve", "--http-port", str(http), "--grpc-port",
         str(grpc), "--metrics-port", str(metrics), "--cache-mb", "0"],
        cwd=env.home, env=env.env(**zoo_env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        url = f"127.0.0.1:{http}"
        with ZooClient(url, timeout=5) as client:
            deadline = time.monotonic() + 180
            while not client.ready():
                assert serve.poll() is None and time.monotonic() < deadline, "Triton never ready"
                time.sleep(0.5)
        done = env.run("zoo", "generate", "dcgan-mnist", "--seeds", "0-7", "--url", url,
                       "--out", str(out / "digits.png"), **zoo_env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert (out / "digits.png").stat().st_size > 0
        bench = ["bench", "dcgan-mnist", "--targets", "triton-grpc", "--url", url,
                 "--grpc-url", f"127.0.0.1:{grpc}",
                 "--batch", "8", "--concurrency", "2", "--duration", "0.5", "--warmup", "0.2",
                 "--report", str(out / "bench"), "--json"]  # fmt: skip
        done = env.run("zoo", *bench, **zoo_env)
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads((out / "bench" / "bench.json").read_text())
        assert [c["status"] for c in report["results"]] == ["ok"]
        assert report["environment"]["versions"]["genzoo"] is not None
    finally:
        serve.send_signal(signal.SIGINT)
        log, _ = serve.communicate(timeout=60)
    assert serve.returncode == 0, log
    # What the run wrote is under the temp folder; the checkout's repository was not used.
    assert str(checkout) not in log
