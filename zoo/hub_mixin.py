"""``from_pretrained`` / ``save_pretrained`` / ``push_to_hub`` for the zoo's model classes.

:class:`HubMixin` is a ``huggingface_hub.ModelHubMixin``: the mixin captures each model's
constructor arguments when it is built (its ``__new__``) and writes them as ``config.json``;
the methods keep the names and meanings of ``huggingface_hub``. genzoo fills the hooks:
``_from_pretrained`` pulls through :mod:`zoo.hub` (one commit, the sha256 gate, the bundled
fallback, safetensors only) and ``_save_pretrained`` writes safetensors with metadata. It
imports nothing of the project at module level; its methods call :mod:`zoo.hub`, which sits
below it (docs/architecture.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from huggingface_hub import ModelHubMixin

if TYPE_CHECKING:
    import torch
    from huggingface_hub import ModelCard
    from huggingface_hub.hub_mixin import DataclassInstance

T = TypeVar("T", bound="HubMixin")


class HubMixin(ModelHubMixin, library_name="genzoo", tags=["genzoo"]):
    """Hub methods for an ``nn.Module``; its constructor arguments are its config."""

    #: Registry name of the model, set when it was loaded or saved by name (else ``None``).
    zoo_name: str | None = None

    @classmethod
    def from_pretrained(
        cls: type[T],
        pretrained_model_name_or_path: str | Path,
        *,
        force_download: bool = False,
        token: str | bool | None = None,
        cache_dir: str | Path | None = None,
        local_files_only: bool = False,
        revision: str | None = None,
        **model_kwargs: Any,
    ) -> T:
        """Load from a Hub repo (``ORG/NAME[@REV]``), a zoo name (``NAME[@REV]``) or a folder.

        The arguments are ``huggingface_hub``'s; ``map_location`` (default ``"cpu"``),
        ``dtype`` and ``strict`` (default ``True``: every tensor must fit) go to
        :meth:`_from_pretrained`, other keywords override constructor arguments. Unlike the
        base class, ``config.json`` is not fetched on its own by branch name first: the hook
        pulls it with the weights from one resolved commit.
        """
        return cls._from_pretrained(
            model_id=str(pretrained_model_name_or_path),
            revision=revision,
            cache_dir=cache_dir,
            force_download=force_download,
            local_files_only=local_files_only,
            token=token,
            **model_kwargs,
        )

    @classmethod
    def _from_pretrained(
        cls: type[T],
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        map_location: str | torch.device = "cpu",
        dtype: torch.dtype | None = None,
        strict: bool = True,
        **config_overrides: Any,
    ) -> T:
        """Pull ``model_id`` through :mod:`zoo.hub` (sha256 gate, bundled fallback) and build it.

        A local folder (``save_pretrained``'s) has no outside digest; its safetensors are read
        as they are. ``local_files_only`` (or ``HF_HUB_OFFLINE``) uses the cache and the
        bundled copy only. A repo of another architecture is refused.
        """
        from zoo import hub

        if Path(model_id).is_dir():  # as huggingface_hub does: a folder first
            folder: T = hub.load_from_dir(
                Path(model_id),
                device=map_location,
                dtype=dtype,
                strict=strict,
                expected_class=cls,
                **config_overrides,
            )
            return folder
        model: T = hub.load(
            model_id,
            revision,
            offline=True if local_files_only else None,
            force=force_download,
            token=token,
            cache_dir=cache_dir,
            device=map_location,
            dtype=dtype,
            strict=strict,
            expected_class=cls,
            **config_overrides,
        )
        return model

    def save_pretrained(
        self,
        save_directory: str | Path,
        *,
        config: dict[Any, Any] | DataclassInstance | None = None,
        repo_id: str | None = None,
        push_to_hub: bool = False,
        model_card_kwargs: dict[str, Any] | None = None,
        model_name: str | None = None,
        **push_to_hub_kwargs: Any,
    ) -> str | None:
        """Write ``config.json``, ``model.safetensors`` and a card (if none) to ``save_directory``.

        As ``huggingface_hub``'s, plus ``model_name``: the zoo entry the model is (a model
        loaded by name remembers it). ``config`` defaults to the captured constructor
        arguments; genzoo's keys are added. Returns the commit URL when ``push_to_hub``.
        """
        from zoo import hub

        name = hub.zoo_name_of(self, model_name)
        full = hub.model_config_of(self, name, config)
        object.__setattr__(self, "zoo_name", name)  # _save_pretrained names the weights by it
        url: str | None = super().save_pretrained(
            save_directory,
            config=full,
            repo_id=repo_id,
            push_to_hub=push_to_hub,
            model_card_kwargs=model_card_kwargs,
            **push_to_hub_kwargs,
        )
        return url

    def _save_pretrained(self, save_directory: Path) -> None:
        """Write ``model.safetensors`` (with genzoo's metadata); the base class writes the rest."""
        from zoo.settings import WEIGHTS_NAME
        from zoo.weights import save_safetensors

        save_safetensors(self, Path(save_directory) / WEIGHTS_NAME, str(self.zoo_name))  # type: ignore[arg-type]

    def generate_model_card(self, *args: Any, **kwargs: Any) -> ModelCard:
        """The card ``save_pretrained`` writes into a folder that has none: the registry's."""
        from huggingface_hub import ModelCard

        from zoo import hub

        return ModelCard(hub.minimal_card(str(self.zoo_name)))

    def push_to_hub(
        self,
        repo_id: str,
        *,
        config: dict[Any, Any] | DataclassInstance | None = None,
        commit_message: str | None = None,
        private: bool | None = None,
        token: str | None = None,
        branch: str | None = None,
        create_pr: bool | None = None,
        allow_patterns: list[str] | str | None = None,
        ignore_patterns: list[str] | str | None = None,
        delete_patterns: list[str] | str | None = None,
        model_card_kwargs: dict[str, Any] | None = None,
        model_name: str | None = None,
    ) -> str:
        """Upload this model as ``repo_id`` in one commit; return the commit URL.

        The same names and meanings as ``huggingface_hub``'s (``token`` defaults to
        ``HF_TOKEN``); the upload is :func:`zoo.hub.publish`'s, so the files are checked first
        and a refusal comes back as one line.
        """
        from zoo import hub

        with hub.staging_dir() as tmp:
            saved = tmp / "saved"
            self.save_pretrained(
                saved, config=config, model_card_kwargs=model_card_kwargs, model_name=model_name
            )
            result = hub.publish(
                str(self.zoo_name),
                repo_id,
                revision=branch or "main",
                private=private,
                commit_message=commit_message,
                source=saved,
                token=token,
                create_pr=bool(create_pr),
                patterns=hub.UploadPatterns(allow_patterns, ignore_patterns, delete_patterns),
            )
        return str(result.url)
