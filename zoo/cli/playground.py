"""``zoo playground``: the web page to try every model (Gradio, over the client SDK)."""

from __future__ import annotations

import threading
from typing import Annotated

import typer

from zoo.cli._client import Credentials, checked_protocol, with_credentials
from zoo.cli._common import ServedRepositoryOpt, cli_errors, console, split_names
from zoo.cli._signals import stop_on_signals


@cli_errors
@with_credentials
def playground_command(
    url: Annotated[
        str | None,
        typer.Option(
            help="A running Triton (host:port, https://, grpcs://); default: start one here."
        ),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(help="http or grpc (default: the --url's scheme, else http)."),
    ] = None,
    *,
    credentials: Credentials,
    host: Annotated[
        str, typer.Option(help="Address the page binds; 0.0.0.0 exposes it to the network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the page.")] = 7860,
    models: Annotated[
        list[str] | None,
        typer.Option("--models", "-m", help="Without --url: models to serve; default: all."),
    ] = None,
    repository: ServedRepositoryOpt = None,
) -> None:
    """Serve a web page to try every model; Ctrl-C stops it (and the Triton it started)."""
    from serving.apps.playground import start_playground, wait_forever
    from zoo.errors import InvalidInputError

    transport = checked_protocol(protocol)
    conn = credentials.client_options()
    if url is None and any(v for v in conn.values()):
        raise InvalidInputError(
            "--header, --ca-cert, --client-cert and --client-key (and ZOO_TOKEN) are for a "
            "server given by --url: the embedded one needs none."
        )
    if url is not None and (models or repository is not None):
        raise InvalidInputError(
            "--models and --repository choose what a started Triton serves: "
            "leave them out with --url."
        )
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(
            f"[yellow]warning:[/] the page binds {host}: anyone who can reach this machine can "
            "use it (it has no authentication).",
            highlight=False,
        )
    names = split_names(models) or None
    stop = threading.Event()
    with stop_on_signals(stop) as serving:
        with console.status("starting") as status:
            playground = start_playground(
                url,
                host=host,
                port=port,
                protocol=transport,
                models=names,
                repository=repository,
                progress=status.update,
                connection=conn,
            )
        with playground:
            console.print(
                f"[green]playground ready[/]  {playground.url}  (Triton {playground.triton_url})"
                "   Ctrl-C to stop",
                highlight=False,
            )
            # From here Ctrl-C and SIGTERM end the wait loop, then the page, the client and
            # any Triton it started close in order (see stop_on_signals for one while starting).
            serving()
            wait_forever(playground, stop)
            console.print("stopping")
