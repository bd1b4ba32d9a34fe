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

#: Calls to the server the page runs at once, all visitors and buttons together (Gradio's
#: default is one at a time per button); more wait in Gradio's queue.
MAX_CONCURRENT_CALLS = 8
#: Gradio concurrency group of every button that calls the server (shares that limit).
_SERVER_CALLS = "triton"
#: The concurrency settings of every event that calls the server.
_SERVER_CALL: dict[str, Any] = {
    "concurrency_limit": MAX_CONCURRENT_CALLS,
    "concurrency_id": _SERVER_CALLS,
}

_CSS = """
.pixelated img { image-rendering: pixelated; width: 100%; height: 100%; object-fit: contain; }
#status { min-height: 2em; }
"""


def visibility(model: ServedModel | None) -> dict[str, bool]:
    """Which parts of the page a model shows."""
    entries = set(model.entries) if model else set()
    return {
        "generator": bool(model and (model.generates or model.other_seeded)),
        "label": bool(model and model.takes_role("label")),
        "psi": bool(model and model.takes("psi")),
        "digit": bool(model and model.takes_digits),
        "translate": any(e.startswith("translate_") for e in entries),
        "classify": "classify" in entries,
        "encode": "encode" in entries and "decode" in entries,
        "inpaint": "inpaint" in entries,
        "interpolate": "interpolate" in entries,
        "project": "project" in entries,
        "run": bool(model and model.other_seeded),
    }


#: Each component a model shows or hides, with its :func:`visibility` key, in the order the
#: model picker updates them.
_TOGGLED = (
    ("generator", "generator"),
    ("label", "label"),
    ("psi", "psi"),
    ("mix", "psi"),
    ("digit_box", "digit"),
    ("direction", "translate"),
    ("translate", "translate"),
    ("classify", "classify"),
    ("classes", "classify"),
    ("encode", "encode"),
    ("latent", "encode"),
    ("to_mask", "inpaint"),
    ("inpaint_box", "inpaint"),
    ("end_seed", "interpolate"),
    ("interpolate", "interpolate"),
    ("restyle_seed", "project"),
    ("restyle_layer", "project"),
    ("project", "project"),
    ("run_values", "run"),
    ("run", "run"),
)


def build_app(calls: PlaygroundCalls, *, server_note: str = "") -> Any:
    """The Gradio ``Blocks`` of the playground: each control calls one of ``calls``."""
    gr = _gradio()
    names = list(calls.models)
    shown = visibility(calls.models[names[0]] if names else None)
    # The class picker offers the most classes a served label input takes (its signature's).
    classes = max((m.classes for m in calls.models.values()), default=0)
    with gr.Blocks(title="genzoo playground", analytics_enabled=False) as app:
        ui = _header(gr, calls, server_note)
        ui |= _generator_controls(gr, shown, classes, calls.models[names[0]] if names else None)
        ui |= _digit_controls(gr, shown)
        ui |= _inpaint_controls(gr, shown)
        ui["status"] = gr.Markdown("", elem_id="status")
        _wire_model_picker(gr, calls, ui)
        _wire_server_calls(calls, ui)
        _wire_inpainting(calls, ui)
    return app


def _describe(calls: PlaygroundCalls, name: str | None) -> str:
    """The line under the model picker: the model, its family and what it serves."""
    if not name or name not in calls.models:
        return "The server serves no zoo model: build the repository with `zoo repo build`."
    m = calls.models[name]
    return f"**{m.name}** ({m.family}) — {m.description} Serves: {', '.join(m.entries)}."


def _header(gr: Any, calls: PlaygroundCalls, server_note: str) -> dict[str, Any]:
    """The title, the model picker (``model``) and the model's description (``about``)."""
    names = list(calls.models)
    gr.Markdown(
        "# genzoo playground\nEvery picture comes from the Triton server through the "
        f"client SDK{f' ({server_note})' if server_note else ''}; "
        "the latency shown is the SDK call's."
    )
    model = gr.Dropdown(names, value=names[0] if names else None, label="Model", elem_id="model")
    about = gr.Markdown(_describe(calls, names[0] if names else None), elem_id="about")
    return {"model": model, "about": about}


def _generator_controls(
    gr: Any, shown: dict[str, bool], classes: int, first: ServedModel | None
) -> dict[str, Any]:
    """The seeded generator's group: seeds, label, ψ, mixing, interpolation, the other seeded
    entry points of ``first`` (the model shown first) and the grid."""
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
        with gr.Row():  # a seeded entry point no button serves, its inputs by name
            run_entry = gr.Dropdown(
                list(first.other_seeded) if first else [],
                value=first.other_seeded[0] if first and first.other_seeded else None,
                label="Other entry point",
                visible=shown["run"],
                elem_id="run-entry",
            )
            run_values = gr.Textbox(
                "",
                label="Its inputs (name=value, …; defaults where left out)",
                visible=shown["run"],
                elem_id="run-values",
            )
            run = gr.Button("Run", visible=shown["run"], elem_id="run")
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
    return {
        "generator": generator,
        "seed": seed,
        "count": count,
        "label": label,
        "psi": psi,
        "mix": mix,
        "generate": generate,
        "end_seed": end_seed,
        "interpolate": interpolate,
        "run_entry": run_entry,
        "run_values": run_values,
        "run": run,
        "grid": grid,
    }


def _digit_controls(gr: Any, shown: dict[str, bool]) -> dict[str, Any]:
    """The digit group: the sketchpad, the result and the calls that take a drawn digit."""
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
    return {
        "digit_box": digit_box,
        "digit": digit,
        "result": result,
        "direction": direction,
        "translate": translate,
        "classify": classify,
        "encode": encode,
        "to_mask": to_mask,
        "restyle_seed": restyle_seed,
        "restyle_layer": restyle_layer,
        "project": project,
        "classes": classes,
        "latent": latent,
    }


def _inpaint_controls(gr: Any, shown: dict[str, bool]) -> dict[str, Any]:
    """The inpainting group: the mask editor and its button."""
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
    return {"inpaint_box": inpaint_box, "mask_editor": mask_editor, "inpaint": inpaint}


def _wire_model_picker(gr: Any, calls: PlaygroundCalls, ui: dict[str, Any]) -> None:
    """Picking a model describes it, shows its controls (:data:`_TOGGLED`) and clears outputs."""

    def pick(name: str | None) -> list[Any]:
        model = calls.models.get(name or "")
        vis = visibility(model)
        toggles = [gr.update(visible=vis[key]) for _, key in _TOGGLED]
        others = list(model.other_seeded) if model else []
        entry = gr.update(choices=others, value=others[0] if others else None, visible=vis["run"])
        return [_describe(calls, name), *toggles, entry, None, None, ""]

    ui["model"].change(
        pick,
        ui["model"],
        [
            ui["about"],
            *(ui[part] for part, _ in _TOGGLED),
            ui["run_entry"],
            ui["grid"],
            ui["result"],
            ui["status"],
        ],
        api_visibility="private",
    )


#: The buttons that call the server: (button, call, inputs, outputs), named as their API.
_SERVER_CALLS_WIRING = (
    ("generate", "generate", ("model", "seed", "count", "label", "psi", "mix"), ("grid",)),
    ("interpolate", "interpolate", ("model", "seed", "end_seed", "count", "label"), ("grid",)),
    ("project", "project", ("model", "digit", "restyle_seed", "restyle_layer"), ("result",)),
    ("run", "run", ("model", "run_entry", "seed", "count", "label", "run_values"), ("grid",)),
    ("translate", "translate", ("model", "digit", "direction"), ("result",)),
    ("classify", "classify", ("model", "digit"), ("classes",)),
    ("encode", "encode_decode", ("model", "digit"), ("result", "latent")),
)


def _wire_server_calls(calls: PlaygroundCalls, ui: dict[str, Any]) -> None:
    """Each server button calls its :class:`PlaygroundCalls` method; status shows the latency."""
    for button, call, inputs, outputs in _SERVER_CALLS_WIRING:
        ui[button].click(
            _user_errors(getattr(calls, call)),
            [ui[i] for i in inputs],
            [*(ui[o] for o in outputs), ui["status"]],
            api_name=call,
            **_SERVER_CALL,
        )


def _wire_inpainting(calls: PlaygroundCalls, ui: dict[str, Any]) -> None:
    """The "Mask this digit" button copies the digit into the mask editor; "Inpaint" fills it in."""

    def masked_canvas(name: str, picture: Any) -> dict[str, Any]:
        x = digit_from_image(editor_image(picture), calls.model(name).resolution)
        return {"background": enlarge(x)[..., 0], "layers": [], "composite": None}

    ui["to_mask"].click(
        _user_errors(masked_canvas),
        [ui["model"], ui["digit"]],
        ui["mask_editor"],
        api_visibility="private",
    )
    ui["inpaint"].click(
        _user_errors(calls.inpaint),
        [ui["model"], ui["mask_editor"]],
        [ui["result"], ui["status"]],
        api_name="inpaint",
        **_SERVER_CALL,
    )
