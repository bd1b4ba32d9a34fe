"""``zoo optimize``: the fastest engine for each entry point on this host, chosen behind the gates.

For each entry point of a model, every engine that can run here (:data:`ENGINES`: ONNX
Runtime, OpenVINO in float32 and in bfloat16, torch eager, ``torch.compile``; TensorRT where it
is installed and a GPU is present) becomes a *candidate*:

1. it must build (an engine that is not installed is reported as unavailable, with why);
2. it must pass the **parity gate** (:func:`export.gates.check_runner`, the bounds every export
   meets: rel-L2 1e-5 for float outputs, one grey level for the served uint8 images);
3. it must pass the **quality gate**: the model's own evaluation protocol
   (:func:`zoo.evaluate.evaluate`) through the candidate gives every metric within 1% of
   torch's, both served as bytes (uint8 images, as Triton answers);
4. the candidates left are timed at the repository's batch sizes (batch 1, the dynamic
   batcher's preferred sizes, the largest batch), in short interleaved rounds so that a shared
   host's load falls on all of them alike (the best round counts), each doing the work Triton's
   Python model does per batch (graph inputs → engine → wire outputs);
5. each is started in a fresh process that imports what the Triton stub imports and builds the
   same runner: its resident memory once ready and the seconds to get there are its footprint.

The **strategy** picks the winner among the measured: ``throughput`` the most images per
second at the largest batch, ``latency`` the lowest batch-1 latency. Candidates within
:data:`TIE` of the best count as a tie, which the smaller footprint (RSS) breaks: an engine that
wins by noise does not cost the server memory.

The choice belongs to the host it was measured on: :func:`write_choice` writes it into one
repository's config (the engine parameter ``zoo_backend``) and ``export.json`` (every
candidate's figures and the machine), and ``zoo optimize``/``zoo repo build --optimize`` only
write into a repository named with ``--out``. The tracked ``model_repository/`` configs stay
ONNX Runtime, the engine that runs everywhere, so CI's CPU never leaks into them.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from export.artifacts import META_NAME, ONNX_NAME, read_meta, version_dir
from export.runners import make_runner, runner_engine
from serving.server.wire import wire_results
from zoo.errors import InvalidInputError, InvalidNameError, ZooError
from zoo.pipeline import is_image
from zoo.registry import EntryPoint, get_spec, triton_model_name

if TYPE_CHECKING:
    from torch import nn

    from zoo.evaluate import EvalReport
    from zoo.runners import Runner

#: Engines ``zoo optimize`` tries, in report order (names of ``export.runners.ENGINES``).
ENGINES = ("onnxruntime", "openvino", "openvino-bf16", "torch", "compile", "tensorrt")
#: Ways to pick the winner.
STRATEGIES = ("throughput", "latency")
#: Relative gap within which two candidates tie (the smaller RSS wins the tie).
TIE = 0.03
#: Relative metric drift the quality gate allows against torch.
QUALITY_REL = 0.01

Progress = Callable[[str], None]


@dataclass
class Candidate:
    """One engine on one entry point: how far it got, and its figures if it got through."""

    engine: str
    status: str = "measured"  # measured | dropped (failed a gate) | unavailable (cannot run here)
    reason: str = ""  # why it was dropped or unavailable
    parity: str = ""  # the parity gate's one-line summary
    quality: list[str] = field(default_factory=list)  # metrics beyond the quality gate's bound
    img_per_s: dict[int, float] = field(default_factory=dict)  # batch → images per second
    latency_ms: dict[int, float] = field(default_factory=dict)  # batch → median ms per call
    rss_mib: float | None = None  # resident memory of a stub-like process with it loaded
    ready_s: float | None = None  # that process's start → runner built and first batch done


@dataclass
class EntryChoice:
    """The candidates of one entry point and the one the strategy picked (None: none passed)."""

    model: str
    entry: str
    triton_name: str
    strategy: str
    batches: list[int]
    threads: int
    winner: str | None
    candidates: list[Candidate]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass
class OptimizeReport:
    """Every entry point's choice, and the machine the figures were measured on."""

    model: str
    strategy: str
    machine: dict[str, Any]
    entries: list[EntryChoice]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "model": self.model,
            "strategy": self.strategy,
            "machine": self.machine,
            "entries": [e.to_dict() for e in self.entries],
        }


def repository_batches(config: Any) -> list[int]:
    """Batch sizes a served model sees: 1, the batcher's preferred sizes and the largest."""
    sizes = {1, int(config.max_batch_size), *config.dynamic_batching.preferred_batch_size}
    return sorted(b for b in sizes if b >= 1)


def _served_config(repository: Path, model: str, entry: str) -> Any:
    from serving.server.repository import parse_config

    path = repository / triton_model_name(model, entry) / "config.pbtxt"
    if not path.is_file():
        raise InvalidInputError(
            f"{path} does not exist: build the repository first (`zoo repo build --models {model} "
            f"--out {repository}`), or let `zoo optimize {model} --out DIR` build it."
        )
    return parse_config(path.read_text())


def _unavailable(engine: str) -> str | None:
    """Why ``engine`` cannot run on this host, or None."""
    if engine == "tensorrt":
        try:
            from export.tensorrt import require_tensorrt

            require_tensorrt()
            import torch

            if not torch.cuda.is_available():
                return "TensorRT needs a CUDA GPU; this host has none"
        except ImportError as e:
            return f"TensorRT is not installed ({e})"
    return None


class _ServedImages:
    """A runner whose image outputs are the bytes Triton serves (uint8 NHWC, as
    :func:`serving.server.wire.wire_results` makes them); other outputs as the graph gives them.

    The quality gate compares served images with served images: torch's float images against
    a uint8 graph's would charge the candidate with the rounding every engine's bytes share
    (StyleGAN2's FID at n=128 moved 1.5% from rounding alone).
    """

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.model_name = runner.model_name
        self.entry = runner.entry

    def __call__(self, *inputs: Any) -> tuple[Any, ...]:
        """Run the runner; its image outputs come back as served bytes."""
        outs = self.runner(*inputs)
        wire = wire_results(self.entry, outs)
        pairs = zip(self.entry.outputs, outs, wire, strict=True)
        return tuple(w if is_image(t) else o for t, o, w in pairs)


def _expected_quality(
    model: str, module: nn.Module, evaluator: nn.Module | None, n: int
) -> EvalReport:
    from zoo.evaluate import evaluate
    from zoo.runners import torch_runner

    return evaluate(
        model,
        runner_factory=lambda m, e: _ServedImages(torch_runner(m, e, module=module)),
        n=n,
        evaluator=evaluator,
    )


def _quality_problems(
    model: str,
    entry: str,
    runner: Runner,
    module: nn.Module,
    expected: EvalReport,
    evaluator: nn.Module | None,
    n: int,
    engine: str,
) -> list[str]:
    """Metrics of the model's protocol, with this entry point on ``runner``, off torch's by >1%."""
    from zoo.evaluate import compare_reports, evaluate
    from zoo.runners import torch_runner

    def factory(m: str, e: str) -> Runner:
        return _ServedImages(runner if e == entry else torch_runner(m, e, module=module))

    actual = evaluate(model, runner_factory=factory, n=n, evaluator=evaluator, engine=engine)
    return compare_reports(expected, actual, rel=QUALITY_REL, abs_=0.0)


def _stub_batch(entry: EntryPoint, runner: Runner, inputs: tuple[Any, ...]) -> Any:
    """What Triton's Python model does per batch once the inputs are converted."""
    return wire_results(entry, runner(*inputs))


#: Length of one timing round of one candidate, in seconds.
ROUND_S = 0.25


def _time_rounds(runs: dict[str, Callable[[], Any]], *, seconds: float) -> dict[str, float]:
    """Seconds per call of each function: the best round's median, over interleaved rounds.

    On a shared host other work comes in bursts that can halve one round: many short rounds,
    taken in turn, give every candidate rounds in the quiet spells, and the best round's median
    estimates each one's speed there (as the matmul peak takes the best repetition).
    """
    rounds = max(3, round(seconds / ROUND_S))
    best: dict[str, float] = {k: float("inf") for k in runs}
    for fn in runs.values():
        fn()  # warm-up: first-call allocations, compile caches
    for _ in range(rounds):
        for key, fn in runs.items():
            end = time.perf_counter() + seconds / rounds
            samples = []
            while True:
                t0 = time.perf_counter()
                fn()
                samples.append(time.perf_counter() - t0)
                if t0 >= end:
                    break
            best[key] = min(best[key], float(np.median(samples)))
    return best


#: Run in a fresh interpreter: build one runner as the Triton stub does, report RSS and time.
_FOOTPRINT_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from export.runners import make_runner, runner_engine
from serving.server.wire import wire_results
from export.samples import sample_inputs
engine, model, entry, artifact, threads = sys.argv[1:6]
module = None
if runner_engine(engine).artifact is None:
    from zoo.registry import create_model
    module = create_model(model).eval()  # same size as the trained weights
runner = make_runner(engine, model, entry, module=module,
                     artifact=artifact if artifact != "-" else None, threads=int(threads))
wire_results(runner.entry, runner(*sample_inputs(runner.entry, 1)))
ready = time.perf_counter() - t0
rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS"))
print(json.dumps({"ready_s": ready, "rss_mib": rss / 1024}))
"""


def measure_footprint(
    engine: str, model: str, entry: str, artifact: Path | None, threads: int
) -> tuple[float, float]:
    """(RSS MiB, ready seconds) of a fresh process that builds ``engine``'s runner and runs one
    batch-1 call: the imports of the Triton stub (runner factory, wire conversion), not the
    stub's own C++ side, which is the same for every engine."""
    argv = [engine, model, entry, str(artifact) if artifact else "-", str(threads)]
    done = subprocess.run(
        [sys.executable, "-c", _FOOTPRINT_CHILD, *argv],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the footprint process failed: {tail}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return float(figures["rss_mib"]), float(figures["ready_s"])


def pick(candidates: Sequence[Candidate], strategy: str, batches: Sequence[int]) -> str | None:
    """The winner among measured candidates under ``strategy``; ties go to the smaller RSS."""
    measured = [c for c in candidates if c.status == "measured"]
    if not measured:
        return None
    if strategy == "throughput":
        big = max(batches)
        score = {c.engine: c.img_per_s[big] for c in measured}
    else:  # latency: batch 1, lower is better → negate
        score = {c.engine: -c.latency_ms[min(batches)] for c in measured}
    best = max(score.values())
    tied = [c for c in measured if score[c.engine] >= best - TIE * abs(best)]
    return min(tied, key=lambda c: (c.rss_mib or 0.0, -score[c.engine])).engine


def _time_candidates(
    model: str,
    ep: EntryPoint,
    runners: dict[str, Runner],
    candidates: list[Candidate],
    batches: Sequence[int],
    seconds: float,
    say: Progress,
) -> None:
    """Time the gated ``runners`` at each batch, filling their candidates' latency and rate."""
    from export.samples import sample_inputs

    for b in batches:
        inputs = sample_inputs(ep, b)
        say(f"{model}:{ep.name}: timing {', '.join(runners)} at batch {b}")

        per_call = _time_rounds(
            {k: functools.partial(_stub_batch, ep, r, inputs) for k, r in runners.items()},
            seconds=seconds,
        )
        for cand in candidates:
            if cand.engine in per_call:
                cand.latency_ms[b] = per_call[cand.engine] * 1e3
                cand.img_per_s[b] = b / per_call[cand.engine]


def optimize_entry(
    model: str,
    entry: str,
    *,
    repository: Path,
    module: nn.Module,
    strategy: str = "throughput",
    engines: Sequence[str] = ENGINES,
    batches: Sequence[int] | None = None,
    threads: int | None = None,
    seconds: float = 3.0,
    parity_n: int = 64,
    quality_n: int = 256,
    expected: EvalReport | None = None,
    evaluator: nn.Module | None = None,
    footprint: bool = True,
    progress: Progress | None = None,
) -> EntryChoice:
    """Gate, measure and rank every engine on one entry point of a built repository.

    ``batches``/``threads`` default to the served config's (its batch sizes, ``zoo_threads``);
    ``seconds`` is the timing budget per candidate and batch; ``expected`` is torch's
    evaluation report of the model (computed here when not given; shared across entries).
    """
    from export.gates import check_runner

    if strategy not in STRATEGIES:
        raise InvalidNameError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}.")
    for engine in engines:
        runner_engine(engine)  # unknown names fail before anything runs
    say = progress or (lambda _msg: None)
    ep = get_spec(model).entry_point(entry)
    config = _served_config(repository, model, ep.name)
    batches = sorted(set(batches or repository_batches(config)))
    threads = threads or int(config.parameters["zoo_threads"].string_value or 1)
    onnx_path = version_dir(model, ep.name, repository=repository) / ONNX_NAME
    meta = read_meta(onnx_path) or {}
    candidates: list[Candidate] = []
    runners: dict[str, Runner] = {}
    for engine in engines:
        cand = Candidate(engine)
        candidates.append(cand)
        why = _unavailable(engine)
        artifact = onnx_path if runner_engine(engine).artifact else None
        try:
            if why:
                raise RuntimeError(why)
            runner = make_runner(
                engine, model, ep.name, module=module, artifact=artifact, threads=threads
            )
        except (ZooError, ImportError, RuntimeError) as e:
            cand.status, cand.reason = "unavailable", str(e)
            say(f"{model}:{ep.name} {engine}: unavailable ({e})")
            continue
        uint8 = bool(meta.get("uint8_output")) and artifact is not None
        report = check_runner(module, ep, runner, n=parity_n, uint8_output=uint8, engine=engine)
        cand.parity = report.summary()
        if not report.passed:
            cand.status, cand.reason = "dropped", f"parity gate: {cand.parity}"
            say(f"{model}:{ep.name} {engine}: dropped ({cand.parity})")
            continue
        if expected is None:
            say(f"{model}: evaluating torch for the quality gate")
            expected = _expected_quality(model, module, evaluator, quality_n)
        cand.quality = _quality_problems(
            model, ep.name, runner, module, expected, evaluator, quality_n, engine
        )
        if cand.quality:
            cand.status = "dropped"
            cand.reason = f"quality gate: {'; '.join(cand.quality)}"
            say(f"{model}:{ep.name} {engine}: dropped ({cand.reason})")
            continue
        runners[engine] = runner
        if footprint:
            cand.rss_mib, cand.ready_s = measure_footprint(
                engine, model, ep.name, artifact, threads
            )
    _time_candidates(model, ep, runners, candidates, batches, seconds, say)
    winner = pick(candidates, strategy, batches)
    return EntryChoice(
        model,
        ep.name,
        triton_model_name(model, ep.name),
        strategy,
        batches,
        threads,
        winner,
        candidates,
    )


def machine() -> dict[str, Any]:
    """The host the figures belong to: CPU, cores, load, versions (``zoo bench``'s record)."""
    from importlib.metadata import PackageNotFoundError, version

    from serving.apps.bench.environment import environment

    env = environment()
    try:
        env["versions"]["openvino"] = version("openvino")
    except PackageNotFoundError:
        env["versions"]["openvino"] = None
    return env


def optimize_model(
    model: str,
    *,
    repository: Path,
    module: nn.Module,
    entries: Sequence[str] | None = None,
    evaluator: nn.Module | None = None,
    quality_n: int = 256,
    progress: Progress | None = None,
    **options: Any,
) -> OptimizeReport:
    """:func:`optimize_entry` on each entry point of ``model`` (or ``entries``)."""
    spec = get_spec(model)
    names = [spec.entry_point(e).name for e in entries] if entries else list(spec.entry_names)
    env = machine()
    expected = _expected_quality(model, module, evaluator, quality_n)
    choices = [
        optimize_entry(
            model,
            name,
            repository=repository,
            module=module,
            expected=expected,
            evaluator=evaluator,
            quality_n=quality_n,
            progress=progress,
            **options,
        )
        for name in names
    ]
    env["loadavg_end"] = list(os.getloadavg())
    strategy = choices[0].strategy if choices else options.get("strategy", "throughput")
    return OptimizeReport(model, strategy, env, choices)


def write_choice(
    repository: Path, choice: EntryChoice, machine_info: dict[str, Any], module: nn.Module
) -> Path:
    """Serve ``choice.winner`` from ``repository``: its config's engine (``zoo_backend``) and
    ``zoo_threads`` (plus saved weights for a torch engine), and every candidate's figures in
    ``export.json``."""
    from serving.server.repository import VERSION, render_config
    from zoo.weights import save_weights

    if choice.winner is None:
        raise InvalidInputError(
            f"no engine passed the gates for {choice.model}:{choice.entry}; nothing to write."
        )
    folder = repository / choice.triton_name
    config = _served_config(repository, choice.model, choice.entry)
    config.parameters["zoo_backend"].string_value = choice.winner
    config.parameters["zoo_threads"].string_value = str(choice.threads)  # as it was measured
    if runner_engine(choice.winner).artifact is None:  # torch/compile serve saved weights
        spec = get_spec(choice.model)
        sha = save_weights(module, folder / VERSION, choice.model, dict(spec.config))
        config.parameters["zoo_sha256"].string_value = sha
    (folder / "config.pbtxt").write_text(render_config(config))
    meta_path = folder / VERSION / META_NAME
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    meta["engines"] = {**choice.to_dict(), "machine": machine_info}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return folder / "config.pbtxt"


def _fmt(x: float | None, spec: str) -> str:
    return "" if x is None else format(x, spec)


def render_markdown(report: OptimizeReport) -> str:
    """The report for people: per entry point, every candidate's verdict and figures."""
    m = report.machine

    def load(key: str) -> str:
        return " ".join(f"{x:.2f}" for x in m.get(key) or [])

    lines = [
        f"# zoo optimize {report.model} ({report.strategy})",
        "",
        f"Host: {m.get('cpu')}, {m.get('cores')} cores; load average {load('loadavg_start')} "
        f"at start, {load('loadavg_end')} at the end. "
        "Ratios between engines of one entry point come from one interleaved run.",
    ]
    for e in report.entries:
        head = ["engine", "status"]
        head += [f"img/s @{b}" for b in e.batches] + ["ms @1", "RSS MiB", "ready s", "note"]
        lines += [
            "",
            f"## {e.model}:{e.entry} → **{e.winner or 'none'}** ({e.threads} threads)",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
        ]
        for c in e.candidates:
            row = [c.engine, c.status]
            row += [_fmt(c.img_per_s.get(b), ",.0f") for b in e.batches]
            row += [_fmt(c.latency_ms.get(min(e.batches)), ".2f")]
            row += [_fmt(c.rss_mib, ".0f"), _fmt(c.ready_s, ".1f")]
            row += [(c.reason or c.parity).replace("|", "/")]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def plot(report: OptimizeReport, path: Path) -> Path:
    """Bars of images per second per engine at each batch size, one panel per entry point."""
    from matplotlib.figure import Figure

    entries = report.entries
    fig = Figure(figsize=(6.5, 2.8 * max(1, len(entries))))
    for i, e in enumerate(entries):
        ax = fig.add_subplot(len(entries), 1, i + 1)
        measured = [c for c in e.candidates if c.status == "measured"]
        width = 0.8 / max(1, len(measured))
        for j, c in enumerate(measured):
            xs = np.arange(len(e.batches)) + j * width
            ax.bar(xs, [c.img_per_s[b] for b in e.batches], width, label=c.engine)
        ax.set_xticks(np.arange(len(e.batches)) + 0.4 - width / 2, [str(b) for b in e.batches])
        ax.set_title(f"{e.model}:{e.entry} → {e.winner}", fontsize=9)
        ax.set_xlabel("batch")
        ax.set_ylabel("img/s")
        if measured:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def write_report(report: OptimizeReport, folder: Path) -> list[Path]:
    """``<model>.md``, ``<model>.json`` and ``<model>.png`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / f"{report.model}.md"
    md.write_text(render_markdown(report))
    js = folder / f"{report.model}.json"
    js.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return [md, js, plot(report, folder / f"{report.model}.png")]


def run_optimize(
    models: Sequence[str],
    *,
    repository: Path,
    write: bool,
    report_dir: Path,
    modules: dict[str, nn.Module] | None = None,
    entries: Sequence[str] | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> list[OptimizeReport]:
    """Optimize each of ``models`` in a built ``repository``; report, and write the choices
    there when ``write`` (never the tracked defaults: the CLI writes only with ``--out``).

    ``modules`` brings the torch weights (tests pass random ones; default: the trained ones).
    """
    from serving.server.inprocess import load_module

    reports = []
    for model in models:
        module = (modules or {}).get(model) or load_module(model)
        report = optimize_model(
            model,
            repository=repository,
            module=module,
            entries=entries,
            progress=progress,
            **options,
        )
        if write:
            for choice in report.entries:
                if choice.winner is not None:
                    write_choice(repository, choice, report.machine, module)
        write_report(report, report_dir)
        reports.append(report)
    return reports
