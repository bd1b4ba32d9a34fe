"""Every error genzoo raises, in one module.

Each subclasses a builtin so callers can catch broadly (``except ValueError``), and each
message says what to do next. The CLI prints ``str(error)`` as one line and exits non-zero.
"""

from __future__ import annotations


class ZooError(Exception):
    """Base class of every genzoo error."""


class ZooClientError(ZooError):
    """Base class of every error a zoo call raises, in process or over the network.

    :class:`serving.client.ZooClient`, its asyncio twin and ``InProcessZoo`` raise these (the
    SDK re-exports them from :mod:`serving.client`), and so does the server side's validation
    (:mod:`zoo.validation`), so ``except ZooClientError`` catches a refused input wherever
    the call ran.
    """


class InvalidInputError(ZooClientError, ValueError):
    """Input of the wrong shape, dtype or range for a model entry point; says what it expects."""


class ServerUnavailableError(ZooClientError, ConnectionError):
    """No Triton server answers at the URL (not started, wrong port, or it went away)."""


class ModelNotFoundError(ZooClientError, KeyError):
    """The server does not serve the requested model or entry point (a ``LookupError``)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RequestTimeoutError(ZooClientError, TimeoutError):
    """The server did not answer within the client's timeout."""


class ServerError(ZooClientError, OSError):
    """The server failed to run a request for another reason (its log has the details)."""


class AuthenticationError(ZooClientError, PermissionError):
    """The server or the proxy in front of it refused the call (HTTP 401/403, gRPC 16/7)."""


class UnsupportedAPIError(ServerError):
    """The server does not implement a call: a Triton extension a plain KServe v2 server lacks."""


class TLSError(ZooClientError, ConnectionError):
    """The TLS handshake failed: an untrusted or mismatched certificate, or no TLS there."""


class SharedMemoryError(ZooClientError, OSError):
    """A shared-memory region could not be created, registered or read."""


class UnknownModelError(ZooError, KeyError):
    """A model name that the registry does not know."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        self.name = name
        self.suggestions = suggestions
        super().__init__(f"unknown model {name!r}.{hint} Run `zoo list` to see every model.")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class InvalidNameError(ZooError, ValueError):
    """A user-supplied name or revision that is unsafe to turn into a path or URL."""


class IntegrityError(ZooError, OSError):
    """Weights whose sha256 does not match the expected digest."""


class UnsafeWeightsError(ZooError, ValueError):
    """Weights offered only in a format that would need unpickling."""


class WeightsNotFoundError(ZooError, FileNotFoundError):
    """No weights where they were expected."""


class MissingDependencyError(ZooError, ImportError):
    """An optional dependency that is not installed; the message names the extra."""

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{package} is not installed. Install it with `pip install 'genzoo[{extra}]'`."
        )


#: Each optional top-level module: the package that installs it and the extra that brings it
#: (pyproject.toml's [project.optional-dependencies]). The base install has numpy, typer, rich
#: and pillow only; everything here is imported where it is used.
OPTIONAL_MODULES: dict[str, tuple[str, str]] = {
    "tritonclient": ("tritonclient", "client"),
    "matplotlib": ("matplotlib", "client"),
    "psutil": ("psutil", "client"),
    "cuda": ("cuda-python", "cuda-shm"),
    "huggingface_hub": ("huggingface_hub", "hub"),
    "safetensors": ("safetensors", "hub"),
    "torch": ("torch", "torch"),
    "mlxtend": ("mlxtend", "train"),
    "sklearn": ("scikit-learn", "train"),
    "onnx": ("onnx", "export"),
    "onnxruntime": ("onnxruntime", "export"),
    "onnxscript": ("onnxscript", "export"),
    "tensorrt": ("tensorrt", "tensorrt"),
    "openvino": ("openvino", "openvino"),
    "pytriton": ("nvidia-pytriton", "serve"),
    "litserve": ("litserve", "bench"),
    "gradio": ("gradio", "playground"),
    "yaml": ("pyyaml", "deploy"),
    "boto3": ("boto3", "deploy"),
}


def missing_dependency(error: ImportError) -> MissingDependencyError | None:
    """The :class:`MissingDependencyError` that ``error`` means, if it is an optional module's.

    ``None`` for anything else (a module of this project, one the base install has, or an
    import that failed for another reason than being absent), which stays the error it is.
    """
    if isinstance(error, MissingDependencyError):
        return error
    if not isinstance(error, ModuleNotFoundError) or not error.name:
        return None
    known = OPTIONAL_MODULES.get(error.name.split(".")[0])
    return MissingDependencyError(*known) if known else None


class CheckpointError(ZooError, ValueError):
    """A training checkpoint that cannot be resumed from."""


class ArtifactNotFoundError(ZooError, FileNotFoundError):
    """An exported artifact (ONNX model, TensorRT engine) that has not been built yet."""


class ExportGateError(ZooError, RuntimeError):
    """An exported artifact that failed its parity or quality gate, or is stale."""


class PortInUseError(ZooError, OSError):
    """A port a server should listen on is taken."""


class TritonNotFoundError(ZooError, FileNotFoundError):
    """The ``tritonserver`` binary (or its Python-backend stub) is not installed."""


class ServerStartError(ZooError, RuntimeError):
    """A server that exited or never became ready during start-up; the message has its log tail."""


class HubError(ZooError, OSError):
    """The Hub answered but refused: repo or revision not found, access denied, upload rejected."""


class HubUnreachableError(HubError):
    """The Hub cannot be reached (no network, offline mode) and no local copy can stand in."""


class HubRepoNotFoundError(HubError):
    """The Hub answered that the repo does not exist, or is private to the token in use."""


class StorageError(ZooError, OSError):
    """Object storage (S3) that refused a request or cannot be reached; says what to check."""
