"""``zoo list`` and ``zoo info``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from zoo.cli._common import JsonFlag, ModelArg, cli_errors, console, print_json
from zoo.registry import get_spec, list_models


@cli_errors
def list_command(
    pattern: Annotated[str, typer.Argument(help="Shell-style filter, e.g. '*-mnist'.")] = "*",
    as_json: JsonFlag = False,
) -> None:
    """List the models in the zoo."""
    specs = [get_spec(n) for n in list_models(pattern)]
    if as_json:
        rows = [{"name": s.name, "family": s.family, "tasks": list(s.entry_names)} for s in specs]
        print_json(rows)  # "tasks": the entry points' names, the key scripts already read
        return
    table = Table("name", "family", "entry points", "description")
    for s in specs:
        table.add_row(s.name, s.family, ", ".join(s.entry_names), s.description)
    console.print(table)


@cli_errors
def info_command(
    name: ModelArg,
    as_json: JsonFlag = False,
) -> None:
    """Show everything the registry knows about a model."""
    spec = get_spec(name)
    if as_json:
        print_json(spec.to_dict())
        return
    console.print(f"[bold]{spec.name}[/] ({spec.family}) — {spec.description}")
    console.print(f"hub: {spec.repo_id}@{spec.revision}  licence: {spec.license}")
    console.print(f"weights sha256: {spec.sha256 or '(not trained yet)'}")
    table = Table("entry point", "inputs", "outputs", "what")
    for e in spec.entry_points:
        fmt = ", ".join
        table.add_row(
            e.name,
            fmt(f"{t.name}:{t.dtype}{list(t.shape)}" for t in e.inputs),
            fmt(f"{t.name}:{t.dtype}{list(t.shape)}" for t in e.outputs),
            e.doc,
        )
    console.print(table)
