"""Options shared by the commands that call a running Triton: TLS files and headers.

A bearer token can come from ``ZOO_TOKEN`` instead of the command line, where other users of
the machine could read it; it is sent as ``Authorization: Bearer <token>`` and never printed.

The inference commands (``zoo generate`` … ``zoo interpolate``) also choose where they run:
:func:`with_connection` gives a command the whole set (``--url``, ``--protocol``, the TLS files
and headers, ``--local``, ``--engine``) as one :class:`Connection`. ``--backend`` is the old
name of ``--engine``, still accepted with a warning where the commands are registered.
Commands with their own ``--url`` (``zoo soak``, ``zoo playground``) take the TLS files and
headers alone, as one :class:`Credentials`, from :func:`with_credentials`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

from zoo.cli._common import with_options
from zoo.errors import InvalidInputError
from zoo.settings import zoo_token

if TYPE_CHECKING:
    from serving.client import BaseZooClient, Protocol

R = TypeVar("R")

UrlOpt = Annotated[
    str | None,
    typer.Option(
        help="A running Triton to call instead of running in-process: host:port, http://, "
        "https:// (TLS), grpc:// or grpcs:// (gRPC over TLS)."
    ),
]
ProtocolOpt = Annotated[
    str | None,
    typer.Option(help="Protocol with a bare host:port --url: http (default) or grpc."),
]
LocalOpt = Annotated[
    bool, typer.Option("--local", help="Run in-process (the default when no --url is given).")
]
EngineOpt = Annotated[
    str,
    typer.Option(
        help="In-process runner engine: torch, compile, onnxruntime, openvino or tensorrt."
    ),
]
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


def checked_protocol(protocol: str | None) -> Protocol | None:
    """``--protocol`` as given, refused unless http or grpc (``None``: the URL decides)."""
    if protocol not in (None, "http", "grpc"):
        raise InvalidInputError(f"--protocol must be http or grpc, got {protocol!r}.")
    return cast("Protocol | None", protocol)


@dataclass(frozen=True)
class Credentials:
    """How a command proves itself to a running Triton: headers (and ``ZOO_TOKEN``), TLS files."""

    header: HeaderOpt = None
    ca_cert: CaCertOpt = None
    client_cert: ClientCertOpt = None
    client_key: ClientKeyOpt = None

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments of :class:`serving.client.ZooClient` from the CLI's options."""
        return {
            "headers": parse_headers(self.header),
            "ca_cert": self.ca_cert,
            "client_cert": self.client_cert,
            "client_key": self.client_key,
        }


@dataclass(frozen=True)
class Connection:
    """Where an inference command runs: the options of :func:`with_connection`, as given."""

    url: UrlOpt = None
    protocol: ProtocolOpt = None
    credentials: Credentials = Credentials()  # its options stand here, between the others
    local: LocalOpt = False
    engine: EngineOpt = "torch"

    def open(self) -> BaseZooClient:
        """A client for ``--url`` (with the TLS files and headers), or the in-process zoo."""
        tls = self.credentials.client_options()
        if self.url and self.local:
            raise InvalidInputError("pass either --url (a running Triton) or --local, not both.")
        if self.url:
            from serving.client import ZooClient

            return ZooClient(self.url, protocol=checked_protocol(self.protocol), **tls)
        from serving.server.inprocess import InProcessZoo

        return InProcessZoo(self.engine)


def with_connection(command: Callable[..., R]) -> Callable[..., R]:
    """Give ``command`` the connection options in place of its keyword-only ``conn`` parameter.

    Typer reads the returned function's signature, so ``--help`` lists the options where
    ``conn`` stands; on a call they are gathered into one :class:`Connection`.
    """
    return with_options(command, Connection, "conn")


def with_credentials(command: Callable[..., R]) -> Callable[..., R]:
    """Give ``command`` the TLS files and headers in place of its keyword-only ``credentials``.

    Typer reads the returned function's signature, so ``--help`` lists the options where
    ``credentials`` stands; on a call they are gathered into one :class:`Credentials`.
    """
    return with_options(command, Credentials, "credentials")
