"""Training: every family takes real steps on tiny configs; checkpoints resume exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from zoo.data import load_digits
from zoo.errors import CheckpointError, InvalidInputError
from zoo.models.dcgan.training import DCGANTrainer
from zoo.registry import get_spec
from zoo.train import GAN_LOSSES, TrainConfig, load_checkpoint, train
from zoo.weights import load_model_from_dir

#: Config overrides that make each family cheap enough for a few CPU steps.
TINY: dict[str, dict[str, int]] = {
    "dcgan": {"width": 8},
    "cgan": {"width": 8},
    "vae": {"width": 8},
    "cyclegan": {"width": 4, "n_blocks": 1},
    "stylegan2": {"width": 8, "max_channels": 16, "mapping_layers": 2},
    "stylegan2-encoder": {"encoder_width": 8},  # the generator is the shipped one
    "classifier": {"width": 8},
}


def _cfg(name: str, **kw: object) -> TrainConfig:
    base: dict[str, object] = {"epochs": 1, "batch_size": 16, "max_steps": 2}
    base.update(kw)
    return TrainConfig(name, overrides=TINY[get_spec(name).family], **base)  # type: ignore[arg-type]


def test_each_family_trains_checkpoints_and_ships(model_name: str, tmp_path: Path) -> None:
    result = train(_cfg(model_name), tmp_path)
    assert result.steps == 2
    assert (tmp_path / "checkpoint.safetensors").is_file()
    assert (tmp_path / "samples" / "epoch_001.png").is_file()
    record = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    assert record["step"] == 2 and all(v == v for v in record.values())  # no NaN (NaN != NaN)
    info = json.loads((result.model_dir / "training.json").read_text())
    assert info["sha256"] == result.sha256 and info["command"].startswith("zoo train")
    model = load_model_from_dir(result.model_dir, sha256=result.sha256)
    assert not model.training


@pytest.mark.parametrize("loss", GAN_LOSSES)
def test_every_gan_loss_takes_finite_steps(loss: str, tmp_path: Path) -> None:
    train(_cfg("dcgan-mnist", loss=loss), tmp_path)
    record = json.loads((tmp_path / "metrics.jsonl").read_text())
    assert all(torch.isfinite(torch.tensor(v)) for k, v in record.items() if "loss" in k)


def test_conditional_discriminator_learns_the_classes(tmp_path: Path) -> None:
    """The cGAN's auxiliary classifier (AC-GAN) learns real digits' classes from their labels."""
    from zoo.models.dcgan import DCGANDiscriminator

    disc = DCGANDiscriminator(width=8, num_classes=10)
    x, labels = torch.rand(4, 1, 32, 32) * 2 - 1, torch.tensor([0, 3, 9, 3])
    score, logits = disc.score_and_classify(x, labels)
    assert score.shape == (4,) and logits is not None and logits.shape == (4, 10)
    assert torch.equal(disc(x, labels), score)
    assert DCGANDiscriminator(width=8).score_and_classify(x)[1] is None
    # 60 real training steps (1,920 digits, shuffled), then the discriminator's class head on
    # held-out test digits, ten of each class: chance is 10%. Training is deterministic (57%
    # on this torch build at 851087f); four times chance leaves room for another build.
    cfg = _cfg("cgan-mnist", batch_size=32, max_steps=60)
    train(cfg, tmp_path)
    trainer = DCGANTrainer(cfg)
    load_checkpoint(trainer, tmp_path)
    test = load_digits("mnist", "test")
    pick = np.concatenate([np.flatnonzero(test.labels == c)[:10] for c in range(10)])
    images, truth = torch.from_numpy(test.images[pick]), torch.from_numpy(test.labels[pick])
    with torch.no_grad():
        _, logits = trainer.nets["disc"].eval().score_and_classify(images, truth)
    assert logits is not None
    accuracy = (logits.argmax(1) == truth).float().mean().item()
    assert accuracy >= 0.4, f"the class head is at {accuracy:.0%} on held-out digits"


def test_stylegan2_discriminator_judges_packs(tmp_path: Path) -> None:
    """PacGAN: the discriminator scores packs of images (copies of one digit read as fakes)."""
    from zoo.models.stylegan2.training import StyleGAN2Trainer

    trainer = StyleGAN2Trainer(_cfg("stylegan2-mnist"))
    assert trainer.pack == 4
    x = torch.rand(8, 1, 32, 32) * 2 - 1
    packed = trainer._packed(x)
    assert packed.shape == (2, 4, 32, 32)
    assert torch.equal(packed[1, 0], x[4, 0]) and torch.equal(packed[1, 3], x[7, 0])
    assert trainer.nets["disc"](packed).shape == (2,)
    with pytest.raises(InvalidInputError, match="multiple of 4"):
        train(_cfg("stylegan2-mnist", batch_size=18), tmp_path)


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "model" / "model.safetensors"))


@pytest.mark.parametrize("name", ["dcgan-mnist", "stylegan2-mnist"])
def test_resume_reaches_the_same_weights(name: str, tmp_path: Path) -> None:
    # 112 images in batches of 16 → 7 steps an epoch, so 9 steps cross an epoch boundary;
    # the interrupted run stops at step 4 (mid-epoch) and resumes.
    kw: dict[str, object] = {"limit": 112, "epochs": 2}
    full = train(_cfg(name, max_steps=9, **kw), tmp_path / "full")
    part = tmp_path / "part"
    train(_cfg(name, max_steps=4, **kw), part)
    resumed = train(_cfg(name, max_steps=9, **kw), part, resume=True)
    assert resumed.steps == full.steps == 9
    a, b = _weights(tmp_path / "full"), _weights(part)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)
    # And the run really trained: the weights moved away from their initialisation.
    init = train(_cfg(name, max_steps=1, **kw), tmp_path / "one")
    assert any(not torch.equal(a[k], _weights(init.run_dir)[k]) for k in a)


def test_resume_with_other_settings_is_refused(tmp_path: Path) -> None:
    train(_cfg("vae-mnist"), tmp_path)
    with pytest.raises(CheckpointError, match="batch_size"):
        train(_cfg("vae-mnist", batch_size=8), tmp_path, resume=True)


def test_resume_without_checkpoint_says_so(tmp_path: Path) -> None:
    from zoo.models.vae.training import VAETrainer

    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(VAETrainer(_cfg("vae-mnist")), tmp_path)


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unknown GAN loss"):
        train(_cfg("dcgan-mnist", loss="mse"), tmp_path)
    with pytest.raises(InvalidInputError, match="not a GAN"):
        train(_cfg("vae-mnist", loss="bce"), tmp_path)
    with pytest.raises(InvalidInputError, match="larger than the data set"):
        train(_cfg("vae-mnist", batch_size=100_000), tmp_path)


def test_a_family_whose_trainer_does_not_import_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The family's ``trainer`` is imported by name; a broken name says which family it was."""
    from dataclasses import replace

    import zoo.train.loop
    from zoo.registry import get_family

    broken = replace(get_family("vae"), trainer="zoo.models.vae.training:NoSuchTrainer")
    monkeypatch.setattr(zoo.train.loop, "get_family", lambda name: broken)
    with pytest.raises(InvalidInputError, match="no trainer for family 'vae'"):
        train(_cfg("vae-mnist"), tmp_path)


def test_the_trainers_old_names_still_import() -> None:
    """``Task`` and ``GanTask`` (before issue 26) stay the trainers for families kept elsewhere."""
    from zoo.train import GanTask, GanTrainer, Task, Trainer

    assert Task is Trainer
    assert GanTask is GanTrainer
