"""The bench report: the issue's goals checked, JSON, Markdown and PNG plots.

:func:`write_report` writes ``bench.json`` (every raw figure, per-request latencies included,
and the environment), ``bench.md`` (the tables people read) and two plots:
``throughput.png`` (images/s against concurrency, one line per bench target, one panel per
batch size) and ``latency.png`` (p50 and p99 against concurrency, same layout). In-process
targets have one caller; the plots draw them as a dashed level across the panel.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serving.apps.bench.registry import is_in_process
from serving.apps.bench.results import BenchReport, Cell, Goal, ServerFigures

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TRITON = ("triton-grpc", "triton-http")


def describe_gpus(found: list[dict[str, Any]] | None) -> str:
    """One line for a report: "NVIDIA H100 80GB HBM3 (81559 MiB, driver 580.82.07)", or "no GPU"."""
    if not found:
        return "no GPU"
    return ", ".join(
        f"{g['name']} ({g['memory_mib'] or '?'} MiB, driver {g['driver'] or '?'})" for g in found
    )


def ok_cells(report: BenchReport) -> list[Cell]:
    """The measured cells of a report (skipped and failed ones left out)."""
    return report.ok_cells


def find(
    cells: Iterable[Cell], target: str, batch: int, concurrency: int | None = None
) -> list[Cell]:
    """Cells of ``target`` at ``batch`` (and ``concurrency`` when given)."""
    return [
        c
        for c in cells
        if c.target == target
        and c.batch == batch
        and (concurrency is None or c.concurrency == concurrency)
    ]


def _best(cells: Iterable[Cell]) -> Cell | None:
    return max(cells, key=lambda c: c.throughput, default=None)


def _goal(
    gid: str,
    text: str,
    threshold: float,
    value: float | None,
    detail: str,
    *,
    met: bool | None = None,
) -> Goal:
    if met is None and value is not None:
        met = value >= threshold if gid != "p50" else value <= threshold
    return Goal(id=gid, goal=text, threshold=threshold, value=value, met=met, detail=detail)


def _grpc_goal(cells: list[Cell], ort64: Cell | None) -> Goal:
    """Triton over gRPC with batch-64 requests against in-process ORT at batch 64."""
    grpc64 = _best(find(cells, "triton-grpc", 64))
    if grpc64 and ort64:
        v = grpc64.throughput / ort64.throughput
        detail = (
            f"triton-grpc {grpc64.throughput:,.0f} img/s (concurrency {grpc64.concurrency}) "
            f"vs onnxruntime {ort64.throughput:,.0f} img/s"
        )
    else:
        v, detail = None, "not measured (needs triton-grpc and onnxruntime at batch 64)"
    return _goal(
        "grpc64",
        "Triton gRPC, batch-64 requests ≥ 0.95× in-process ORT at batch 64",
        0.95,
        v,
        detail,
    )


def _dynamic_goal(cells: list[Cell], dyn: Cell | None, ort64: Cell | None) -> Goal:
    """Triton's dynamic batching of batch-1 requests (``dyn``) against ORT at batch 64."""
    if dyn and ort64:
        v = dyn.throughput / ort64.throughput
        avg = dyn.server.avg_batch if dyn.server else None
        batched = f", {avg:.1f} images per execution" if avg else ""
        detail = (
            f"{dyn.target} {dyn.throughput:,.0f} img/s{batched} vs onnxruntime batch 64 "
            f"{ort64.throughput:,.0f} img/s"
        )
        perf = _best(find(cells, "triton-perf", 1, 16))
        if perf:
            detail += (
                f"; with perf_analyzer (C++ client) as the load, Triton serves "
                f"{perf.throughput:,.0f} img/s = {perf.throughput / ort64.throughput:.2f}×"
            )
    else:
        v, detail = (
            None,
            "not measured (needs Triton at batch 1, concurrency 16, and ORT at batch 64)",
        )
    return _goal(
        "dynamic",
        "Triton, batch-1 requests at concurrency 16 (dynamic batching) ≥ 0.8× ORT at batch 64",
        0.8,
        v,
        detail,
    )


def _p50_goal(cells: list[Cell], ort1: Cell | None) -> Goal:
    """Triton's median latency at batch 1, concurrency 1, against ORT's."""
    lat = [c for b in TRITON for c in find(cells, b, 1, 1) if c.measured.latency_ms]
    best_lat = min(lat, key=lambda c: c.latency.p50, default=None)
    if best_lat and ort1 and ort1.measured.latency_ms:
        v = best_lat.latency.p50 - ort1.latency.p50
        detail = (
            f"{best_lat.target} p50 {best_lat.latency.p50:.2f} ms vs onnxruntime "
            f"{ort1.latency.p50:.2f} ms"
        )
    else:
        v, detail = None, "not measured (needs Triton and ORT at batch 1, concurrency 1)"
    return _goal(
        "p50", "Triton p50 at concurrency 1, batch 1: at most 1 ms above ORT", 1.0, v, detail
    )


def _litserve_goal(cells: list[Cell], dyn: Cell | None) -> Goal:
    """Triton (``dyn``) against LitServe at batch 1, concurrency 16: throughput and p99."""
    lit = _best(find(cells, "litserve", 1, 16))
    if dyn and lit:
        v = dyn.throughput / lit.throughput
        p99_t, p99_l = dyn.latency.p99, lit.latency.p99
        detail = (
            f"{dyn.target} {dyn.throughput:,.0f} img/s, p99 {p99_t:.1f} ms vs LitServe "
            f"{lit.throughput:,.0f} img/s, p99 {p99_l:.1f} ms"
        )
        return _goal(
            "litserve",
            "Triton ≥ 1.2× LitServe at concurrency 16 (batch 1), with lower p99",
            1.2,
            v,
            detail,
            met=bool(v >= 1.2 and p99_t < p99_l),
        )
    else:
        detail = "not measured (needs Triton and litserve at batch 1, concurrency 16)"
        return _goal(
            "litserve",
            "Triton ≥ 1.2× LitServe at concurrency 16 (batch 1), with lower p99",
            1.2,
            None,
            detail,
        )


def _peak_goal(cells: list[Cell], peak: Mapping[str, Any] | None) -> Goal:
    """The best cell's share of the measured matmul peak."""
    peak_cells = [c for c in cells if c.peak_fraction is not None]
    top = max(peak_cells, key=lambda c: c.peak_fraction or 0.0, default=None)
    if top:
        v = top.peak_fraction
        detail = (
            f"{top.target} batch {top.batch} concurrency {top.concurrency}: "
            f"{top.gflops:,.1f} GFLOP/s of {(peak or {}).get('gflops', 0.0):,.1f}"
        )
    else:
        v, detail = None, "not measured"
    return _goal("peak", "Best target ≥ 0.85× the measured matmul peak (GFLOP/s)", 0.85, v, detail)


def evaluate_goals(report: BenchReport) -> list[Goal]:
    """Each goal of the issue, with the measured value, or ``met: None`` when not measured.

    Ratios compare cells of this one run. Where two Triton protocols were measured, the better
    one counts (and is named).
    """
    cells = ok_cells(report)
    ort64 = _best(find(cells, "onnxruntime", 64))
    ort1 = _best(find(cells, "onnxruntime", 1))
    dyn = _best(c for b in TRITON for c in find(cells, b, 1, 16))
    return [
        _grpc_goal(cells, ort64),
        _dynamic_goal(cells, dyn, ort64),
        _p50_goal(cells, ort1),
        _litserve_goal(cells, dyn),
        _peak_goal(cells, report.peak),
    ]


# ---------------------------------------------------------------------------------------------
# Markdown.
# ---------------------------------------------------------------------------------------------


def _f(x: Any, fmt: str = ",.1f") -> str:
    return "–" if x is None else format(x, fmt)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _goal_cell(g: Goal) -> str:
    return {True: "**met**", False: "**not met**", None: "not measured"}[g.met]


def _gflop_line(gflop: float | None) -> str:
    if gflop is None:
        return "FLOPs not counted (torch is not installed here: `pip install 'genzoo[torch]'`)"
    return f"{gflop:.4f} GFLOP per image (torch flop counter)"


def _peak_line(peak: Mapping[str, Any] | None) -> str:
    if peak is None:
        return "not measured (torch is not installed here)"
    return f"{peak['gflops']:,.1f} GFLOP/s ({peak['method']}; median {peak['median_gflops']:,.1f})"


def _setup_lines(report: BenchReport) -> list[str]:
    """The report's title and setup: date, command, machine, load, versions, settings."""
    env, model, peak = report.environment, report.model, report.peak
    s = report.settings
    v = env["versions"]
    git = env.get("git") or {}
    commit = (git.get("commit") or "unknown")[:12] + (
        " (uncommitted changes)" if git.get("dirty") else ""
    )
    load = env.get("loadavg_start")
    load_end = env.get("loadavg_end")
    out = [
        f"# zoo bench: {model.name} ({model.entry})",
        "",
        f"- date: {report.created}",
    ]
    if report.command:
        out.append(f"- command: `{report.command}`")
    out += [
        f"- machine: {env['cpu']}, {env['cores']} cores, {describe_gpus(env.get('gpu'))}",
        f"- load average (1/5/15 min) at start: {_loads(load)}; at end: {_loads(load_end)}",
        f"- versions: torch {v.get('torch')}, onnxruntime {v.get('onnxruntime')}, "
        f"tritonserver {v.get('tritonserver') or '–'} "
        f"(nvidia-pytriton {v.get('nvidia-pytriton')}), "
        f"tritonclient {v.get('tritonclient')}, litserve {v.get('litserve') or '–'}, "
        f"Python {env['python']}; git {commit}",
        f"- weights: {model.weights}; {_gflop_line(model.gflop_per_image)}",
        f"- matmul peak: {_peak_line(peak)}",
        f"- settings: {s['duration_s']} s per cell after {s['warmup_s']} s warm-up; client "
        f"{s['client']}; Triton: {s['instances']} instance(s) × "
        f"{s.get('instance_threads') or s['threads']} {_served_by(s)} thread(s), "
        f"preferred batch {s['preferred_batch_sizes']}, max queue delay "
        f"{s['max_queue_delay_us']} µs, response cache off; LitServe: max_batch_size "
        f"{s['litserve']['max_batch_size']}, batch_timeout {s['litserve']['batch_timeout_s']} s; "
        f"in-process: one caller, {s['threads']} thread(s)",
    ]
    return out


def _served_by(settings: Mapping[str, Any]) -> str:
    """What Triton's models ran, as the settings line says it: "ORT", "torch on cuda"."""
    runner = settings.get("triton_runner", "onnxruntime")
    device = settings.get("device", "cpu")
    word = "ORT" if runner == "onnxruntime" else runner
    return word if device == "cpu" else f"{word} on {device}"


def _goal_lines(report: BenchReport) -> list[str]:
    """The goals section: each goal, its measured value and whether it was met (none: no
    section, as in the GPU check's workloads, whose goals span them all)."""
    if not report.goals:
        return []
    return ["", "## Goals", "", *goal_table(report.goals)]


def goal_table(goals: Iterable[Goal]) -> list[str]:
    """Each goal, its measured value and whether it was met, as a Markdown table."""
    return _table(
        ["goal", "measured", "result", "detail"],
        (
            [
                g.goal,
                _f(g.value, ".2f") + (" ms" if g.id == "p50" and g.value is not None else ""),
                _goal_cell(g),
                g.detail,
            ]
            for g in goals
        ),
    )


#: A column of a cell table: header, its figure of a cell, format.
Column = tuple[str, Callable[[Cell], Any], str]

#: The throughput and latency table.
CELL_COLUMNS: tuple[Column, ...] = (
    ("img/s", lambda c: c.throughput, ",.0f"),
    ("p50 ms", lambda c: c.latency.p50, ".2f"),
    ("p90 ms", lambda c: c.latency.p90, ".2f"),
    ("p99 ms", lambda c: c.latency.p99, ".2f"),
    ("max ms", lambda c: c.latency.max, ".2f"),
    ("GFLOP/s", lambda c: c.gflops, ",.1f"),
    ("% peak", lambda c: None if c.peak_fraction is None else 100 * c.peak_fraction, ".0f"),
    ("client CPU", lambda c: c.measured.client_cpu_cores, ".2f"),
    ("server CPU", lambda c: c.measured.server_cpu_cores, ".2f"),
)

#: Triton's client-side against server-side time (cells with server statistics only).
SERVER_COLUMNS: tuple[Column, ...] = (
    ("client ms", lambda c: c.latency.mean, ".2f"),
    ("server ms", lambda c: _server(c).request_ms, ".2f"),
    ("queue", lambda c: _server(c).queue_ms, ".2f"),
    ("compute input", lambda c: _server(c).compute_input_ms, ".2f"),
    ("compute infer", lambda c: _server(c).compute_infer_ms, ".2f"),
    ("compute output", lambda c: _server(c).compute_output_ms, ".2f"),
    ("images / execution", lambda c: _server(c).avg_batch, ".1f"),
)


def _server(c: Cell) -> ServerFigures:
    assert c.server is not None, "only cells with server statistics reach SERVER_COLUMNS"
    return c.server


def _cell_table(cells: Iterable[Cell], columns: Sequence[Column]) -> list[str]:
    """One row per cell: which cell it is (target, batch, concurrency), then ``columns``."""
    return _table(
        ["target", "batch", "conc.", *(header for header, _, _ in columns)],
        (
            [c.target, str(c.batch), str(c.concurrency), *(_f(v(c), f) for _, v, f in columns)]
            for c in cells
        ),
    )


def _cell_lines(report: BenchReport) -> list[str]:
    """The throughput and latency section: one row per measured cell."""
    out = ["", "## Throughput and latency", ""]
    out += _cell_table(ok_cells(report), CELL_COLUMNS)
    out += [
        "",
        "CPU columns are cores kept busy on average (client: the bench process; server: the "
        "server's whole process group). In-process targets have no client/server split.",
    ]
    return out


def _server_lines(report: BenchReport) -> list[str]:
    """Triton's client-side vs server-side time per cell; no section when none has statistics."""
    served = [c for c in ok_cells(report) if c.server]
    if not served:
        return []
    out = ["", "## Triton: client-side and server-side time (per request, mean)", ""]
    out += _cell_table(served, SERVER_COLUMNS)
    out += [
        "",
        "Server-side figures come from Triton's statistics extension over the measured "
        "window; client ms − server ms is the time spent in the client library, on the "
        "wire and in Triton's front end.",
    ]
    return out


def _skipped_lines(report: BenchReport) -> list[str]:
    """Skipped or failed cells, each target and reason once; no section when all ran."""
    bad = [c for c in report.results if not c.ok]
    if not bad:
        return []
    out = ["", "## Skipped or failed", ""]
    seen: set[tuple[str, str]] = set()
    for c in bad:
        key = (c.target, str(c.reason))
        if key not in seen:
            seen.add(key)
            out.append(f"- {c.target} ({c.status}): {c.reason}")
    return out


def markdown(report: BenchReport) -> str:
    """The report as Markdown: setup, goals, every measured cell, Triton's own timings."""
    out = _setup_lines(report) + _goal_lines(report) + _cell_lines(report)
    out += _server_lines(report) + _skipped_lines(report)
    if report.notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in report.notes]
    return "\n".join(out) + "\n"


def _loads(values: Sequence[float] | None) -> str:
    return "/".join(f"{x:.2f}" for x in values) if values else "unknown"


def summary_rows(report: BenchReport) -> list[dict[str, Any]]:
    """One short row per measured cell (target, batch, concurrency, img/s, p50, p99)."""
    return [
        {
            "target": c.target,
            "batch": c.batch,
            "concurrency": c.concurrency,
            "throughput": c.throughput,
            "p50_ms": c.latency.p50,
            "p99_ms": c.latency.p99,
        }
        for c in ok_cells(report)
    ]


# ---------------------------------------------------------------------------------------------
# Plots.
# ---------------------------------------------------------------------------------------------


def _panels(report: BenchReport) -> tuple[list[int], list[str]]:
    cells = ok_cells(report)
    batches = sorted({c.batch for c in cells})
    targets = [t for t in report.settings["targets"] if any(c.target == t for c in cells)]
    return batches, targets


def plot_throughput(report: BenchReport, path: Path) -> Path:
    """Images/s against concurrency, one line per target, one panel per batch size."""
    return _plot(report, path, "throughput", "images / s")


def plot_latency(report: BenchReport, path: Path) -> Path:
    """p50 (solid) and p99 (dashed) latency against concurrency, one panel per batch size."""
    return _plot(report, path, "latency", "latency (ms)")


def _plot(report: BenchReport, path: Path, what: str, ylabel: str) -> Path:
    from matplotlib.figure import Figure

    batches, targets = _panels(report)
    cells = ok_cells(report)
    levels = sorted({c.concurrency for c in cells}) or [1]
    fig = Figure(figsize=(4.2 * max(1, len(batches)), 3.6), layout="constrained")
    axes = fig.subplots(1, max(1, len(batches)), squeeze=False)[0]
    colors = {t: f"C{i}" for i, t in enumerate(targets)}
    for ax, batch in zip(axes, batches, strict=False):
        for name in targets:
            pts = sorted(find(cells, name, batch), key=lambda c: c.concurrency)
            if not pts:
                continue
            xs = [c.concurrency for c in pts]
            series = (
                [("", [c.throughput for c in pts])]
                if what == "throughput"
                else [
                    (" p50", [c.latency.p50 for c in pts]),
                    (" p99", [c.latency.p99 for c in pts]),
                ]
            )
            for k, (suffix, ys) in enumerate(series):
                style = "--" if k == 1 else "-"
                if is_in_process(name):
                    ax.hlines(
                        ys[0],
                        min(levels),
                        max(levels),
                        colors=colors[name],
                        linestyles=":" if k == 1 else "--",
                        label=f"{name}{suffix} (in-process)",
                    )
                else:
                    ax.plot(xs, ys, style, marker="o", color=colors[name], label=f"{name}{suffix}")
        ax.set_xscale("log", base=2)
        ax.set_xticks(levels, [str(x) for x in levels])
        ax.set_xlabel("concurrency (requests in flight)")
        ax.set_ylabel(ylabel)
        if what == "latency":
            ax.set_yscale("log")
        ax.set_title(f"batch {batch}")
        ax.grid(True, alpha=0.3)
    if len(axes) and targets:
        axes[0].legend(fontsize=7)
    fig.suptitle(f"{report.model.name} ({report.model.entry}): {what}")
    return save_figure(fig, path)


def plot_best_throughput(reports: Sequence[BenchReport], path: Path, title: str) -> Path:
    """The best images/s of each target, one panel per report (the GPU check's workloads);
    servers in orange, in-process targets in blue."""
    from matplotlib.figure import Figure

    panels = max(1, len(reports))
    fig = Figure(figsize=(5 * panels, 3.6), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    for ax, report in zip(axes, reports, strict=False):
        best: dict[str, float] = {}
        for c in report.ok_cells:
            best[c.target] = max(best.get(c.target, 0.0), c.throughput)
        names = list(best)
        colors = ["tab:blue" if is_in_process(n) else "tab:orange" for n in names]
        ax.barh(names, [best[n] for n in names], color=colors)
        shown = ", ".join(f"{k}={v}" for k, v in report.model.overrides.items())
        ax.set_title(f"{report.model.name} ({shown})" if shown else report.model.name, fontsize=9)
        ax.set_xlabel("images/s (best cell)")
    fig.suptitle(title)
    return save_figure(fig, path)


def save_figure(fig: Figure, path: Path) -> Path:
    """Write a bench plot to ``path`` (a PNG, its folder made if need be)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def write_report(report: BenchReport, out_dir: Path) -> dict[str, Path]:
    """Write ``bench.json``, ``bench.md``, ``throughput.png`` and ``latency.png`` to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": write_json(report, out / "bench.json"),
        "markdown": out / "bench.md",
        "throughput": plot_throughput(report, out / "throughput.png"),
        "latency": plot_latency(report, out / "latency.png"),
    }
    paths["markdown"].write_text(markdown(report))
    return paths


def write_json(report: BenchReport | Mapping[str, Any], path: Path) -> Path:
    """The report as JSON (every raw figure); a ``--tune`` result is a plain mapping."""
    data = report.to_dict() if isinstance(report, BenchReport) else dict(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path
