"""``zoo playground``: a web page (Gradio) to try every served model, through the client SDK.

The page talks to Triton only through :class:`serving.client.ZooClient`, exactly as any client
machine would. Pick a model and the page shows the controls its entry points take:

- generators (DCGAN, cGAN, StyleGAN2, the VAE's ``sample``): a first seed and a count give a
  grid; the cGAN adds a class label, StyleGAN2 the truncation ψ and a mixing seed;
- image models: draw or upload a digit, then translate it (CycleGAN, both directions),
  classify it, or encode → decode it (VAE, with the latent's size beside the image's) and
  inpaint it with a mask painted over the digit.

Every call shows its latency (the SDK call alone, measured around it). Input the SDK refuses
appears in the page as one error message (``gr.Error``), never as a traceback. Up to
:data:`MAX_CONCURRENT_CALLS` calls run side by side, so several people can use one page.

Each server call is also a named API endpoint, for ``gradio_client`` or any HTTP client:
``/generate``, ``/translate``, ``/classify``, ``/encode_decode`` and ``/inpaint``, taking the
page's inputs in order and returning what the page shows.

Images leave the page as they left the server: grids are PNG (lossless) at the model's
resolution, tiled by :func:`zoo.images.make_grid`, and enlarged on screen by CSS only.
:func:`start_playground` also starts the embedded Triton when no URL is given, and
:meth:`Playground.close` stops what it started. Gradio's analytics and version check are off.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from serving.client import (
    ENCODER_SUFFIX,
    GENERATE_ENTRIES,
    MAX_SEED,
    NUM_CLASSES,
    ModelSignature,
    Protocol,
    ServerUnavailableError,
    ZooClient,
    ZooClientError,
)
from serving.server.triton import LOOPBACK, ServerConfig, TritonServer
from zoo.errors import InvalidInputError, MissingDependencyError, ZooError
from zoo.images import make_grid
from zoo.registry import get_spec, list_models, triton_model_name

#: Default port of the page (Gradio's usual one).
DEFAULT_PORT = 7860
#: Most images one grid may hold (a page is for looking, `zoo generate` for bulk).
MAX_IMAGES = 64
#: Side of the drawing canvas, in screen pixels.
CANVAS = 256
#: Fraction of the frame a digit's longer side fills once centred (MNIST's 20 of 28 pixels).
DIGIT_FILL = 20 / 28
#: Fraction of a model pixel that must be painted over for the mask to hide it.
MASK_COVER = 0.25
#: Shown on screen, each model pixel takes this many screen pixels.
ZOOM = 8
#: Calls to the server the page runs at once, all visitors and buttons together (Gradio's
#: default is one at a time per button); more wait in Gradio's queue.
MAX_CONCURRENT_CALLS = 8
#: Gradio concurrency group of every button that calls the server (shares that limit).
_SERVER_CALLS = "triton"

Image = npt.NDArray[np.uint8]
T = TypeVar("T")

_CSS = """
.pixelated img { image-rendering: pixelated; width: 100%; height: 100%; object-fit: contain; }
#status { min-height: 2em; }
"""


# ---------------------------------------------------------------------------------------------
# Digits in: canvas or upload → the model's uint8 (H, W, 1) input.
# ---------------------------------------------------------------------------------------------


def _as_grey(image: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Grey levels 0–255 of an (H, W), (H, W, C) image; transparent pixels count as white."""
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim == 2:
        return arr
    if arr.ndim != 3 or arr.shape[-1] not in (1, 2, 3, 4):
        raise InvalidInputError(f"expected a grey, RGB or RGBA image, got shape {arr.shape}.")
    alpha = arr[..., -1:] / 255.0 if arr.shape[-1] in (2, 4) else np.ones((*arr.shape[:2], 1))
    colour = arr[..., :3] if arr.shape[-1] >= 3 else arr[..., :1]
    grey = colour.mean(axis=-1, keepdims=True) * alpha + 255.0 * (1.0 - alpha)
    return grey[..., 0]


def _resize(image: npt.NDArray[np.float64], width: int, height: int) -> npt.NDArray[np.float64]:
    """Area-averaging resize of a float image (exact for whole-number reductions)."""
    from PIL import Image as PILImage

    pil = PILImage.fromarray(image.astype(np.float32), mode="F")
    return np.asarray(pil.resize((width, height), PILImage.Resampling.BOX), dtype=np.float64)


def digit_from_image(image: npt.NDArray[Any] | None, size: int) -> Image:
    """A drawn or uploaded digit as the model's uint8 ``(size, size, 1)`` white-on-black input.

    Dark-on-light pictures (a drawing, a scan) are inverted. A square picture whose side is a
    multiple of ``size`` is taken as the whole frame and averaged down (a model-sized image is
    used as it is); any other picture is cropped to its ink, scaled so that its longer side
    fills MNIST's 20 of 28 pixels, and centred on its centre of mass.
    """
    if image is None or np.asarray(image).size == 0:
        raise InvalidInputError("no digit yet: draw one on the canvas or upload a picture.")
    grey = _as_grey(image)
    ink = 255.0 - grey if grey.mean() > 127.5 else grey
    if ink.max() < 32:
        raise InvalidInputError("the picture is blank: draw a digit (or upload one) first.")
    h, w = ink.shape
    if h == w and h % size == 0:
        out = _resize(ink, size, size) if h != size else ink
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)[..., None]
    rows, cols = np.nonzero(ink >= 32)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    scale = DIGIT_FILL * size / max(crop.shape)
    ch, cw = (max(1, round(d * scale)) for d in crop.shape)
    small = np.clip(_resize(crop, cw, ch), 0, 255)
    total = small.sum()
    cy = (small.sum(axis=1) * np.arange(ch)).sum() / total
    cx = (small.sum(axis=0) * np.arange(cw)).sum() / total
    top = int(np.clip(round(size / 2 - 0.5 - cy), 0, size - ch))
    left = int(np.clip(round(size / 2 - 0.5 - cx), 0, size - cw))
    frame = np.zeros((size, size))
    frame[top : top + ch, left : left + cw] = small
    return np.rint(frame).astype(np.uint8)[..., None]


def editor_image(value: Any) -> npt.NDArray[Any] | None:
    """The picture in a Gradio sketchpad / image-editor value (its composite)."""
    if value is None:
        return None
    if isinstance(value, dict):
        picture = value.get("composite")
        if picture is None:
            picture = value.get("background")
        return None if picture is None else np.asarray(picture)
    return np.asarray(value)


def mask_from_editor(value: Any, size: int) -> Image:
    """The inpainting mask painted in an image editor: uint8 ``(size, size, 1)``, 0 = fill.

    A model pixel is to be filled when at least :data:`MASK_COVER` of it is painted over in
    any layer above the background.
    """
    layers = value.get("layers") if isinstance(value, dict) else None
    background = editor_image(value)
    if background is None:
        raise InvalidInputError("no digit to mask: press “Mask this digit” first.")
    painted = np.zeros(background.shape[:2])
    for layer in layers or []:
        arr = np.asarray(layer)
        if arr.ndim == 3 and arr.shape[-1] == 4 and arr.shape[:2] == painted.shape:
            painted = np.maximum(painted, arr[..., 3] / 255.0)
    if painted.max() == 0:
        raise InvalidInputError("no mask: paint over the part of the digit to fill in.")
    cover = _resize(painted, size, size)
    return (cover < MASK_COVER).astype(np.uint8)[..., None]


def enlarge(image: Image, zoom: int = ZOOM) -> Image:
    """Nearest-neighbour enlargement of an (H, W, C) image, for a canvas people can paint on."""
    return np.repeat(np.repeat(image, zoom, axis=0), zoom, axis=1)


def _picture(image: Image) -> Image:
    """An (H, W, 1) uint8 image as the page shows grey pictures: (H, W); colour as it is."""
    return image[..., 0] if image.shape[-1] == 1 else image


def softmax(logits: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Class probabilities of logits, per row."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------------
# What a served model offers.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServedModel:
    """A zoo model the server serves, and the entry points of it that are loaded."""

    name: str  # zoo name, e.g. "vae-mnist"
    family: str  # registry family, e.g. "vae"
    description: str  # one line
    resolution: int  # image side in pixels
    entries: tuple[str, ...]  # entry points served, e.g. ("sample", "encode", ...)
    inputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # entry → its inputs

    def takes(self, tensor: str, entry: str | None = None) -> bool:
        """Whether ``entry`` (any served entry when ``None``) has an input called ``tensor``.

        The page's controls follow the signatures: a class picker for a ``label`` input, a ψ
        slider for ``psi``, so a new family gets its controls without an edit here.
        """
        entries = self.entries if entry is None else (entry,)
        return any(tensor in self.inputs.get(e, ()) for e in entries)

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
        entries = tuple(e for e in spec.tasks if triton_model_name(model, e) in names)
        if entries:
            inputs = {e: tuple(t.name for t in spec.entry_point(e).inputs) for e in entries}
            out.append(
                ServedModel(model, spec.family, spec.description, spec.resolution, entries, inputs)
            )
    return out


# ---------------------------------------------------------------------------------------------
# The page's calls: plain functions of the page's values, so tests can call them directly.
# ---------------------------------------------------------------------------------------------


def _gradio() -> Any:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import gradio as gr
    except ImportError as e:
        raise MissingDependencyError("gradio", "playground") from e
    return gr


@dataclass
class Timed:
    """One SDK call's result and how long it took."""

    value: Any
    ms: float


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
        if "label" in sig.inputs:
            kwargs["labels"] = _whole(label, "the class label", 0, NUM_CLASSES - 1)
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
        if model.takes("label", "interpolate"):
            labels = _whole(label, "the class label", 0, NUM_CLASSES - 1)
        t = np.linspace(0.0, 1.0, n)
        images, ms = self._timed(self.client.interpolate, name, start, end, t, labels)
        status = f"**{ms:.1f} ms** · `{name}` interpolate · seeds {start} → {end} · {n} images"
        return _picture(make_grid(images, ncols=n)), status

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
        except (ZooClientError, ZooError, ValueError) as e:
            raise gr.Error(str(e), print_exception=False) from None

    return wrapper


# ---------------------------------------------------------------------------------------------
# The page.
# ---------------------------------------------------------------------------------------------


def visibility(model: ServedModel | None) -> dict[str, bool]:
    """Which parts of the page a model shows."""
    entries = set(model.entries) if model else set()
    return {
        "generator": bool(model and model.generates),
        "label": bool(model and model.takes("label")),
        "psi": bool(model and model.takes("psi")),
        "digit": bool(model and model.takes_digits),
        "translate": any(e.startswith("translate_") for e in entries),
        "classify": "classify" in entries,
        "encode": "encode" in entries and "decode" in entries,
        "inpaint": "inpaint" in entries,
        "interpolate": "interpolate" in entries,
        "project": "project" in entries,
    }


def build_app(calls: PlaygroundCalls, *, server_note: str = "") -> Any:
    """The Gradio ``Blocks`` of the playground: each control calls one of ``calls``."""
    gr = _gradio()
    names = list(calls.models)
    first = calls.models[names[0]] if names else None
    shown = visibility(first)

    def describe(name: str | None) -> str:
        if not name or name not in calls.models:
            return "The server serves no zoo model: build the repository with `zoo repo build`."
        m = calls.models[name]
        return f"**{m.name}** ({m.family}) — {m.description} Serves: {', '.join(m.entries)}."

    with gr.Blocks(title="genzoo playground", analytics_enabled=False) as app:
        gr.Markdown(
            "# genzoo playground\nEvery picture comes from the Triton server through the "
            f"client SDK{f' ({server_note})' if server_note else ''}; "
            "the latency shown is the SDK call's."
        )
        model = gr.Dropdown(
            names, value=names[0] if names else None, label="Model", elem_id="model"
        )
        about = gr.Markdown(describe(names[0] if names else None), elem_id="about")

        with gr.Group(visible=shown["generator"]) as generator:
            with gr.Row():
                seed = gr.Number(0, label="First seed", precision=0, elem_id="seed")
                count = gr.Slider(1, MAX_IMAGES, 16, step=1, label="Images", elem_id="count")
                label = gr.Dropdown(
                    [str(c) for c in range(NUM_CLASSES)],
                    value="0",
                    label="Class label",
                    visible=shown["label"],
                    elem_id="label",
                )
                psi = gr.Slider(
                    -1.0,
                    2.0,
                    1.0,
                    step=0.05,
                    label="Truncation ψ",
                    visible=shown["psi"],
                    elem_id="psi",
                )
                mix = gr.Textbox(
                    "",
                    label="Mixing seed",
                    placeholder="none",
                    visible=shown["psi"],
                    elem_id="mix",
                )
            with gr.Row():
                generate = gr.Button("Generate", variant="primary", elem_id="generate")
                end_seed = gr.Number(
                    1,
                    label="End seed (interpolation strip)",
                    precision=0,
                    visible=shown["interpolate"],
                    elem_id="end-seed",
                )
                interpolate = gr.Button(
                    "Interpolate", visible=shown["interpolate"], elem_id="interpolate"
                )
            grid = gr.Image(
                label="Grid",
                format="png",
                type="numpy",
                interactive=False,
                height=360,
                buttons=["download", "fullscreen"],
                elem_id="grid",
                elem_classes=["pixelated"],
            )

        with gr.Group(visible=shown["digit"]) as digit_box:
            with gr.Row():
                digit = gr.Sketchpad(
                    label="Draw or upload a digit",
                    sources=["upload", "clipboard"],
                    canvas_size=(CANVAS, CANVAS),
                    brush=gr.Brush(
                        colors=["#000000"],
                        default_color="#000000",
                        color_mode="fixed",
                        default_size=CANVAS // 16,
                    ),
                    type="numpy",
                    format="png",
                    elem_id="digit",
                )
                result = gr.Image(
                    label="Result",
                    format="png",
                    type="numpy",
                    interactive=False,
                    buttons=["download", "fullscreen"],
                    height=300,
                    elem_id="result",
                    elem_classes=["pixelated"],
                )
            with gr.Row():
                direction = gr.Radio(
                    [("a → b (UCI digits → MNIST)", "a2b"), ("b → a (MNIST → UCI digits)", "b2a")],
                    value="b2a",
                    label="Direction",
                    visible=shown["translate"],
                    elem_id="direction",
                )
                translate = gr.Button("Translate", visible=shown["translate"], elem_id="translate")
                classify = gr.Button("Classify", visible=shown["classify"], elem_id="classify")
                encode = gr.Button("Encode → decode", visible=shown["encode"], elem_id="encode")
                to_mask = gr.Button("Mask this digit", visible=shown["inpaint"], elem_id="to-mask")
                restyle_seed = gr.Number(
                    0,
                    label="Restyling seed",
                    precision=0,
                    visible=shown["project"],
                    elem_id="restyle-seed",
                )
                restyle_layer = gr.Slider(
                    0,
                    8,
                    4,
                    step=1,
                    label="Restyle ws from layer (0 = all, 8 = none)",
                    visible=shown["project"],
                    elem_id="restyle-layer",
                )
                project = gr.Button("Project", visible=shown["project"], elem_id="project")
            classes = gr.Label(
                num_top_classes=3, label="Classes", visible=shown["classify"], elem_id="classes"
            )
            latent = gr.Textbox(
                label="Latent code",
                visible=shown["encode"],
                interactive=False,
                elem_id="latent",
            )

        with gr.Group(visible=shown["inpaint"]) as inpaint_box:
            mask_editor = gr.ImageEditor(
                label="Paint over the part to fill in",
                sources=[],
                brush=gr.Brush(
                    colors=["#ff3030"],
                    default_color="#ff3030",
                    color_mode="fixed",
                    default_size=ZOOM * 2,
                ),
                transforms=[],
                type="numpy",
                format="png",
                elem_id="mask-editor",
            )
            inpaint = gr.Button("Inpaint", elem_id="inpaint")

        status = gr.Markdown("", elem_id="status")

        def pick(name: str | None) -> list[Any]:
            vis = visibility(calls.models.get(name or ""))
            return [
                describe(name),
                gr.update(visible=vis["generator"]),
                gr.update(visible=vis["label"]),
                gr.update(visible=vis["psi"]),
                gr.update(visible=vis["psi"]),
                gr.update(visible=vis["digit"]),
                gr.update(visible=vis["translate"]),
                gr.update(visible=vis["translate"]),
                gr.update(visible=vis["classify"]),
                gr.update(visible=vis["classify"]),
                gr.update(visible=vis["encode"]),
                gr.update(visible=vis["encode"]),
                gr.update(visible=vis["inpaint"]),
                gr.update(visible=vis["inpaint"]),
                gr.update(visible=vis["interpolate"]),
                gr.update(visible=vis["interpolate"]),
                gr.update(visible=vis["project"]),
                gr.update(visible=vis["project"]),
                gr.update(visible=vis["project"]),
                None,
                None,
                "",
            ]

        model.change(
            pick,
            model,
            [
                about,
                generator,
                label,
                psi,
                mix,
                digit_box,
                direction,
                translate,
                classify,
                classes,
                encode,
                latent,
                to_mask,
                inpaint_box,
                end_seed,
                interpolate,
                restyle_seed,
                restyle_layer,
                project,
                grid,
                result,
                status,
            ],
            api_visibility="private",
        )
        server_call = {"concurrency_limit": MAX_CONCURRENT_CALLS, "concurrency_id": _SERVER_CALLS}
        generate.click(
            _user_errors(calls.generate),
            [model, seed, count, label, psi, mix],
            [grid, status],
            api_name="generate",
            **server_call,
        )
        interpolate.click(
            _user_errors(calls.interpolate),
            [model, seed, end_seed, count, label],
            [grid, status],
            api_name="interpolate",
            **server_call,
        )
        project.click(
            _user_errors(calls.project),
            [model, digit, restyle_seed, restyle_layer],
            [result, status],
            api_name="project",
            **server_call,
        )
        translate.click(
            _user_errors(calls.translate),
            [model, digit, direction],
            [result, status],
            api_name="translate",
            **server_call,
        )
        classify.click(
            _user_errors(calls.classify),
            [model, digit],
            [classes, status],
            api_name="classify",
            **server_call,
        )
        encode.click(
            _user_errors(calls.encode_decode),
            [model, digit],
            [result, latent, status],
            api_name="encode_decode",
            **server_call,
        )

        def masked_canvas(name: str, picture: Any) -> dict[str, Any]:
            x = digit_from_image(editor_image(picture), calls.model(name).resolution)
            return {"background": enlarge(x)[..., 0], "layers": [], "composite": None}

        to_mask.click(
            _user_errors(masked_canvas), [model, digit], mask_editor, api_visibility="private"
        )
        inpaint.click(
            _user_errors(calls.inpaint),
            [model, mask_editor],
            [result, status],
            api_name="inpaint",
            **server_call,
        )
    return app


# ---------------------------------------------------------------------------------------------
# Running it: the page, and the embedded Triton when no URL is given.
# ---------------------------------------------------------------------------------------------


@dataclass
class Playground:
    """A running playground page (and the Triton it started, if any)."""

    url: str  # the page's address
    triton_url: str  # the server the page calls
    app: Any  # the gradio Blocks
    calls: PlaygroundCalls  # what the page's buttons call (on the SDK client)
    server: TritonServer | None = None  # the embedded Triton, when the playground started it
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        """Stop the page, close the client, stop the Triton it started."""
        if self._closed:
            return
        self._closed = True
        try:
            self.app.close()
        finally:
            self.calls.client.close()
            if self.server is not None:
                self.server.stop()

    def __enter__(self) -> Playground:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def start_playground(
    url: str | None = None,
    *,
    host: str = LOOPBACK,
    port: int = DEFAULT_PORT,
    protocol: Protocol | None = None,
    models: Sequence[str] | None = None,
    repository: Path | None = None,
    log_file: Path | None = None,
    progress: Callable[[str], None] | None = None,
    connection: Mapping[str, Any] | None = None,
) -> Playground:
    """Serve the page on ``host:port`` and return at once; ``close()`` stops it.

    With ``url`` the page calls that Triton server, over ``protocol`` (default: the URL's
    scheme, else HTTP) with the client's TLS and header options in ``connection``
    (``headers``, ``ca_cert``, ``client_cert``, ``client_key``). Without, it starts the
    embedded Triton on free loopback ports, serving ``repository`` (default
    ``model_repository/``, built first with the trained weights when it holds no model),
    limited to ``models`` when given. Start it from a thread that lives as long as the page
    (see :class:`TritonServer`).
    """
    gr = _gradio()
    say = progress or (lambda _msg: None)
    server: TritonServer | None = None
    if url is None:
        server = _start_triton(models, repository, log_file, say)
        protocol = protocol or "http"
        url = server.http_url if protocol == "http" else server.grpc_url
    client: ZooClient | None = None
    try:
        client = ZooClient(url, protocol=protocol, **(connection or {}))
        if not client.ready():
            raise ServerUnavailableError(
                f"the Triton server at {client.url} is not ready (or not running): start it "
                "with `zoo serve`, or leave out --url to start one."
            )
        note = f"{'embedded ' if server else ''}Triton at {client.url}"
        calls = PlaygroundCalls(client)
        app = build_app(calls, server_note=note)
        say(f"starting the page on {host}:{port}")
        _, local_url, _ = app.launch(
            server_name=host,
            server_port=port,
            prevent_thread_lock=True,
            quiet=True,
            share=False,
            inbrowser=False,
            show_error=False,
            footer_links=[],
            theme=gr.themes.Default(),
            css=_CSS,
        )
    except BaseException:
        if client is not None:
            client.close()
        if server is not None:
            server.stop()
        raise
    return Playground(str(local_url), client.url, app, calls, server)


def _start_triton(
    models: Sequence[str] | None,
    repository: Path | None,
    log_file: Path | None,
    say: Callable[[str], None],
) -> TritonServer:
    """The embedded Triton on free loopback ports, serving (and, if empty, building) the repo."""
    from serving.server.inprocess import served_entries
    from serving.server.repository import build_repository
    from zoo.settings import model_repository_dir

    repo = Path(repository or model_repository_dir())
    if not any(repo.glob("*/config.pbtxt")):
        say(f"building the Triton repository in {repo} (trained weights)")
        build_repository(list(models) if models else None, out_dir=repo, progress=say)
    config = ServerConfig.on_free_ports(
        repo,
        load_models=tuple(sorted(served_entries(list(models)))) if models else (),
    )
    say("starting Triton")
    return TritonServer(config, log_file=log_file).start()


def wait_forever(playground: Playground, stop: threading.Event) -> None:
    """Block until ``stop`` is set or the embedded Triton exits; raise if it exited."""
    from zoo.errors import ServerStartError

    while not stop.wait(0.5):
        if playground.server is not None and not playground.server.is_running():
            raise ServerStartError(
                f"Triton exited; see its log {playground.server.log_file}:\n"
                f"{playground.server.log_tail()}"
            )
