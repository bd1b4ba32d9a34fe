"""Where exported artifacts live, and the checks a loader runs before trusting one.

Layout, one Triton model per entry point (``zoo.registry.triton_model_name``)::

    model_repository/<triton name>/1/model.onnx         the ONNX graph (passed its gate)
    model_repository/<triton name>/1/export.json        how it was made + the parity report
    model_repository/<triton name>/1/model.failed.onnx  an export that failed its gate
    model_repository/<triton name>/1/model.plan         TensorRT engine
    model_repository/<triton name>/1/engine.json        the engine's manifest
    model_repository/<triton name>/1/model.xml          OpenVINO IR of model.onnx (+ model.bin)
    model_repository/<triton name>/1/openvino.json      the IR's manifest

A failed export is renamed ``model.failed.onnx`` (kept for debugging, never served: Triton and
:func:`check_onnx_artifact` only look for ``model.onnx``) and any older ``model.onnx`` is
removed, so the folder never serves a graph its ``export.json`` does not describe.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo.errors import ArtifactNotFoundError, ExportGateError
from zoo.registry import triton_model_name
from zoo.settings import model_repository_dir
from zoo.weights import sha256_file

ONNX_NAME = "model.onnx"
FAILED_ONNX_NAME = "model.failed.onnx"
META_NAME = "export.json"
ENGINE_NAME = "model.plan"
ENGINE_MANIFEST_NAME = "engine.json"
IR_NAME = "model.xml"
IR_BIN_NAME = "model.bin"
IR_MANIFEST_NAME = "openvino.json"
#: The model version folder export writes (Triton's numeric version directory).
VERSION = "1"


def version_dir(
    model_name: str, entry: str | None = None, *, repository: Path | None = None
) -> Path:
    """``<repository>/<triton name>/1``: where the artifacts of one entry point go."""
    root = model_repository_dir() if repository is None else Path(repository)
    return root / triton_model_name(model_name, entry) / VERSION


def read_meta(onnx_path: Path) -> dict[str, Any] | None:
    """The ``export.json`` beside ``onnx_path`` if it describes that file, else ``None``."""
    meta_path = Path(onnx_path).with_name(META_NAME)
    if not meta_path.is_file():
        return None
    meta: dict[str, Any] = json.loads(meta_path.read_text())
    return meta if meta.get("onnx_file") == Path(onnx_path).name else None


def check_onnx_artifact(
    onnx_path: Path, model_name: str, entry: str | None = None
) -> dict[str, Any] | None:
    """Refuse an ONNX file that is missing, failed its gate or changed since export.

    Returns its ``export.json`` (``None`` for a file exported elsewhere, which is trusted as is).
    """
    path = Path(onnx_path)
    if not path.is_file():
        failed = path.with_name(FAILED_ONNX_NAME)
        hint = f" (an export that failed its parity gate is kept at {failed})" * failed.is_file()
        raise ArtifactNotFoundError(
            f"no ONNX export of {model_name} at {path}{hint}. "
            f"Run `zoo export {model_name} --format onnx` first."
        )
    meta = read_meta(path)
    if meta is None:
        return None
    from zoo.registry import get_spec

    ep = get_spec(model_name).entry_point(entry)
    if meta.get("model") != model_name or meta.get("entry") != ep.name:
        raise ExportGateError(
            f"{path} is an export of {meta.get('model')}:{meta.get('entry')}, not "
            f"{model_name}:{ep.name}; point to the right file or re-export."
        )
    parity = meta.get("parity")
    if parity is not None and not parity.get("passed", False):
        raise ExportGateError(
            f"{path} failed its parity gate (rel-L2 {parity.get('rel_l2')}); it is not loaded. "
            f"Re-run `zoo export {model_name} --format onnx` and see its report."
        )
    weights = meta.get("weights", {})
    pinned = get_spec(model_name).sha256
    # Exported from the registry's trained weights, wherever the pull found them: the pin moved.
    if weights.get("source") in ("hub", "cache", "bundled") and weights.get("sha256") != pinned:
        raise ExportGateError(
            f"{path} was exported from older weights of {model_name} than the registry now pins; "
            f"re-run `zoo export {model_name} --format onnx`."
        )
    if sha256_file(path) != meta.get("sha256"):
        raise ExportGateError(
            f"{path} changed since it was exported (sha256 differs from {META_NAME}); "
            f"re-run `zoo export {model_name} --format onnx`."
        )
    return meta


def check_ir_artifact(xml_path: Path, model_name: str, entry: str | None = None) -> dict[str, Any]:
    """Refuse an OpenVINO IR that is missing, corrupt, or not converted from the ONNX beside it.

    Returns its manifest (``openvino.json``, written by :func:`export.openvino.save_ir`).
    """
    xml = Path(xml_path)
    manifest_path = xml.with_name(IR_MANIFEST_NAME)
    redo = f"re-run `zoo export {model_name} --format openvino`"
    if not xml.is_file() or not manifest_path.is_file():
        raise ArtifactNotFoundError(
            f"no OpenVINO IR of {model_name} at {xml} (with its manifest); {redo}."
        )
    manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    from zoo.registry import get_spec

    ep = get_spec(model_name).entry_point(entry)
    if manifest.get("model") != model_name or manifest.get("entry") != ep.name:
        raise ExportGateError(
            f"{xml} is an IR of {manifest.get('model')}:{manifest.get('entry')}, not "
            f"{model_name}:{ep.name}; point to the right folder or {redo}."
        )
    for name, key in ((xml.name, "xml_sha256"), (IR_BIN_NAME, "bin_sha256")):
        path = xml.with_name(name)
        if not path.is_file() or sha256_file(path) != manifest.get(key):
            raise ExportGateError(
                f"{path} is missing or changed since it was converted (sha256 differs from "
                f"{IR_MANIFEST_NAME}); {redo}."
            )
    onnx = xml.with_name(str(manifest.get("onnx_file", ONNX_NAME)))
    if onnx.is_file() and sha256_file(onnx) != manifest.get("onnx_sha256"):
        raise ExportGateError(
            f"{xml} was converted from another graph than {onnx} (re-exported since); {redo}."
        )
    return manifest
