"""The page: which controls a model shows, and the Gradio ``Blocks`` wired to the calls."""

from __future__ import annotations

from typing import Any

from serving.apps.playground.calls import (
    MAX_IMAGES,
    PlaygroundCalls,
    ServedModel,
    _gradio,
    _user_errors,
)
from serving.apps.playground.digits import CANVAS, ZOOM, digit_from_image, editor_image, enlarge

#: default is one at a time per button); more wait in Gradio's queue.
MAX_CONCURRENT_CALLS = 8
#: Gradio concurrency group of every button that calls the server (shares that limit).
_SERVER_CALLS = "triton"

_CSS = """
.pixelated img { image-rendering: pixelated; width: 100%; height: 100%; object-fit: contain; }
#status { min-height: 2em; }
"""


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
    # The class picker offers the most classes a served label input takes (its signature's).
    classes = max((m.classes for m in calls.models.values()), default=0)

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
                    [str(c) for c in range(max(classes, 1))],  # "0" when hidden: no labels
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
