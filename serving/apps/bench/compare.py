"""``zoo bench --repository A --repository B``: the same workload served from several built
repositories, in interleaved rounds.

The question it answers is the one ``zoo optimize`` raises: is the repository it wrote faster,
*served*, than the one it replaces? One Triton run per repository per round, the repositories
in turn (A, B, A, B, …), so that a load that drifts over the minutes falls on every repository
alike; the verdict is the ratio of each repository's median to the first one's. Every round is a
whole :func:`~serving.apps.bench.run.run_bench` (a fresh server on the repository as it is
configured: its engine, threads and instances), measured against one matmul peak.
"""

from __future__ import annotations

import importlib.util
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from serving.apps.bench.registry import BENCH_TARGETS
from serving.apps.bench.results import BenchReport, Cell
from serving.apps.bench.settings import BenchSettings
from zoo.errors import InvalidInputError
from zoo.registry import get_spec, triton_model_name

#: The comparison's JSON format.
SCHEMA = "genzoo.bench-compare/1"
#: Most rounds one comparison runs (each is a server start per repository).
MAX_ROUNDS = 50

Progress = Callable[[int, int, str], None]  # (runs done, runs in all, what runs now)


@dataclass(frozen=True)
class ServedAs:
    """How a repository serves the entry point measured, read from its ``config.pbtxt``."""

    engine: str  # the embedded runner's engine, or Triton's native backend or platform
    threads: int | None  # intra-op threads per instance (None: the backend's own default)
    instances: int

    def __str__(self) -> str:
        threads = "" if self.threads is None else f" {self.threads}t"
        return f"{self.engine}{threads} × {self.instances}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"engine": self.engine, "threads": self.threads, "instances": self.instances}


def served_as(repository: Path, triton_model: str) -> ServedAs:
    """What ``repository`` runs for ``triton_model``; a clear error where it does not serve it.

    An ensemble (a native model behind seed or image pre-processing) is described by its graph's
    own model, ``<triton_model>_net``.
    """
    from serving.server.repository import parse_config

    path = Path(repository) / triton_model / "config.pbtxt"
    if not path.is_file():
        raise InvalidInputError(
            f"{repository} does not serve {triton_model} (no {triton_model}/config.pbtxt): "
            "build it with `zoo repo build` or `zoo optimize --out DIR`."
        )
    cfg = parse_config(path.read_text())
    params = {k: v.string_value for k, v in cfg.parameters.items()}
    instances = sum(g.count for g in cfg.instance_group) or 1
    steps = [s.model_name for s in cfg.ensemble_scheduling.step]
    if cfg.platform == "ensemble" and f"{triton_model}_net" in steps:
        return served_as(repository, f"{triton_model}_net")
    if cfg.backend == "python" and "zoo_backend" in params:  # the engine's key keeps its old name
        return ServedAs(params["zoo_backend"], int(params.get("zoo_threads", "1")), instances)
    threads = params.get("INFERENCE_NUM_THREADS")  # Triton's openvino backend
    return ServedAs(cfg.backend or cfg.platform, int(threads) if threads else None, instances)


def served_entry(settings: BenchSettings, repository: Path) -> ServedAs:
    """What ``repository`` runs for the entry point ``settings`` measure (raises where none)."""
    entry = get_spec(settings.model, **settings.overrides).entry_point(settings.entry)
    return served_as(repository, triton_model_name(settings.model, entry.name))


@dataclass(frozen=True)
class Row:
    """One workload (target × batch × concurrency) of one repository, over every round."""

    repository: str
    target: str
    batch: int
    concurrency: int
    rounds: tuple[float | None, ...]  # img/s of each round; None: the cell failed that round
    ratio: float | None  # median over the first repository's median (None: no median)

    @property
    def median(self) -> float | None:
        """Median img/s of the rounds that measured (None if none did)."""
        measured = [x for x in self.rounds if x is not None]
        return statistics.median(measured) if measured else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "repository": self.repository,
            "target": self.target,
            "batch": self.batch,
            "concurrency": self.concurrency,
            "rounds_img_s": list(self.rounds),
            "median_img_s": self.median,
            "ratio_to_first": self.ratio,
        }


@dataclass(frozen=True)
class Comparison:
    """Every round of every repository, and each workload's medians and ratios."""

    repositories: tuple[str, ...]  # in the order given; ratios are to the first
    served: tuple[ServedAs, ...]  # what each one runs for the entry point
    reports: tuple[tuple[BenchReport, ...], ...]  # [round][repository]
    command: str | None = None
    rows: tuple[Row, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", tuple(_rows(self.repositories, self.reports)))

    @property
    def first(self) -> BenchReport:
        """The first run (model, settings, peak and environment are the same in all)."""
        return self.reports[0][0]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the rows, and each round's load and failed cells (not every
        latency: a round's whole report is what ``zoo bench`` on one repository writes)."""
        first = self.first
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "created": first.created,
            "model": first.model.to_dict(),
            "settings": {**first.settings, "repository": None},
            "environment": dict(first.environment),
            "peak": dict(first.peak) if first.peak is not None else None,
            "repositories": [
                {"path": p, "serves": s.to_dict()}
                for p, s in zip(self.repositories, self.served, strict=True)
            ],
            "rows": [r.to_dict() for r in self.rows],
            "rounds": [
                [
                    {
                        "repository": r.settings.get("repository"),
                        "created": r.created,
                        "loadavg_end": r.environment.get("loadavg_end"),
                        "failed": [
                            {"target": c.target, "batch": c.batch, "reason": c.reason}
                            for c in r.results
                            if not c.ok
                        ],
                    }
                    for r in runs
                ]
                for runs in self.reports
            ],
        }
        if self.command is not None:
            out["command"] = self.command
        return out


def _key(c: Cell) -> tuple[str, int, int]:
    return c.target, c.batch, c.concurrency


def _rows(repositories: Sequence[str], reports: Sequence[Sequence[BenchReport]]) -> list[Row]:
    """Each workload's rounds per repository, with the ratio of its median to the first's."""
    keys = list(dict.fromkeys(_key(c) for c in reports[0][0].results))
    by_key = [[{_key(c): c for c in run.results} for run in runs] for runs in reports]
    rows: list[Row] = []
    for key in keys:
        same: list[Row] = []
        for index, repository in enumerate(repositories):
            cells = [found[index].get(key) for found in by_key]
            rounds = tuple(c.throughput if c is not None and c.ok else None for c in cells)
            same.append(Row(repository, *key, rounds=rounds, ratio=None))
        base = same[0].median
        rows += [
            replace(r, ratio=r.median / base) if base and r.median is not None else r for r in same
        ]
    return rows


def check_comparison(settings: BenchSettings, repositories: Sequence[Path], rounds: int) -> None:
    """Refuse a comparison that could not answer its question, saying what to change."""
    if len(repositories) < 2:
        raise InvalidInputError("a comparison needs two or more --repository folders.")
    if not 1 <= rounds <= MAX_ROUNDS:
        raise InvalidInputError(f"--rounds must lie in 1..{MAX_ROUNDS}.")
    if len(set(map(Path.resolve, map(Path, repositories)))) < len(repositories):
        raise InvalidInputError("each --repository must be a different folder.")
    if settings.url is not None:
        raise InvalidInputError(
            "--url measures a server already running on its own repository; drop --url to "
            "serve each --repository in turn."
        )
    in_process = [t for t in settings.targets if BENCH_TARGETS[t].server != "triton"]
    if in_process:
        raise InvalidInputError(
            f"several --repository folders compare what Triton serves; {', '.join(in_process)} "
            "do not run in Triton: use --targets triton-grpc (or triton-http, triton-shm)."
        )


def compare_repositories(
    settings: BenchSettings,
    repositories: Sequence[Path],
    *,
    rounds: int = 3,
    progress: Progress | None = None,
) -> Comparison:
    """Measure ``settings``' workloads served from each of ``repositories``, ``rounds`` times,
    the repositories in turn within each round (see the module's docstring)."""
    from serving.apps.bench.run import run_bench, settings_peak

    check_comparison(settings, repositories, rounds)
    served = tuple(served_entry(settings, Path(r)) for r in repositories)
    say = progress or (lambda _done, _total, _what: None)
    total = rounds * len(repositories)
    peak = None
    if importlib.util.find_spec("torch") is not None:  # else each report says it is missing
        say(0, total, "measuring the matmul peak")
        peak = settings_peak(settings)
    runs: list[tuple[BenchReport, ...]] = []
    for r in range(rounds):
        this_round: list[BenchReport] = []
        for i, repository in enumerate(repositories):
            say(r * len(repositories) + i, total, f"round {r + 1}/{rounds}: {repository}")
            one = replace(settings, repository=Path(repository))
            this_round.append(run_bench(one, peak=peak))
        runs.append(tuple(this_round))
    say(total, total, "done")
    return Comparison(tuple(map(str, repositories)), served, tuple(runs))


def _figure(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def markdown(comparison: Comparison) -> str:
    """The comparison as a Markdown page: what each repository serves, then each workload's
    rounds, median and ratio to the first repository."""
    first = comparison.first
    loads = [run.environment.get("loadavg_end") for runs in comparison.reports for run in runs]
    one_minute = [x[0] for x in loads if x]
    lines = [
        f"# {first.model.name} ({first.model.entry}): served from {len(comparison.repositories)}"
        " repositories",
        "",
        f"{len(comparison.reports)} interleaved rounds, {first.created}; "
        f"{first.settings['duration_s']} s per cell after {first.settings['warmup_s']} s warm-up."
        + (
            f" 1-minute load average at the end of each run: {min(one_minute):.1f}–"
            f"{max(one_minute):.1f}."
            if one_minute
            else ""
        ),
    ]
    if comparison.command:
        lines += ["", f"`{comparison.command}`"]
    lines += ["", "| repository | serves (engine, threads × instances) |", "|---|---|"]
    lines += [
        f"| `{p}` | {s} |" for p, s in zip(comparison.repositories, comparison.served, strict=True)
    ]
    lines += [
        "",
        "| target | batch | concurrency | repository | rounds (img/s) | median | × first |",
        "|---|---:|---:|---|---|---:|---:|",
    ]
    for r in comparison.rows:
        rounds = ", ".join(_figure(x) for x in r.rounds)
        ratio = "–" if r.ratio is None else f"{r.ratio:.2f}"
        lines.append(
            f"| {r.target} | {r.batch} | {r.concurrency} | `{r.repository}` | {rounds} | "
            f"{_figure(r.median)} | {ratio} |"
        )
    return "\n".join(lines) + "\n"


def plot(comparison: Comparison, path: Path) -> Path:
    """Each repository's rounds (dots) and median (bar), one panel per workload."""
    from matplotlib.figure import Figure

    from serving.apps.bench.report import save_figure

    keys = list(dict.fromkeys((r.target, r.batch, r.concurrency) for r in comparison.rows))
    fig = Figure(figsize=(max(6.0, 4.5 * len(keys)), 3.6), layout="constrained")
    axes = fig.subplots(1, len(keys), squeeze=False)[0]
    names = [Path(p).name or p for p in comparison.repositories]
    for ax, key in zip(axes, keys, strict=True):
        rows = [r for r in comparison.rows if (r.target, r.batch, r.concurrency) == key]
        ax.bar(names, [r.median or 0.0 for r in rows], color="tab:orange", alpha=0.6)
        for i, r in enumerate(rows):
            measured = [x for x in r.rounds if x is not None]
            ax.plot([i] * len(measured), measured, "k.", markersize=6)
        ax.set_title(f"{key[0]}, batch {key[1]}, concurrency {key[2]}", fontsize=9)
        ax.set_ylabel("images/s (bar: median; dots: rounds)")
        ax.tick_params(axis="x", labelsize=8)
    first = comparison.first
    fig.suptitle(f"{first.model.name} ({first.model.entry}), served", fontsize=10)
    return save_figure(fig, path)


def write_comparison(comparison: Comparison, out_dir: Path) -> dict[str, Path]:
    """Write ``compare.json``, ``compare.md`` and ``compare.png`` to ``out_dir``."""
    from serving.apps.bench.report import write_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": write_json(comparison.to_dict(), out / "compare.json")}
    paths["markdown"] = out / "compare.md"
    paths["markdown"].write_text(markdown(comparison))
    paths["plot"] = plot(comparison, out / "compare.png")
    return paths
