"""JSON bodies for the LitServe peer: wire tensors as dtype, shape and base64 bytes.

Body of a request and of a response: ``{"tensors": {name: {"dtype", "shape", "b64"}}}``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

#: Dtypes a body may carry (the wire's): anything else is refused before NumPy sees it.
WIRE_DTYPES = ("int64", "float32", "uint8")


def encode_tensors(arrays: Mapping[str, npt.NDArray[Any]]) -> dict[str, Any]:
    """JSON-ready body holding ``arrays``."""
    return {
        "tensors": {
            name: {
                "dtype": str(a.dtype),
                "shape": list(a.shape),
                "b64": base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii"),
            }
            for name, a in arrays.items()
        }
    }


def decode_tensors(body: Mapping[str, Any]) -> dict[str, npt.NDArray[Any]]:
    """The arrays of a body written by :func:`encode_tensors`; a malformed one raises ValueError."""
    tensors = body.get("tensors") if isinstance(body, Mapping) else None
    if not isinstance(tensors, Mapping):
        raise ValueError('body must be {"tensors": {name: {dtype, shape, b64}}}')
    out: dict[str, npt.NDArray[Any]] = {}
    for name, t in tensors.items():
        if not isinstance(t, Mapping) or t.get("dtype") not in WIRE_DTYPES:
            raise ValueError(f"tensor {name}: dtype must be one of {', '.join(WIRE_DTYPES)}")
        shape = tuple(int(d) for d in t["shape"])
        out[name] = np.frombuffer(base64.b64decode(t["b64"]), dtype=t["dtype"]).reshape(shape)
    return out
