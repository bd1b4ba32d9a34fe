"""``zoo optimize``: the fastest gated engine per entry point of one model, on this host."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from zoo.cli._common import JsonFlag, cli_errors, console, err_console, print_json

EnginesOpt = Annotated[
    str,
    typer.Option(
        help="Engines to try, comma-separated (default: onnxruntime, openvino, "
        "openvino-bf16, torch, compile, tensorrt)."
    ),
]
StrategyOpt = Annotated[
    str, typer.Option(help="throughput (img/s at the largest batch) or latency (batch 1).")
]


@cli_errors
def optimize_command(
    name: Annotated[str, typer.Argument(help="Model name, e.g. cyclegan-digits.")],
    entry: Annotated[
        list[str] | None, typer.Option("--entry", "-e", help="Entry point (repeat); default all.")
    ] = None,
    batch: Annotated[
        list[int] | None,
        typer.Option("--batch", "-b", help="Batch size (repeat); default the repository's."),
    ] = None,
    strategy: StrategyOpt = "throughput",
    engines: EnginesOpt = "",
    out: Annotated[
        Path | None,
        typer.Option(
            help="Repository to build (if needed) and write the choice into. Without it the "
            "default repository is measured and nothing is written but the report."
        ),
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="Engine threads; default the config's zoo_threads.")
    ] = None,
    seconds: Annotated[float, typer.Option(help="Timing budget per engine and batch.")] = 3.0,
    quality_n: Annotated[int, typer.Option(help="Samples of the quality gate's evaluation.")] = 256,
    report: Annotated[
        Path, typer.Option(help="Folder of the report (<model>.md, .json, .png).")
    ] = Path("out/optimize"),
    as_json: JsonFlag = False,
) -> None:
    """Gate every engine (parity and quality), time the rest at the repository's batch sizes,
    and pick one per entry point by --strategy; --out writes it into that repository."""
    from serving.apps.optimize import ENGINES, run_optimize
    from zoo.settings import model_repository_dir

    chosen = tuple(e for e in engines.split(",") if e) or ENGINES
    if out is not None:
        from serving.server.repository import build_repository

        with err_console.status(f"building {name} in {out}…"):
            build_repository([name], out_dir=out)
    with err_console.status(f"optimizing {name}…") as status:
        (result,) = run_optimize(
            [name],
            repository=out or model_repository_dir(),
            write=out is not None,
            report_dir=report,
            entries=entry,
            engines=chosen,
            strategy=strategy,
            batches=batch,
            threads=threads,
            seconds=seconds,
            quality_n=quality_n,
            progress=lambda msg: status.update(escape(msg)),
        )
    if as_json:
        print_json(result.to_dict())
        return
    for e in result.entries:
        console.print(f"[bold]{escape(f'{e.model}:{e.entry}')}[/] → {escape(str(e.winner))}")
        for c in e.candidates:
            figures = ", ".join(f"{v:,.0f} img/s @{b}" for b, v in c.img_per_s.items())
            console.print(f"  {c.engine}: {c.status} {escape(figures or c.reason)}", soft_wrap=True)
    where = f"written into {out}" if out is not None else "not written (no --out)"
    console.print(f"report: {report}/{name}.md (.json, .png); choice {where}")
