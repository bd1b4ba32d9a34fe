"""What travels on the wire for each entry point, and how it becomes the graph's inputs.

Clients send seeds, not latents, and images as uint8 NHWC bytes, not floats. This module
derives the wire signature of an entry point from its graph signature (the registry's
:class:`~zoo.registry.EntryPoint`) and converts between the two. The repository writer uses it
to write ``config.pbtxt``; the Triton backends (``serving/server/backends/*.py``) and the in-process
path (:mod:`serving.server.inprocess`) use it to convert requests, so all of them agree.

Rules, per graph tensor (shapes exclude the batch axis), by what fills it (its role,
:mod:`zoo.roles`):

- a seed's latent (``z``, ``z_to``, ``mix_z``) → that seed, int64 ``[1]``: ``seed``,
  ``seed_to`` (interpolation's end seed) or ``mix_seed``; the latents are computed server-side
  by :func:`zoo.latent.seed_to_latent` (via :func:`generator_inputs`);
- a scalar (``label``, ``psi``, ``t``, any other) → the same name with shape ``[1]``;
- an input whose role says it is optional (``psi``, ``mix_seed``, ``mix_layer``, a scalar with
  a default) is optional in Triton too (``optional: true``): left out, ψ is 1 and nothing is
  mixed, so a plain KServe v2 request sends only ``seed`` (or ``w``);
- StyleGAN2's ws ``w`` travel as float32 ``[num_ws, w_dim]``, checked finite
  (:func:`zoo.pipeline.synthesis_inputs`);
- a float32 image ``(C, H, W)`` → uint8 ``[H, W, C]`` (for a mask: nonzero = known pixel);
- anything else (latent codes, logits) travels as it is.

A role the client cannot tell from a wire input's name and shape is declared in the served
config (:func:`declared_roles`).

Importing this module does not import torch: the native pre-processing step (a Python-backend
model) runs where only NumPy is installed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from zoo.errors import InvalidInputError
from zoo.pipeline import (
    from_uint8_nhwc,
    generator_inputs,
    is_image,
    is_seeded,
    is_synthesis,
    synthesis_inputs,
    to_uint8_nhwc,
)
from zoo.registry import EntryPoint, TensorSpec
from zoo.roles import Role, role_of, wire_role

#: Triton's names of the NumPy dtypes used here.
TRITON_DTYPES = {"float32": "TYPE_FP32", "int64": "TYPE_INT64", "uint8": "TYPE_UINT8"}


@dataclass(frozen=True)
class WireTensor:
    """One tensor as Triton sees it: name, dtype and per-item dims (batch axis excluded)."""

    name: str  # tensor name in config.pbtxt and in requests
    dtype: str  # NumPy dtype name: float32, int64 or uint8
    dims: tuple[int, ...]  # per-item shape on the wire
    optional: bool = False  # a request may leave it out (its role says so: zoo.roles)

    @property
    def triton_dtype(self) -> str:
        """The ``TYPE_*`` name in ``config.pbtxt``."""
        return TRITON_DTYPES[self.dtype]


def wire_tensor(t: TensorSpec) -> WireTensor:
    """The wire form of one graph tensor: a seed's latent travels as that seed."""
    role = role_of(t)
    if role.kind == "seed":
        return WireTensor(role.seed, "int64", (1,), role.optional)
    if is_image(t):
        c, h, w = t.shape
        return WireTensor(t.name, "uint8", (h, w, c), role.optional)
    return WireTensor(t.name, t.dtype, t.shape or (1,), role.optional)


def declared_roles(entry: EntryPoint) -> dict[str, Role]:
    """The roles of ``entry``'s wire inputs that the client cannot tell from name and shape.

    The repository writer declares them in the served config (``zoo_roles``); the zoo's own
    inputs have none, so their configs say nothing of roles.
    """
    out = {}
    for t, w in zip(entry.inputs, wire_inputs(entry), strict=True):
        if role_of(t) != wire_role(w.name, w.dtype, w.dims):
            out[w.name] = role_of(t)
    return out


def wire_inputs(entry: EntryPoint) -> tuple[WireTensor, ...]:
    """Wire inputs of ``entry``, in signature order."""
    return tuple(wire_tensor(t) for t in entry.inputs)


def wire_outputs(entry: EntryPoint) -> tuple[WireTensor, ...]:
    """Wire outputs of ``entry``, in signature order."""
    return tuple(wire_tensor(t) for t in entry.outputs)


def needs_preprocessing(entry: EntryPoint) -> bool:
    """Whether the wire inputs of ``entry`` differ from its graph inputs."""
    return any(wire_tensor(t) != WireTensor(t.name, t.dtype, t.shape) for t in entry.inputs)


def _column(arr: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """A ``(B, 1)`` wire column → ``(B,)``."""
    return arr.reshape(arr.shape[0])


def graph_inputs(
    entry: EntryPoint, wire: Mapping[str, npt.NDArray[np.generic]]
) -> tuple[npt.NDArray[np.generic], ...]:
    """The graph inputs of ``entry`` (signature order) for one batch of wire inputs."""
    missing = [w.name for w in wire_inputs(entry) if not w.optional and w.name not in wire]
    if missing:
        raise InvalidInputError(f"missing input(s) {', '.join(missing)} for {entry.name!r}.")
    if is_seeded(entry):
        return generator_inputs(entry, _column(wire["seed"]), **_seeded_values(entry, wire))
    if is_synthesis(entry):
        optional = {k: _column(wire[k]) for k in ("psi", "mix_seed", "mix_layer") if k in wire}
        return synthesis_inputs(
            entry,
            wire["w"],
            psi=optional.get("psi"),
            mix_seeds=optional.get("mix_seed"),
            mix_layers=optional.get("mix_layer"),
        )
    out: list[npt.NDArray[np.generic]] = []
    for t in entry.inputs:
        arr = wire[t.name]
        if role_of(t).kind == "mask" and is_image(t):
            out.append((np.asarray(arr) != 0).astype(np.float32).transpose(0, 3, 1, 2).copy())
        elif is_image(t):
            out.append(from_uint8_nhwc(np.asarray(arr)))
        elif not t.shape:
            out.append(_column(np.asarray(arr, dtype=t.dtype)))
        else:
            out.append(np.asarray(arr, dtype=t.dtype))
    return tuple(out)


def _seeded_values(
    entry: EntryPoint, wire: Mapping[str, npt.NDArray[np.generic]]
) -> dict[str, npt.NDArray[np.generic]]:
    """:func:`generator_inputs`' keywords from the wire, by role: the end and mixing seeds,
    the labels, the scalars (by name); an optional one the request left out is not passed."""
    keywords = {"seed_to": "seeds_to", "mix_seed": "mix_seeds"}
    out = {}
    for t, w in zip(entry.inputs, wire_inputs(entry), strict=True):
        role = role_of(t)
        if w.name not in wire or role.seed == "seed":
            continue
        if role.kind == "seed":
            out[keywords[role.seed]] = _column(wire[w.name])
        elif role.kind == "label":
            out["labels"] = _column(wire[w.name])
        elif role.kind == "scalar":
            out[w.name] = _column(wire[w.name])
    return out


def wire_results(
    entry: EntryPoint, outputs: Sequence[npt.NDArray[np.generic]]
) -> tuple[npt.NDArray[np.generic], ...]:
    """Graph outputs → wire outputs: float images become uint8 NHWC; uint8 passes through.

    A graph exported with uint8 output (``export_onnx(uint8_output=True)``) already returns
    uint8 NHWC images; the torch engine returns float NCHW, converted here.
    """
    results: list[npt.NDArray[np.generic]] = []
    for t, arr in zip(entry.outputs, outputs, strict=True):
        if is_image(t) and arr.dtype != np.uint8:
            results.append(to_uint8_nhwc(np.asarray(arr, dtype=np.float32)))
        elif not t.shape:
            results.append(np.asarray(arr).reshape(-1, 1))
        else:
            results.append(np.asarray(arr))
    return tuple(results)
