"""Load and save: ``zoo.load``, a local folder, and the config a model is saved with.

:func:`load` is the one way from a name to a model with trained weights: it pulls (the Hub,
else the HF cache, else the bundled copy, each after the sha256 check) and builds the model
from ``config.json``. The family classes' ``from_pretrained`` and ``save_pretrained`` come here.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from zoo.errors import InvalidNameError
from zoo.hub.fetch import pull, pull_repo
from zoo.hub.names import check_repo_id, check_revision
from zoo.naming import check_model_name
from zoo.registry import get_spec
from zoo.weights import build_model, load_model_from_dir, split_config, zoo_config

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

M = TypeVar("M")


def load(
    name: str,
    revision: str | None = None,
    offline: bool | None = None,
    *,
    force: bool = False,
    token: str | bool | None = None,
    cache_dir: str | Path | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    strict: bool = True,
    expected_class: type[M] | None = None,
    **config_overrides: Any,
) -> M:
    """Pull ``name`` (a zoo name or a Hub ``ORG/NAME``, ``@REV`` works) and return the model.

    The model is in eval mode on ``device`` (and ``dtype``); its weights passed the sha256
    check twice (on pull and again right before loading). ``config_overrides`` replace
    constructor arguments; ``expected_class`` refuses a repo holding another architecture.
    A local folder is never looked for here (it would skip the sha256 gate unasked): load one
    with :func:`load_from_dir` or a class's ``from_pretrained``.
    """
    if "/" in name:
        repo_id, _, rev = name.partition("@")
        rev = rev or revision or "main"
        pulled = pull_repo(
            check_repo_id(repo_id),
            check_revision(rev),
            sha256=_registry_sha256(repo_id, rev),
            force=force,
            offline=offline,
            token=token,
            cache_dir=cache_dir,
        )
    else:
        pulled = pull(
            name, revision, force=force, offline=offline, token=token, cache_dir=cache_dir
        )
    if pulled.message:
        logger.warning(pulled.message)
    model = pulled.load(
        device=device,
        dtype=dtype,
        strict=strict,
        expected_class=expected_class,
        **config_overrides,
    )
    return cast(M, model)


def load_from_dir(
    folder: Path,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    strict: bool = True,
    expected_class: type[M] | None = None,
    **config_overrides: Any,
) -> M:
    """A model saved with ``save_pretrained`` in a local folder (safetensors only).

    A local folder has no outside digest to check against; its weights are read with
    safetensors, never unpickled, and must fit the architecture in its ``config.json``.
    """
    model = load_model_from_dir(
        folder,
        sha256=None,
        device=device,
        dtype=dtype,
        strict=strict,
        overrides=config_overrides,
        expected_class=expected_class,
    )
    return cast(M, model)


def _registry_sha256(repo_id: str, revision: str) -> str | None:
    """The registry's digest when ``repo_id@revision`` is exactly what a zoo entry pins."""
    from zoo.registry import list_models

    for name in list_models():
        spec = get_spec(name)
        if spec.repo_id == repo_id and spec.revision == revision and spec.sha256:
            return spec.sha256
    return None


def zoo_name_of(model: Any, model_name: str | None = None) -> str:
    """The zoo entry ``model`` belongs to: ``model_name``, else the name it was loaded by."""
    name = model_name or getattr(model, "zoo_name", None)
    if not name:
        raise InvalidNameError(
            "this model does not know its zoo name: pass model_name=... (see `zoo list`)."
        )
    return get_spec(check_model_name(name)).name


def model_config_of(model: Any, name: str, config: Any = None) -> dict[str, Any]:
    """The ``config.json`` of ``model`` saved as zoo entry ``name``, after checking it is one.

    ``config`` (constructor arguments as a dict or a dataclass, as ``save_pretrained`` takes
    it) defaults to the arguments the model captured when it was built.
    """
    if config is None:
        config = getattr(model, "_hub_mixin_config", None) or {}
    if is_dataclass(config) and not isinstance(config, type):
        config = asdict(config)
    _, args = split_config(dict(config))
    # Building a fresh one proves the arguments make this zoo entry, of this class.
    build_model(name, args, expected_class=type(model), where=f"this {type(model).__name__}")
    return zoo_config(name, args)
