"""``zoo rollout``, ``zoo rollback`` and ``zoo repo list``: model versions in the repository."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from zoo.cli._common import (
    JsonFlag,
    ModelArg,
    RepositoryOpt,
    cli_errors,
    console,
    err_console,
    print_json,
)

UrlOpt = Annotated[
    str | None,
    typer.Option(
        help="The running Triton to switch (host:port, http://, grpc://); without it only the "
        "repository changes and the next `zoo serve` serves the new version."
    ),
]
AdminKeyOpt = Annotated[
    Path | None,
    typer.Option(
        help="File holding the server's admin key (`zoo serve` prints where it wrote it); "
        "default ZOO_ADMIN_KEY. Needed when the server restricts its admin APIs."
    ),
]


def _admin_key(path: Path | None) -> str | None:
    from serving.server.admin_key import read_admin_key

    return read_admin_key(path)


def _report(result: Any, as_json: bool, verb: str) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    old = ", ".join(str(v) for v in result.old) or "none"
    where = f" on {result.server}" if result.server else " in the repository (no server given)"
    rel = result.release
    console.print(
        f"[green]{verb}[/] {result.model}: version {result.new} serves{where} (was {old}); "
        f"revision {escape(rel.commit or rel.revision or rel.source)}, sha256 {rel.sha256[:12]}…; "
        f"{result.seconds:.1f} s in all, switch {result.switch_seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )


def _progress(message: str) -> None:
    err_console.print(f"[dim]{escape(message)}[/]", highlight=False, soft_wrap=True)


@cli_errors
def rollout_command(
    name: ModelArg,
    revision: Annotated[
        str | None, typer.Option(help="Hub revision (branch, tag or commit) of the new weights.")
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(
            "--from", help="Local folder with config.json + model.safetensors (save_pretrained)."
        ),
    ] = None,
    sha256: Annotated[
        str | None, typer.Option(help="Refuse the weights unless they hash to this sha256.")
    ] = None,
    repository: RepositoryOpt = None,
    url: UrlOpt = None,
    admin_key_file: AdminKeyOpt = None,
    quality_n: Annotated[
        int, typer.Option(help="Samples per set for the quality gate.", min=10)
    ] = 1000,
    as_json: JsonFlag = False,
) -> None:
    """Export new weights as the next version, gate them, and serve them without a restart.

    The weights (one Hub commit, or --from a folder) are checked, every entry point is exported
    and held to the parity gate, the model's metrics are recomputed on the exported graphs
    (quality gate), the version folder is written, and with --url the running server loads it,
    serves it once ready and unloads the old version after its requests drained. On any failure
    nothing changes and the old version keeps serving.
    """
    from serving.server.versions import rollout

    result = rollout(
        name,
        revision=revision,
        source_dir=source,
        sha256=sha256,
        root=repository,
        url=url,
        admin_key=_admin_key(admin_key_file),
        quality_n=quality_n,
        progress=_progress,
    )
    _report(result, as_json, "rolled out")


@cli_errors
def rollback_command(
    name: ModelArg,
    repository: RepositoryOpt = None,
    url: UrlOpt = None,
    admin_key_file: AdminKeyOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Serve the previous version again, the same way a rollout switches."""
    from serving.server.versions import rollback

    result = rollback(
        name,
        root=repository,
        url=url,
        admin_key=_admin_key(admin_key_file),
        progress=_progress,
    )
    _report(result, as_json, "rolled back")


@cli_errors
def repo_list_command(
    models: Annotated[
        list[str] | None, typer.Argument(help="Zoo models (default: all in the repository).")
    ] = None,
    repository: RepositoryOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Each model's versions: revision, weights sha256, gates, and which one serves."""
    from serving.server.versions import list_versions

    versions = list_versions(repository, models or None)
    if as_json:
        print_json([v.to_dict() for v in versions])
        return
    table = Table("model", "version", "served", "source", "revision", "sha256", "gates")
    for v in versions:
        rel = v.release
        table.add_row(
            v.model,
            str(v.version) + ("" if v.complete else " (incomplete)"),
            "[green]yes[/]" if v.served else "",
            rel.source,
            escape(rel.commit or rel.revision),
            rel.sha256[:12],
            rel.gate_summary(),
        )
    console.print(table)
