"""``zoo pull`` and ``zoo publish``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zoo.cli._common import JsonFlag, ModelArg, cli_errors, console, err_console, print_json
from zoo.hub import parse_model_ref, publish, pull


@cli_errors
def pull_command(
    name: Annotated[str, typer.Argument(help="Model name, optionally NAME@REVISION.")],
    revision: Annotated[
        str | None, typer.Option("--revision", "-r", help="Branch, tag or commit sha.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Download again even when the cache has it.")
    ] = False,
    offline: Annotated[
        bool,
        typer.Option("--offline", help="No network: use the cache or the bundled copy."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Download a model's weights, config and card from the Hub, verified by sha256."""
    model, rev = parse_model_ref(name, revision)
    pulled = pull(model, rev, force=force, offline=True if offline else None)
    if pulled.message:
        err_console.print(f"[yellow]note:[/] {pulled.message}", highlight=False, soft_wrap=True)
    if as_json:
        print_json(pulled.to_dict())
        return
    commit = f" (commit {pulled.commit[:12]})" if pulled.commit else ""
    console.print(
        f"[bold]{model}[/] {pulled.repo_id}@{pulled.revision}{commit} from {pulled.source}",
        highlight=False,
    )
    console.print(f"sha256 {pulled.sha256} ok", highlight=False)
    console.print(str(pulled.path), highlight=False, soft_wrap=True)


@cli_errors
def publish_command(
    name: ModelArg,
    repo_id: Annotated[str, typer.Option("--repo-id", help="Target Hub repo, ORG/NAME.")],
    revision: Annotated[str, typer.Option("--revision", help="Branch to commit to.")] = "main",
    tag: Annotated[str | None, typer.Option("--tag", help="Tag the new commit.")] = None,
    private: Annotated[
        bool | None, typer.Option("--private/--public", help="Visibility of a new repo.")
    ] = None,
    commit_message: Annotated[
        str | None, typer.Option("--commit-message", "-m", help="Commit message.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Assemble and list the files; upload nothing.")
    ] = False,
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Write a local git repo (Hub layout, LFS) instead of uploading."),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option("--from", help="Folder to publish (default: the bundled weights)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Publish a model's repo folder (weights, config, card, eval, samples) to the Hub."""
    result = publish(
        name,
        repo_id,
        revision=revision,
        tag=tag,
        private=private,
        commit_message=commit_message,
        dry_run=dry_run,
        to=to,
        source=source,
    )
    if as_json:
        print_json(result.to_dict())
        return
    for fname, sha in result.files.items():
        console.print(f"  {fname:<20} {sha}", highlight=False, soft_wrap=True)
    target = f"{result.repo_id}@{result.revision}"
    if result.mode == "dry-run":
        console.print(f"dry run: would publish {len(result.files)} files to {target}")
    elif result.mode == "git":
        console.print(f"committed {str(result.commit)[:12]} to {result.path} ({target})")
    else:
        console.print(f"uploaded {target}: {result.url}", highlight=False, soft_wrap=True)
    if result.tag:
        console.print(f"tagged {result.tag}")
