"""``zoo bench``: throughput and latency of every bench target (runners, servers), in one run."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from serving.apps.bench.registry import DEFAULT_TARGETS, targets_help
from serving.client.ports import GRPC_PORT
from zoo.cli._common import (
    JsonFlag,
    cli_errors,
    command_line,
    console,
    err_console,
    print_json,
)

if TYPE_CHECKING:
    from serving.apps.bench.results import BenchReport
    from serving.apps.bench.settings import BenchSettings


def _ints(text: str, what: str) -> tuple[int, ...]:
    from zoo.errors import InvalidInputError

    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InvalidInputError(f"{what} takes comma-separated integers, e.g. 1,8,64.") from None
    if not values:
        raise InvalidInputError(f"{what} needs at least one value.")
    return values


@contextlib.contextmanager
def _progress(out: Console, unit: str = "cells") -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on ``out`` while the block runs, counting ``unit``, and the
    ``(done, total, what)`` callback that moves it."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn(f"{{task.completed}}/{{task.total}} {unit}"),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=None)

        def step(done: int, total: int, what: str) -> None:
            progress.update(task, completed=done, total=total, description=what)

        yield step


def summary_table(report: BenchReport, title: str | None = None) -> Table:
    """The short version of a report: one row per measured cell."""
    from serving.apps.bench.report import summary_rows

    table = Table("target", "batch", "conc.", "img/s", "p50 ms", "p99 ms", title=title)
    for r in summary_rows(report):
        table.add_row(
            r["target"],
            str(r["batch"]),
            str(r["concurrency"]),
            f"{r['throughput']:,.0f}",
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
        )
    return table


def _print_goals(report: BenchReport) -> None:
    marks = {True: "[green]met[/]", False: "[red]not met[/]", None: "[dim]not measured[/]"}
    for g in report.goals:
        if g.met is not None:
            console.print(f"{marks[g.met]}  {g.goal}: {g.detail}")
    skipped: set[str] = set()
    for c in report.results:
        if c.status == "skipped" and c.target not in skipped:
            skipped.add(c.target)
            console.print(f"[yellow]skipped[/] {c.target}: {c.reason}")
        elif c.status == "error":
            console.print(
                f"[red]failed[/] {c.target} batch {c.batch} conc. {c.concurrency}: {c.reason}"
            )


@cli_errors
def bench_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Zoo model, e.g. dcgan-mnist.")],
    targets: Annotated[
        str,
        typer.Option(help=f"Comma-separated: {targets_help()}."),
    ] = ",".join(DEFAULT_TARGETS),
    batch: Annotated[str, typer.Option(help="Images per request, comma-separated.")] = "1,8,64",
    concurrency: Annotated[
        str, typer.Option(help="Requests in flight (servers), comma-separated.")
    ] = "1,4,16",
    duration: Annotated[float, typer.Option(help="Measured seconds per cell.")] = 5.0,
    warmup: Annotated[float, typer.Option(help="Warm-up seconds before each cell.")] = 1.0,
    entry: Annotated[str | None, typer.Option(help="Entry point (default: the first).")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Config override of a random-weight variant, key=value (repeat), "
            "e.g. --set width=128 --set max_channels=512.",
        ),
    ] = None,
    client: Annotated[
        str, typer.Option(help="Load generator: threads (blocking SDK) or asyncio.")
    ] = "threads",
    threads: Annotated[
        int | None,
        typer.Option(help="Intra-op threads in-process and in LitServe (default: cores)."),
    ] = None,
    instances: Annotated[int, typer.Option(help="Triton model instances.")] = 1,
    instance_threads: Annotated[
        int | None,
        typer.Option(help="ORT threads per Triton instance (default: --threads / --instances)."),
    ] = None,
    preferred_batch: Annotated[
        str, typer.Option(help="Triton's preferred batch sizes, comma-separated (none: '').")
    ] = "16,64",
    queue_delay_us: Annotated[
        int, typer.Option(help="Triton's max_queue_delay_microseconds.")
    ] = 1000,
    litserve_timeout: Annotated[
        float, typer.Option(help="LitServe's batch_timeout in seconds.")
    ] = 0.001,
    url: Annotated[
        str | None,
        typer.Option(help="Bench a running Triton (loopback HTTP host:port) instead of one."),
    ] = None,
    grpc_url: Annotated[
        str | None, typer.Option(help=f"Its gRPC host:port (default: same host, {GRPC_PORT}).")
    ] = None,
    admin_key_file: Annotated[
        Path | None,
        typer.Option(
            help="With --url: file holding the server's admin key, for Triton's statistics "
            "(`zoo serve` prints it; triton-perf then loads over HTTP); default: ZOO_ADMIN_KEY."
        ),
    ] = None,
    as_json: JsonFlag = False,
    json_file: Annotated[
        Path | None, typer.Option("--json-out", help="Also write the full JSON report here.")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="Write bench.json, bench.md, throughput.png, latency.png here (several "
            "--repository: compare.json, compare.md, compare.png)."
        ),
    ] = None,
    tune: Annotated[
        bool,
        typer.Option(
            "--tune", help="Search Triton's batching and instances under --p99-ms instead."
        ),
    ] = False,
    p99_ms: Annotated[
        float | None, typer.Option(help="p99 latency bound for --tune, in ms.")
    ] = None,
    repository: Annotated[
        list[Path] | None,
        typer.Option(
            help="Serve this built repository as it is configured instead of building one; "
            "repeat to compare repositories, served in turn (--tune: the repository whose "
            "config.pbtxt gets the winner)."
        ),
    ] = None,
    rounds: Annotated[
        int,
        typer.Option(
            help="With several --repository: interleaved rounds; the report gives each "
            "repository's median and its ratio to the first's."
        ),
    ] = 3,
) -> None:
    """Measure the same model with the same inputs on every bench target (runners, servers)."""
    from serving.apps.bench.compare import served_entry
    from serving.apps.bench.peers import LitServeOptions
    from serving.apps.bench.report import write_json, write_report
    from serving.apps.bench.run import run_bench
    from serving.apps.bench.settings import BenchSettings, cores
    from serving.server.admin_key import read_admin_key
    from zoo.errors import InvalidInputError
    from zoo.overrides import parse_overrides

    if ctx.args:  # the command allows extra arguments only to explain them
        raise _extra_arguments(ctx, as_json)
    command = command_line(ctx)
    show = err_console if as_json else console  # under --json, stdout holds the JSON alone
    repositories = list(repository or ())
    if tune:
        if len(repositories) > 1:
            raise InvalidInputError("--tune writes its winner into one --repository.")
        _tune(
            name,
            batch,
            concurrency,
            duration,
            warmup,
            p99_ms,
            repositories[0] if repositories else None,
            client,
            as_json,
            json_file,
        )
        return
    settings = BenchSettings(
        model=name,
        entry=entry,
        targets=tuple(t.strip() for t in targets.split(",") if t.strip()),
        batches=_ints(batch, "--batch"),
        concurrency=_ints(concurrency, "--concurrency"),
        duration=duration,
        warmup=warmup,
        overrides=parse_overrides(set_ or []),
        url=url,
        grpc_url=grpc_url,
        admin_key=read_admin_key(admin_key_file),
        client=client,
        threads=threads or cores(),
        instances=instances,
        instance_threads=instance_threads,
        preferred_batch_sizes=(
            _ints(preferred_batch, "--preferred-batch") if preferred_batch.strip() else ()
        ),
        max_queue_delay_us=queue_delay_us,
        litserve=LitServeOptions(batch_timeout=litserve_timeout),
        repository=repositories[0] if len(repositories) == 1 else None,
    )
    if len(repositories) > 1:
        _compare(settings, repositories, rounds, command, as_json, json_file, report)
        return
    if repositories:
        served_entry(settings, repositories[0])  # a clear error where it is not served
    with _progress(show) as step:
        result = replace(run_bench(settings, progress=step), command=command)
    if as_json:
        print_json(result.to_dict())
    else:
        console.print(summary_table(result, title=f"{name}: {result.model.weights}"))
        _print_goals(result)
    if json_file is not None:
        write_json(result, json_file)
        show.print(f"JSON: {json_file}")
    if report is not None:
        paths = write_report(result, report)
        show.print(f"report: {paths['markdown']} (+ JSON and PNG plots in {report}/)")


def _compare(
    settings: BenchSettings,
    repositories: list[Path],
    rounds: int,
    command: str,
    as_json: bool,
    json_file: Path | None,
    report: Path | None,
) -> None:
    """``zoo bench --repository A --repository B``: each workload served from each, in turn."""
    from serving.apps.bench.compare import compare_repositories, write_comparison
    from serving.apps.bench.report import write_json

    show = err_console if as_json else console
    with _progress(show, unit="runs") as step:
        result = replace(
            compare_repositories(settings, repositories, rounds=rounds, progress=step),
            command=command,
        )
    if as_json:
        print_json(result.to_dict())
    else:
        table = Table("repository", "serves", "workload", "rounds img/s")
        table.add_column("median", justify="right")
        table.add_column("× first", justify="right")
        served = dict(zip(result.repositories, result.served, strict=True))
        for r in result.rows:
            table.add_row(
                r.repository,
                str(served[r.repository]),
                f"{r.target} b{r.batch} c{r.concurrency}",
                ", ".join("–" if x is None else f"{x:,.0f}" for x in r.rounds),
                "–" if r.median is None else f"{r.median:,.0f}",
                "–" if r.ratio is None else f"{r.ratio:.2f}",
            )
        console.print(table)
    if json_file is not None:
        write_json(result.to_dict(), json_file)
        show.print(f"JSON: {json_file}")
    if report is not None:
        paths = write_comparison(result, report)
        show.print(f"report: {paths['markdown']} (+ JSON and a PNG plot in {report}/)")


def _extra_arguments(ctx: typer.Context, as_json: bool) -> typer.BadParameter:
    """The usage error (exit 2) for arguments beyond the model name: the old ``--json PATH``."""
    extra = " ".join(ctx.args)
    if as_json:
        return typer.BadParameter(
            "it no longer takes a path: it is a flag that prints the report on stdout. "
            "Write the file with `--json-out PATH`.",
            ctx=ctx,
            param_hint="'--json'",
        )
    return typer.BadParameter(
        f"unexpected extra argument ({extra}); `zoo bench` takes one model name.", ctx=ctx
    )


def _tune(
    name: str,
    batch: str,
    concurrency: str,
    duration: float,
    warmup: float,
    p99_ms: float | None,
    repository: Path | None,
    client: str,
    as_json: bool,
    json_file: Path | None,
) -> None:
    from serving.apps.bench.report import write_json
    from serving.apps.bench.tune import TuneSettings, tune_triton
    from zoo.errors import InvalidInputError

    if p99_ms is None:
        raise InvalidInputError("--tune needs a latency bound: add --p99-ms X (milliseconds).")
    batches, levels = _ints(batch, "--batch"), _ints(concurrency, "--concurrency")
    if len(batches) > 1 or len(levels) > 1:
        raise InvalidInputError(
            "--tune measures one workload: give one --batch and one --concurrency "
            "(e.g. --batch 1 --concurrency 16)."
        )
    settings = TuneSettings(
        model=name,
        p99_ms=p99_ms,
        batch=batches[0],
        concurrency=levels[0],
        duration=duration,
        warmup=warmup,
        repository=repository,
        client=client,
    )
    show = err_console if as_json else console
    with _progress(show) as step:
        result = tune_triton(settings, progress=step)
    if json_file is not None:
        write_json(result.to_dict(), json_file)
    if as_json:
        print_json(result.to_dict())
        for path in result.written:
            err_console.print(f"wrote {path}")
        return
    table = Table("instances × threads", "preferred", "delay µs", "img/s", "p99 ms", "")
    best = result.best
    for m in result.measurements:
        c = m.config
        mark = "[green]best[/]" if c == best.config else ""
        if m.p99_ms is not None and m.p99_ms > p99_ms:
            mark = "[dim]over bound[/]"
        table.add_row(
            f"{c.instances} × {c.threads}",
            ",".join(map(str, c.preferred_batch_sizes)) or "–",
            str(c.max_queue_delay_us),
            f"{m.throughput:,.0f}",
            "–" if m.p99_ms is None else f"{m.p99_ms:.2f}",
            mark,
        )
    console.print(table)
    c = best.config
    console.print(
        f"[bold green]best under p99 ≤ {p99_ms} ms:[/] instances {c.instances}, threads "
        f"{c.threads}, preferred_batch_size {list(c.preferred_batch_sizes)}, "
        f"max_queue_delay_microseconds {c.max_queue_delay_us} "
        f"({best.throughput:,.0f} img/s, p99 {best.p99_ms or 0.0:.2f} ms)"
    )
    for path in result.written:
        console.print(f"wrote {path}")
