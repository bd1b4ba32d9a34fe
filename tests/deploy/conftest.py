"""Deploy fixtures: a real S3 server on loopback, a small built repository, schema validators.

- S3: moto's server (``ThreadedMotoServer``, PyPI ``moto[server]``) on a free loopback port,
  speaking the S3 protocol over HTTP to boto3 and to Triton alike. Buckets are per test.
- Repository: ``dcgan-mnist`` alone, random weights (serving does not care what the digits
  look like), built by ``zoo repo build``'s own function.
- Schemas, from registry packages:
  - built-in kinds (Deployment, Service, HorizontalPodAutoscaler): the strict JSON schemas of
    the Kubernetes API that ``kubernetes-validate`` ships (unknown fields are errors);
  - KServe kinds (InferenceService): the API types the ``kserve`` wheel ships
    (``kserve/models``, generated from KServe's OpenAPI), with the Kubernetes types they embed
    (``V1Container``...) from the ``kubernetes`` client. The wheel is installed without its
    dependencies into ``.kserve-sdk/`` (``make kserve-sdk``): its model-server stack pins
    protobuf>=6, which this environment's tritonclient is not built for, and the API types need
    none of it. They are imported without ``kserve/__init__.py`` (which starts that stack).
"""

from __future__ import annotations

import importlib
import logging
import re
import sys
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from serving.server.repository import RepositoryOptions, build_repository
from serving.server.triton import free_port
from zoo.registry import create_model

ROOT = Path(__file__).resolve().parents[2]
KSERVE_SDK = ROOT / ".kserve-sdk"
#: Kubernetes versions the built-in manifests are checked against (KServe 0.15+ needs >= 1.29).
K8S_VERSIONS = ("1.29", "1.33")
MODEL = "dcgan-mnist"


# -- object storage ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a real S3-protocol server (moto) for the whole session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Test credentials in the environment (moto accepts any); no ~/.aws file is read."""
    env = {
        "AWS_ACCESS_KEY_ID": "zoo-test-key",
        "AWS_SECRET_ACCESS_KEY": "zoo-test-secret-value",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return env


@pytest.fixture
def bucket(s3_endpoint: str, aws_env: dict[str, str]) -> str:
    """A fresh, empty bucket on the loopback S3 server."""
    import boto3

    name = f"zoo-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3(s3_endpoint: str, aws_env: dict[str, str]) -> Any:
    """A boto3 client of the loopback server, to look at what was pushed."""
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint)


# -- a built repository --------------------------------------------------------------------
@pytest.fixture(scope="session")
def deploy_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete embedded repository (ONNX export + config) of dcgan-mnist, random weights."""
    torch.manual_seed(7)
    root = tmp_path_factory.mktemp("deploy_repository")
    module = create_model(MODEL).eval()
    build_repository(
        [MODEL],
        out_dir=root,
        options=RepositoryOptions(instances=1, threads=1),
        modules={MODEL: module},
        parity_n=4,
    )
    return root


# -- schema validation ---------------------------------------------------------------------
class SchemaError(AssertionError):
    """A manifest that its API schema rejects; the message names the field path."""


def _kserve_models() -> types.ModuleType:
    if not (KSERVE_SDK / "kserve" / "models").is_dir():
        pytest.fail(
            f"the KServe API types are not installed in {KSERVE_SDK}; run `make kserve-sdk` "
            "(make test does)."
        )
    if "kserve.models" not in sys.modules:
        package = types.ModuleType("kserve")
        package.__path__ = [str(KSERVE_SDK / "kserve")]
        sys.modules["kserve"] = package  # not kserve/__init__.py: it starts the model server
    return importlib.import_module("kserve.models")


_LIST = re.compile(r"^(?:list|List)\[(.+)\]$")
_DICT = re.compile(r"^(?:dict\(str, |Dict\[str, )(.+)[)\]]$")
_PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "bool": (bool,),
    "float": (float, int),
    "datetime": (str,),
    "date": (str,),
}


class OpenApiChecker:
    """Checks a dict against generated OpenAPI model classes, strictly.

    Unknown keys, wrong JSON types and missing required fields are errors: the generated
    classes alone would drop unknown keys silently. Kubernetes types are also passed through
    the client's own ``from_dict`` (pydantic, strict types, required fields).
    """

    def __init__(self, *modules: types.ModuleType) -> None:
        self.modules = modules

    def resolve(self, name: str) -> type:
        for module in self.modules:
            cls = getattr(module, name, None)
            if isinstance(cls, type):
                return cls
        raise SchemaError(f"no API type named {name}")

    def check(self, value: Any, type_name: str, path: str = "") -> None:
        """Raise :class:`SchemaError` unless ``value`` is a valid ``type_name``."""
        where = path or "<root>"
        if m := _LIST.match(type_name):
            if not isinstance(value, list):
                raise SchemaError(f"{where}: expected a list, got {type(value).__name__}")
            for i, item in enumerate(value):
                self.check(item, m.group(1), f"{path}[{i}]")
            return
        if m := _DICT.match(type_name):
            if not isinstance(value, dict):
                raise SchemaError(f"{where}: expected a mapping, got {type(value).__name__}")
            for key, item in value.items():
                self.check(item, m.group(1), f"{path}.{key}")
            return
        if type_name == "object":
            return
        if type_name in _PRIMITIVES:
            ok = isinstance(value, _PRIMITIVES[type_name])
            if type_name != "bool" and isinstance(value, bool):
                ok = False
            if not ok:
                raise SchemaError(f"{where}: expected {type_name}, got {value!r}")
            return
        cls = self.resolve(type_name)
        if not isinstance(value, dict):
            raise SchemaError(f"{where}: expected a {type_name} mapping, got {value!r}")
        by_key = {key: attr for attr, key in cls.attribute_map.items()}  # type: ignore[attr-defined]
        for key, item in value.items():
            if key not in by_key:
                raise SchemaError(f"{path}.{key}: not a field of {type_name}")
            self.check(item, cls.openapi_types[by_key[key]], f"{path}.{key}")  # type: ignore[attr-defined]
        try:
            if hasattr(cls, "from_dict"):  # kubernetes client (pydantic models)
                cls.from_dict(value)  # type: ignore[attr-defined]
            else:  # KServe (classic generated models): setters refuse missing required fields
                cls(**{by_key[k]: v for k, v in value.items()})
        except (ValueError, TypeError) as e:
            raise SchemaError(f"{where}: {type_name} rejects it: {e}") from None


@pytest.fixture(scope="session")
def validate_kserve() -> Callable[[dict[str, Any]], None]:
    """Check a KServe resource against the ``kserve`` wheel's API types."""
    import kubernetes.client.models as k8s_models

    checker = OpenApiChecker(_kserve_models(), k8s_models)
    kinds = {
        ("serving.kserve.io/v1beta1", "InferenceService"): "V1beta1InferenceService",
        ("serving.kserve.io/v1alpha1", "ServingRuntime"): "V1alpha1ServingRuntime",
    }

    def validate(doc: dict[str, Any]) -> None:
        key = (doc.get("apiVersion"), doc.get("kind"))
        if key not in kinds:
            raise SchemaError(f"not a KServe kind: {key}")
        checker.check(doc, kinds[key])  # type: ignore[index]

    return validate


@pytest.fixture(scope="session")
def validate_k8s() -> Callable[[dict[str, Any]], None]:
    """Check a built-in Kubernetes resource against the strict API schemas of each version."""
    import kubernetes_validate

    def validate(doc: dict[str, Any]) -> None:
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                raise SchemaError(
                    f"{doc['kind']} (Kubernetes {version}): {path}: {e.message}"
                ) from None

    return validate
