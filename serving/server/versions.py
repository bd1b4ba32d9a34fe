"""Model versions: each new weight release is a Triton version folder, rolled out and back.

A zoo model is served by one Triton model per entry point (``dcgan-mnist``,
``dcgan-mnist_interpolate``); a *release* of it (a Hub revision, or a local folder) is one
version number shared by all of them. ``zoo repo build`` writes version ``1``; a rollout
writes the next number and never touches a version already there.

**What a version folder records.** Its ``export.json`` (written by :func:`export.onnx.export_onnx`)
gets a ``release`` object (:mod:`serving.server.release`): where the weights came from (a
revision of the Hub repo, as the pull found it, with its commit, or ``folder`` with its path),
the weights' sha256, and the gate results (parity per entry point and the quality report).
``zoo repo build`` records the revision it pulled for version 1 the same way. The Triton config
of each model gets the parameter ``zoo_releases`` (JSON ``{version: {"revision", "sha256"}}``
of the versions it serves) and a ``version_policy { specific { versions: [...] } }``: the
config on disk always says which
version serves, so a restarted server serves the same one. A repository that was only built
(no rollout yet) keeps the config ``zoo repo build`` writes, byte for byte (Triton's default
policy, the latest version, which is ``1``).

**How a version becomes the served one** (:func:`switch`), per Triton model, on a server in
explicit model-control mode (``zoo serve``'s default): the config is rewritten to serve the old
and the new version and the model is loaded (Triton loads the added version and keeps the old
one serving; a failed load leaves what was loaded untouched); once the new version reports
ready, the config is rewritten to the new version alone and loaded again. A request that names
no version goes to the highest ready version, so a rollout switches at the first step and a
rollback at the second. Triton unloads a version that leaves the policy only after the requests
it is running have completed (its instances are released when the last in-flight request
drops them), so nothing in flight is lost. On any failure the configs are put back and loaded
again, and the old version keeps serving.

**Crash safety.** A candidate is exported into ``<model>/.staging-N/`` (Triton ignores a
folder whose name is not a number) and renamed to ``N/`` only once every gate passed; a rollout
killed half-way leaves staging folders that the next one deletes (rollouts of one repository
are serialised by a lock file), and at most a complete version that no config serves.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from export.artifacts import ONNX_NAME
from serving.server.admin_key import admin_headers
from serving.server.release import Release, read_release, record_release
from serving.server.repository import (
    BACKENDS_SOURCE,
    HEADER,
    RELEASES_PARAM,
    parse_config,
    render_config,
)
from zoo.errors import ExportGateError, InvalidInputError
from zoo.registry import get_spec, triton_model_name
from zoo.settings import model_repository_dir

if TYPE_CHECKING:
    from torch import nn

#: Prefix of the folder a candidate version is exported into (not a number: Triton skips it).
STAGING_PREFIX = ".staging-"
#: Lock file serialising rollouts and rollbacks of one repository (a dot-file: not a model).
LOCK_NAME = ".zoo-rollout.lock"
#: Samples per set for the quality gate (``zoo eval``'s default).
QUALITY_N = 1000

Progress = Callable[[str], None]


class RolloutError(ExportGateError):
    """A rollout or rollback that did not happen; the old version still serves."""


@dataclass(frozen=True)
class VersionInfo:
    """One version of a zoo model in the repository, for ``zoo repo list``."""

    model: str  # zoo model
    version: int
    release: Release
    complete: bool  # every Triton model of the zoo model has this version
    served: bool  # the configs on disk serve it

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``zoo repo list --json``)."""
        return asdict(self)


@dataclass
class SwitchResult:
    """What :func:`rollout` or :func:`rollback` did."""

    model: str
    old: list[int]  # versions served before
    new: int  # version served now
    release: Release
    server: str = ""  # the server it was loaded on ("" = repository only)
    seconds: float = 0.0  # from the command's start until the new version served
    switch_seconds: float = 0.0  # the switch alone (load, ready, reload)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``--json``)."""
        d = asdict(self)
        d["release"] = asdict(self.release)
        return d


# -- the repository on disk ---------------------------------------------------------------


def triton_models(model: str, root: Path) -> list[str]:
    """The Triton models of zoo ``model`` that the repository holds (one per entry point)."""
    names = [triton_model_name(model, e.name) for e in get_spec(model).entry_points]
    present = [n for n in names if (root / n / "config.pbtxt").is_file()]
    if not present:
        raise InvalidInputError(
            f"{root} has no Triton model of {model}: build it first with "
            f"`zoo repo build --models {model}`."
        )
    return present


def versions_on_disk(folder: Path) -> list[int]:
    """The version numbers (numeric sub-folders) of one Triton model's folder, sorted."""
    if not folder.is_dir():
        return []
    return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())


def read_config(folder: Path) -> Any:
    """The ``ModelConfig`` of a Triton model folder."""
    return parse_config((folder / "config.pbtxt").read_text())


def served_versions(folder: Path) -> list[int]:
    """The versions the config on disk serves (Triton's version policy over the folders)."""
    cfg = read_config(folder)
    present = versions_on_disk(folder)
    policy = cfg.version_policy
    which = policy.WhichOneof("policy_choice")
    if which == "specific":
        return sorted(int(v) for v in policy.specific.versions)
    if which == "all":
        return present
    n = policy.latest.num_versions if which == "latest" else 1
    return present[-max(n, 1) :]


def list_versions(
    root: Path | None = None, models: Sequence[str] | None = None
) -> list[VersionInfo]:
    """Every version of every zoo model in the repository (``models``: only these)."""
    root = Path(root or model_repository_dir())
    from serving.server.inprocess import served_entries

    by_model: dict[str, list[str]] = {}
    for name, (model, _) in served_entries(models).items():
        if (root / name / "config.pbtxt").is_file():
            by_model.setdefault(model, []).append(name)
    out: list[VersionInfo] = []
    for model, names in sorted(by_model.items()):
        folders = [root / n for n in names]
        every = [set(versions_on_disk(f)) for f in folders]
        served = set(served_versions(folders[0]))
        for v in sorted(set().union(*every)):
            holder = next(f for f, vs in zip(folders, every, strict=True) if v in vs)
            out.append(
                VersionInfo(
                    model=model,
                    version=v,
                    release=read_release(holder / str(v)),
                    complete=all(v in vs for vs in every),
                    served=v in served,
                )
            )
    return out


def write_served(root: Path, names: Sequence[str], versions: Sequence[int]) -> dict[str, str]:
    """Rewrite each model's config to serve ``versions``; return the texts it replaced.

    Each write is atomic (a rename). The config records the served versions' releases.
    """
    before: dict[str, str] = {}
    for name in names:
        path = root / name / "config.pbtxt"
        text = path.read_text()
        before[name] = text
        cfg = parse_config(text)
        cfg.version_policy.specific.ClearField("versions")
        cfg.version_policy.specific.versions.extend(sorted(versions))
        releases = {str(v): read_release(root / name / str(v)).short() for v in sorted(versions)}
        cfg.parameters[RELEASES_PARAM].string_value = json.dumps(releases, sort_keys=True)
        _replace_text(path, render_config(cfg))
    return before


def _replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def restore_configs(root: Path, texts: Mapping[str, str]) -> None:
    """Put back config texts that :func:`write_served` replaced."""
    for name, text in texts.items():
        _replace_text(root / name / "config.pbtxt", text)


@contextlib.contextmanager
def repository_lock(root: Path) -> Iterator[None]:
    """Hold the repository's rollout lock (released by the kernel if the process dies)."""
    path = root / LOCK_NAME
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RolloutError(
                f"another rollout or rollback is running on {root} (it holds {path}); wait for it."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def remove_staging(root: Path, names: Sequence[str]) -> list[Path]:
    """Delete staging folders a killed rollout left (call with the lock held)."""
    removed = []
    for name in names:
        for p in (root / name).glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


# -- the running server -------------------------------------------------------------------


class ModelControl:
    """Triton's model-repository API on a running server (HTTP or gRPC), with the admin key.

    ``url`` is what the SDK takes (``host:port``, ``http://``, ``grpc://``...); ``admin_key``
    is sent to the restricted APIs (:func:`serving.server.admin_key.admin_headers`).
    """

    def __init__(self, url: str, *, admin_key: str | None = None, timeout: float = 300.0):
        from serving.client.transport import _tritonclient, parse_endpoint

        self.endpoint = parse_endpoint(url)
        self.display = self.endpoint.display
        mod = _tritonclient(self.endpoint.protocol, aio=False)
        kwargs: dict[str, Any] = self.endpoint.client_kwargs(aio=False)
        if self.endpoint.protocol == "http":
            kwargs.update(connection_timeout=timeout, network_timeout=timeout)
        self._client = mod.InferenceServerClient(self.endpoint.hostport, **kwargs)
        self._headers = admin_headers(admin_key, self.endpoint.protocol)
        self._timeout = timeout

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        from serving.client.transport import map_error

        if self.endpoint.protocol == "grpc":
            kwargs["client_timeout"] = self._timeout
        try:
            return getattr(self._client, method)(*args, headers=self._headers, **kwargs)
        except Exception as e:
            raise map_error(e, self.display) from e

    def check(self) -> None:
        """Fail now if the server cannot be reached or refuses model control (no admin key)."""
        kwargs = {"as_json": True} if self.endpoint.protocol == "grpc" else {}
        self._call("get_model_repository_index", **kwargs)

    def load(self, name: str) -> None:
        """Load (or reload) ``name`` from the repository; returns once Triton has done so."""
        self._call("load_model", name)

    def ready(self, name: str, version: int) -> bool:
        """Whether ``version`` of ``name`` serves."""
        return bool(self._call("is_model_ready", name, str(version)))

    def close(self) -> None:
        """Close the connection."""
        self._client.close()


def switch(
    root: Path,
    names: Sequence[str],
    old: Sequence[int],
    new: int,
    *,
    control: ModelControl | None = None,
    say: Progress,
    ready_timeout: float = 120.0,
) -> None:
    """Make ``new`` the one served version of the Triton models ``names`` (see the module doc).

    Without ``control`` only the configs on disk change (a stopped server, or one that reads
    them at its next start). On failure every config is put back (and reloaded), then raises.
    """
    original = {n: (root / n / "config.pbtxt").read_text() for n in names}
    try:
        if control is not None and new not in old:
            write_served(root, names, sorted({*old, new}))
            for n in names:
                control.load(n)
                _wait_ready(control, n, new, ready_timeout)
            say(f"version {new} loaded and ready beside {_versions(old)}")
        write_served(root, names, [new])
        if control is not None:
            for n in names:
                control.load(n)
                _wait_ready(control, n, new, ready_timeout)
            say(f"version {new} serves; {_versions(old)} unloaded once drained")
    except BaseException:
        restore_configs(root, original)
        if control is not None:
            for n in names:
                with contextlib.suppress(Exception):
                    control.load(n)
        raise


def _versions(vs: Sequence[int]) -> str:
    return "version " + ", ".join(str(v) for v in vs) if vs else "no version"


def _wait_ready(control: ModelControl, name: str, version: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not control.ready(name, version):
        if time.monotonic() > deadline:
            raise RolloutError(f"{name} version {version} was not ready after {timeout:.0f} s.")
        time.sleep(0.1)


# -- rollout and rollback -----------------------------------------------------------------


def fetch_candidate(
    model: str,
    *,
    revision: str | None = None,
    source_dir: Path | None = None,
    sha256: str | None = None,
) -> tuple[nn.Module, Release]:
    """The candidate's weights, verified, and where they came from.

    A Hub revision is pulled as one commit and its weights checked against the sha256 the
    commit's own LFS pointer records (or the registry's pin for the bundled revision); a local
    folder's weights are hashed here. ``sha256``, when given, must match either way. Only
    safetensors are read.
    """
    from zoo.weights import find_weights_file, load_model_from_dir, sha256_file

    if (revision is None) == (source_dir is None):
        raise InvalidInputError("give the candidate as --revision REV or --from DIR (one of them).")
    if source_dir is not None:
        folder = Path(source_dir)
        if not folder.is_dir():
            raise InvalidInputError(f"--from {folder}: no such folder.")
        _check_holds(folder, model)
        digest = sha256_file(find_weights_file(folder))
        if sha256 is not None and digest != sha256:
            raise RolloutError(
                f"{folder}'s weights hash to {digest}, not the --sha256 {sha256}; refusing them."
            )
        module = load_model_from_dir(folder, sha256=digest)
        return module, Release(source="folder", revision=str(folder.resolve()), sha256=digest)
    from zoo.hub import pull

    assert revision is not None
    pulled = pull(model, revision)
    if pulled.source == "bundled" and revision != get_spec(model).revision:
        raise RolloutError(f"{model}@{revision} could not be fetched: {pulled.message}")
    if sha256 is not None and pulled.sha256 != sha256:
        raise RolloutError(
            f"{model}@{revision} has weights with sha256 {pulled.sha256}, not the --sha256 "
            f"{sha256}; refusing them."
        )
    _check_holds(pulled.path, model)
    release = Release(
        source="hub",
        revision=revision,
        sha256=pulled.sha256,
        commit=pulled.commit,
        repo_id=pulled.repo_id,
    )
    return pulled.load(), release


def _check_holds(folder: Path, model: str) -> None:
    """Refuse a weights folder whose ``config.json`` names another model (or none)."""
    from zoo.weights import read_config as read_weights_config
    from zoo.weights import split_config

    name, _ = split_config(read_weights_config(folder))
    if name != model:
        raise RolloutError(
            f"{folder} holds {name or 'no named zoo model'}, not {model}; roll out weights "
            f"saved from {model} (config.json names it)."
        )


def quality_gate(model: str, artifacts: Mapping[str, Path], *, n: int) -> dict[str, Any]:
    """The model's metrics recomputed on the exported graphs (``entry → model.onnx``).

    The evaluator (the trained classifier behind every metric) is the installed package's
    pinned copy, never the Hub's: the candidate is judged by the same yardstick as the weights
    it replaces.
    """
    from export.runners import make_runner
    from zoo.evaluate import EVALUATOR, evaluate
    from zoo.hub import load

    report = evaluate(
        model,
        runner_factory=lambda m, e: make_runner("onnxruntime", m, e, artifact=artifacts[e]),
        n=n,
        engine="onnxruntime",
        evaluator=load(EVALUATOR, offline=True),
    )
    return {
        "passed": report.targets_met,
        "n": n,
        "metrics": {m.name: m.value for m in report.metrics},
        "failed": [
            f"{m.label} {m.value:.4g} (target {m.target:g})"
            for m in report.metrics
            if m.met is False and m.value is not None and m.target is not None
        ],
    }


def _connect(url: str | None, admin_key: str | None) -> ModelControl | None:
    if url is None:
        return None
    control = ModelControl(url, admin_key=admin_key)
    try:
        control.check()
    except Exception:
        control.close()
        raise
    return control


@dataclass(frozen=True)
class _Session:
    """A rollout or rollback under way: its repository locked, its server (if any) connected."""

    model: str
    root: Path
    names: list[str]  # the Triton models of ``model`` that the repository holds
    control: ModelControl | None
    say: Progress
    start: float  # time.monotonic() at the command's start

    def switch_to(self, new: int, old: list[int], release: Release) -> SwitchResult:
        """:func:`switch` from the ``old`` versions to ``new`` (of ``release``), timed."""
        t_switch = time.monotonic()
        switch(self.root, self.names, old, new, control=self.control, say=self.say)
        return SwitchResult(
            model=self.model,
            old=old,
            new=new,
            release=release,
            server=self.control.display if self.control else "",
            seconds=round(time.monotonic() - self.start, 2),
            switch_seconds=round(time.monotonic() - t_switch, 2),
        )


@contextlib.contextmanager
def _session(
    model: str,
    root: Path | None,
    url: str | None,
    admin_key: str | None,
    progress: Progress | None,
    *,
    embedded_only: bool = False,
) -> Iterator[_Session]:
    """Find ``model``'s Triton models, connect to ``url`` and hold the repository's lock.

    ``embedded_only`` refuses a layout other than the embedded ONNX Runtime models (before
    connecting). A refused admin key fails at the connection, before any work.
    """
    start = time.monotonic()
    root = Path(root or model_repository_dir())
    say = progress or (lambda _m: None)
    names = triton_models(model, root)
    if embedded_only:
        _check_embedded(root, names)
    control = _connect(url, admin_key)
    try:
        with repository_lock(root):
            yield _Session(model, root, names, control, say, start)
    finally:
        if control is not None:
            control.close()


def rollout(
    model: str,
    *,
    revision: str | None = None,
    source_dir: Path | None = None,
    sha256: str | None = None,
    root: Path | None = None,
    url: str | None = None,
    admin_key: str | None = None,
    quality_n: int = QUALITY_N,
    progress: Progress | None = None,
) -> SwitchResult:
    """Roll ``model`` out to new weights: fetch, export, gate, write version N+1, serve it.

    Without ``url`` only the repository changes (the next server start serves the new version).
    Raises (and the old version serves on) when the weights fail their check, an export its
    parity gate, the model its quality targets, or the server the load.
    """
    with _session(model, root, url, admin_key, progress, embedded_only=True) as session:
        root, names, say = session.root, session.names, session.say
        for p in remove_staging(root, names):
            say(f"removed {p}, left by an interrupted rollout")
        old = served_versions(root / names[0])
        module, release = fetch_candidate(
            model, revision=revision, source_dir=source_dir, sha256=sha256
        )
        say(f"weights {release.sha256[:12]}… from {release.source} {release.revision}")
        version = 1 + max(v for n in names for v in [0, *versions_on_disk(root / n)])
        staged = {n: root / n / f"{STAGING_PREFIX}{version}" for n in names}
        try:
            release = _gate(model, module, release, staged, quality_n, old, say)
            for n in names:
                os.replace(staged[n], root / n / str(version))
        finally:
            remove_staging(root, names)
        say(f"wrote version {version} of {', '.join(names)}")
        return session.switch_to(version, old, release)


def rollback(
    model: str,
    *,
    root: Path | None = None,
    url: str | None = None,
    admin_key: str | None = None,
    progress: Progress | None = None,
) -> SwitchResult:
    """Serve the version before the one served now (the highest complete one below it)."""
    with _session(model, root, url, admin_key, progress) as session:
        root, names = session.root, session.names
        old = served_versions(root / names[0])
        complete = set.intersection(*(set(versions_on_disk(root / n)) for n in names))
        earlier = sorted(v for v in complete if old and v < min(old))
        if not earlier:
            raise RolloutError(
                f"{model} serves {_versions(old)}; there is no earlier complete version "
                "to roll back to."
            )
        target = earlier[-1]
        return session.switch_to(target, old, read_release(root / names[0] / str(target)))


def _check_embedded(root: Path, names: Sequence[str]) -> None:
    """Rollouts export ONNX for the embedded ONNX Runtime models; refuse any other layout."""
    for n in names:
        cfg = read_config(root / n)
        params = {k: v.string_value for k, v in cfg.parameters.items()}
        # zoo_backend: the embedded engine (the key keeps its old name; repository.py)
        if cfg.backend != "python" or params.get("zoo_backend") != "onnxruntime":
            raise InvalidInputError(
                f"{n} is not an embedded ONNX Runtime model: rollouts build that layout only "
                "(`zoo repo build` without --native or --engine)."
            )
        if not (root / n / "config.pbtxt").read_text().startswith(HEADER):
            raise InvalidInputError(f"{n}'s config was not written by `zoo repo build`.")


def _gate(
    model: str,
    module: nn.Module,
    release: Release,
    staged: Mapping[str, Path],
    quality_n: int,
    old: Sequence[int],
    say: Progress,
) -> Release:
    """Export into the staging folders and hold the candidate to both gates; its release."""
    entries = {triton_model_name(model, e.name): e.name for e in get_spec(model).entry_points}
    parity = _export(model, module, staged, entries, say)
    say("quality gate: recomputing the metrics on the exported graphs")
    artifacts = {entries[n]: folder / ONNX_NAME for n, folder in staged.items()}
    quality = quality_gate(model, artifacts, n=quality_n)
    if not quality["passed"]:
        raise RolloutError(
            f"{model} from {release.source} {release.revision} misses its quality targets: "
            f"{'; '.join(quality['failed'])}. Nothing was changed; the served version stays "
            f"{_versions(old)}."
        )
    say("quality gate passed: " + _metrics_line(quality["metrics"]))
    release = replace(release, gates={"parity": parity, "quality": quality})
    for folder in staged.values():
        record_release(folder, release)
    return release


def _export(
    model: str,
    module: nn.Module,
    staged: Mapping[str, Path],
    entries: Mapping[str, str],
    say: Progress,
) -> dict[str, Any]:
    """Export every entry point into its staging folder; the parity reports by entry point."""
    from export.onnx import export_onnx

    parity: dict[str, Any] = {}
    for name, folder in staged.items():
        entry = entries[name]
        say(f"exporting {model}:{entry} (parity gate)")
        folder.mkdir(parents=True)
        shutil.copyfile(BACKENDS_SOURCE / "model.py", folder / "model.py")
        result = export_onnx(model, entry, out_dir=folder, module=module, uint8_output=True)
        if not result.passed:
            raise RolloutError(
                f"the ONNX export of {model}:{entry} failed its parity gate "
                f"({result.parity.summary() if result.parity else ''}); nothing was changed."
            )
        assert result.parity is not None
        parity[entry] = result.parity.summary()
    return {"passed": True, "entries": parity}


def _metrics_line(metrics: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items()
    )
