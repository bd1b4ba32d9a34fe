"""The main job, end to end and offline: pull → export → repository → Triton → SDK → bench.

``zoo demo`` (``make demo``, the README's first command) calls :func:`run_demo`: it loads every
model's trained weights (through the hub, falling back to the bundled copy after its sha256
check), exports each entry point to ONNX, builds the Triton repository, starts the embedded
Triton, generates pictures for every model through the client SDK (over HTTP), runs a short
``zoo bench`` against that server (report in ``<out>/bench/``), and stops the server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from serving.client import BaseZooClient, ZooClient
from serving.server.repository import RepositoryOptions, build_repository
from serving.server.triton import ServerConfig, TritonServer
from zoo.images import save_grid
from zoo.registry import get_spec, list_models
from zoo.settings import model_repository_dir

if TYPE_CHECKING:
    from torch import nn

    from serving.apps.bench.results import BenchReport

#: The model whose throughput the demo compares across paths, and its request size.
BENCH_MODEL = "dcgan-mnist"
BENCH_BATCH = 64


@dataclass
class DemoResult:
    """What the demo made and measured."""

    out_dir: Path  # where the pictures are
    repository: Path  # the Triton model repository it built
    pictures: dict[str, Path] = field(default_factory=dict)  # what → PNG
    bench_report: BenchReport | None = None  # the short `zoo bench` of BENCH_MODEL's paths
    notes: list[str] = field(default_factory=list)  # fallbacks taken, agreement figures


def load_weights(
    models: Sequence[str], *, offline: bool, say: Callable[[str], None]
) -> dict[str, Any]:
    """Pull each model (bundled copy when the Hub is out of reach) and load its checked weights."""
    from zoo.hub import pull

    modules: dict[str, nn.Module] = {}
    for name in models:
        pulled = pull(name, offline=offline)
        say(f"pulled {name} ({pulled.source}, sha256 {pulled.sha256[:12]}…)")
        modules[name] = pulled.load()
    return modules


def make_pictures(
    zoo: BaseZooClient, models: Sequence[str], out_dir: Path
) -> tuple[dict[str, Path], list[str]]:
    """Call every entry point of ``models`` through ``zoo`` and save the results as grids."""
    pictures: dict[str, Path] = {}
    notes: list[str] = []
    out_dir.mkdir(parents=True, exist_ok=True)

    def save(key: str, images: npt.NDArray[np.uint8], ncols: int | None = None) -> None:
        pictures[key] = save_grid(images, out_dir / f"{key}.png", ncols=ncols)

    have = set(models)
    # Digits to feed the image-to-image models: one per class from the cGAN when it is there.
    digits: npt.NDArray[np.uint8] | None = None
    labels = np.repeat(np.arange(10), 10)
    if "cgan-mnist" in have:
        digits = zoo.generate("cgan-mnist", np.tile(np.arange(10), 10), labels=labels)
        save("cgan-mnist", digits, ncols=10)
    if "dcgan-mnist" in have:
        save("dcgan-mnist", zoo.generate("dcgan-mnist", range(64)))
        digits = digits if digits is not None else zoo.generate("dcgan-mnist", range(100))
    if "stylegan2-mnist" in have:
        save("stylegan2-mnist", zoo.generate("stylegan2-mnist", range(64), psi=0.7))
        rows = [
            zoo.generate("stylegan2-mnist", range(8), psi=0.7, mix_seeds=[m] * 8)
            for m in range(100, 104)
        ]
        save("stylegan2-mnist_mixing", np.concatenate(rows), ncols=8)
    if "vae-mnist" in have:
        save("vae-mnist_sample", zoo.generate("vae-mnist", range(64)))
        if digits is not None:
            x = digits[::10][:10]
            mask = np.ones(x.shape, dtype=np.uint8)
            mask[:, x.shape[1] // 2 :] = 0  # hide the lower half
            latent, _ = zoo.encode("vae-mnist", x)
            rows = [
                x,
                zoo.reconstruct("vae-mnist", x),
                zoo.decode("vae-mnist", latent),
                x * mask,
                zoo.inpaint("vae-mnist", x, mask),
            ]
            save("vae-mnist_reconstruct_inpaint", np.concatenate(rows), ncols=len(x))
    if "cyclegan-digits" in have and digits is not None:
        x = digits[::10][:10]
        b2a = zoo.translate("cyclegan-digits", x, "b2a")
        save(
            "cyclegan-digits",
            np.concatenate([x, b2a, zoo.translate("cyclegan-digits", b2a, "a2b")]),
            ncols=len(x),
        )
    if "classifier-mnist" in have and digits is not None:
        predicted = zoo.classify("classifier-mnist", digits).argmax(axis=1)
        if "cgan-mnist" in have:
            agree = int((predicted == labels).sum())
            notes.append(
                f"classifier-mnist agrees with cgan-mnist's labels on {agree}/{len(labels)} digits"
            )
        else:
            counts = np.bincount(predicted, minlength=10).tolist()
            notes.append(f"classifier-mnist classes of the generated digits: {counts}")
    return pictures, notes


def run_demo(
    *,
    out_dir: Path = Path("out"),
    models: Sequence[str] | None = None,
    repository: Path | None = None,
    offline: bool = True,
    bench_seconds: float = 2.0,
    modules: Mapping[str, nn.Module] | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the whole path for ``models`` (default: the zoo) and return what it made.

    ``modules`` replaces the pulled weights (tests use random ones).
    """
    say = progress or (lambda _msg: None)
    names = list(models or list_models())
    for n in names:
        get_spec(n)
    repo = Path(repository or model_repository_dir())
    result = DemoResult(out_dir=Path(out_dir), repository=repo)

    weights = (
        dict(modules) if modules is not None else load_weights(names, offline=offline, say=say)
    )
    built = build_repository(
        names, out_dir=repo, options=RepositoryOptions(), modules=weights, progress=say
    )

    config = ServerConfig.on_free_ports(
        repo,
        load_models=tuple(b.name for b in built),
    )
    say("starting Triton (one Python-backend process per model)")
    with TritonServer(config, log_file=result.out_dir / "tritonserver.log") as server:
        say(f"Triton ready: HTTP {server.http_url}, gRPC {server.grpc_url}")
        with ZooClient(server.http_url) as http:
            say("generating through the client SDK")
            result.pictures, result.notes = make_pictures(http, names, result.out_dir)
            if BENCH_MODEL in names and bench_seconds > 0:
                say(f"benchmarking {BENCH_MODEL}, batch {BENCH_BATCH} (zoo bench, short)")
                from serving.apps.bench.report import write_report
                from serving.apps.bench.run import demo_bench

                report = demo_bench(
                    BENCH_MODEL,
                    http_url=server.http_url,
                    grpc_url=server.grpc_url,
                    repository=repo,
                    seconds=bench_seconds,
                    batch=BENCH_BATCH,
                )
                write_report(report, result.out_dir / "bench")
                result.bench_report = report
        say("stopping Triton")
    return result
