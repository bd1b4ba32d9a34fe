"""The ``zoo`` application: registers each command group's commands."""

from __future__ import annotations

from typing import Annotated

import typer

from zoo import __version__
from zoo.cli import bench as bench_cli
from zoo.cli import deploy as deploy_cli
from zoo.cli import evaluate as evaluate_cli
from zoo.cli import export as export_cli
from zoo.cli import hub as hub_cli
from zoo.cli import infer as infer_cli
from zoo.cli import models, train
from zoo.cli import optimize as optimize_cli
from zoo.cli import playground as playground_cli
from zoo.cli import project as project_cli
from zoo.cli import rollout as rollout_cli
from zoo.cli import serve as serve_cli
from zoo.cli import soak as soak_cli
from zoo.cli._common import renamed_flags

app = typer.Typer(
    name="zoo",
    help="genzoo: pull, train, evaluate, export and serve image generative models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"genzoo {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """genzoo: pull, train, evaluate, export and serve image generative models."""


#: The commands whose ``--engine`` (a runner's engine) was ``--backend`` (issue 26: "backend"
#: is Triton's word); the old flag still works, with a warning.
ENGINE = renamed_flags(backend="--engine")

app.command("list")(models.list_command)
app.command("info")(models.info_command)
app.command("pull")(hub_cli.pull_command)
app.command("publish")(hub_cli.publish_command)
app.command("train")(train.train_command)
app.command("eval", cls=ENGINE)(evaluate_cli.eval_command)
app.command("card")(evaluate_cli.card_command)
app.command("export")(export_cli.export_command)
app.command("serve", cls=ENGINE)(serve_cli.serve_command)
app.command("optimize")(optimize_cli.optimize_command)
app.add_typer(serve_cli.repo_app, name="repo")
serve_cli.repo_app.command("build", cls=ENGINE)(serve_cli.repo_build_command)
serve_cli.repo_app.command("push")(deploy_cli.repo_push_command)
serve_cli.repo_app.command("list")(rollout_cli.repo_list_command)
app.command("rollout")(rollout_cli.rollout_command)
app.command("rollback")(rollout_cli.rollback_command)
app.add_typer(deploy_cli.deploy_app, name="deploy")
app.command("demo")(serve_cli.demo_command)
app.command("soak")(soak_cli.soak_command)
# Extra arguments reach the command only so that it can explain the old `--json PATH`;
# `--backends` is the old name of `--targets` (issue 26: a bench target is not a backend).
app.command(
    "bench",
    cls=renamed_flags(backends="--targets"),
    context_settings={"allow_extra_args": True},
)(bench_cli.bench_command)
app.command("playground")(playground_cli.playground_command)
app.command("generate", cls=ENGINE)(infer_cli.generate_command)
app.command("translate", cls=ENGINE)(infer_cli.translate_command)
app.command("encode", cls=ENGINE)(infer_cli.encode_command)
app.command("decode", cls=ENGINE)(infer_cli.decode_command)
app.command("reconstruct", cls=ENGINE)(infer_cli.reconstruct_command)
app.command("inpaint", cls=ENGINE)(infer_cli.inpaint_command)
app.command("classify", cls=ENGINE)(infer_cli.classify_command)
app.command("project", cls=ENGINE)(project_cli.project_command)
app.command("interpolate", cls=ENGINE)(project_cli.interpolate_command)
