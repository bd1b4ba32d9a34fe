"""The modules that get exported: one entry point of a model, optionally fp16 and uint8 NHWC.

The exporter traces ``forward``; :class:`EntryModule` makes ``forward`` the entry-point
method (``generate``, ``encode`` ...), casts floating inputs to the compute dtype and back,
and can end in the same post-processing as :func:`zoo.pipeline.to_uint8_nhwc`, so a server
ships bytes instead of floats.

The graph's tensors are :func:`export.signature.graph_signature`'s.
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.pipeline import is_image
from zoo.registry import EntryPoint


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
