"""``zoo repo push`` against a real S3-protocol server (moto) on loopback."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest

from serving.server.storage import (
    S3Location,
    push_repository,
    repository_files,
    triton_repository_path,
)
from zoo.errors import InvalidNameError, StorageError


def _objects(s3: Any, bucket: str, prefix: str = "") -> dict[str, int]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


def test_push_uploads_every_file_with_its_sha256(
    deploy_repo: Path, s3_endpoint: str, bucket: str, s3: Any
) -> None:
    result = push_repository(deploy_repo, f"s3://{bucket}/prod/repo", endpoint_url=s3_endpoint)
    local = {
        f"prod/repo/{p.relative_to(deploy_repo).as_posix()}": p
        for p in deploy_repo.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert _objects(s3, bucket) == {k: p.stat().st_size for k, p in local.items()}
    assert sorted(result.uploaded) == sorted(local)
    assert result.bytes_uploaded == sum(p.stat().st_size for p in local.values())
    for key, path in local.items():
        body = s3.get_object(Bucket=bucket, Key=key)
        data = body["Body"].read()
        assert data == path.read_bytes()
        assert body["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()


def test_config_is_uploaded_after_its_model_files(deploy_repo: Path) -> None:
    order = [rel for rel, _ in repository_files(deploy_repo)]
    # dcgan-mnist is two Triton models (generate, interpolate): each config after its files.
    models = {rel.split("/", 1)[0] for rel in order}
    assert models == {"dcgan-mnist", "dcgan-mnist_interpolate"}
    for model in models:
        files = [i for i, rel in enumerate(order) if rel.startswith(f"{model}/")]
        config = order.index(f"{model}/config.pbtxt")
        assert config == max(files), (model, order)
    assert "dcgan-mnist/1/model.onnx" in order[: order.index("dcgan-mnist/config.pbtxt")]


def test_repush_skips_unchanged_files_and_uploads_changed_ones(
    deploy_repo: Path, tmp_path: Path, s3_endpoint: str, bucket: str, s3: Any
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(deploy_repo, repo)
    to = f"s3://{bucket}/repo"
    first = push_repository(repo, to, endpoint_url=s3_endpoint)
    again = push_repository(repo, to, endpoint_url=s3_endpoint)
    assert again.uploaded == [] and sorted(again.unchanged) == sorted(first.uploaded)

    export_json = repo / "dcgan-mnist" / "1" / "export.json"
    export_json.write_text(export_json.read_text().replace("{", "{ ", 1))  # same size + 1
    third = push_repository(repo, to, endpoint_url=s3_endpoint)
    assert third.uploaded == ["repo/dcgan-mnist/1/export.json"]
    stored = s3.get_object(Bucket=bucket, Key="repo/dcgan-mnist/1/export.json")["Body"].read()
    assert stored == export_json.read_bytes()


def test_delete_removes_stale_objects_under_the_prefix_only(
    deploy_repo: Path, s3_endpoint: str, bucket: str, s3: Any
) -> None:
    s3.put_object(Bucket=bucket, Key="repo/old-model/config.pbtxt", Body=b"name: 'old'")
    s3.put_object(Bucket=bucket, Key="elsewhere/keep.txt", Body=b"keep")
    kept = push_repository(deploy_repo, f"s3://{bucket}/repo", endpoint_url=s3_endpoint)
    assert kept.deleted == [] and "repo/old-model/config.pbtxt" in _objects(s3, bucket)
    result = push_repository(
        deploy_repo, f"s3://{bucket}/repo", endpoint_url=s3_endpoint, delete=True
    )
    assert result.deleted == ["repo/old-model/config.pbtxt"]
    objects = _objects(s3, bucket)
    assert "repo/old-model/config.pbtxt" not in objects and "elsewhere/keep.txt" in objects


def test_missing_bucket_is_one_clear_error_or_created_on_request(
    deploy_repo: Path, s3_endpoint: str, aws_env: dict[str, str], s3: Any
) -> None:
    with pytest.raises(StorageError, match=r"does not exist.*--create-bucket"):
        push_repository(deploy_repo, "s3://zoo-not-there/repo", endpoint_url=s3_endpoint)
    result = push_repository(
        deploy_repo, "s3://zoo-created/repo", endpoint_url=s3_endpoint, create_bucket=True
    )
    assert result.uploaded and _objects(s3, "zoo-created")


def test_no_credentials_is_one_clear_error(
    deploy_repo: Path, s3_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-role lookup
    with pytest.raises(StorageError, match="AWS_ACCESS_KEY_ID"):
        push_repository(deploy_repo, f"s3://{bucket}/repo", endpoint_url=s3_endpoint)


def test_unreachable_endpoint_is_one_clear_error_without_secrets(
    deploy_repo: Path, aws_env: dict[str, str]
) -> None:
    from serving.server.triton import free_port

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(StorageError, match="cannot reach") as info:
        push_repository(deploy_repo, "s3://zoo-models/repo", endpoint_url=url)
    assert aws_env["AWS_SECRET_ACCESS_KEY"] not in str(info.value)


def test_push_refuses_a_folder_that_is_not_a_repository(
    tmp_path: Path, s3_endpoint: str, bucket: str
) -> None:
    with pytest.raises(StorageError, match="zoo repo build"):
        push_repository(tmp_path, f"s3://{bucket}/repo", endpoint_url=s3_endpoint)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.pbtxt").write_text("name: 'broken'\nmax_batch_size: many\n")
    with pytest.raises(StorageError, match="not a valid Triton config"):
        push_repository(tmp_path, f"s3://{bucket}/repo", endpoint_url=s3_endpoint)


@pytest.mark.parametrize(
    ("uri", "endpoint", "expected"),
    [
        ("s3://zoo/repo", None, "s3://zoo/repo"),
        ("s3://zoo/a/b/", None, "s3://zoo/a/b"),
        ("s3://zoo", "http://127.0.0.1:9000", "s3://http://127.0.0.1:9000/zoo"),
        (
            "s3://zoo/repo",
            "https://minio.example.com",
            "s3://https://minio.example.com:443/zoo/repo",
        ),
        ("s3://zoo/repo", "http://minio:80/", "s3://http://minio:80/zoo/repo"),
    ],
)
def test_triton_repository_path(uri: str, endpoint: str | None, expected: str) -> None:
    assert triton_repository_path(uri, endpoint) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "gs://zoo/repo",
        "zoo/repo",
        "s3://ZOO/repo",
        "s3://zo/repo",
        "s3://zoo/re po",
        "s3://zoo/../x",
        "s3://zoo/a%2f",
    ],
)
def test_bad_locations_are_refused(uri: str) -> None:
    with pytest.raises(InvalidNameError):
        S3Location.parse(uri)


@pytest.mark.parametrize("how", ["environment", "argument"])
def test_create_bucket_outside_us_east_1_names_its_region(
    how: str,
    deploy_repo: Path,
    s3_endpoint: str,
    aws_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from botocore.exceptions import ClientError

    region = "eu-central-1"
    if how == "environment":
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    regional = boto3.client("s3", endpoint_url=s3_endpoint, region_name=region)
    # What S3 does with a CreateBucket that names no region, sent to a regional endpoint:
    with pytest.raises(ClientError, match="IllegalLocationConstraint"):
        regional.create_bucket(Bucket="zoo-no-constraint")
    name = f"zoo-{how}-bucket"
    result = push_repository(
        deploy_repo,
        f"s3://{name}/repo",
        endpoint_url=s3_endpoint,
        region=region if how == "argument" else None,
        create_bucket=True,
    )
    assert result.uploaded and _objects(regional, name)
    assert regional.get_bucket_location(Bucket=name)["LocationConstraint"] == region


def test_create_bucket_in_us_east_1_names_no_region(
    deploy_repo: Path, s3_endpoint: str, aws_env: dict[str, str], s3: Any
) -> None:
    from botocore.exceptions import ClientError

    # S3 refuses us-east-1 as an explicit LocationConstraint: the default region takes none.
    with pytest.raises(ClientError, match="InvalidLocationConstraint"):
        s3.create_bucket(
            Bucket="zoo-explicit-default",
            CreateBucketConfiguration={"LocationConstraint": "us-east-1"},
        )
    push_repository(
        deploy_repo,
        "s3://zoo-default-region/repo",
        endpoint_url=s3_endpoint,
        region="us-east-1",
        create_bucket=True,
    )
    assert s3.get_bucket_location(Bucket="zoo-default-region")["LocationConstraint"] is None
