"""The tensors of an exported graph: the registry's signature, with two deliberate differences.

Both are computed by :func:`graph_signature`, so every consumer (export, the gates, runners,
serving configs) agrees, and none of them needs torch to know a graph's names:

- an output whose name is also an input's (``image`` → ``image`` in CycleGAN and the VAE)
  is renamed ``<name>_out``: ONNX forbids a graph input and output sharing a name;
- with ``uint8_output`` every image output (float32 ``[C, H, W]``) becomes uint8 ``[H, W, C]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from zoo.errors import InvalidInputError
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


def check_arity(entry: EntryPoint, inputs: Sequence[Any]) -> None:
    """Refuse a call with another number of arrays than ``entry`` has inputs (every runner)."""
    if len(inputs) != len(entry.inputs):
        names = ", ".join(t.name for t in entry.inputs)
        raise InvalidInputError(
            f"entry point {entry.name!r} takes {len(entry.inputs)} input(s) ({names}), "
            f"got {len(inputs)}."
        )
