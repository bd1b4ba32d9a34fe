"""Where and how to connect (URL, TLS, headers); tritonclient errors as the client's."""

from __future__ import annotations

import asyncio
import os
import ssl as _ssl
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np

from serving.client.ports import GRPC_PORT, HTTP_PORT
from serving.client.signature import Array, ModelSignature
from zoo.errors import (
    AuthenticationError,
    InvalidInputError,
    ModelNotFoundError,
    RequestTimeoutError,
    ServerError,
    ServerUnavailableError,
    TLSError,
    UnsupportedAPIError,
    ZooClientError,
)

Protocol = Literal["http", "grpc"]
#: Default ports of a Triton server per protocol (plain text); TLS defaults to 443 (an ingress).
DEFAULT_PORTS = {"http": HTTP_PORT, "grpc": GRPC_PORT}
TLS_PORT = 443
#: URL schemes the client honours: scheme → (protocol, TLS).
SCHEMES: dict[str, tuple[Protocol, bool]] = {
    "http": ("http", False),
    "https": ("http", True),
    "grpc": ("grpc", False),
    "grpcs": ("grpc", True),
}


@dataclass(frozen=True, repr=False)
class Endpoint:
    """Where and how to connect: protocol, ``host:port``, TLS files and per-call headers.

    Built by :func:`parse_endpoint`; its repr and :attr:`display` name the header keys only, so
    a token in ``headers`` never reaches a log or an error message.
    """

    protocol: Protocol
    hostport: str  # what tritonclient takes: host:port, no scheme
    tls: bool = False
    ca_cert: str | None = None  # PEM bundle of the CAs to trust (None: the system's)
    client_cert: str | None = None  # PEM certificate (chain) the client presents (mutual TLS)
    client_key: str | None = None  # its private key (None: in client_cert's file)
    headers: tuple[tuple[str, str], ...] = ()  # sent with every call

    @property
    def display(self) -> str:
        """The URL with its scheme, for messages (never the header values)."""
        scheme = next(k for k, v in SCHEMES.items() if v == (self.protocol, self.tls))
        return f"{scheme}://{self.hostport}"

    def __repr__(self) -> str:
        keys = [k for k, _ in self.headers]
        return f"Endpoint({self.display!r}, headers={keys})"

    def header_dict(self) -> dict[str, str] | None:
        """The headers as tritonclient takes them (None when there are none)."""
        return dict(self.headers) or None

    def http_ssl_context(self, *, use_gevent: bool) -> Any:
        """An SSL context that trusts ``ca_cert`` (or the system) and presents the client cert.

        The blocking HTTP client runs on gevent sockets, so it needs gevent's ``SSLContext``.
        """
        if use_gevent:
            import gevent.ssl as ssl_mod
        else:
            ssl_mod = _ssl
        ctx = ssl_mod.create_default_context(cafile=self.ca_cert)
        if self.client_cert:
            ctx.load_cert_chain(self.client_cert, self.client_key)
        return ctx

    def client_kwargs(self, *, aio: bool) -> dict[str, Any]:
        """tritonclient ``InferenceServerClient`` keyword arguments for TLS."""
        if not self.tls:
            return {}
        if self.protocol == "grpc":
            return {
                "ssl": True,
                "root_certificates": self.ca_cert,
                "private_key": self.client_key or self.client_cert,
                "certificate_chain": self.client_cert,
            }
        if aio:
            return {"ssl": True, "ssl_context": self.http_ssl_context(use_gevent=False)}
        return {
            "ssl": True,
            "ssl_options": {},
            "ssl_context_factory": lambda: self.http_ssl_context(use_gevent=True),
        }


def parse_endpoint(
    url: str,
    protocol: Protocol | None = None,
    *,
    ssl: bool | None = None,
    ca_cert: str | os.PathLike[str] | None = None,
    client_cert: str | os.PathLike[str] | None = None,
    client_key: str | os.PathLike[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Endpoint:
    """Check a URL and its connection options; anything that cannot be honoured is an error.

    The scheme sets the protocol and TLS (``https``, ``grpcs``); a bare ``host:port`` takes
    ``protocol`` (default ``"http"``) and ``ssl``. A scheme that disagrees with ``protocol`` or
    ``ssl``, certificate options without TLS, or a missing certificate file, raise
    :class:`InvalidInputError` rather than connect some other way.
    """
    if protocol is not None and protocol not in DEFAULT_PORTS:
        raise InvalidInputError(f"protocol must be 'http' or 'grpc', got {protocol!r}.")
    scheme, sep, hostport = url.partition("://")
    if sep:
        scheme = scheme.lower()
        if scheme not in SCHEMES:
            raise InvalidInputError(
                f"the client cannot connect over {scheme}://: use http:// or https:// (HTTP), "
                "grpc:// or grpcs:// (gRPC), or a bare host:port."
            )
        scheme_protocol, scheme_tls = SCHEMES[scheme]
        if protocol is not None and protocol != scheme_protocol:
            raise InvalidInputError(
                f"{scheme}:// is {scheme_protocol}, but protocol={protocol!r}: drop one of them."
            )
        if ssl is not None and ssl != scheme_tls:
            raise InvalidInputError(
                f"{scheme}:// {'is' if scheme_tls else 'is not'} TLS, but ssl={ssl}: use "
                f"{'https:// or grpcs://' if ssl else 'http:// or grpc://'} instead."
            )
        protocol, tls = scheme_protocol, scheme_tls
    else:
        hostport, protocol, tls = url, protocol or "http", bool(ssl)
    hostport = hostport.rstrip("/")
    if not hostport or "/" in hostport:
        raise InvalidInputError(
            f"url must look like 'host:port' or 'https://host:port', got {url!r}."
        )
    if ":" not in hostport.rsplit("]", 1)[-1]:
        hostport = f"{hostport}:{TLS_PORT if tls else DEFAULT_PORTS[protocol]}"
    files = {"ca_cert": ca_cert, "client_cert": client_cert, "client_key": client_key}
    given = {k: os.fspath(v) for k, v in files.items() if v is not None}
    if given and not tls:
        raise InvalidInputError(
            f"{', '.join(given)} only apply over TLS: use an https:// or grpcs:// URL "
            "(or ssl=True)."
        )
    for what, path in given.items():
        if not os.path.isfile(path):
            raise InvalidInputError(f"{what}: no PEM file at {path}.")
    if "client_key" in given and "client_cert" not in given:
        raise InvalidInputError("client_key needs client_cert (the certificate it belongs to).")
    return Endpoint(
        protocol=protocol,
        hostport=hostport,
        tls=tls,
        headers=_check_headers(headers or {}, protocol),
        **given,
    )


def _check_headers(headers: Mapping[str, str], protocol: Protocol) -> tuple[tuple[str, str], ...]:
    """Header pairs, checked; gRPC metadata keys are lower-case, so they are lower-cased."""
    out = []
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidInputError("headers must map strings to strings.")
        if not key or any(c in key for c in " :\r\n") or any(c in value for c in "\r\n"):
            # the value is left out of the message: it may be a token
            raise InvalidInputError(
                f"header {key!r}: names are non-empty without spaces or colons, and values "
                "hold no line breaks."
            )
        out.append((key.lower() if protocol == "grpc" else key, value))
    return tuple(out)


#: A model version to ask for: a positive number (``2`` or ``"2"``); ``None`` lets the server
#: choose (Triton: the highest version it serves).
Version = int | str | None


def version_kwargs(version: Version) -> dict[str, str]:
    """tritonclient's ``model_version`` argument for ``version`` (nothing for ``None``)."""
    if version is None:
        return {}
    text = str(version)
    if isinstance(version, bool) or not text.isdigit() or int(text) < 1:
        raise InvalidInputError(f"version must be a positive whole number, got {version!r}.")
    return {"model_version": str(int(text))}


def answered_version(result: Any) -> int | None:
    """The model version that computed an inference result (Triton's ``model_version``)."""
    response = result.get_response()
    raw = response.get("model_version") if isinstance(response, dict) else response.model_version
    return int(raw) if raw not in (None, "") else None


def outputs_of(result: Any, sig: ModelSignature, url: str) -> dict[str, Array]:
    """The output arrays of an inference result; a response without them is an error.

    Triton 2.51's response cache stores the response of a *failed* request as an empty
    success, and replays it for the same inputs. The client's own checks keep invalid requests
    from reaching the server; one that got through once comes back empty the second time.
    """
    out = {o: result.as_numpy(o) for o in sig.outputs}
    missing = [o for o, arr in out.items() if arr is None]
    if missing:
        raise ServerError(
            f"{url}: {sig.name} answered without {', '.join(missing)}. The same request failed "
            "before and Triton's response cache replayed that failure as an empty response; "
            "check the inputs (the first attempt's error says what was wrong)."
        )
    return out


def map_error(err: BaseException, url: str) -> ZooClientError:
    """A tritonclient / network error as the client's typed error."""
    from tritonclient.utils import InferenceServerException

    if isinstance(err, ZooClientError):
        return err
    if isinstance(err, InferenceServerException):
        status = str(err.status() or "")
        msg = err.message() or str(err)
        if "is restricted, expecting header" in msg:  # before UNAVAILABLE: gRPC refuses so
            return ServerError(
                f"{url}: {msg}: this server keeps its admin APIs for callers with its admin key."
            )
        if status in ("401", "StatusCode.UNAUTHENTICATED"):
            return AuthenticationError(
                f"{url} wants credentials (it answered {_status_name(status)}): pass the token "
                "as headers={'Authorization': 'Bearer <token>'} (CLI: --header, or ZOO_TOKEN)."
            )
        if status in ("403", "StatusCode.PERMISSION_DENIED"):
            return AuthenticationError(
                f"{url} refused the credentials sent (it answered {_status_name(status)}): "
                "check the token in the Authorization header and what it grants."
            )
        if status == "StatusCode.UNIMPLEMENTED" or (status == "404" and "model" not in msg.lower()):
            # gRPC's answer to a method it lacks; HTTP's to a route it lacks (KServe's 404 for
            # an unknown model names the model)
            return UnsupportedAPIError(
                f"{url} does not implement this call ({msg}): it speaks the v2 core protocol "
                "without Triton's extensions (model configuration, repository index)."
            )
        if status == "404":
            return ModelNotFoundError(f"{url}: {msg}")
        if "DEADLINE_EXCEEDED" in status or "Deadline Exceeded" in msg:
            return RequestTimeoutError(f"{url} did not answer in time: {msg}")
        if "UNAVAILABLE" in status:
            if _looks_like_tls(msg):
                return TLSError(_tls_failed(url, msg))
            return ServerUnavailableError(_unavailable(url))
        if "unknown model" in msg or "NOT_FOUND" in status:
            return ModelNotFoundError(f"{url}: {msg}")
        if status in ("400", "StatusCode.INVALID_ARGUMENT"):
            return InvalidInputError(msg)
        return ServerError(f"{url} failed the request: {msg}")
    tls = _ssl_cause(err)
    if tls is not None:
        return TLSError(_tls_failed(url, str(tls)))
    if isinstance(err, TimeoutError | asyncio.TimeoutError) or "timed out" in str(err):
        return RequestTimeoutError(f"{url} did not answer in time.")
    if isinstance(err, OSError):
        return ServerUnavailableError(_unavailable(url))
    return ServerError(f"{url} failed the request: {type(err).__name__}: {err}")


def _status_name(status: str) -> str:
    names = {"401": "401 Unauthorized", "403": "403 Forbidden"}
    return names.get(status, status.removeprefix("StatusCode."))


def _ssl_cause(err: BaseException) -> BaseException | None:
    """The ``ssl.SSLError`` behind ``err`` (itself, a cause, or aiohttp's ``os_error``)."""
    seen: BaseException | None = err
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, _ssl.SSLError | _ssl.CertificateError):
            return seen
        inner = getattr(seen, "os_error", None)  # aiohttp.ClientSSLError keeps it here
        seen = inner if isinstance(inner, BaseException) else seen.__cause__ or seen.__context__
    return None


def _looks_like_tls(msg: str) -> bool:
    """Whether a gRPC UNAVAILABLE message is a failed TLS handshake."""
    low = msg.lower()
    return any(k in low for k in ("ssl", "handshake", "certificate"))


#: How a handshake with a port that does not speak TLS ends: OpenSSL reads a plain reply as a
#: record of a wrong version (gRPC also says "certificate verification context", so these are
#: looked for first), or the plain server hangs up on the ClientHello (Triton's HTTP port).
_PLAIN_PORT_SIGNS = (
    "wrong version",
    "wrong_version",
    "record",
    "packet length",
    "unexpected_eof",
    "eof occurred",
)


def _tls_failed(url: str, detail: str) -> str:
    low = detail.lower()
    if any(sign in low for sign in _PLAIN_PORT_SIGNS):
        why = "the server does not speak TLS on that port: use http:// or grpc://, or its TLS port."
    elif "certificate" in low or "verify" in low:
        why = (
            "the server's certificate is not trusted or does not match the host name: pass "
            "the CA bundle that signed it as ca_cert (CLI: --ca-cert), and connect by the name "
            "the certificate carries."
        )
    else:
        why = (
            "check that the server's port speaks TLS, its certificate (ca_cert, --ca-cert) and, "
            "if it asks for one, the client certificate (client_cert / client_key)."
        )
    return f"TLS handshake with {url} failed ({detail.strip()[:200]}): {why}"


def _unavailable(url: str) -> str:
    return (
        f"no Triton server answers at {url}. Start one with `zoo serve` (or check the URL, "
        "the protocol and its port: HTTP 8000, gRPC 8001 by default)."
    )


# ---------------------------------------------------------------------------------------------
# Steps: the clients' logic written once, as generators that ask for tritonclient calls. The
# blocking client makes each call it is asked for, the asyncio client awaits it; either sends
# the answer back in (or throws the call's error in, where the steps may catch it).
# ---------------------------------------------------------------------------------------------

T = TypeVar("T")
#: One tritonclient call: the method's name, its positional and its keyword arguments.
Ask = tuple[str, tuple[Any, ...], dict[str, Any]]
#: Steps that ask for tritonclient calls, get their answers, and return a ``T``.
Steps = Generator[Ask, Any, T]


def ask(method: str, *args: Any, **kwargs: Any) -> Ask:
    """A step's request for tritonclient's ``method`` with these arguments."""
    return method, args, kwargs


def resume(steps: Steps[Any], answer: Any, error: BaseException | None) -> Ask:
    """The next call ``steps`` asks for, given the last call's answer or error.

    Raises ``StopIteration`` (its ``value``: the steps' result) when they are done, and the
    steps' own error when they fail.
    """
    return steps.send(answer) if error is None else steps.throw(error)


def _tritonclient(protocol: Protocol, aio: bool) -> Any:
    try:
        if protocol == "http":
            import tritonclient.http as mod
            import tritonclient.http.aio as amod
        else:
            import tritonclient.grpc as mod
            import tritonclient.grpc.aio as amod
    except ImportError as e:
        raise ImportError(
            f"tritonclient[{protocol}] is not installed: pip install 'genzoo[client]'."
        ) from e
    return amod if aio else mod


def _infer_args(mod: Any, protocol: Protocol, inputs: Mapping[str, Array], outputs: Iterable[str]):
    from tritonclient.utils import np_to_triton_dtype

    tensors = []
    for name, arr in inputs.items():
        t = mod.InferInput(name, list(arr.shape), np_to_triton_dtype(arr.dtype))
        if protocol == "http":
            t.set_data_from_numpy(np.ascontiguousarray(arr), binary_data=True)
        else:
            t.set_data_from_numpy(np.ascontiguousarray(arr))
        tensors.append(t)
    if protocol == "http":
        wanted = [mod.InferRequestedOutput(o, binary_data=True) for o in outputs]
    else:
        wanted = [mod.InferRequestedOutput(o) for o in outputs]
    return tensors, wanted
