"""``zoo soak``: bounded mixed load on a Triton server, errors, p99 and memory over time."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from serving.client.ports import GRPC_PORT
from zoo.cli._client import Credentials, with_credentials
from zoo.cli._common import (
    JsonFlag,
    ServedRepositoryOpt,
    cli_errors,
    console,
    err_console,
    print_json,
)

if TYPE_CHECKING:
    from serving.server.triton import TritonServer


@cli_errors
@with_credentials
def soak_command(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Zoo models to mix (default: every one the server serves)."),
    ] = None,
    duration: Annotated[float, typer.Option(help="Seconds of load.")] = 60.0,
    concurrency: Annotated[int, typer.Option(help="Worker threads (alternating protocols).")] = 4,
    interval: Annotated[float, typer.Option(help="Seconds per reporting interval.")] = 5.0,
    url: Annotated[
        str | None,
        typer.Option(
            help="HTTP host:port (or https://) of a running Triton; default: start one on loopback."
        ),
    ] = None,
    grpc_url: Annotated[
        str | None,
        typer.Option(
            help=f"gRPC host:port or grpcs:// (default: the HTTP host, port {GRPC_PORT}; "
            "grpcs:// when --url is https://)."
        ),
    ] = None,
    *,
    credentials: Credentials,
    pid: Annotated[
        int | None, typer.Option(help="Server pid whose RSS to track (default: found by port).")
    ] = None,
    repository: ServedRepositoryOpt = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for soak.json and soak.md (default: none).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Soak a Triton server: mixed models, batch sizes and protocols; exits 1 on any error."""
    from serving.apps.soak import SoakInterval, run_soak, versions_text

    conn = credentials.client_options()

    def show(i: SoakInterval) -> None:
        if not as_json:
            console.print(
                f"{i.t_s:7.1f}s  requests {i.requests:6d}  errors {i.errors:4d}  "
                f"p50 {i.p50_ms:7.1f} ms  p99 {i.p99_ms:7.1f} ms  "
                f"{i.images_per_s:7.0f} img/s  RSS {i.rss_mib:7.0f} MiB  "
                f"versions {versions_text(i.versions)}",
                highlight=False,
            )

    server = None if url else _start_server(repository)
    if server is not None:
        url, grpc_url, pid = server.http_url, server.grpc_url, server.pid
    try:
        report = run_soak(
            names,
            url=str(url),
            grpc_url=grpc_url,
            server_pid=pid,
            duration_s=duration,
            concurrency=concurrency,
            interval_s=interval,
            on_interval=show,
            connection=conn,
        )
    finally:
        if server is not None:
            server.stop()
    if out is not None:
        paths = report.write(out)
        if not as_json:
            console.print(f"report: {paths[0]}, {paths[1]}")
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(
            f"{report.requests} requests, {report.errors} errors, {report.images} images in "
            f"{report.duration_s:.0f} s; p99 {report.p99_ms:.1f} ms; "
            f"RSS growth {report.rss_growth_mib:+.1f} MiB; answered by model version "
            f"{versions_text(report.versions)}",
            highlight=False,
        )
    if report.errors:
        sample = report.error_samples[0] if report.error_samples else ""
        err_console.print(
            f"[bold red]error:[/] {report.errors} of {report.requests} requests failed; first: "
            f"{escape(sample)}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)


def _start_server(repository: Path | None) -> TritonServer:
    """An embedded Triton on free loopback ports over ``repository``, started."""
    from serving.server.triton import ServerConfig, TritonServer
    from zoo.settings import model_repository_dir

    config = ServerConfig.on_free_ports(
        repository or model_repository_dir(),
    )
    with console.status("starting Triton"):
        return TritonServer(config).start()
