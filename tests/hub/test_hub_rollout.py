"""Rollouts on a running Triton: a Hub revision becomes a served version under load, and back.

Real parts throughout: the olah mirror serves ``genzoo/dcgan-mnist`` (its branch ``finetuned``
holds the bundled weights trained a few more steps here, ``random`` random weights); the
embedded Triton serves a repository built from the bundled weights, with restricted admin
APIs; ``zoo rollout`` / ``zoo rollback`` run as a user runs them, in a subprocess.

Lives beside the hub tests for their mirror fixture. ``pytest -s`` prints the figures the
rollout table in RELIABILITY.md quotes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from serving.client import ZooClient
from serving.server.admin_key import write_admin_key
from serving.server.repository import build_repository
from serving.server.triton import ServerConfig, TritonServer
from serving.server.versions import STAGING_PREFIX, list_versions, served_versions
from zoo.registry import get_spec
from zoo.settings import CONFIG_NAME, WEIGHTS_NAME
from zoo.weights import save_weights

pytestmark = pytest.mark.slow

MODEL = "dcgan-mnist"
REPO_ID = "genzoo/dcgan-mnist"
BATCH = 4  # seeds per request
CONCURRENCY = 8  # closed-loop clients, half HTTP, half gRPC


def finetuned_files(folder: Path, steps: int = 10, lr: float = 5e-5) -> dict[str, bytes]:
    """The bundled generator trained ``steps`` more GAN steps (fresh discriminator, low rate)."""
    from zoo.hub import pull
    from zoo.models.dcgan.training import DCGANTrainer
    from zoo.train.trainer import TrainConfig

    torch.manual_seed(7)
    trainer = DCGANTrainer(TrainConfig(MODEL, lr=lr, seed=7))
    trainer.nets["model"].load_state_dict(pull(MODEL, offline=True).load().state_dict())
    data = trainer.datasets[0]
    rng = np.random.default_rng(7)
    for _ in range(steps):
        idx = rng.integers(0, len(data.images), 64)
        trainer.step([(torch.from_numpy(data.images[idx]), torch.from_numpy(data.labels[idx]))])
    save_weights(trainer.shipped().eval(), folder, MODEL, dict(get_spec(MODEL).config))
    return {n: (folder / n).read_bytes() for n in (CONFIG_NAME, WEIGHTS_NAME)}


def random_files(folder: Path) -> dict[str, bytes]:
    """Untrained weights: a candidate that must fail its quality gate."""
    from zoo.registry import create_model

    torch.manual_seed(11)
    save_weights(create_model(MODEL).eval(), folder, MODEL, dict(get_spec(MODEL).config))
    return {n: (folder / n).read_bytes() for n in (CONFIG_NAME, WEIGHTS_NAME)}


@dataclass
class Stack:
    """The running pieces one module of tests shares."""

    root: Path  # the model repository Triton serves
    server: TritonServer
    key_file: Path  # the admin key
    env: dict[str, str]  # for `zoo` subprocesses: the mirror, a fresh HF cache

    def zoo(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the ``zoo`` CLI as a user would."""
        return subprocess.run(
            [sys.executable, "-c", "from zoo.cli.main import app; app()", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """Start the ``zoo`` CLI without waiting for it."""
        return subprocess.Popen(
            [sys.executable, "-c", "from zoo.cli.main import app; app()", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )

    def served(self) -> list[int]:
        """The versions the repository's config serves."""
        return served_versions(self.root / MODEL)

    def rollout_args(self, revision: str, url: str) -> list[str]:
        """``zoo rollout`` of ``revision`` onto ``url`` with the admin key."""
        return [
            "rollout",
            MODEL,
            "--revision",
            revision,
            "--repository",
            str(self.root),
            "--url",
            url,
            "--admin-key-file",
            str(self.key_file),
        ]


@pytest.fixture(scope="module")
def stack(olah, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Mirror branches, a repository of the bundled weights, and a restricted Triton on it."""
    base = tmp_path_factory.mktemp("rollout")
    main = olah.commits["main"]
    olah.commit_on_branch(REPO_ID, "finetuned", main, finetuned_files(base / "finetuned"))
    olah.commit_on_branch(REPO_ID, "random", main, random_files(base / "random"))
    root = base / "repository"
    build_repository([MODEL], out_dir=root, parity_n=4)
    key_file = base / "admin-key"
    key = write_admin_key(key_file)
    config = ServerConfig.on_free_ports(root, exit_timeout_secs=3, admin_key=key)
    server = TritonServer(config, log_file=base / "triton.log")
    server.start(timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "ZOO_ADMIN_KEY")}
    env.update(
        HF_ENDPOINT=olah.url,
        HF_HOME=str(base / "hf-home"),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
    )
    try:
        yield Stack(root, server, key_file, env)
    finally:
        server.stop()


def reference(root: Path, version: int) -> Callable[[np.ndarray], np.ndarray]:
    """In-process output of ``version`` (its exported graph on ONNX Runtime) for seeds."""
    from export.runners import make_runner
    from zoo.pipeline import generator_inputs

    onnx = root / MODEL / str(version) / "model.onnx"
    runner = make_runner("onnxruntime", MODEL, "generate", artifact=onnx, threads=1)
    return lambda seeds: runner(*generator_inputs(runner.entry, seeds))[0]


@dataclass
class Answer:
    """One request of the load and what came back."""

    start: float
    end: float
    first_seed: int
    protocol: str
    version: int | None = None
    image: np.ndarray | None = None
    error: str | None = None


@dataclass
class Load:
    """Closed-loop clients sending fresh seeds until stopped, half over HTTP, half gRPC."""

    stack: Stack
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Load:
        server = self.stack.server
        for i in range(CONCURRENCY):
            protocol = "http" if i % 2 == 0 else "grpc"
            url = server.http_url if protocol == "http" else server.grpc_url
            t = threading.Thread(target=self._run, args=(url, protocol), daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)

    def _run(self, url: str, protocol: str) -> None:
        client = ZooClient(url, protocol=protocol, timeout=60)  # type: ignore[arg-type]
        with client:
            while not self._stop.is_set():
                with self._lock:
                    first, self._next = self._next, self._next + BATCH
                seeds = np.arange(first, first + BATCH, dtype=np.int64) + 50_000_000
                answer = Answer(time.monotonic(), 0.0, int(seeds[0]), protocol)
                try:
                    answer.image = client.generate(MODEL, seeds)
                    answer.version = client.answered_version
                except Exception as e:  # every failure counts, whatever its type
                    answer.error = f"{type(e).__name__}: {e}"
                answer.end = time.monotonic()
                with self._lock:
                    self.answers.append(answer)
                time.sleep(0.01)  # leave the 2-core host some room for the rollout itself


def _p99_ms(answers: list[Answer]) -> float:
    return float(np.percentile([(a.end - a.start) * 1e3 for a in answers], 99)) if answers else 0.0


def _check_answers(
    answers: list[Answer], refs: dict[int, Callable[[np.ndarray], np.ndarray]]
) -> None:
    """Every answer is its version's in-process output for its seeds, byte for byte."""
    errors = [a.error for a in answers if a.error]
    assert not errors, f"{len(errors)} failed requests, e.g. {errors[:3]}"
    for a in answers:
        assert a.version in refs, f"answered by version {a.version}"
        seeds = np.arange(a.first_seed, a.first_seed + BATCH, dtype=np.int64)
        assert a.image is not None and np.array_equal(a.image, refs[a.version](seeds)), (
            f"seeds {a.first_seed}..: the bytes are not version {a.version}'s"
        )


def test_rollout_without_the_admin_key_is_refused(stack: Stack) -> None:
    before = sorted(p.name for p in (stack.root / MODEL).iterdir())
    args = stack.rollout_args("finetuned", stack.server.http_url)
    result = stack.zoo(*args[:-2])  # no --admin-key-file, no ZOO_ADMIN_KEY
    assert result.returncode != 0
    assert "admin key" in result.stdout + result.stderr
    assert sorted(p.name for p in (stack.root / MODEL).iterdir()) == before
    assert stack.served() == [1]


def test_rollout_and_rollback_under_load(stack: Stack) -> None:
    old = stack.served()[-1]
    server = stack.server
    cached = np.arange(900, 900 + BATCH, dtype=np.int64)  # answered (and cached) before
    with ZooClient(server.http_url) as client:
        before = client.generate(MODEL, cached)
    with Load(stack) as load:
        time.sleep(2.0)
        t0 = time.monotonic()
        result = stack.zoo(*stack.rollout_args("finetuned", server.http_url), "--json")
        t1 = time.monotonic()
        assert result.returncode == 0, result.stdout + result.stderr
        new = stack.served()[-1]
        assert new > old
        with ZooClient(server.http_url) as client:  # the response cache keys on the version
            after = client.generate(MODEL, cached)
            assert client.answered_version == new
        time.sleep(2.0)
        t2 = time.monotonic()
        back = stack.zoo(
            "rollback",
            MODEL,
            "--repository",
            str(stack.root),
            "--url",
            f"grpc://{server.grpc_url}",
            "--admin-key-file",
            str(stack.key_file),
        )
        t3 = time.monotonic()
        assert back.returncode == 0, back.stdout + back.stderr
        assert "rolled back" in back.stdout
        time.sleep(2.0)
    answers = load.answers
    refs = {old: reference(stack.root, old), new: reference(stack.root, new)}
    probe = np.arange(50_000_000, 50_000_000 + BATCH, dtype=np.int64)
    assert not np.array_equal(refs[old](probe), refs[new](probe)), "the revisions draw alike"
    _check_answers(answers, refs)
    assert np.array_equal(before, refs[old](cached)) and np.array_equal(after, refs[new](cached))
    # Before the command, the old version; once it returned, only the new one; after the
    # rollback returned, only the old one again.
    assert {a.version for a in answers if a.end < t0} == {old}
    assert {a.version for a in answers if t1 < a.start < t2} == {new}
    assert {a.version for a in answers if a.start > t3} == {old}
    first_new = min(a.end for a in answers if a.version == new)
    assert stack.served() == [old]
    versions = {v.version: v for v in list_versions(stack.root, [MODEL])}
    assert versions[new].release.source == "hub" and versions[new].release.commit
    # version 1 is what `zoo repo build` pulled: here the bundled copy of the pinned revision
    first = versions[old].release
    assert (first.source, first.sha256) == ("bundled", get_spec(MODEL).sha256)
    assert versions[new].release.gates["quality"]["passed"]
    during = [a for a in answers if t0 <= a.start <= t1]
    during_back = [a for a in answers if t2 <= a.start <= t3]
    print(
        f"\nrollout: {len(during)} requests during the command ({t1 - t0:.1f} s), "
        f"{sum(a.error is not None for a in answers)} failed; p99 before "
        f"{_p99_ms([a for a in answers if a.end < t0]):.1f} ms, during "
        f"{_p99_ms(during):.1f} ms; command → first answer of version {new}: "
        f"{first_new - t0:.1f} s\nrollback: {len(during_back)} requests during the command "
        f"({t3 - t2:.1f} s); p99 during {_p99_ms(during_back):.1f} ms\n"
        f"total {len(answers)} requests at concurrency {CONCURRENCY}"
    )


def test_a_candidate_below_its_quality_targets_is_refused(stack: Stack) -> None:
    served = stack.served()
    before = sorted(p.name for p in (stack.root / MODEL).iterdir())
    result = stack.zoo(*stack.rollout_args("random", stack.server.http_url))
    assert result.returncode != 0
    assert "misses its quality targets" in result.stdout + result.stderr
    assert stack.served() == served
    assert sorted(p.name for p in (stack.root / MODEL).iterdir()) == before
    with ZooClient(stack.server.http_url) as client:
        client.generate(MODEL, [1, 2])
        assert client.answered_version == served[-1]


def test_a_killed_rollout_leaves_the_old_version_and_the_next_one_succeeds(stack: Stack) -> None:
    served = stack.served()
    proc = stack.popen(*stack.rollout_args("finetuned", stack.server.http_url))
    deadline = time.monotonic() + 120
    while not list((stack.root / MODEL).glob(f"{STAGING_PREFIX}*")):
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the rollout never started exporting"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert stack.served() == served
    assert all(v.complete for v in list_versions(stack.root, [MODEL]))
    with ZooClient(stack.server.grpc_url, protocol="grpc") as client:
        client.generate(MODEL, [3, 4])
        assert client.answered_version == served[-1]
    # The next rollout, over gRPC, clears what the killed one left and succeeds.
    result = stack.zoo(*stack.rollout_args("finetuned", f"grpc://{stack.server.grpc_url}"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "interrupted rollout" in result.stderr
    assert not list((stack.root / MODEL).glob(f"{STAGING_PREFIX}*"))
    new = stack.served()
    assert new != served and all(v.complete for v in list_versions(stack.root, [MODEL]))
    with ZooClient(stack.server.grpc_url, protocol="grpc") as client:
        client.generate(MODEL, [3, 4])
        assert client.answered_version == new[-1]
