"""The ``zoo`` application: registers each command group's commands."""

from __future__ import annotations

import typer

from zoo.cli import models

app = typer.Typer(
    name="zoo",
    help="genzoo: pull, train, evaluate, export and serve image generative models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command("list")(models.list_command)
app.command("info")(models.info_command)
