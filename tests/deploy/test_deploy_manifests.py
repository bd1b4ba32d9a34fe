"""Manifests: valid against the KServe / Kubernetes schemas, and they say what the issue asks."""

from __future__ import annotations

import copy
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from serving.apps.deploy import (
    LIVE_PATH,
    METRICS_PORT,
    NGC_IMAGE,
    PENDING_METRIC,
    READY_PATH,
    DeployOptions,
    docker_command,
    dockerfile,
    k8s_manifests,
    kserve_manifests,
    quantity_bytes,
    to_yaml,
    triton_args,
    write_manifests,
)
from serving.server.admin_key import RESTRICTED_APIS, restricted_api_flags
from zoo.errors import InvalidInputError, InvalidNameError

KEY = "k" * 32  # stands for the secret's value

Validator = Callable[[dict[str, Any]], None]
URI = "s3://zoo-models/prod/repo"
VARIANTS = {
    "cpu": DeployOptions(URI),
    "gpu-native-poll": DeployOptions(
        URI,
        name="zoo-gpu",
        namespace="serving",
        native=True,
        gpus=1,
        replicas=2,
        max_replicas=8,
        model_control="poll",
        endpoint_url="http://minio.storage.svc:9000",
        region="eu-west-1",
    ),
    "explicit": DeployOptions(
        URI, model_control="explicit", load_models=("dcgan-mnist", "cgan-mnist"), cache_mb=0
    ),
    "open-admin": DeployOptions(URI, admin_secret=None),
}


def _container(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc["spec"]
    pod = spec["predictor"] if doc["kind"] == "InferenceService" else spec["template"]["spec"]
    (container,) = pod["containers"]
    return container


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_kserve_manifest_validates_against_the_kserve_types(
    variant: str, validate_kserve: Validator
) -> None:
    docs = yaml.safe_load_all(to_yaml(kserve_manifests(VARIANTS[variant])))
    (isvc,) = list(docs)
    validate_kserve(isvc)
    assert isvc["kind"] == "InferenceService"


def test_kserve_manifest_takes_a_canary_split(validate_kserve: Validator) -> None:
    """docs/deploy.md: a new revision's repository as a canary of the running InferenceService."""
    (isvc,) = kserve_manifests(replace(VARIANTS["cpu"], repo_uri="s3://zoo-models/prod-r2"))
    isvc["spec"]["predictor"]["canaryTrafficPercent"] = 10
    validate_kserve(isvc)
    broken = copy.deepcopy(isvc)
    broken["spec"]["predictor"]["canaryTrafficPercent"] = "ten"
    with pytest.raises(AssertionError, match="canaryTrafficPercent"):
        validate_kserve(broken)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_k8s_manifests_validate_against_the_kubernetes_schemas(
    variant: str, validate_k8s: Validator
) -> None:
    docs = list(yaml.safe_load_all(to_yaml(k8s_manifests(VARIANTS[variant]))))
    assert [d["kind"] for d in docs] == ["Deployment", "Service", "HorizontalPodAutoscaler"]
    for doc in docs:
        validate_k8s(doc)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["spec"]["predictor"].__setitem__("scaleMetrc", "concurrency"), "scaleMetrc"),
        (lambda d: d["spec"]["predictor"].__setitem__("minReplicas", "1"), "minReplicas"),
        (lambda d: _container(d).pop("name"), "containers[0]"),
        (lambda d: _container(d)["resources"]["limits"].__setitem__("cpu", 2), "limits.cpu"),
        (lambda d: _container(d)["readinessProbe"]["httpGet"].__setitem__("paht", "/"), "paht"),
    ],
)
def test_kserve_validator_rejects_broken_manifests(
    mutate: Callable[[dict[str, Any]], Any], message: str, validate_kserve: Validator
) -> None:
    doc = copy.deepcopy(kserve_manifests(VARIANTS["cpu"])[0])
    mutate(doc)
    with pytest.raises(AssertionError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_kserve(doc)


@pytest.mark.parametrize(
    ("index", "mutate"),
    [
        (0, lambda d: d["spec"].__setitem__("replicas", "2")),
        (0, lambda d: _container(d).__setitem__("imagePullPolcy", "Always")),
        (1, lambda d: d["spec"]["ports"][0].__setitem__("port", "http")),
        (2, lambda d: d["spec"].pop("maxReplicas")),
    ],
)
def test_k8s_validator_rejects_broken_manifests(
    index: int, mutate: Callable[[dict[str, Any]], Any], validate_k8s: Validator
) -> None:
    doc = copy.deepcopy(k8s_manifests(VARIANTS["cpu"])[index])
    mutate(doc)
    with pytest.raises(AssertionError):
        validate_k8s(doc)


def test_kserve_runs_triton_on_the_repository_and_scales_on_concurrency() -> None:
    opts = VARIANTS["gpu-native-poll"]
    (isvc,) = kserve_manifests(opts)
    predictor = isvc["spec"]["predictor"]
    assert predictor["scaleMetric"] == "concurrency"
    assert predictor["scaleTarget"] == opts.concurrency
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 8)
    assert isvc["metadata"]["namespace"] == "serving"
    annotations = isvc["metadata"]["annotations"]
    assert annotations["serving.kserve.io/enable-prometheus-scraping"] == "true"
    assert annotations["prometheus.kserve.io/port"] == str(METRICS_PORT)
    c = _container(isvc)
    assert c["args"][0] == "tritonserver"
    # the endpoint goes inside Triton's path; the credentials come from the secret
    assert "--model-repository=s3://http://minio.storage.svc:9000/zoo-models/prod/repo" in c["args"]
    assert "--model-control-mode=poll" in c["args"]
    assert "--repository-poll-secs=30" in c["args"]
    assert c["envFrom"] == [{"secretRef": {"name": "genzoo-s3"}}]
    assert {"name": "AWS_DEFAULT_REGION", "value": "eu-west-1"} in c["env"]
    assert "AWS_SECRET_ACCESS_KEY" not in to_yaml([isvc])
    assert c["readinessProbe"]["httpGet"]["path"] == READY_PATH
    assert c["livenessProbe"]["httpGet"]["path"] == LIVE_PATH
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert c["resources"]["requests"]["nvidia.com/gpu"] == "1"
    assert isvc["spec"]["predictor"]["tolerations"][0]["key"] == "nvidia.com/gpu"


def test_pods_restrict_the_admin_apis_with_the_key_from_a_secret() -> None:
    opts = DeployOptions(URI, admin_secret="zoo-admin")
    for doc in [*kserve_manifests(opts), k8s_manifests(opts)[0]]:
        c = _container(doc)
        ref = {"secretKeyRef": {"name": "zoo-admin", "key": "ZOO_ADMIN_KEY"}}
        assert {"name": "ZOO_ADMIN_KEY", "valueFrom": ref} in c["env"]
        # Kubernetes expands $(ZOO_ADMIN_KEY) in args from the container's env: no key inline
        expanded = [a.replace("$(ZOO_ADMIN_KEY)", KEY) for a in c["args"]]
        flags = restricted_api_flags(KEY)  # what a restricted embedded Triton runs with
        assert [a for a in expanded if a in flags] == flags
        assert set(RESTRICTED_APIS) <= set(flags[0].split("=", 1)[1].split(":")[0].split(","))
    open_args = triton_args(VARIANTS["open-admin"])
    assert not any("restricted" in a for a in open_args)
    assert "ZOO_ADMIN_KEY" not in str(kserve_manifests(VARIANTS["open-admin"]))
    with pytest.raises(InvalidNameError, match="admin secret"):
        DeployOptions(URI, admin_secret="Not_A_Name")


def test_cpu_pods_ask_for_no_gpu() -> None:
    for doc in [*kserve_manifests(VARIANTS["cpu"]), k8s_manifests(VARIANTS["cpu"])[0]]:
        c = _container(doc)
        assert "nvidia.com/gpu" not in c["resources"]["limits"]
        assert "--allow-gpu-metrics=false" in c["args"]


def test_k8s_service_exposes_every_port_and_hpa_scales_on_triton_queue() -> None:
    deployment, service, hpa = k8s_manifests(VARIANTS["gpu-native-poll"])
    assert deployment["spec"]["replicas"] == 2
    template = deployment["spec"]["template"]
    assert template["metadata"]["annotations"]["prometheus.io/port"] == str(METRICS_PORT)
    assert set(deployment["spec"]["selector"]["matchLabels"].items()) <= set(
        template["metadata"]["labels"].items()
    )
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert {p["port"] for p in service["spec"]["ports"]} == {8000, 8001, 8002}
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    pods = next(m for m in hpa["spec"]["metrics"] if m["type"] == "Pods")
    assert pods["pods"]["metric"]["name"] == PENDING_METRIC
    grace = template["spec"]["terminationGracePeriodSeconds"]
    assert grace > VARIANTS["gpu-native-poll"].exit_timeout_secs  # Triton drains before SIGKILL


def test_explicit_mode_loads_the_named_models_only() -> None:
    args = triton_args(VARIANTS["explicit"])
    assert "--model-control-mode=explicit" in args
    assert [a for a in args if a.startswith("--load-model=")] == [
        "--load-model=dcgan-mnist",
        "--load-model=cgan-mnist",
    ]
    assert not any(a.startswith("--cache-config") for a in args)  # cache_mb=0


def test_explicit_mode_without_a_list_loads_everything_for_rollouts() -> None:
    opts = replace(VARIANTS["explicit"], load_models=())
    args = triton_args(opts)
    assert "--model-control-mode=explicit" in args
    assert [a for a in args if a.startswith("--load-model=")] == ["--load-model=*"]
    # the other modes name no model: none and poll load the whole repository themselves
    assert not any(a.startswith("--load-model") for a in triton_args(VARIANTS["gpu-native-poll"]))


def test_dockerfile_extends_the_pinned_ngc_release() -> None:
    assert NGC_IMAGE == "nvcr.io/nvidia/tritonserver:24.10-py3"
    native = dockerfile(VARIANTS["gpu-native-poll"])
    embedded = dockerfile(VARIANTS["cpu"])
    for text in (native, embedded):
        assert f"FROM {NGC_IMAGE}\n" in text
    assert "--no-deps" in native and "[export]" not in native
    assert "[export]" in embedded and "constraints.txt" in embedded


def test_docker_line_publishes_on_loopback_and_passes_credentials_by_name(tmp_path: Path) -> None:
    cmd = docker_command(VARIANTS["gpu-native-poll"])
    assert cmd[:2] == ["docker", "run"]
    assert cmd[cmd.index("--gpus") + 1] == "1"
    assert cmd[cmd.index("--shm-size") + 1] == str(2**30)
    published = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-p"]
    assert published == [f"127.0.0.1:{p}:{p}" for p in (8000, 8001, 8002)]
    env = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-e"]
    assert "AWS_ACCESS_KEY_ID" in env and "AWS_SECRET_ACCESS_KEY" in env  # names, no values
    assert cmd[cmd.index("tritonserver") - 1] == VARIANTS["gpu-native-poll"].image


def test_docker_line_mounts_a_local_repository(deploy_repo: Path) -> None:
    cmd = docker_command(DeployOptions(str(deploy_repo)), host="0.0.0.0")
    assert f"{deploy_repo.resolve()}:/models:ro" in cmd
    assert "--model-repository=/models" in cmd
    assert "0.0.0.0:8000:8000" in cmd
    assert shlex.split(shlex.join(cmd)) == cmd
    assert not any("restricted" in a for a in docker_command(DeployOptions(str(deploy_repo))))
    with pytest.raises(FileNotFoundError, match="zoo repo build"):
        docker_command(DeployOptions(str(deploy_repo / "dcgan-mnist")))


def test_docker_off_loopback_restricts_with_the_key_from_the_environment(
    deploy_repo: Path,
) -> None:
    cmd = docker_command(DeployOptions(str(deploy_repo)), host="0.0.0.0")
    env = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-e"]
    assert "ZOO_ADMIN_KEY" in env  # by name
    launch = cmd[cmd.index(DeployOptions(str(deploy_repo)).image) + 1 :]
    assert launch[:2] == ["sh", "-c"] and launch[4] == "tritonserver"
    # the container's shell: run it here with a stand-in for tritonserver that prints its argv
    printer = [sys.executable, "-c", "import sys; print(*sys.argv[1:], sep='\\n')"]
    run = [*launch[:4], *printer, *launch[5:]]
    done = subprocess.run(
        run, capture_output=True, text=True, env={"ZOO_ADMIN_KEY": KEY}, check=True
    )
    argv = done.stdout.splitlines()
    assert argv[: len(launch) - 5] == launch[5:]  # Triton's own flags, as given
    assert argv[len(launch) - 5 :] == restricted_api_flags(KEY)  # then the key's
    assert KEY not in shlex.join(cmd)
    unset = subprocess.run(run, capture_output=True, text=True, env={}, check=False)
    assert unset.returncode != 0 and "set ZOO_ADMIN_KEY" in unset.stderr and not unset.stdout


def test_write_manifests_writes_yaml_and_dockerfile(tmp_path: Path) -> None:
    paths = write_manifests("k8s", VARIANTS["cpu"], tmp_path / "out")
    assert [p.name for p in paths] == ["k8s.yaml", "Dockerfile"]
    assert len(list(yaml.safe_load_all(paths[0].read_text()))) == 3
    with pytest.raises(InvalidNameError):
        write_manifests("helm", VARIANTS["cpu"], tmp_path / "out")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"name": "Genzoo"}, InvalidNameError),
        ({"name": "9zoo"}, InvalidNameError),
        ({"namespace": "a_b"}, InvalidNameError),
        ({"image": "genzoo; rm -rf /"}, InvalidNameError),
        ({"cpu": "two"}, InvalidInputError),
        ({"replicas": 3, "max_replicas": 2}, InvalidInputError),
        ({"model_control": "auto"}, InvalidInputError),
        ({"load_models": ("dcgan-mnist",)}, InvalidInputError),
        ({"repo_uri": "s3://Bad_Bucket/x"}, InvalidNameError),
        ({"repo_uri": "s3://zoo/../etc"}, InvalidNameError),
        ({"endpoint_url": "ftp://minio:21"}, InvalidNameError),
        ({"endpoint_url": "http://user:pw@minio:9000"}, InvalidNameError),
    ],
)
def test_bad_options_fail_with_a_typed_error(kwargs: dict[str, Any], error: type) -> None:
    args = {"repo_uri": URI, **kwargs}
    with pytest.raises(error):
        DeployOptions(**args)


def test_cluster_manifests_need_object_storage() -> None:
    with pytest.raises(InvalidNameError, match="zoo repo push"):
        kserve_manifests(DeployOptions("model_repository"))


def test_quantity_bytes() -> None:
    assert quantity_bytes("1Gi") == 2**30
    assert quantity_bytes("512Mi") == 512 * 2**20
    assert quantity_bytes("2G") == 2 * 10**9
    with pytest.raises(InvalidInputError):
        quantity_bytes("1 GB")
