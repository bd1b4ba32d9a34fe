"""``zoo deploy kserve|k8s|docker`` and ``zoo repo push``: from one machine to a cluster."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zoo.cli._common import (
    JsonFlag,
    RepositoryOpt,
    cli_errors,
    console,
    err_console,
    print_json,
    with_options,
)
from zoo.cli.serve import triton_models

if TYPE_CHECKING:
    from serving.apps.deploy import DeployOptions

deploy_app = typer.Typer(
    help="Write manifests that run the model repository on many Tritons (see docs/deploy.md).",
    no_args_is_help=True,
)

RepoUri = Annotated[
    str,
    typer.Option(
        "--repo-uri", help="Where the repository lives: s3://bucket/prefix (`zoo repo push`)."
    ),
]
NameOpt = Annotated[str, typer.Option(help="Name of every resource.")]
NamespaceOpt = Annotated[str | None, typer.Option(help="Kubernetes namespace.")]
ImageOpt = Annotated[
    str | None,
    typer.Option(
        help="Container image (default genzoo-triton:VERSION, built from the Dockerfile)."
    ),
]
NativeOpt = Annotated[
    bool, typer.Option(help="The repository was built with `zoo repo build --native`.")
]
GpuOpt = Annotated[bool, typer.Option("--gpu", help="One nvidia.com/gpu per replica.")]
ReplicasOpt = Annotated[int, typer.Option(help="Replicas at least (and at start).")]
MaxReplicasOpt = Annotated[int | None, typer.Option(help="Replicas at most (default 4x).")]
ConcurrencyOpt = Annotated[
    int, typer.Option(help="Requests per replica before the autoscaler adds one.")
]
CpuOpt = Annotated[str, typer.Option(help="CPU request per replica.")]
MemoryOpt = Annotated[str, typer.Option(help="Memory request and limit per replica.")]
ControlOpt = Annotated[
    str,
    typer.Option(
        "--model-control",
        help="none: load all at start; poll: reload when the bucket changes; explicit: --models.",
    ),
]
ModelsOpt = Annotated[
    list[str] | None,
    typer.Option("--models", "-m", help="Zoo models to load (implies --model-control explicit)."),
]
CacheOpt = Annotated[int, typer.Option(help="Response cache per replica in MiB (0 = off).")]
EndpointOpt = Annotated[
    str | None, typer.Option(help="S3-compatible endpoint, e.g. http://minio.storage:9000.")
]
RegionOpt = Annotated[str | None, typer.Option(help="AWS region of the bucket.")]
SecretOpt = Annotated[
    str,
    typer.Option("--s3-secret", help="Secret holding AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."),
]
AdminSecretOpt = Annotated[
    str,
    typer.Option(
        "--admin-secret",
        help="Secret holding ZOO_ADMIN_KEY: Triton's admin APIs (repository, shared memory, "
        "statistics, trace, logging) answer only calls carrying it as the zoo-admin-key header.",
    ),
]
OpenAdminOpt = Annotated[
    bool,
    typer.Option(
        "--open-admin-apis",
        help="Leave Triton's admin APIs open to anyone who reaches a pod (no admin secret).",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(help="Write the manifest and the image's Dockerfile here (default: stdout)."),
]


@dataclass(frozen=True)
class ClusterFlags:
    """What runs where, as ``zoo deploy kserve|k8s`` take it (``zoo deploy docker``: a part).

    Each field is one option with its default, written here once; :meth:`deploy_options`
    turns them into the manifests' :class:`serving.apps.deploy.DeployOptions`.
    """

    name: NameOpt = "genzoo"
    namespace: NamespaceOpt = None
    image: ImageOpt = None
    native: NativeOpt = False
    gpu: GpuOpt = False
    replicas: ReplicasOpt = 1
    max_replicas: MaxReplicasOpt = None
    concurrency: ConcurrencyOpt = 16
    cpu: CpuOpt = "2"
    memory: MemoryOpt = "4Gi"
    model_control: ControlOpt = "none"
    models: ModelsOpt = None
    cache_mb: CacheOpt = 256
    endpoint_url: EndpointOpt = None
    region: RegionOpt = None
    s3_secret: SecretOpt = "genzoo-s3"
    admin_secret: AdminSecretOpt = "genzoo-admin"
    open_admin_apis: OpenAdminOpt = False

    def deploy_options(self, repo_uri: str) -> DeployOptions:
        """The deployment of the repository at ``repo_uri`` that these flags describe."""
        from serving.apps.deploy import DEFAULT_IMAGE, DeployOptions

        max_replicas = self.max_replicas
        return DeployOptions(
            repo_uri=repo_uri,
            name=self.name,
            namespace=self.namespace,
            image=self.image or DEFAULT_IMAGE,
            native=self.native,
            gpus=1 if self.gpu else 0,
            replicas=self.replicas,
            max_replicas=max_replicas if max_replicas is not None else max(4, 4 * self.replicas),
            concurrency=self.concurrency,
            cpu=self.cpu,
            memory=self.memory,
            model_control="explicit" if self.models else self.model_control,
            load_models=tuple(triton_models(self.models)),
            cache_mb=self.cache_mb,
            endpoint_url=self.endpoint_url,
            region=self.region,
            s3_secret=self.s3_secret,
            admin_secret=None if self.open_admin_apis else self.admin_secret,
        )


def _emit(kind: str, opts: DeployOptions, out: Path | None) -> None:
    from serving.apps.deploy import k8s_manifests, kserve_manifests, to_yaml, write_manifests

    if out is None:
        docs = kserve_manifests(opts) if kind == "kserve" else k8s_manifests(opts)
        typer.echo(to_yaml(docs), nl=False)
        return
    paths = write_manifests(kind, opts, out)
    for path in paths:
        console.print(f"wrote {path}")
    admin = (
        f" and {opts.admin_secret} (ZOO_ADMIN_KEY, e.g. `kubectl create secret generic "
        f"{opts.admin_secret} --from-literal=ZOO_ADMIN_KEY=$(openssl rand -hex 32)`)"
        if opts.admin_secret
        else ""
    )
    console.print(
        f"next: build and push the image ({opts.image}) with {paths[1]}, create the secret "
        f"{opts.s3_secret} (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY){admin}, then "
        f"`kubectl apply -f {paths[0]}`"
    )


def _manifest_command(kind: str, doc: str) -> Callable[..., None]:
    """The ``zoo deploy KIND`` command: the same options for KServe and plain Kubernetes."""

    def command(repo_uri: RepoUri, *, flags: ClusterFlags, out: OutOpt = None) -> None:
        _emit(kind, flags.deploy_options(repo_uri), out)

    command.__doc__ = doc
    return with_options(command, ClusterFlags, "flags")


deploy_app.command("kserve")(
    cli_errors(
        _manifest_command(
            "kserve",
            "A KServe InferenceService: Triton on the repository, autoscaled on concurrency.",
        )
    )
)
deploy_app.command("k8s")(
    cli_errors(
        _manifest_command(
            "k8s",
            "Plain Kubernetes: Deployment + Service (HTTP, gRPC, metrics) "
            "+ HorizontalPodAutoscaler.",
        )
    )
)


def docker_command(
    repo_uri: Annotated[
        str,
        typer.Option(
            "--repo-uri", help="s3://bucket/prefix, or a local repository folder to mount."
        ),
    ],
    *,
    flags: ClusterFlags,
    host: Annotated[
        str,
        typer.Option(
            help="Address to publish the ports on; 0.0.0.0 exposes the server (its admin APIs "
            "then need ZOO_ADMIN_KEY, passed by name)."
        ),
    ] = "127.0.0.1",
    out: Annotated[
        Path | None, typer.Option(help="Also write the image's Dockerfile here.")
    ] = None,
) -> None:
    """Print the `docker run` line for one GPU host (credentials passed by name, never value)."""
    from serving.apps.deploy import docker_line, dockerfile

    opts = flags.deploy_options(repo_uri)
    line = docker_line(opts, host=host)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "Dockerfile").write_text(dockerfile(opts))
        err_console.print(f"wrote {out / 'Dockerfile'}")
    typer.echo(line)


#: What a single host's container takes of the cluster's flags (no replicas, resources or
#: secrets: those belong to a cluster).
DOCKER_FLAGS = (
    "image",
    "native",
    "gpu",
    "model_control",
    "models",
    "cache_mb",
    "endpoint_url",
    "region",
)
deploy_app.command("docker")(
    cli_errors(with_options(docker_command, ClusterFlags, "flags", only=DOCKER_FLAGS))
)


@cli_errors
def repo_push_command(
    to: Annotated[str, typer.Option("--to", help="Destination: s3://bucket/prefix.")],
    repository: RepositoryOpt = None,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    create_bucket: Annotated[
        bool, typer.Option("--create-bucket", help="Create the bucket if it does not exist.")
    ] = False,
    delete: Annotated[
        bool,
        typer.Option("--delete", help="Remove objects under the prefix the folder no longer has."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Upload a built repository to S3 (or MinIO...) so a cluster's Tritons can load it."""
    from serving.server.storage import push_repository, triton_repository_path
    from zoo.settings import model_repository_dir

    repo = repository or model_repository_dir()
    with console.status("pushing the repository") as status:
        result = push_repository(
            repo,
            to,
            endpoint_url=endpoint_url,
            region=region,
            create_bucket=create_bucket,
            delete=delete,
            progress=status.update,
        )
    triton_path = triton_repository_path(result.location, endpoint_url)
    if as_json:
        print_json(
            {
                "location": result.location,
                "triton_model_repository": triton_path,
                "uploaded": result.uploaded,
                "unchanged": result.unchanged,
                "deleted": result.deleted,
                "bytes_uploaded": result.bytes_uploaded,
            }
        )
        return
    console.print(
        f"{result.location}: {len(result.uploaded)} uploaded ({result.bytes_uploaded:,} bytes), "
        f"{len(result.unchanged)} unchanged, {len(result.deleted)} deleted\n"
        f"Triton: --model-repository={triton_path}"
    )
