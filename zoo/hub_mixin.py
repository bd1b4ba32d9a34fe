"""``from_pretrained`` / ``save_pretrained`` / ``push_to_hub`` for the zoo's model classes.

A small template in the spirit of ``huggingface_hub.PyTorchModelHubMixin``, but every load
goes through :mod:`zoo.hub`, so the sha256 checks, the bundled fallback and the
safetensors-only rule apply. The model classes in :mod:`zoo.models` inherit it; it imports
nothing of the project at module level (``zoo.hub`` sits above ``zoo.models``) and reaches
``zoo.hub`` only when one of its methods is called.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from zoo.hub import PublishResult

T = TypeVar("T", bound="HubMixin")


class HubMixin:
    """Hub methods for an ``nn.Module``; records its constructor arguments as its config."""

    #: Registry name of the model, set when it was loaded by name or repo (else ``None``).
    zoo_name: str | None = None
    #: Constructor arguments (defaults filled in), captured at creation for ``save_pretrained``.
    _hub_config: dict[str, Any] | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """Create the instance and remember the arguments it is being built with."""
        instance = super().__new__(cls)
        try:
            bound = inspect.signature(cls.__init__).bind(instance, *args, **kwargs)
        except TypeError:  # let __init__ report the bad call
            return instance
        bound.apply_defaults()
        config = dict(list(bound.arguments.items())[1:])
        # nn.Module.__setattr__ needs __init__ to have run; plain attribute storage does not.
        object.__setattr__(instance, "_hub_config", config)
        return instance

    @classmethod
    def from_pretrained(
        cls: type[T],
        repo_id: str | Path,
        *,
        revision: str | None = None,
        force_download: bool = False,
        local_files_only: bool | None = None,
        device: str = "cpu",
    ) -> T:
        """Load from a Hub repo (``ORG/NAME``), a zoo name, or a local folder.

        ``revision`` is a branch, tag or commit sha; ``local_files_only`` (default
        ``HF_HUB_OFFLINE``) uses the cache and the bundled copy only. The weights are
        sha256-checked and read as safetensors; a repo of another architecture is refused.
        """
        from zoo import hub

        if isinstance(repo_id, Path) or Path(repo_id).is_dir():
            return hub.load_from_dir(Path(repo_id), device=device, expected_class=cls)
        return hub.load(
            str(repo_id),
            revision,
            local_files_only,
            force=force_download,
            device=device,
            expected_class=cls,
        )

    def save_pretrained(self, save_directory: str | Path, *, model_name: str | None = None) -> Path:
        """Write ``config.json`` and ``model.safetensors`` to ``save_directory``."""
        from zoo import hub

        return hub.save_pretrained(self, Path(save_directory), model_name=model_name)  # type: ignore[arg-type]

    def push_to_hub(
        self,
        repo_id: str,
        *,
        model_name: str | None = None,
        revision: str = "main",
        tag: str | None = None,
        private: bool | None = None,
        commit_message: str | None = None,
    ) -> PublishResult:
        """Upload this model as ``repo_id`` (``HF_TOKEN`` authenticates)."""
        from zoo import hub

        return hub.push_to_hub(
            self,  # type: ignore[arg-type]
            repo_id,
            model_name=model_name,
            revision=revision,
            tag=tag,
            private=private,
            commit_message=commit_message,
        )
