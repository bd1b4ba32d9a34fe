"""``zoo train``: train a zoo model with a progress bar, checkpoints and per-epoch samples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zoo.cli._common import JsonFlag, cli_errors, console, print_json


@cli_errors
def train_command(
    name: Annotated[str, typer.Argument(help="Model to train, e.g. dcgan-mnist.")],
    epochs: Annotated[int, typer.Option(help="Passes over the training set.")] = 10,
    batch_size: Annotated[int, typer.Option(help="Images per step.")] = 64,
    seed: Annotated[int, typer.Option(help="Seeds initialisation, data order and noise.")] = 0,
    loss: Annotated[
        str | None, typer.Option(help="GAN loss: bce, hinge, wgan-gp or lsgan.")
    ] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate (family default).")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/NAME).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from the run's checkpoint.")] = False,
    max_steps: Annotated[
        int | None, typer.Option(help="Stop after this many steps (quick runs).")
    ] = None,
    checkpoint_every: Annotated[
        int, typer.Option(help="Also checkpoint every N steps (0: at epoch ends).")
    ] = 0,
    r1_gamma: Annotated[
        float | None, typer.Option(help="StyleGAN2 R1 penalty weight (default 0.05).")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="torch intra-op threads.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Train NAME; the shipped weights land in RUN/model/ (config.json, model.safetensors)."""
    import torch
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from zoo.registry import get_spec
    from zoo.train import TrainConfig, train

    spec = get_spec(name)
    if threads is not None:
        torch.set_num_threads(threads)
    run_dir = out or Path("runs") / spec.name
    cfg = TrainConfig(
        spec.name,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        loss=loss,  # type: ignore[arg-type]  # checked by train()
        lr=lr,
        max_steps=max_steps,
        checkpoint_every=checkpoint_every,
        r1_gamma=r1_gamma,
    )
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TextColumn("{task.fields[losses]}"),
        TimeRemainingColumn(),
        console=console,
        disable=as_json,
    ) as progress:
        bar = progress.add_task(f"train {spec.name}", total=None, losses="")

        def on_step(step: int, total: int, losses: dict[str, float]) -> None:
            text = "  ".join(f"{k} {v:.3f}" for k, v in losses.items())
            progress.update(bar, completed=step, total=total, losses=text)

        result = train(cfg, run_dir, resume=resume, on_step=on_step)
    if as_json:
        print_json(
            {
                "model": spec.name,
                "run_dir": str(result.run_dir),
                "model_dir": str(result.model_dir),
                "sha256": result.sha256,
                "steps": result.steps,
                "seconds": round(result.seconds, 1),
            }
        )
    else:
        console.print(
            f"trained {spec.name} in {result.seconds:.0f} s ({result.steps} steps): "
            f"weights in {result.model_dir}, samples in {result.run_dir / 'samples'}\n"
            f"sha256 {result.sha256}"
        )
