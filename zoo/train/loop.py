"""The training loop: deterministic, resumable runs of any family's trainer.

:func:`train` builds the trainer its family names (``Family.trainer``) and drives it. A run
directory holds:

- ``checkpoint.safetensors`` + ``checkpoint.json``: every network and optimizer tensor (no
  pickles), the step reached and the run's settings; written atomically every
  ``checkpoint_every`` steps and at the end of each epoch;
- ``samples/epoch_NNN.png``: a grid from fixed seeds after each epoch;
- ``metrics.jsonl``: one JSON line per epoch (mean losses, seconds);
- ``model/``: the shipped module in Hub layout (``config.json``, ``model.safetensors``) and
  ``training.json`` (the exact command, seed, epochs, time, versions).

Determinism: before step ``s`` the global torch RNG is seeded with ``mix(seed, s)`` and the
data order of epoch ``e`` comes from ``mix(seed, -1 - e)``. A run resumed from any
checkpoint therefore takes exactly the steps an uninterrupted run takes and ends at the same
weights (same thread count and torch build).
"""

from __future__ import annotations

import json
import math
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from zoo.data import Digits
from zoo.errors import CheckpointError, InvalidInputError
from zoo.images import save_grid
from zoo.latent import mix_seed
from zoo.registry import get_family, get_spec
from zoo.train.losses import GAN_LOSSES, unknown_gan_loss
from zoo.train.trainer import TrainConfig, Trainer
from zoo.weights import save_weights, write_atomic

CHECKPOINT_TENSORS = "checkpoint.safetensors"
CHECKPOINT_META = "checkpoint.json"
TRAINING_META = "training.json"

# ----------------------------------------------------------------------------- checkpoints


def _state_tensors(trainer: Trainer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Flatten every net and optimizer state into safetensors + JSON-able metadata."""
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {}
    for name, net in trainer.nets.items():
        for k, v in net.state_dict().items():
            tensors[f"{name}/{k}"] = v.detach().contiguous().clone()
    for name, opt in trainer.optims.items():
        sd = opt.state_dict()
        meta[name] = {"param_groups": sd["param_groups"], "state": {}}
        for idx, st in sd["state"].items():
            scalars = {}
            for k, v in st.items():
                if isinstance(v, torch.Tensor):
                    tensors[f"{name}/state/{idx}/{k}"] = v.detach().contiguous().clone()
                else:
                    scalars[k] = v
            meta[name]["state"][str(idx)] = scalars
    return tensors, meta


def _load_state(trainer: Trainer, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    for name, net in trainer.nets.items():
        prefix = f"{name}/"
        sd = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        net.load_state_dict(sd, strict=True)
    for name, opt in trainer.optims.items():
        if name not in meta:
            raise CheckpointError(f"the checkpoint has no state for optimizer {name!r}.")
        state: dict[int, dict[str, Any]] = {int(i): dict(s) for i, s in meta[name]["state"].items()}
        prefix = f"{name}/state/"
        for k, v in tensors.items():
            if k.startswith(prefix):
                idx, key = k[len(prefix) :].split("/", 1)
                state.setdefault(int(idx), {})[key] = v
        opt.load_state_dict({"state": state, "param_groups": meta[name]["param_groups"]})


def save_checkpoint(trainer: Trainer, run_dir: Path, step: int) -> None:
    """Write the run's full state at ``step`` (tensors first, then the JSON that names them)."""
    from safetensors.torch import save_file

    tensors, optim_meta = _state_tensors(trainer)
    write_atomic(run_dir / CHECKPOINT_TENSORS, lambda p: save_file(tensors, str(p)))
    meta = {
        "step": step,
        "config": asdict(trainer.cfg),
        "optimizers": optim_meta,
        "extra": {"steps": getattr(trainer, "_steps", None)},
    }
    write_atomic(run_dir / CHECKPOINT_META, lambda p: p.write_text(json.dumps(meta, indent=1)))


def load_checkpoint(trainer: Trainer, run_dir: Path) -> int:
    """Restore ``trainer`` from ``run_dir``; returns the step to continue from."""
    from safetensors.torch import load_file

    meta_path, tensor_path = run_dir / CHECKPOINT_META, run_dir / CHECKPOINT_TENSORS
    if not meta_path.is_file() or not tensor_path.is_file():
        raise CheckpointError(f"no checkpoint in {run_dir}: expected {CHECKPOINT_META} there.")
    meta = json.loads(meta_path.read_text())
    saved = meta["config"]
    for key in (
        "model_name",
        "batch_size",
        "seed",
        "loss",
        "lr",
        "overrides",
        "limit",
        "r1_gamma",
    ):
        if saved.get(key) != asdict(trainer.cfg).get(key):
            raise CheckpointError(
                f"the checkpoint in {run_dir} was made with {key}={saved.get(key)!r}, this run "
                f"uses {asdict(trainer.cfg).get(key)!r}; resume with the same settings."
            )
    _load_state(trainer, load_file(str(tensor_path)), meta["optimizers"])
    if meta["extra"].get("steps") is not None:
        trainer._steps = meta["extra"]["steps"]  # type: ignore[attr-defined]
    return int(meta["step"])


# ----------------------------------------------------------------------------- trainer


def _epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(mix_seed(seed, -1 - epoch))
    return torch.randperm(n, generator=g)


def _batches(trainer: Trainer, epoch: int) -> Iterator[list[tuple[torch.Tensor, torch.Tensor]]]:
    """Batches of epoch ``epoch``: one per data set, later sets cycled to the first's length."""
    bs, seed = trainer.cfg.batch_size, trainer.cfg.seed
    main = trainer.datasets[0]
    order = _epoch_order(seed, epoch, len(main))
    others = [
        torch.cat(
            [
                _epoch_order(seed, 1000 * (j + 1) + epoch * 100 + r, len(d))
                for r in range(math.ceil(len(main) / len(d)))
            ]
        )
        for j, d in enumerate(trainer.datasets[1:])
    ]
    for i in range(len(main) // bs):
        out = []
        for d, idx in zip(trainer.datasets, [order, *others], strict=True):
            sel = idx[i * bs : (i + 1) * bs].numpy()
            out.append((torch.from_numpy(d.images[sel]), torch.from_numpy(d.labels[sel])))
        yield out


def steps_per_epoch(trainer: Trainer) -> int:
    """Optimisation steps in one epoch."""
    return len(trainer.datasets[0]) // trainer.cfg.batch_size


def trainer_of(family: str) -> type[Trainer]:
    """The trainer class that ``family`` names (``Family.trainer``), imported now."""
    trainer: type[Trainer] = get_family(family).part("trainer")
    return trainer


@dataclass
class TrainResult:
    """Where a finished run put its files."""

    run_dir: Path
    model_dir: Path
    sha256: str
    steps: int
    seconds: float


def train(
    cfg: TrainConfig,
    run_dir: Path,
    *,
    resume: bool = False,
    on_step: Callable[[int, int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train ``cfg.model_name`` into ``run_dir``; ``resume`` continues from its checkpoint.

    ``on_step(step, total_steps, losses)`` is called after every step (the CLI's progress bar).
    """
    trainer_class = trainer_of(get_spec(cfg.model_name).family)
    if cfg.loss is not None and cfg.loss not in GAN_LOSSES:
        raise unknown_gan_loss(cfg.loss)
    if cfg.epochs < 1 or cfg.batch_size < 2:
        raise InvalidInputError("--epochs must be ≥ 1 and --batch-size ≥ 2.")
    torch.manual_seed(cfg.seed)
    trainer = trainer_class(cfg)
    if cfg.limit is not None:
        trainer.datasets = tuple(
            Digits(d.images[: cfg.limit], d.labels[: cfg.limit]) for d in trainer.datasets
        )
    if trainer.default_loss is None and cfg.loss is not None:
        raise InvalidInputError(f"{cfg.model_name} is not a GAN: drop --loss.")
    for net in trainer.nets.values():
        net.train()
    per_epoch = steps_per_epoch(trainer)
    if per_epoch == 0:
        raise InvalidInputError(f"--batch-size {cfg.batch_size} is larger than the data set.")
    total = per_epoch * cfg.epochs
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    run_dir.mkdir(parents=True, exist_ok=True)
    step = load_checkpoint(trainer, run_dir) if resume else 0
    if not resume:
        (run_dir / "metrics.jsonl").unlink(missing_ok=True)
    t0 = time.perf_counter()
    while step < total:
        epoch, skip = divmod(step, per_epoch)
        sums: dict[str, float] = {}
        count = 0
        for i, batch in enumerate(_batches(trainer, epoch)):
            if i < skip:
                continue
            if step >= total:
                break
            torch.manual_seed(mix_seed(cfg.seed, step))
            losses = trainer.step(batch)
            step += 1
            count += 1
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v
            if on_step is not None:
                on_step(step, total, losses)
            if cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                save_checkpoint(trainer, run_dir, step)
        save_checkpoint(trainer, run_dir, step)
        if step % per_epoch == 0 or step >= total:
            record = {
                "epoch": epoch + 1,
                "step": step,
                "seconds": round(time.perf_counter() - t0, 2),
                **{k: v / max(count, 1) for k, v in sums.items()},
            }
            with open(run_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            save_grid(trainer.samples(), run_dir / "samples" / f"epoch_{epoch + 1:03d}.png")
    seconds = time.perf_counter() - t0
    model_dir = run_dir / "model"
    model = trainer.shipped().eval()
    sha = save_weights(model, model_dir, cfg.model_name, trainer.model_config)
    info = {
        "command": reproduce_command(cfg),
        "model_name": cfg.model_name,
        "epochs": cfg.epochs,
        "steps": step,
        "batch_size": cfg.batch_size,
        "seed": cfg.seed,
        "loss": trainer.loss,
        "lr": trainer.lr,
        "seconds": round(seconds, 1),
        "sha256": sha,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
    }
    write_atomic(
        model_dir / TRAINING_META, lambda p: p.write_text(json.dumps(info, indent=2) + "\n")
    )
    return TrainResult(run_dir, model_dir, sha, step, seconds)


def reproduce_command(cfg: TrainConfig) -> str:
    """The ``zoo train`` command that repeats this run from scratch (resumes included)."""
    parts = ["zoo", "train", cfg.model_name, "--epochs", str(cfg.epochs)]
    parts += ["--batch-size", str(cfg.batch_size), "--seed", str(cfg.seed)]
    if cfg.loss:
        parts += ["--loss", cfg.loss]
    if cfg.lr:
        parts += ["--lr", repr(cfg.lr)]
    if cfg.r1_gamma is not None:
        parts += ["--r1-gamma", repr(cfg.r1_gamma)]
    if cfg.max_steps is not None:
        parts += ["--max-steps", str(cfg.max_steps)]
    return shlex.join(parts)
