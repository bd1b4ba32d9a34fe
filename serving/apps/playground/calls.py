"""The page's calls on one SDK client: plain functions of the page's values (tests call them)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from serving.apps.playground.digits import (
    Image,
    _picture,
    digit_from_image,
    editor_image,
    mask_from_editor,
    softmax,
)
from serving.client import MAX_SEED, ModelSignature, ZooClient
from serving.client.signature import ENCODER_SUFFIX, GENERATE_ENTRIES
from serving.server.wire import wire_inputs
from zoo.errors import InvalidInputError, MissingDependencyError, ZooError
from zoo.images import make_grid
from zoo.registry import EntryPoint, get_spec, list_models, triton_model_name
from zoo.roles import Role, role_of, seed_latent

#: Most images one grid may hold (a page is for looking, `zoo generate` for bulk).
MAX_IMAGES = 64
#: The entry points the page's own buttons serve (through the SDK's verbs).
VERB_ENTRIES = (*GENERATE_ENTRIES, "interpolate", "synthesize", "project")
T = TypeVar("T")


@dataclass(frozen=True)
class ServedModel:
    """A zoo model the server serves, and the entry points of it that are loaded."""

    name: str  # zoo name, e.g. "vae-mnist"
    family: str  # registry family, e.g. "vae"
    description: str  # one line
    resolution: int  # image side in pixels
    entries: tuple[str, ...]  # entry points served, e.g. ("sample", "encode", ...)
    inputs: Mapping[str, Mapping[str, Role]] = field(default_factory=dict)  # entry → wire inputs
    classes: int = 0  # classes its label input takes (0..classes-1); 0: no label input

    def takes(self, tensor: str, entry: str | None = None) -> bool:
        """Whether ``entry`` (any served entry when ``None``) has an input called ``tensor``."""
        entries = self.entries if entry is None else (entry,)
        return any(tensor in self.inputs.get(e, {}) for e in entries)

    def takes_role(self, kind: str, entry: str | None = None) -> bool:
        """Whether ``entry`` (any served entry when ``None``) has an input that ``kind`` fills.

        The page's controls follow the signatures' roles (:mod:`zoo.roles`): a class picker
        for a label input, the ψ slider for the scalar ``psi`` (the ``generate`` verb's ψ), so
        a new family gets its controls without an edit here.
        """
        entries = self.entries if entry is None else (entry,)
        return any(r.kind == kind for e in entries for r in self.inputs.get(e, {}).values())

    @property
    def other_seeded(self) -> tuple[str, ...]:
        """Its seeded entry points that no verb of the page serves (run by the page's "Run")."""
        return tuple(
            e
            for e in self.entries
            if e not in VERB_ENTRIES and self.inputs[e].get("seed") == seed_latent()
        )

    @property
    def generates(self) -> bool:
        """Whether it makes images from seeds."""
        return any(e in self.entries for e in GENERATE_ENTRIES)

    @property
    def takes_digits(self) -> bool:
        """Whether it takes an image (translate, classify, encode, inpaint)."""
        return any(
            e.startswith("translate_") or e in ("classify", "encode", "project")
            for e in self.entries
        )


def served_models(triton_names: Sequence[str]) -> list[ServedModel]:
    """The zoo models among a server's Triton models (``<model>`` or ``<model>_<entry>``)."""
    names = set(triton_names)
    out = []
    for model in list_models():
        spec = get_spec(model)
        entries = tuple(e for e in spec.entry_names if triton_model_name(model, e) in names)
        if entries:
            taken = [t for e in entries for t in spec.entry_point(e).inputs]
            inputs = {e: _wire_roles(spec.entry_point(e)) for e in entries}
            classes = max((t.classes for t in taken), default=0)
            out.append(
                ServedModel(
                    model, spec.family, spec.description, spec.resolution, entries, inputs, classes
                )
            )
    return out


def _wire_roles(entry: EntryPoint) -> dict[str, Role]:
    """The wire inputs of ``entry`` (a seed's latent by its seed's name) and their roles."""
    return {w.name: role_of(t) for t, w in zip(entry.inputs, wire_inputs(entry), strict=True)}


def _gradio() -> Any:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import gradio as gr
    except ImportError as e:
        raise MissingDependencyError("gradio", "playground") from e
    return gr


def _whole(value: Any, what: str, lo: int, hi: int) -> int:
    """A whole number from a page field, in ``lo..hi``."""
    if value is None or value == "":
        raise InvalidInputError(f"{what} is empty: enter a whole number from {lo} to {hi}.")
    try:
        number = int(value) if isinstance(value, str | int) else float(value)
    except ValueError:
        number = float("nan")
    if not np.isfinite(number) or number != int(number) or not lo <= number <= hi:
        raise InvalidInputError(f"{what} must be a whole number from {lo} to {hi}, got {value!r}.")
    return int(number)


class PlaygroundCalls:
    """The page's actions on top of one :class:`ZooClient`; each returns what the page shows."""

    def __init__(self, client: ZooClient) -> None:
        self.client = client
        self.models = {m.name: m for m in served_models(client.list_models())}

    def model(self, name: str | None) -> ServedModel:
        """The served model called ``name``."""
        if not name or name not in self.models:
            offered = ", ".join(self.models) or "none"
            raise InvalidInputError(f"pick a model the server serves ({offered}).")
        return self.models[name]

    def _timed(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
        t0 = time.perf_counter()
        value = fn(*args, **kwargs)
        return value, (time.perf_counter() - t0) * 1000.0

    def generator_signature(self, name: str) -> ModelSignature:
        """The served generate/sample signature of ``name`` (which extra inputs it takes)."""
        return self.client.signature(name, GENERATE_ENTRIES)

    def generate(
        self,
        name: str,
        first_seed: Any,
        count: Any,
        label: Any = None,
        psi: Any = None,
        mix_seed: Any = None,
    ) -> tuple[Image, str]:
        """A grid of ``count`` images from seeds ``first_seed``…; the status line with latency."""
        model = self.model(name)
        if not model.generates:
            raise InvalidInputError(f"{name} does not generate from seeds.")
        n = _whole(count, "the number of images", 1, MAX_IMAGES)
        first = _whole(first_seed, "the first seed", 0, MAX_SEED - n + 1)
        sig = self.generator_signature(name)
        kwargs: dict[str, Any] = {}
        extra = ""
        if sig.inputs_of("label"):
            kwargs["labels"] = _whole(label, "the class label", 0, model.classes - 1)
            extra += f" · class {kwargs['labels']}"
        if "psi" in sig.inputs:
            kwargs["psi"] = float(psi if psi is not None else 1.0)
            extra += f" · ψ {kwargs['psi']:g}"
        if "mix_seed" in sig.inputs and str(mix_seed or "").strip():
            mixing = _whole(str(mix_seed).strip(), "the mixing seed", 0, MAX_SEED)
            kwargs["mix_seeds"] = [mixing] * n
            extra += f" · mixing seed {mixing}"
        seeds = list(range(first, first + n))
        images, ms = self._timed(self.client.generate, name, seeds, **kwargs)
        status = (
            f"**{ms:.1f} ms** · `{name}` generate · seeds {first}–{first + n - 1}{extra} · "
            f"{n} image{'s' * (n > 1)}"
        )
        return _picture(make_grid(images)), status

    def interpolate(
        self, name: str, first_seed: Any, end_seed: Any, count: Any, label: Any = None
    ) -> tuple[Image, str]:
        """A strip of ``count`` images from the first seed's digit to the end seed's."""
        model = self.model(name)
        if "interpolate" not in model.entries:
            raise InvalidInputError(f"{name} does not serve interpolate.")
        n = _whole(count, "the number of images", 2, MAX_IMAGES)
        start = _whole(first_seed, "the first seed", 0, MAX_SEED)
        end = _whole(end_seed, "the end seed", 0, MAX_SEED)
        labels = None
        if model.takes_role("label", "interpolate"):
            labels = _whole(label, "the class label", 0, model.classes - 1)
        t = np.linspace(0.0, 1.0, n)
        images, ms = self._timed(self.client.interpolate, name, start, end, t, labels)
        status = f"**{ms:.1f} ms** · `{name}` interpolate · seeds {start} → {end} · {n} images"
        return _picture(make_grid(images, ncols=n)), status

    def run(
        self,
        name: str,
        entry: str,
        first_seed: Any,
        count: Any,
        label: Any = None,
        values: Any = "",
    ) -> tuple[Image, str]:
        """A grid from a seeded entry point no verb serves (:attr:`ServedModel.other_seeded`):
        seeds ``first_seed``…, the class label if it takes one, and its other inputs as
        ``name=value`` pairs (comma-separated; each left out takes its default)."""
        model = self.model(name)
        if entry not in model.other_seeded:
            offered = ", ".join(model.other_seeded) or "none"
            raise InvalidInputError(f"pick an entry point of {name} to run ({offered}).")
        n = _whole(count, "the number of images", 1, MAX_IMAGES)
        first = _whole(first_seed, "the first seed", 0, MAX_SEED - n + 1)
        inputs: dict[str, Any] = {"seed": list(range(first, first + n)), **_pairs(values)}
        for wire, role in model.inputs[entry].items():
            if role.kind == "label":
                inputs[wire] = _whole(label, "the class label", 0, model.classes - 1)
        outputs, ms = self._timed(self.client.call, name, entry, **inputs)
        images = next((v for v in outputs.values() if v.dtype == np.uint8 and v.ndim == 4), None)
        if images is None:
            raise InvalidInputError(f"{entry} of {name} returns no image.")
        shown = "".join(f" · {k} {v}" for k, v in inputs.items() if k != "seed")
        status = (
            f"**{ms:.1f} ms** · `{name}` {entry} · seeds {first}–{first + n - 1}{shown} · "
            f"{n} image{'s' * (n > 1)}"
        )
        return _picture(make_grid(images)), status

    def project(self, name: str, picture: Any, restyle_seed: Any, layer: Any) -> tuple[Image, str]:
        """The digit, its projection and the projection restyled by a seed from a layer on."""
        model = self.model(name)
        if "project" not in model.entries:
            raise InvalidInputError(f"{name} does not project digits.")
        x = digit_from_image(editor_image(picture), model.resolution)[None]
        seed = _whole(restyle_seed, "the restyling seed", 0, MAX_SEED)
        (ws, rec), ms_project = self._timed(self.client.project, name, x)
        generator = name.removesuffix(ENCODER_SUFFIX)
        cut = _whole(layer, "the restyling layer", 0, ws.shape[1])
        restyled, ms_synth = self._timed(
            self.client.synthesize, generator, ws, mix_seeds=seed, mix_layer=cut
        )
        status = (
            f"**{ms_project:.1f} ms** project + **{ms_synth:.1f} ms** synthesize · `{name}` · "
            f"digit, projection, ws {cut}+ from seed {seed}"
        )
        return _picture(make_grid(np.concatenate([x, rec, restyled]), ncols=3)), status

    def translate(self, name: str, picture: Any, direction: str) -> tuple[Image, str]:
        """The digit translated ``a2b`` or ``b2a`` (CycleGAN)."""
        model = self.model(name)
        entry = f"translate_{direction}"
        if entry not in model.entries:
            raise InvalidInputError(f"{name} does not serve {entry}.")
        x = digit_from_image(editor_image(picture), model.resolution)[None]
        out, ms = self._timed(self.client.translate, name, x, direction)
        return _picture(out[0]), f"**{ms:.1f} ms** · `{name}` {entry} · 1 image"

    def classify(self, name: str, picture: Any) -> tuple[dict[str, float], str]:
        """Class probabilities of the digit."""
        model = self.model(name)
        x = digit_from_image(editor_image(picture), model.resolution)[None]
        logits, ms = self._timed(self.client.classify, name, x)
        probs = softmax(logits[0])
        best = int(probs.argmax())
        return (
            {str(c): float(p) for c, p in enumerate(probs)},
            f"**{ms:.1f} ms** · `{name}` classify · class {best} ({probs[best]:.0%})",
        )

    def encode_decode(self, name: str, picture: Any) -> tuple[Image, str, str]:
        """The digit encoded to its latent code and decoded back (VAE); the code as text."""
        model = self.model(name)
        x = digit_from_image(editor_image(picture), model.resolution)[None]
        (latent, _logvar), ms_enc = self._timed(self.client.encode, name, x)
        decoded, ms_dec = self._timed(self.client.decode, name, latent)
        d = latent.shape[1]
        pixels = int(np.prod(x.shape[1:]))
        code = ", ".join(f"{v:+.3f}" for v in latent[0])
        status = (
            f"**{ms_enc:.1f} ms** encode + **{ms_dec:.1f} ms** decode · `{name}` · "
            f"latent: {d} floats ({4 * d} bytes) against {pixels} pixels ({pixels} bytes as "
            f"uint8), {pixels / d:.0f}× fewer numbers"
        )
        return _picture(decoded[0]), f"[{code}]", status

    def inpaint(self, name: str, editor: Any) -> tuple[Image, str]:
        """The masked digit and the model's fill, side by side."""
        model = self.model(name)
        x = digit_from_image(editor_image(_background_only(editor)), model.resolution)[None]
        mask = mask_from_editor(editor, model.resolution)[None]
        out, ms = self._timed(self.client.inpaint, name, x, mask)
        hidden = int((mask == 0).sum())
        status = f"**{ms:.1f} ms** · `{name}` inpaint · {hidden} pixels filled"
        return _picture(make_grid(np.concatenate([x * mask, out]), ncols=2)), status


def _pairs(text: Any) -> dict[str, float]:
    """``"a=1, b=0.5"`` → ``{"a": 1.0, "b": 0.5}`` (an empty text: none)."""
    out = {}
    for pair in str(text or "").split(","):
        if not pair.strip():
            continue
        key, sep, value = pair.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not (sep and key.strip()):
            raise InvalidInputError(f"write inputs as name=number, comma-separated; got {pair!r}.")
    return out


def _background_only(editor: Any) -> Any:
    """The editor's background picture (the digit, without the mask painted over it)."""
    if isinstance(editor, dict) and editor.get("background") is not None:
        return editor["background"]
    raise InvalidInputError("no digit to mask: press “Mask this digit” first.")


def _user_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Turn a user-fixable error into one message in the page (no traceback)."""
    import functools

    gr = _gradio()

    @functools.wraps(fn)
    def wrapper(*args: Any) -> T:
        try:
            return fn(*args)
        except (ZooError, ValueError) as e:  # ZooClientError is a ZooError
            raise gr.Error(str(e), print_exception=False) from None

    return wrapper
