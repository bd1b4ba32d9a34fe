"""The modules that get exported: one entry point of a model, optionally fp16 and uint8 NHWC.

The exporter traces ``forward``; :class:`EntryModule` makes ``forward`` the entry-point
method (``generate``, ``encode`` ...), casts floating inputs to the compute dtype and back,
and can end in the same post-processing as :func:`zoo.pipeline.to_uint8_nhwc`, so a server
ships bytes instead of floats.

The graph signature follows the registry, with two deliberate differences, both computed by
:func:`graph_signature` so every consumer (export, runners, serving configs) agrees:

- an output whose name is also an input's (``image`` → ``image`` in CycleGAN and the VAE)
  is renamed ``<name>_out``: ONNX forbids a graph input and output sharing a name;
- with ``uint8_output`` every image output (float32 ``[C, H, W]``) becomes uint8 ``[H, W, C]``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from zoo.pipeline import is_image
from zoo.registry import EntryPoint, TensorSpec

#: Suffix of an output renamed because an input has the same name.
CLASH_SUFFIX = "_out"


@dataclass(frozen=True)
class GraphSignature:
    """The tensors of an exported graph, batch axis excluded, in the entry point's order."""

    inputs: tuple[TensorSpec, ...]  # graph inputs: the entry point's, unchanged
    outputs: tuple[TensorSpec, ...]  # graph outputs: renamed on a clash, uint8 NHWC if asked

    def to_dict(self) -> dict[str, list[dict[str, object]]]:
        """JSON-ready form with the dynamic batch axis shown as -1."""

        def row(t: TensorSpec) -> dict[str, object]:
            return {"name": t.name, "dtype": t.dtype, "shape": [-1, *t.shape]}

        return {"inputs": [row(t) for t in self.inputs], "outputs": [row(t) for t in self.outputs]}


def graph_signature(entry: EntryPoint, *, uint8_output: bool = False) -> GraphSignature:
    """The input and output tensors the exported graph of ``entry`` has."""
    taken = {t.name for t in entry.inputs}
    outputs = []
    for t in entry.outputs:
        out = replace(t, name=t.name + CLASH_SUFFIX) if t.name in taken else t
        if uint8_output and is_image(t):
            c, h, w = t.shape
            out = replace(out, dtype="uint8", shape=(h, w, c))
        outputs.append(out)
    return GraphSignature(entry.inputs, tuple(outputs))


def to_uint8_nhwc(images: torch.Tensor) -> torch.Tensor:
    """Torch twin of :func:`zoo.pipeline.to_uint8_nhwc`: ``round((x + 1) * 127.5)`` clipped."""
    x = torch.clamp((images.float() + 1.0) * 127.5, 0.0, 255.0)
    return torch.round(x).to(torch.uint8).permute(0, 2, 3, 1)


class EntryModule(nn.Module):
    """Calls one entry point of ``model`` from ``forward`` (what the exporter traces)."""

    def __init__(
        self,
        model: nn.Module,  # the zoo model, in eval mode
        entry: EntryPoint,  # which method to call, and its signature
        *,
        fp16: bool = False,  # run the model in float16; graph inputs/outputs stay float32
        uint8_output: bool = False,  # end image outputs in uint8 NHWC
    ) -> None:
        super().__init__()
        self.model = model
        self.entry_name = entry.name
        self.fp16 = fp16
        self.image_outputs = tuple(uint8_output and is_image(t) for t in entry.outputs)

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The entry point's outputs as a tuple, post-processed as configured."""
        if self.fp16:
            inputs = tuple(x.half() if x.is_floating_point() else x for x in inputs)
        out = getattr(self.model, self.entry_name)(*inputs)
        outs = out if isinstance(out, tuple) else (out,)
        result = []
        for x, as_image in zip(outs, self.image_outputs, strict=True):
            x = x.float() if x.is_floating_point() else x
            result.append(to_uint8_nhwc(x) if as_image else x)
        return tuple(result)
