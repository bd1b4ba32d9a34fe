"""Launcher for the ``tritonserver`` binary that the ``nvidia-pytriton`` wheel carries.

:class:`ServerConfig` mirrors the ``tritonserver`` flags it sets; :class:`TritonServer` starts
the process, waits for ``/v2/health/ready``, and stops it with SIGINT, then SIGKILL after a
grace period. The server runs in its own process group (so its Python-backend stubs are
stopped with it) and receives SIGKILL if the process that started it dies (Linux
``PR_SET_PDEATHSIG``), so it never outlives its parent. Output goes to a log file.

The embedded launch recipe (see DESIGN.md): a copy of the wheel's backends folder with the
Python-backend stub for this Python version in ``backends/python/``; this interpreter's
``bin`` first on ``PATH`` (the stub runs the Python it finds there, so ``model.py`` imports
this environment's packages); Python's ``LIBDIR`` and ``nvidia_pytriton.libs`` on
``LD_LIBRARY_PATH``.

Triton runs in explicit model-control mode: with every model of the repository loaded at start
(``--load-model=*``), or the ones :attr:`ServerConfig.load_models` names; load and unload calls
then change versions on the running server (:mod:`serving.server.versions`).

Restricted APIs: with :attr:`ServerConfig.admin_key` set, Triton's admin APIs answer only
requests that carry the key (:mod:`serving.server.admin_key`).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serving.client.closeable import Closeable
from serving.client.ports import GRPC_PORT, HTTP_PORT, METRICS_PORT
from serving.server.admin_key import admin_headers, check_admin_key, restricted_api_flags
from zoo.errors import (
    MissingDependencyError,
    PortInUseError,
    ServerStartError,
    TritonNotFoundError,
)
from zoo.settings import model_repository_dir, zoo_home

#: Loopback: servers bind here unless told otherwise.
LOOPBACK = "127.0.0.1"
#: Object stores Triton reads a model repository from by itself (``s3://`` is tested here).
REMOTE_SCHEMES = ("s3://", "gs://", "as://")
_PR_SET_PDEATHSIG = 1


@dataclass
class ServerConfig:
    """The ``tritonserver`` flags the launcher sets (one field per flag)."""

    # --model-repository: a folder, or an object-store URI Triton reads itself (s3://...)
    model_repository: Path | str = field(default_factory=model_repository_dir)
    http_address: str = LOOPBACK  # --http-address
    http_port: int = HTTP_PORT  # --http-port
    grpc_address: str = LOOPBACK  # --grpc-address
    grpc_port: int = GRPC_PORT  # --grpc-port
    metrics_address: str = LOOPBACK  # --metrics-address
    metrics_port: int = METRICS_PORT  # --metrics-port
    allow_metrics: bool = True  # --allow-metrics
    cache_size: int = 64 * 2**20  # --cache-config local,size=<bytes>; 0 disables the cache
    # --model-control-mode=explicit and --load-model for each; () loads every model (--load-model=*)
    # in the same mode, so versions can be loaded and unloaded on the running server (rollouts)
    load_models: tuple[str, ...] = ()
    exit_timeout_secs: int = 10  # --exit-timeout-secs: how long it drains requests on stop
    log_verbose: int = 0  # --log-verbose
    strict_readiness: bool = True  # --strict-readiness: ready only when every model is
    exit_on_error: bool = False  # --exit-on-error: false keeps serving the models that loaded
    # --http-restricted-api / --grpc-restricted-protocol RESTRICTED_APIS:ADMIN_KEY_HEADER=<key>;
    # None leaves every API open. Kept out of repr so it cannot reach a log through it.
    admin_key: str | None = field(default=None, repr=False)

    def args(self, backends_dir: Path, caches_dir: Path | None) -> list[str]:
        """The command-line flags for this config."""
        flags = [
            f"--model-repository={repository_argument(self.model_repository)}",
            f"--backend-directory={backends_dir}",
            f"--http-address={self.http_address}",
            f"--http-port={self.http_port}",
            f"--grpc-address={self.grpc_address}",
            f"--grpc-port={self.grpc_port}",
            f"--allow-metrics={str(self.allow_metrics).lower()}",
            f"--allow-gpu-metrics={str(self.allow_metrics).lower()}",
            f"--exit-timeout-secs={self.exit_timeout_secs}",
            f"--log-verbose={self.log_verbose}",
            f"--strict-readiness={str(self.strict_readiness).lower()}",
            f"--exit-on-error={str(self.exit_on_error).lower()}",
        ]
        if self.allow_metrics:
            flags += [
                f"--metrics-address={self.metrics_address}",
                f"--metrics-port={self.metrics_port}",
            ]
        if self.cache_size > 0:
            flags.append(f"--cache-config=local,size={self.cache_size}")
            if caches_dir is not None:
                flags.append(f"--cache-directory={caches_dir}")
        flags.append("--model-control-mode=explicit")
        flags += [f"--load-model={m}" for m in self.load_models or ("*",)]
        if self.admin_key is not None:
            flags += restricted_api_flags(self.admin_key)
        return flags

    @classmethod
    def on_free_ports(cls, model_repository: Path | str, **flags: Any) -> ServerConfig:
        """A loopback config on three ports free right now (HTTP, gRPC, metrics).

        ``flags`` are the other fields (``cache_size=0``, ``load_models=...``); what the
        tests, ``zoo bench``, ``zoo soak``, the demo and the GPU check each start.
        """
        return cls(
            model_repository=model_repository,
            http_port=free_port(),
            grpc_port=free_port(),
            metrics_port=free_port(),
            **flags,
        )

    def ports(self) -> list[tuple[str, str, int]]:
        """(what, address, port) of every port the server will listen on."""
        out = [
            ("HTTP", self.http_address, self.http_port),
            ("gRPC", self.grpc_address, self.grpc_port),
        ]
        if self.allow_metrics:
            out.append(("metrics", self.metrics_address, self.metrics_port))
        return out


def is_loopback(address: str) -> bool:
    """Whether ``address`` is this machine's loopback (servers bind it unless told otherwise)."""
    return address in (LOOPBACK, "localhost", "::1")


def is_remote(repository: Path | str) -> bool:
    """Whether ``repository`` is an object-store URI rather than a folder."""
    return isinstance(repository, str) and repository.startswith(REMOTE_SCHEMES)


def repository_argument(repository: Path | str) -> str:
    """``--model-repository`` value: a URI as given, a folder as an absolute path."""
    return str(repository) if is_remote(repository) else str(Path(repository).resolve())


def wheel_dir() -> Path:
    """The ``tritonserver`` folder inside the ``nvidia-pytriton`` wheel.

    Found without importing ``pytriton`` (which imports its whole client stack): the GPU
    bundle (``make gpu-bundle``) carries only the server part of the wheel.
    """
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("nvidia-pytriton", "serve")
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "tritonserver"


def find_binary() -> Path:
    """Path of the ``tritonserver`` binary; a clear error when it is not there."""
    path = wheel_dir() / "bin" / "tritonserver"
    if not path.is_file() or not os.access(path, os.X_OK):
        raise TritonNotFoundError(
            f"tritonserver not found at {path}. Reinstall the serving extra "
            "(`pip install 'genzoo[serve]'`), or run Triton elsewhere and pass `--url`."
        )
    return path


def prepare_backends(dest: Path) -> Path:
    """Copy the wheel's backends into ``dest`` with the Python-backend stub for this Python."""
    src = wheel_dir()
    stub = src / "python_backend_stubs" / f"{sys.version_info[0]}.{sys.version_info[1]}"
    stub = stub / "triton_python_backend_stub"
    if not stub.is_file():
        raise TritonNotFoundError(
            f"the nvidia-pytriton wheel has no Python-backend stub for Python "
            f"{sys.version_info[0]}.{sys.version_info[1]} ({stub})."
        )
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src / "backends", dest)
    shutil.copy2(stub, dest / "python" / "triton_python_backend_stub")
    return dest


def server_env() -> dict[str, str]:
    """Environment for ``tritonserver``: this venv first on PATH, its libraries loadable."""
    env = dict(os.environ)
    libs = [
        str(sysconfig.get_config_var("LIBDIR") or ""),
        str(wheel_dir().parent.parent / "nvidia_pytriton.libs"),
    ]
    if env.get("LD_LIBRARY_PATH"):
        libs.append(env["LD_LIBRARY_PATH"])
    env["LD_LIBRARY_PATH"] = ":".join(p for p in libs if p)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def check_port_free(what: str, address: str, port: int) -> None:
    """Raise :class:`PortInUseError` if ``address:port`` cannot be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As servers do: connections left in TIME_WAIT by a server that was killed do not
        # block a restart on its port; a process listening there still does.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError as e:
            raise PortInUseError(
                f"{what} port {port} on {address} is already in use ({e.strerror}); another "
                f"server may be running there. Pick another port (e.g. `--{what.lower()}-port`) "
                "or stop that process."
            ) from None


def _answers(check: Callable[[], bool]) -> bool:
    """Whether a tritonclient health call says yes; no answer (refused, timed out) is no."""
    from tritonclient.utils import InferenceServerException

    try:
        return bool(check())
    except (InferenceServerException, OSError):
        return False


def free_port(address: str = LOOPBACK) -> int:
    """A TCP port that is free on ``address`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def stop_process_group(proc: subprocess.Popen[Any], grace: float) -> int:
    """SIGINT ``proc``, wait up to ``grace`` s, then SIGKILL its process group; its exit code.

    ``proc`` leads its own group (:func:`_die_with_parent`): whatever is left of the group after
    the grace period (Triton's Python-backend stubs, LitServe's workers) is killed with it.
    """
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait()


def _die_with_parent() -> None:
    """Runs in the child before exec: new process group, SIGKILL when the parent dies."""
    os.setpgrp()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True, order=True)
class ModelState:
    """One model in the server's repository index."""

    name: str  # Triton model name
    state: str  # READY, UNAVAILABLE, LOADING, UNLOADING or UNLOADED (never asked to load)
    reason: str  # why it is not READY: the first line of Triton's message ("" when READY)

    @property
    def ready(self) -> bool:
        """Whether the model serves requests."""
        return self.state == "READY"


def _first_line(reason: str) -> str:
    """The error itself from a Triton load failure: no "Internal:" prefix, no traceback."""
    line = reason.strip().splitlines()[0] if reason.strip() else ""
    return line.removeprefix("Internal: ")


def _client_host(address: str) -> str:
    return LOOPBACK if address in ("0.0.0.0", "", "::") else address


class TritonServer(Closeable):
    """A running ``tritonserver``; use as a context manager or call :meth:`start` / :meth:`stop`.

    ``PR_SET_PDEATHSIG`` fires when the *thread* that started the server exits, so start it
    from a thread that lives as long as the server should.
    """

    def __init__(self, config: ServerConfig | None = None, *, log_file: Path | None = None) -> None:
        self.config = config or ServerConfig()
        self.log_file = (
            Path(log_file)
            if log_file
            else zoo_home() / "logs" / f"tritonserver-{self.config.http_port}.log"
        )
        self.process: subprocess.Popen[bytes] | None = None
        #: Exit status of the last process :meth:`stop` reaped (``None`` before any).
        self.exit_code: int | None = None
        self._workdir: Path | None = None

    # -- addresses --------------------------------------------------------------------------
    @property
    def http_url(self) -> str:
        """``host:port`` of the HTTP endpoint, for :class:`serving.client.ZooClient`."""
        return f"{_client_host(self.config.http_address)}:{self.config.http_port}"

    @property
    def grpc_url(self) -> str:
        """``host:port`` of the gRPC endpoint."""
        return f"{_client_host(self.config.grpc_address)}:{self.config.grpc_port}"

    @property
    def metrics_url(self) -> str:
        """URL of the Prometheus metrics."""
        return (
            f"http://{_client_host(self.config.metrics_address)}:{self.config.metrics_port}/metrics"
        )

    @property
    def pid(self) -> int | None:
        """Process id of the server, while it runs."""
        return self.process.pid if self.process else None

    def is_running(self) -> bool:
        """Whether the server process is alive."""
        return self.process is not None and self.process.poll() is None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, *, timeout: float = 120.0) -> TritonServer:
        """Start the server and wait until it is ready (every model loaded)."""
        if self.is_running():
            return self
        cfg = self.config
        repo = Path(cfg.model_repository)
        remote = is_remote(cfg.model_repository)  # an object store: Triton lists it itself
        if not remote and not any(repo.glob("*/config.pbtxt")):
            raise ServerStartError(
                f"{repo} holds no Triton models; build it first with `zoo repo build`."
            )
        wanted = cfg.load_models or [p.parent.name for p in repo.glob("*/config.pbtxt")]
        unbuilt = [] if remote else sorted(m for m in wanted if not any((repo / m).glob("[0-9]*/")))
        if unbuilt:
            raise ServerStartError(
                f"{', '.join(unbuilt)} in {repo} {'has' if len(unbuilt) == 1 else 'have'} a "
                "config but no model files; run `zoo repo build` (or serve fewer with --models)."
            )
        for what, address, _ in cfg.ports():
            if not is_loopback(address):
                if cfg.admin_key is not None and what != "metrics":
                    note = "inference has no authentication (its admin APIs need the key)"
                else:
                    note = "it has no authentication"
                warnings.warn(
                    f"Triton {what} binds {address}: it is reachable from other machines and "
                    f"{note}.",
                    stacklevel=2,
                )
        if cfg.admin_key is not None:
            check_admin_key(cfg.admin_key, "ServerConfig.admin_key")
        binary = find_binary()
        for what, address, port in cfg.ports():
            check_port_free(what, address, port)
        self._workdir = Path(tempfile.mkdtemp(prefix="zoo-triton-"))
        backends = prepare_backends(self._workdir / "backends")
        caches = wheel_dir() / "caches"
        cmd = [str(binary), *cfg.args(backends, caches if caches.is_dir() else None)]
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=server_env(),
                cwd=self._workdir,
                preexec_fn=_die_with_parent,
            )
        try:
            self.wait_ready(timeout=timeout)
        except BaseException:
            self.stop(grace=5)
            raise
        return self

    def wait_ready(self, *, timeout: float = 120.0) -> None:
        """Wait until the server serves; raise if it exits, serves nothing or is not up in time.

        Ready means ``/v2/health/ready`` answers 200 (every model loaded), or, when some models
        failed to load (``exit_on_error=False``), that the server is live and at least one
        model is READY: Triton opens its endpoints only after its start-up loads are done, so
        the repository index is final by then. :meth:`model_states` says which failed and why.
        """
        deadline = time.monotonic() + timeout
        with self._http_client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.is_running():
                    code = self.process.returncode if self.process else None
                    raise ServerStartError(
                        f"tritonserver exited during start-up (code {code}). "
                        f"Last log lines ({self.log_file}):\n{self.log_tail()}"
                    )
                if _answers(client.is_server_live):
                    if _answers(client.is_server_ready):
                        return
                    states = self.model_states()
                    if any(m.ready for m in states):
                        return
                    if states:
                        raise ServerStartError(
                            "no model could be loaded:\n"
                            + "\n".join(f"  {m.name}: {m.reason}" for m in states)
                        )
                time.sleep(0.2)
        raise ServerStartError(
            f"tritonserver was not ready after {timeout:.0f} s. Last log lines "
            f"({self.log_file}):\n{self.log_tail()}"
        )

    @contextlib.contextmanager
    def _http_client(self, *, timeout: float) -> Iterator[Any]:
        """tritonclient's HTTP client on this server, closed on exit (imported on first use)."""
        import tritonclient.http as httpclient

        client = httpclient.InferenceServerClient(
            self.http_url, connection_timeout=timeout, network_timeout=timeout
        )
        try:
            yield client
        finally:
            client.close()

    def model_states(self) -> list[ModelState]:
        """Every model of the repository with its state (Triton's repository index API)."""
        from tritonclient.utils import InferenceServerException

        try:
            with self._http_client(timeout=10.0) as client:
                index = client.get_model_repository_index(
                    headers=admin_headers(self.config.admin_key)
                )
        except (InferenceServerException, OSError, ValueError):
            return []
        return sorted(
            ModelState(
                name=str(m.get("name", "")),
                state=str(m.get("state", "")) or "UNLOADED",
                reason=_first_line(str(m.get("reason", ""))),
            )
            for m in index
        )

    def stop(self, *, grace: float = 15.0) -> int | None:
        """SIGINT, wait up to ``grace`` s, then SIGKILL the process group; return the exit code."""
        proc, self.process = self.process, None
        code = None
        if proc is not None:
            code = self.exit_code = stop_process_group(proc, grace)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        return code

    def log_tail(self, lines: int = 15) -> str:
        """The last ``lines`` lines of the server log."""
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def close(self) -> None:
        """:meth:`stop` with its default grace: what leaving a ``with`` block does."""
        self.stop()

    def __enter__(self) -> TritonServer:
        return self.start()


@dataclass(frozen=True)
class RestartPolicy:
    """How :func:`supervise` restarts a server that exited: bounded, with exponential backoff."""

    max_restarts: int = 5  # restarts in a row before giving up
    backoff_s: float = 1.0  # wait before the first restart; doubles after each one
    max_backoff_s: float = 30.0  # longest wait between restarts
    stable_s: float = 60.0  # a server that stayed up this long starts a fresh count

    def delay(self, attempt: int) -> float:
        """Seconds to wait before restart number ``attempt`` (0-based)."""
        return float(min(self.backoff_s * 2**attempt, self.max_backoff_s))


#: ``notify(message)``: what :func:`supervise` reports (an exit, a restart, a failed restart).
Notify = Callable[[str], None]


def supervise(
    server: TritonServer,
    stop: threading.Event,
    *,
    policy: RestartPolicy | None = None,
    notify: Notify | None = None,
    poll_s: float = 0.5,
    start_timeout: float = 120.0,
) -> None:
    """Keep a started ``server`` running until ``stop`` is set, restarting it when it exits.

    Restarts follow ``policy``: a wait of ``backoff_s`` doubling per attempt, at most
    ``max_restarts`` in a row (the count starts afresh once a server stayed up ``stable_s``).
    Raises :class:`ServerStartError` with the last log lines when it gives up. Returns when
    ``stop`` is set; stopping the server is the caller's job.
    """
    policy = policy or RestartPolicy()
    say = notify or (lambda _message: None)
    attempts = 0
    up_since = time.monotonic()
    while not stop.wait(poll_s):
        if server.is_running():
            if attempts and time.monotonic() - up_since >= policy.stable_s:
                attempts = 0
            continue
        # Reap it and kill what is left of its group (backend stubs). A restart that failed
        # during start-up was reaped already: its status is the one recorded then.
        server.stop(grace=0)
        code = server.exit_code
        if attempts >= policy.max_restarts:
            raise ServerStartError(
                f"tritonserver exited (code {code}) after {attempts} restarts in a row; giving "
                f"up. Last log lines ({server.log_file}):\n{server.log_tail()}"
            )
        delay = policy.delay(attempts)
        attempts += 1
        say(
            f"tritonserver exited (code {code}); restart {attempts}/{policy.max_restarts} "
            f"in {delay:.0f} s"
        )
        if stop.wait(delay):
            return
        try:
            server.start(timeout=start_timeout)
        except (ServerStartError, PortInUseError) as e:
            say(f"restart {attempts} failed: {_first_line(str(e))}")
            continue
        up_since = time.monotonic()
        say(f"tritonserver restarted (pid {server.pid})")
