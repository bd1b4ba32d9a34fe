"""``zoo export``: torch → ONNX (→ TensorRT) for every entry point, with the parity gate."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from zoo.cli._common import JsonFlag, ModelArg, cli_errors, console, err_console, print_json
from zoo.errors import ExportGateError
from zoo.overrides import parse_overrides
from zoo.registry import get_spec

#: ``--set key=value``: a random-weight variant of the model (its entry points follow the config).
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Config override of a random-weight variant, key=value (repeat), "
        "e.g. --set resolution=256; its signature follows the config.",
    ),
]


class Format(StrEnum):
    """Artifact formats ``zoo export`` builds."""

    onnx = "onnx"
    openvino = "openvino"  # the ONNX export, then OpenVINO IR beside it
    tensorrt = "tensorrt"


@cli_errors
def export_command(
    name: ModelArg,
    entry: Annotated[
        str | None, typer.Option("--entry", "-e", help="One entry point (default: all of them).")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Artifact to build.")] = Format.onnx,
    opset: Annotated[int, typer.Option(help="ONNX opset.")] = 18,
    fp16: Annotated[
        bool, typer.Option("--fp16", help="Compute in float16 (I/O stays float32).")
    ] = False,
    uint8_output: Annotated[
        bool, typer.Option("--uint8-output", help="End image outputs in uint8 NHWC.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Model repository root (default: ZOO_MODEL_REPOSITORY or ./model_repository)."
        ),
    ] = None,
    optimize: Annotated[bool, typer.Option(help="Run the onnxscript graph optimiser.")] = True,
    measure_optimizer: Annotated[
        bool, typer.Option("--measure-optimizer", help="Also time ONNX Runtime before/after it.")
    ] = False,
    random_weights: Annotated[
        bool, typer.Option("--random-weights", help="Export random-init weights (benchmarks).")
    ] = False,
    set_: SetOpt = None,
    min_batch: Annotated[int, typer.Option(help="TensorRT profile: smallest batch.")] = 1,
    opt_batch: Annotated[int, typer.Option(help="TensorRT profile: batch tuned for.")] = 16,
    max_batch: Annotated[int, typer.Option(help="TensorRT profile: largest batch.")] = 64,
    workspace: Annotated[int, typer.Option(help="TensorRT builder workspace, MiB.")] = 1024,
    threads: Annotated[
        int | None, typer.Option(help="ONNX Runtime threads for the parity gate.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Export a model's entry points to ONNX (or OpenVINO IR, TensorRT), checked against torch.

    Writes <repository>/<model>[_<entry>]/1/model.onnx (+ export.json), also model.xml/.bin
    (+ openvino.json) for openvino, or model.plan (+ engine.json). A graph that fails the
    parity gate is kept as model.failed.onnx, never served, and the command exits 1. --set
    exports a random-weight variant (export.json records its overrides).
    """
    from export.artifacts import version_dir
    from export.onnx import export_onnx

    overrides = parse_overrides(set_ or [])
    spec = get_spec(name, **overrides)
    entries = [spec.entry_point(entry).name] if entry else list(spec.entry_names)
    results: list[dict[str, Any]] = []
    failed: list[str] = []
    for ep in entries:
        folder = version_dir(name, ep, repository=out)
        label = f"{name}:{ep}"
        with err_console.status(f"exporting {label} → {fmt.value}…"):
            module = _module(name, random_weights, overrides)
            if fmt in (Format.onnx, Format.openvino):
                res = export_onnx(
                    name,
                    ep,
                    out_dir=folder,
                    module=module,
                    opset=opset,
                    fp16=fp16,
                    uint8_output=uint8_output,
                    optimize=optimize,
                    measure_optimizer=measure_optimizer,
                    threads=threads,
                )
                row, passed = res.to_dict(), res.passed
                summary = res.parity.summary() if res.parity else "parity skipped"
                where = res.onnx_path
                nodes = (
                    f"{res.optimizer['before']['nodes']}→{res.optimizer['after']['nodes']} nodes"
                )
                detail = f"{res.seconds:.1f} s, {nodes}"
                if fmt is Format.openvino and passed:
                    from export.openvino import save_ir

                    where = save_ir(res.onnx_path, name, ep)
            else:
                row, passed, summary, where, detail = _tensorrt(
                    name,
                    ep,
                    module,
                    folder,
                    fp16,
                    uint8_output,
                    (min_batch, opt_batch, max_batch, workspace),
                )
        results.append(row)
        if not passed:
            failed.append(label)
        if not as_json:
            mark = "[green]✓[/]" if passed else "[bold red]✗[/]"
            console.print(
                f"{mark} {escape(f'{label} → {where} ({detail})')}", highlight=False, soft_wrap=True
            )
            console.print(f"  {escape(summary)}", highlight=False, soft_wrap=True)
    if as_json:
        print_json(results if len(results) > 1 or not entry else results[0])
    if failed:
        raise ExportGateError(
            f"parity gate failed for {', '.join(failed)}; the artifact is kept for debugging "
            "(model.failed.onnx) and is not served. See the report above."
        )


def _module(name: str, random_weights: bool, overrides: dict[str, Any]) -> Any:
    """Random-init weights on request or for a variant (trained weights fit the default only);
    ``None`` lets export pull the trained ones."""
    if not (random_weights or overrides):
        return None
    import torch

    from zoo.registry import create_model

    torch.manual_seed(0)
    return create_model(name, **overrides)


def _tensorrt(
    name: str,
    ep: str,
    module: Any,
    folder: Path,
    fp16: bool,
    uint8_output: bool,
    profile: tuple[int, int, int, int],
) -> tuple[dict[str, Any], bool, str, Path, str]:
    from export.tensorrt import build_tensorrt
    from export.tensorrt_engine import BuildOptions

    if module is None:
        from zoo.hub import load

        module = load(name)
    lo, opt, hi, workspace = profile
    options = BuildOptions(
        min_batch=lo, opt_batch=opt, max_batch=hi, fp16=fp16, workspace_mib=workspace
    )
    res = build_tensorrt(
        name, ep, module=module, out_dir=folder, options=options, uint8_output=uint8_output
    )
    kept = f", {len(res.fp32_layers)} layers kept fp32" if res.fp32_layers else ""
    return (
        res.to_dict(),
        res.parity.passed,
        res.parity.summary(),
        res.engine_path,
        f"batch {lo}–{hi}{kept}",
    )
