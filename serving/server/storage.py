"""A built model repository in S3-compatible object storage, where a cluster's Tritons read it.

``zoo repo push --to s3://bucket/prefix`` uploads the folder ``zoo repo build`` wrote. Triton
reads ``s3://`` repositories by itself (its S3 filesystem is compiled into the ``tritonserver``
that ships in ``nvidia-pytriton``, and into the NGC container), so every replica of a
deployment loads the same models straight from the bucket.

- Each object carries the file's sha256 as metadata; a re-push uploads only what changed, and
  ``delete=True`` removes objects under the prefix that the local repository no longer has
  (e.g. a model folder since removed), so Triton does not load stale models.
- Within a model, ``config.pbtxt`` is uploaded last: a Triton polling the bucket
  (``--model-control-mode=poll``) never sees a config whose model files are still missing.
- Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_PROFILE``, instance roles); they never appear in messages. ``endpoint_url`` points at
  any S3-compatible server (MinIO, Ceph, a test server on loopback).

Triton spells a non-AWS endpoint inside the path: ``s3://http://host:port/bucket/prefix``
(:func:`triton_repository_path`), with the credentials and ``AWS_DEFAULT_REGION`` in its
environment (:func:`triton_s3_environment` names them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from zoo.errors import InvalidNameError, MissingDependencyError, StorageError
from zoo.weights import sha256_file

#: Metadata key holding each object's sha256 (sent as ``x-amz-meta-sha256``).
SHA256_KEY = "sha256"
#: Region used when neither the caller nor the environment names one (S3's default).
DEFAULT_REGION = "us-east-1"
#: What Triton's S3 filesystem accepts in a bucket name and in each path component.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_COMPONENT = re.compile(r"^[0-9A-Za-z.\-_]+$")
_HOST = re.compile(r"^[0-9A-Za-z.\-]+$")
#: Files a repository folder may hold that are never uploaded.
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = {".pyc", ".tmp"}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class S3Location:
    """``s3://bucket/prefix``: where a repository lives in object storage."""

    bucket: str
    prefix: str  # no leading or trailing slash; "" for the bucket's root

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        """Parse and check ``s3://bucket/prefix``; names Triton cannot read are refused."""
        if not uri.startswith("s3://"):
            raise InvalidNameError(
                f"{uri!r} is not an S3 location; write it as s3://bucket/prefix "
                "(for MinIO or another S3-compatible server, add --endpoint-url)."
            )
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise InvalidNameError(
                f"bucket name {bucket!r} is not valid: 3-63 characters of lowercase letters, "
                "digits, '.' and '-', starting and ending with a letter or digit."
            )
        parts = [p for p in prefix.split("/") if p]
        for part in parts:
            if not _COMPONENT.match(part) or part in (".", ".."):
                raise InvalidNameError(
                    f"prefix component {part!r} in {uri!r} is not valid: use letters, digits, "
                    "'.', '-' and '_' only (Triton's S3 reader accepts no other characters)."
                )
        return cls(bucket, "/".join(parts))

    @property
    def uri(self) -> str:
        """The location as ``s3://bucket/prefix``."""
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def key(self, relative: str) -> str:
        """Object key of ``relative`` (a POSIX path inside the repository)."""
        return f"{self.prefix}/{relative}" if self.prefix else relative


def check_endpoint_url(endpoint_url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an S3 endpoint URL such as ``http://127.0.0.1:9000``."""
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidNameError(
            f"endpoint URL {endpoint_url!r} must look like http://host:port or https://host."
        )
    if parts.path.strip("/") or parts.query or parts.username or parts.password:
        raise InvalidNameError(
            f"endpoint URL {endpoint_url!r} must be scheme://host[:port] only: no path, query "
            "or credentials (credentials go in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."
        )
    if not _HOST.match(parts.hostname):
        raise InvalidNameError(
            f"endpoint host {parts.hostname!r} is not a name or IPv4 address Triton can use."
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidNameError(f"endpoint URL {endpoint_url!r} has an invalid port.") from None
    return parts.scheme, parts.hostname, port


def triton_repository_path(uri: str, endpoint_url: str | None = None) -> str:
    """The ``--model-repository`` value for ``uri``: Triton puts a custom endpoint in the path.

    ``triton_repository_path("s3://zoo/repo", "http://127.0.0.1:9000")`` is
    ``"s3://http://127.0.0.1:9000/zoo/repo"``; without an endpoint it is ``uri`` (AWS S3).
    """
    loc = S3Location.parse(uri)
    if endpoint_url is None:
        return loc.uri
    scheme, host, port = check_endpoint_url(endpoint_url)
    tail = f"/{loc.prefix}" if loc.prefix else ""
    return f"s3://{scheme}://{host}:{port}/{loc.bucket}{tail}"


def triton_s3_environment(region: str | None = None) -> dict[str, str]:
    """Non-secret environment Triton's S3 reader needs; credentials come from a secret store."""
    return {"AWS_DEFAULT_REGION": region or DEFAULT_REGION}


@dataclass
class PushResult:
    """What :func:`push_repository` did."""

    location: str  # s3://bucket/prefix
    uploaded: list[str] = field(default_factory=list)  # object keys written
    unchanged: list[str] = field(default_factory=list)  # keys whose sha256 already matched
    deleted: list[str] = field(default_factory=list)  # stale keys removed (delete=True)
    bytes_uploaded: int = 0


def repository_files(root: Path) -> list[tuple[str, Path]]:
    """(relative POSIX path, file) of every file to upload, each model's config last.

    Only folders holding a ``config.pbtxt`` that parses as a Triton ``ModelConfig`` are
    models; a repository without any is refused before anything is uploaded.
    """
    from serving.server.repository import parse_config

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder; build it with `zoo repo build --out`.")
    configs = sorted(root.glob("*/config.pbtxt"))
    if not configs:
        raise StorageError(
            f"{root} holds no Triton models (no */config.pbtxt); build it first with "
            "`zoo repo build`."
        )
    out: list[tuple[str, Path]] = []
    for config in configs:
        folder = config.parent
        if not _COMPONENT.match(folder.name):
            raise InvalidNameError(f"model folder {folder.name!r} has characters Triton rejects.")
        try:
            parse_config(config.read_text())
        except Exception as e:  # protobuf's ParseError: say which file, keep the reason
            raise StorageError(f"{config} is not a valid Triton config: {e}") from None
        files = sorted(
            p
            for p in folder.rglob("*")
            if p.is_file()
            and p != config
            and not any(
                part in _SKIP_DIRS or part.startswith(".") for part in p.relative_to(folder).parts
            )
            and p.suffix not in _SKIP_SUFFIXES
        )
        for p in files:
            rel = p.relative_to(root).as_posix()
            if not all(_COMPONENT.match(part) for part in rel.split("/")):
                raise InvalidNameError(f"{rel!r} has characters Triton's S3 reader rejects.")
            out.append((rel, p))
        out.append((config.relative_to(root).as_posix(), config))
    return out


def s3_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A boto3 S3 client for ``endpoint_url`` (default: AWS), credentials from the usual chain."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as e:
        raise MissingDependencyError("boto3", "deploy") from e
    if endpoint_url is not None:
        check_endpoint_url(endpoint_url)
    # Path-style addressing: S3-compatible servers (MinIO, loopback) have no per-bucket DNS.
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3})
    # A new session each time: boto3's default one caches the credentials it first found.
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


def create_bucket_args(bucket: str, region: str | None) -> dict[str, Any]:
    """``CreateBucket`` arguments for ``bucket`` in ``region``.

    Outside us-east-1, S3 refuses a bucket without a ``LocationConstraint`` naming the region
    the request was sent to; in us-east-1 (S3's default region) it refuses one that names it.
    """
    if not region or region == DEFAULT_REGION:
        return {"Bucket": bucket}
    return {"Bucket": bucket, "CreateBucketConfiguration": {"LocationConstraint": region}}


def storage_error(err: BaseException, location: str, endpoint_url: str | None) -> StorageError:
    """A :class:`StorageError` that says what to check, for a botocore failure."""
    from botocore import exceptions as bx

    where = endpoint_url or "AWS S3"
    if isinstance(err, bx.NoCredentialsError | bx.PartialCredentialsError):
        return StorageError(
            "no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or AWS_PROFILE) and try again."
        )
    if isinstance(err, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        return StorageError(
            f"cannot reach the S3 endpoint {where}; check --endpoint-url and that the server runs."
        )
    if isinstance(err, bx.ClientError):
        code = str(err.response.get("Error", {}).get("Code", "unknown"))
        if code in ("NoSuchBucket", "404"):
            return StorageError(
                f"the bucket of {location} does not exist at {where}; create it "
                "(or pass --create-bucket)."
            )
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"):
            return StorageError(
                f"{where} refused access to {location} ({code}); check the credentials in "
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket's policy."
            )
        return StorageError(f"{where} refused a request for {location} ({code}).")
    return StorageError(f"S3 request for {location} at {where} failed: {type(err).__name__}.")


def _existing(client: Any, loc: S3Location) -> dict[str, int]:
    """Object key → size of everything under the location's prefix."""
    prefix = f"{loc.prefix}/" if loc.prefix else ""
    out: dict[str, int] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=loc.bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = int(obj["Size"])
    return out


def _batches(items: list[str], n: int) -> Iterator[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def push_repository(
    repository: Path,
    to: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    create_bucket: bool = False,
    delete: bool = False,
    progress: Progress | None = None,
) -> PushResult:
    """Upload the Triton repository folder ``repository`` to ``to`` (``s3://bucket/prefix``).

    Files whose sha256 matches the object already there are skipped; ``delete`` removes objects
    under the prefix that the folder no longer has; ``create_bucket`` creates a missing bucket.
    """
    loc = S3Location.parse(to)
    files = repository_files(Path(repository))
    say = progress or (lambda _msg: None)
    client = s3_client(endpoint_url, region)
    from botocore import exceptions as bx

    result = PushResult(loc.uri)
    try:
        if create_bucket:
            try:
                client.head_bucket(Bucket=loc.bucket)
            except bx.ClientError as e:
                if str(e.response.get("Error", {}).get("Code")) not in ("404", "NoSuchBucket"):
                    raise
                say(f"creating bucket {loc.bucket}")
                client.create_bucket(**create_bucket_args(loc.bucket, client.meta.region_name))
        existing = _existing(client, loc)
        for rel, path in files:
            key = loc.key(rel)
            digest = sha256_file(path)
            size = path.stat().st_size
            if existing.get(key) == size:
                meta = client.head_object(Bucket=loc.bucket, Key=key).get("Metadata", {})
                if meta.get(SHA256_KEY) == digest:
                    result.unchanged.append(key)
                    continue
            say(f"uploading {rel}")
            client.upload_file(
                str(path), loc.bucket, key, ExtraArgs={"Metadata": {SHA256_KEY: digest}}
            )
            result.uploaded.append(key)
            result.bytes_uploaded += size
        if delete:
            wanted = {loc.key(rel) for rel, _ in files}
            stale = sorted(k for k in existing if k not in wanted)
            for batch in _batches(stale, 1000):  # S3's limit per DeleteObjects request
                say(f"deleting {len(batch)} stale objects")
                client.delete_objects(
                    Bucket=loc.bucket, Delete={"Objects": [{"Key": k} for k in batch]}
                )
                result.deleted.extend(batch)
    except (bx.BotoCoreError, bx.ClientError) as e:
        raise storage_error(e, loc.uri, endpoint_url) from None
    return result
