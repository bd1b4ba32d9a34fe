"""``zoo deploy`` and ``zoo repo push`` through typer's runner."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from serving.apps.deploy import DEFAULT_IMAGE, NGC_IMAGE
from zoo.cli.main import app

runner = CliRunner()
Validator = Callable[[dict[str, Any]], None]


def _one_error_line(output: str) -> str:
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), output
    return lines[0]


def test_deploy_kserve_prints_valid_yaml(validate_kserve: Validator) -> None:
    args = ["deploy", "kserve", "--repo-uri", "s3://zoo-models/repo", "--gpu", "--native"]
    args += ["--replicas", "2", "--models", "dcgan-mnist,vae-mnist"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (isvc,) = list(yaml.safe_load_all(result.stdout))
    validate_kserve(isvc)
    predictor = isvc["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 8)
    args = predictor["containers"][0]["args"]
    assert "--model-control-mode=explicit" in args
    loaded = {a.split("=", 1)[1] for a in args if a.startswith("--load-model=")}
    assert "dcgan-mnist" in loaded and "vae-mnist_decode" in loaded  # Triton names per entry
    assert predictor["containers"][0]["image"] == DEFAULT_IMAGE


def test_deploy_k8s_writes_manifest_and_dockerfile(tmp_path: Path, validate_k8s: Validator) -> None:
    out = tmp_path / "deploy"
    args = ["deploy", "k8s", "--repo-uri", "s3://zoo-models/repo", "--out", str(out)]
    args += ["--image", "registry.example.com/genzoo-triton:0.1.0", "--namespace", "serving"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    docs = list(yaml.safe_load_all((out / "k8s.yaml").read_text()))
    for doc in docs:
        validate_k8s(doc)
        assert doc["metadata"]["namespace"] == "serving"
    assert f"FROM {NGC_IMAGE}" in (out / "Dockerfile").read_text()
    assert "kubectl apply" in result.stdout
    assert "genzoo-admin (ZOO_ADMIN_KEY" in result.stdout  # the secret to create
    assert any(
        "--http-restricted-api=" in a
        for a in docs[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    )


def test_deploy_admin_secret_and_open_admin_apis() -> None:
    base = ["deploy", "kserve", "--repo-uri", "s3://zoo-models/repo"]

    def container(extra: list[str]) -> dict[str, Any]:
        result = runner.invoke(app, [*base, *extra])
        assert result.exit_code == 0, result.output
        (isvc,) = list(yaml.safe_load_all(result.stdout))
        return isvc["spec"]["predictor"]["containers"][0]

    c = container(["--admin-secret", "team-admin"])
    refs = [e["valueFrom"]["secretKeyRef"]["name"] for e in c["env"] if "valueFrom" in e]
    assert refs == ["team-admin"]
    assert sum("zoo-admin-key=$(ZOO_ADMIN_KEY)" in a for a in c["args"]) == 2  # HTTP and gRPC
    c = container(["--open-admin-apis"])
    assert not any("valueFrom" in e for e in c["env"])
    assert not any("restricted" in a for a in c["args"])


def test_deploy_docker_prints_one_runnable_line(deploy_repo: Path) -> None:
    result = runner.invoke(app, ["deploy", "docker", "--repo-uri", str(deploy_repo), "--gpu"])
    assert result.exit_code == 0, result.output
    cmd = shlex.split(result.stdout.strip())
    assert cmd[:2] == ["docker", "run"] and "--gpus" in cmd
    assert "--model-repository=/models" in cmd


def test_deploy_errors_are_one_line() -> None:
    bad_uri = runner.invoke(app, ["deploy", "kserve", "--repo-uri", "s3://Bad_Bucket/repo"])
    assert bad_uri.exit_code == 1
    assert "bucket name" in _one_error_line(bad_uri.output)
    local = runner.invoke(app, ["deploy", "k8s", "--repo-uri", "model_repository"])
    assert local.exit_code == 1
    assert "zoo repo push" in _one_error_line(local.output)
    unknown = runner.invoke(
        app, ["deploy", "kserve", "--repo-uri", "s3://zoo/r", "--models", "dcgan-mnst"]
    )
    assert unknown.exit_code == 1
    assert "dcgan-mnist" in _one_error_line(unknown.output)


def test_repo_push_json(
    deploy_repo: Path, s3_endpoint: str, aws_env: dict[str, str], s3: Any
) -> None:
    args = ["repo", "push", "--to", "s3://zoo-cli/prod", "--repository", str(deploy_repo)]
    args += ["--endpoint-url", s3_endpoint, "--create-bucket", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["location"] == "s3://zoo-cli/prod"
    assert report["triton_model_repository"] == f"s3://{s3_endpoint}/zoo-cli/prod"
    assert "prod/dcgan-mnist/config.pbtxt" in report["uploaded"]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="zoo-cli")["Contents"]}
    assert keys == set(report["uploaded"])
    assert aws_env["AWS_SECRET_ACCESS_KEY"] not in result.output


def test_repo_push_missing_bucket_is_one_line(
    deploy_repo: Path, s3_endpoint: str, aws_env: dict[str, str]
) -> None:
    args = ["repo", "push", "--to", "s3://zoo-absent/prod", "--repository", str(deploy_repo)]
    result = runner.invoke(app, [*args, "--endpoint-url", s3_endpoint])
    assert result.exit_code == 1
    assert "--create-bucket" in _one_error_line(result.output)
