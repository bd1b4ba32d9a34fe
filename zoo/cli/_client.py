"""Options shared by the commands that call a running Triton: TLS files and headers.

A bearer token can come from ``ZOO_TOKEN`` instead of the command line, where other users of
the machine could read it; it is sent as ``Authorization: Bearer <token>`` and never printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from zoo.errors import InvalidInputError
from zoo.settings import zoo_token

HeaderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--header",
        "-H",
        help="Header sent with every call, as K=V (repeatable). ZOO_TOKEN in the environment "
        "sends 'Authorization: Bearer <token>' without putting it on the command line.",
    ),
]
CaCertOpt = Annotated[
    Path | None,
    typer.Option(help="PEM CA bundle that signed the server's certificate (https://, grpcs://)."),
]
ClientCertOpt = Annotated[
    Path | None, typer.Option(help="PEM certificate the client presents (mutual TLS).")
]
ClientKeyOpt = Annotated[
    Path | None, typer.Option(help="PEM private key of --client-cert (if not in that file).")
]


def parse_headers(pairs: list[str] | None) -> dict[str, str]:
    """``["K=V", ...]`` → ``{"K": "V"}``, plus the ``ZOO_TOKEN`` bearer token when set."""
    headers: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            # only the key is echoed: the value may be a token
            raise InvalidInputError(
                f"--header takes KEY=VALUE, got {key.strip() or '(nothing)'!r} without '='; "
                "e.g. --header 'Authorization=Bearer <token>'."
            )
        headers[key.strip()] = value
    token = zoo_token()
    if token and not any(k.lower() == "authorization" for k in headers):
        headers["Authorization"] = f"Bearer {token}"
    return headers


def connection_options(
    header: list[str] | None,
    ca_cert: Path | None,
    client_cert: Path | None,
    client_key: Path | None,
) -> dict[str, Any]:
    """Keyword arguments of :class:`serving.client.ZooClient` from the CLI's options."""
    return {
        "headers": parse_headers(header),
        "ca_cert": ca_cert,
        "client_cert": client_cert,
        "client_key": client_key,
    }
