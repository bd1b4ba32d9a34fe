"""Weights on disk: safetensors only, every file checked against its sha256 before loading.

A model folder has the Hugging Face repo layout: ``config.json``, ``model.safetensors`` and
``README.md`` (the model card). The zoo's trained weights ship inside the package under
:data:`zoo.settings.BUNDLED_WEIGHTS_DIR`, so everything works without a network.

``config.json`` holds the model's constructor arguments at the top level, as
``huggingface_hub.ModelHubMixin`` writes and reads them, plus genzoo's own keys
(:data:`GENZOO_KEYS`). Folders written before that layout (``{"model_name", "family",
"config": {...}}``) still load. ``model.safetensors`` carries ``__metadata__`` with
``format: pt``, the model name and the genzoo version.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo._version import __version__
from zoo.errors import (
    IntegrityError,
    InvalidNameError,
    UnsafeWeightsError,
    WeightsNotFoundError,
)
from zoo.naming import check_model_name
from zoo.registry import create_model, get_spec
from zoo.settings import BUNDLED_WEIGHTS_DIR, CONFIG_NAME, WEIGHTS_NAME

if TYPE_CHECKING:
    import torch
    from torch import nn

#: File names that would need unpickling; never loaded.
PICKLE_NAMES = ("pytorch_model.bin", "model.pt", "model.pth", "model.ckpt", "model.pkl")

#: genzoo's own keys in ``config.json``, beside the constructor arguments.
GENZOO_KEYS = ("model_name", "family", "genzoo_version")
# The layout before constructor arguments moved to the top level.
_NESTED_KEYS = {"model_name", "family", "config"}


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


def require_safetensors(where: str, names: Collection[str], *, missing: str) -> None:
    """Check that the files ``names`` found at ``where`` include ``model.safetensors``.

    The one pickle refusal: a folder or repo offering only pickled checkpoints
    (:data:`PICKLE_NAMES`) raises :class:`UnsafeWeightsError`; one offering neither raises
    :class:`WeightsNotFoundError` with the message ``missing``.
    """
    if WEIGHTS_NAME in names:
        return
    pickles = [p for p in PICKLE_NAMES if p in names]
    if pickles:
        raise UnsafeWeightsError(
            f"{where} offers only {', '.join(pickles)}, which would need unpickling; genzoo "
            "loads and publishes safetensors only. Convert the checkpoint to model.safetensors "
            "(or ask its owner for one)."
        )
    raise WeightsNotFoundError(missing)


def find_weights_file(folder: Path, *, missing: str | None = None) -> Path:
    """``model.safetensors`` in ``folder``; refuses folders that only offer pickles.

    ``missing`` is the message when the folder has neither (default: how to pull or train it).
    """
    names = (
        {p.name for p in folder.iterdir() if p.is_file() or p.name in PICKLE_NAMES}
        if folder.is_dir()
        else set()
    )
    hint = (
        f"no {WEIGHTS_NAME} in {folder}. Run `zoo pull NAME` (or train it with `zoo train NAME`)."
    )
    require_safetensors(str(folder), names, missing=missing or hint)
    return folder / WEIGHTS_NAME


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


def split_config(cfg: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The zoo name (``None`` if absent) and constructor arguments of a ``config.json``.

    Reads both layouts: constructor arguments at the top level beside :data:`GENZOO_KEYS`, and
    the older ``{"model_name", "family", "config": {...}}``.
    """
    name = cfg.get("model_name")
    if not (name is None or isinstance(name, str)):
        raise WeightsNotFoundError(f"'model_name' in {CONFIG_NAME} must be a string, not {name!r}.")
    if isinstance(cfg.get("config"), dict) and set(cfg) <= _NESTED_KEYS:
        return name, dict(cfg["config"])
    return name, {k: v for k, v in cfg.items() if k not in GENZOO_KEYS}


def zoo_config(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """The ``config.json`` of zoo model ``name`` built with constructor arguments ``args``."""

    clash = sorted(set(args) & set(GENZOO_KEYS))
    if clash:
        raise InvalidNameError(
            f"constructor argument(s) {', '.join(clash)} clash with genzoo's keys."
        )
    genzoo = {"model_name": name, "family": get_spec(name).family, "genzoo_version": __version__}
    return {**args, **genzoo}


def build_model(
    name: str | None,
    args: dict[str, Any],
    *,
    overrides: dict[str, Any] | None = None,
    expected_class: type | None = None,
    where: str = CONFIG_NAME,
) -> nn.Module:
    """A model with random weights from a config: the registry's ``name``, else ``expected_class``.

    ``overrides`` replace constructor arguments. Those the registry configures
    (``ModelSpec.config``) go to its builder; every other one must equal what the builder
    gives, so weights of another variant are refused here with a clear message rather than
    by ``load_state_dict``.
    """
    merged = {**args, **(overrides or {})}
    if name is None:
        if expected_class is None:
            raise WeightsNotFoundError(
                f"{where} has no 'model_name': load it with the model's class "
                "(e.g. DCGANGenerator.from_pretrained(FOLDER))."
            )
        model: nn.Module = expected_class(**merged)
        return model
    spec = get_spec(check_model_name(name))
    model = create_model(name, **{k: v for k, v in merged.items() if k in spec.config})
    built = getattr(model, "_hub_mixin_config", None) or {}
    rest = {k: v for k, v in merged.items() if k not in spec.config}
    unknown = sorted(set(rest) - set(built))
    if unknown:
        raise InvalidNameError(
            f"unknown constructor argument(s) for {name} in {where}: {', '.join(unknown)}; "
            f"valid: {', '.join(sorted(built))}."
        )
    odd = [f"{k}={v!r}" for k, v in rest.items() if built[k] != v]
    if odd:
        raise InvalidNameError(
            f"{where} ({', '.join(odd)}) is not a {name} model; pass the model_name it was "
            "built as."
        )
    if expected_class is not None and not isinstance(model, expected_class):
        raise InvalidNameError(
            f"{where} holds a {type(model).__name__}, not a {expected_class.__name__}: load it "
            f"with {type(model).__name__}.from_pretrained or zoo.load."
        )
    return model


def load_model_from_dir(
    folder: Path,
    *,
    sha256: str | None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    strict: bool = True,
    overrides: dict[str, Any] | None = None,
    expected_class: type | None = None,
) -> nn.Module:
    """The model of ``folder/config.json`` with its checked weights, in eval mode.

    ``overrides`` replace constructor arguments; ``strict`` is ``load_state_dict``'s;
    ``expected_class`` refuses a folder holding another architecture.
    """
    name, args = split_config(read_config(folder))
    model = build_model(
        name, args, overrides=overrides, expected_class=expected_class, where=str(folder)
    )
    state = load_state_dict(find_weights_file(folder), sha256=sha256)
    model.load_state_dict(state, strict=strict)
    object.__setattr__(model, "zoo_name", name)
    return model.to(device=device, dtype=dtype).eval()


def save_weights(model: nn.Module, folder: Path, name: str, config: dict[str, Any]) -> str:
    """Write ``model.safetensors`` and ``config.json`` atomically; return the weights' sha256.

    ``config`` is the registry config the model was built with; the arguments the model
    captured when it was built (its other constructor defaults) are written beside it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    sha = save_safetensors(model, folder / WEIGHTS_NAME, name)
    args = {**(getattr(model, "_hub_mixin_config", None) or {}), **config}
    text = json.dumps(zoo_config(name, args), indent=2, sort_keys=True) + "\n"
    write_atomic(folder / CONFIG_NAME, lambda p: p.write_text(text))
    return sha


def safetensors_metadata(name: str) -> dict[str, str]:
    """The ``__metadata__`` genzoo writes into a ``model.safetensors`` of model ``name``."""

    return {"format": "pt", "model_name": name, "genzoo_version": __version__}


def save_safetensors(model: nn.Module, path: Path, name: str) -> str:
    """Write the state dict of ``model`` to ``path`` atomically, with metadata; return sha256."""
    from safetensors.torch import save

    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    data = _sorted_metadata(save(state, metadata=safetensors_metadata(name)))
    write_atomic(path, lambda p: p.write_bytes(data))
    return sha256_file(path)


def _sorted_metadata(data: bytes) -> bytes:
    """``data`` (a safetensors file) with its ``__metadata__`` keys in sorted order.

    safetensors writes the metadata in hash-map order, which differs from run to run; sorted,
    the same tensors and metadata always give the same bytes (and sha256). The header keeps
    its length, so every data offset stays valid.
    """
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    if len(text) > size:  # cannot happen: the same keys and values, reordered
        raise ValueError("safetensors header grew while sorting its metadata")
    return data[:8] + text.ljust(size, b" ") + data[8 + size :]


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
