"""Weights on disk: safetensors only, every file checked against its sha256 before loading.

A model folder has the Hugging Face repo layout: ``config.json``, ``model.safetensors`` and
``README.md`` (the model card). The zoo's trained weights ship inside the package under
:data:`zoo.settings.BUNDLED_WEIGHTS_DIR`, so everything works without a network.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.errors import IntegrityError, UnsafeWeightsError, WeightsNotFoundError
from zoo.registry import check_model_name, create_model, get_spec
from zoo.settings import BUNDLED_WEIGHTS_DIR, CONFIG_NAME, WEIGHTS_NAME

if TYPE_CHECKING:
    import torch
    from torch import nn

#: File names that would need unpickling; never loaded.
PICKLE_NAMES = ("pytorch_model.bin", "model.pt", "model.pth", "model.ckpt", "model.pkl")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_sha256(path: Path, expected: str) -> None:
    """Raise :class:`IntegrityError` unless ``path`` hashes to ``expected``."""
    actual = sha256_file(path)
    if actual != expected:
        raise IntegrityError(
            f"{path} is corrupt or was tampered with: sha256 {actual[:12]}… does not match the "
            f"expected {expected[:12]}…. Delete it and pull again (`zoo pull NAME --force`)."
        )


def bundled_dir(name: str) -> Path:
    """Folder of the weights of ``name`` that ship with the package."""
    return BUNDLED_WEIGHTS_DIR / check_model_name(name)


def find_weights_file(folder: Path) -> Path:
    """``model.safetensors`` in ``folder``; refuses folders that only offer pickles."""
    path = folder / WEIGHTS_NAME
    if path.is_file():
        return path
    pickles = [p for p in PICKLE_NAMES if (folder / p).exists()]
    if pickles:
        raise UnsafeWeightsError(
            f"{folder} offers only {', '.join(pickles)}, which would need unpickling; genzoo "
            "loads safetensors only. Convert the checkpoint to model.safetensors first."
        )
    raise WeightsNotFoundError(
        f"no {WEIGHTS_NAME} in {folder}. Run `zoo pull NAME` (or train it with `zoo train NAME`)."
    )


def read_config(folder: Path) -> dict[str, Any]:
    """The model config (``config.json``) of a weights folder."""
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise WeightsNotFoundError(f"no {CONFIG_NAME} in {folder}.")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def load_state_dict(path: Path, *, sha256: str | None) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file, after its sha256 check (skipped only when ``None``)."""
    from safetensors.torch import load_file

    if sha256 is not None:
        verify_sha256(path, sha256)
    return load_file(str(path))


def load_model_from_dir(folder: Path, *, sha256: str | None, device: str = "cpu") -> nn.Module:
    """The model of ``folder/config.json`` with its checked weights, in eval mode."""
    cfg = read_config(folder)
    name = cfg.get("model_name")
    if not isinstance(name, str):
        raise WeightsNotFoundError(f"{folder / CONFIG_NAME} has no 'model_name'.")
    model = create_model(name, **cfg.get("config", {}))
    state = load_state_dict(find_weights_file(folder), sha256=sha256)
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()


def load_bundled(name: str, *, device: str = "cpu") -> nn.Module:
    """The shipped weights of ``name``, checked against the registry's sha256."""
    spec = get_spec(name)
    folder = bundled_dir(name)
    if not spec.sha256:
        raise WeightsNotFoundError(
            f"{name} has no trained weights registered yet; train them with `zoo train {name}`."
        )
    return load_model_from_dir(folder, sha256=spec.sha256, device=device)


def save_weights(model: nn.Module, folder: Path, name: str, config: dict[str, Any]) -> str:
    """Write ``model.safetensors`` and ``config.json`` atomically; return the weights' sha256."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    write_atomic(folder / WEIGHTS_NAME, lambda p: save_file(state, str(p)))
    cfg = {"model_name": name, "family": get_spec(name).family, "config": config}
    write_atomic(
        folder / CONFIG_NAME,
        lambda p: p.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n"),
    )
    return sha256_file(folder / WEIGHTS_NAME)


def write_atomic(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``, so readers never see a partial file.

    The file gets the permissions the user's umask gives a new file (0644 under umask 022),
    like any other file a program writes, not ``mkstemp``'s private 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    # O_EXCL: a fresh name of our own (the random part makes a clash practically impossible);
    # mode 0o666 is filtered by the umask, as open() does for any new file.
    os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
