"""``zoo eval`` (metrics on the test split) and ``zoo card`` (the model card of a model)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from zoo.cli._common import JsonFlag, ModelArg, cli_errors, console, err_console, print_json
from zoo.errors import InvalidInputError, MissingDependencyError
from zoo.evaluate import EvalReport, RunnerFactory, evaluate
from zoo.registry import get_spec, list_models


def runner_factory(engine: str) -> RunnerFactory:
    """How ``zoo eval --engine`` runs the model under test: ``export.runners``' factory.

    (zoo/ never imports export/; the CLI layer hands the runners to the evaluator.)
    """
    try:
        from export.runners import runner_factory as factory_of
    except ImportError as e:
        raise MissingDependencyError("the export package (onnx, onnxruntime)", "export") from e
    return factory_of(engine)


def _table(report: EvalReport) -> Table:
    table = Table(
        "metric",
        "value",
        "real-vs-real floor / baseline",
        "target",
        "status",
        title=f"{report.model} — {report.engine}, n={report.n}, seed={report.seed}",
    )
    for m in report.metrics:
        value = "—" if m.value is None else f"{m.value:.4g}"
        floor = "" if m.floor is None else f"{m.floor:.4g} ({m.floor_label})"
        target = ""
        if m.target is not None:
            target = f"{'≥' if m.higher_is_better else '≤'} {m.target:g}"
        status = {True: "[green]met[/]", False: "[red]not met[/]", None: ""}[m.met]
        table.add_row(m.label, value, floor, target, status)
    return table


@cli_errors
def eval_command(
    name: ModelArg,
    as_json: JsonFlag = False,
    engine: Annotated[
        str,
        typer.Option(help="Run the model on torch, compile, onnxruntime, openvino or tensorrt."),
    ] = "torch",
    n: Annotated[
        int | None, typer.Option("--n", help="Samples per set (default 1000).", min=10)
    ] = None,
    seed: Annotated[int, typer.Option(help="First seed; also picks the real subsets.")] = 0,
    write: Annotated[
        bool, typer.Option("--write", help="Store eval.json in the model's bundled folder.")
    ] = False,
) -> None:
    """Recompute a model's metrics on the test split, with the real-vs-real floor."""
    spec = get_spec(name)
    if write and engine != "torch":
        raise InvalidInputError(
            "--write stores the reference figures of the torch weights; drop --engine "
            f"{engine} or --write."
        )
    factory = runner_factory(engine)
    with err_console.status(f"evaluating {spec.name} ({engine})…"):
        report = evaluate(spec.name, runner_factory=factory, n=n, seed=seed, engine=engine)
    if write:
        from zoo.cards import write_eval
        from zoo.weights import bundled_dir

        path = write_eval(report, bundled_dir(spec.name))
        err_console.print(f"wrote {path}")
    if as_json:
        print_json(report.to_dict())
        return
    console.print(_table(report))
    verdict = "[green]all targets met[/]" if report.targets_met else "[red]targets not met[/]"
    console.print(f"{verdict} ({report.seconds:.1f} s)")


@cli_errors
def card_command(
    names: Annotated[
        list[str] | None, typer.Argument(help="Model names (or --all).", show_default=False)
    ] = None,
    all_models: Annotated[
        bool, typer.Option("--all", help="Every model in the zoo that has trained weights.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Write into OUT/NAME/ instead of the model's bundled folder."),
    ] = None,
    refresh: Annotated[
        bool,
        typer.Option("--eval", help="Re-evaluate first and rewrite eval.json (after new weights)."),
    ] = False,
    n: Annotated[
        int | None, typer.Option("--n", help="Samples per set with --eval.", min=10)
    ] = None,
) -> None:
    """Write a model's Hugging Face card (README.md) and samples.png from its eval.json."""
    from zoo.cards import write_card

    if all_models == bool(names):
        raise InvalidInputError("name one or more models, or pass --all (not both).")
    targets = list_models() if all_models else [get_spec(x).name for x in names or []]
    for name in targets:
        if all_models and not get_spec(name).sha256:
            err_console.print(f"[yellow]skipped {name}: no trained weights registered yet[/]")
            continue
        folder = out / name if out is not None else None
        with err_console.status(f"writing the card of {name}…"):
            files = write_card(name, folder=folder, refresh=refresh, n=n)
        names_written = ", ".join(p.name for p in (files.readme, files.samples, files.eval_json))
        console.print(f"{name}: wrote {names_written} in {files.readme.parent}", soft_wrap=True)
