"""What the Python-backend models share; runs inside Triton's stub like them."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils


def request_wire(request: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The tensors among ``names`` that ``request`` carries; missing ones are left to the checks."""
    wire = {}
    for name in names:
        tensor = pb_utils.get_input_tensor_by_name(request, name)
        if tensor is not None:
            wire[name] = tensor.as_numpy()
    return wire


def honour_pythonpath() -> None:
    """Put ``PYTHONPATH``'s folders on ``sys.path``, in order, as a plain interpreter would.

    Triton's Python-backend stub runs an isolated interpreter that ignores ``PYTHONPATH``, so a
    model family kept outside genzoo (``ZOO_FAMILIES``) that the launching process imports from
    there would be missing in the stub; an installed family needs no help.
    """
    folders = [f for f in os.environ.get("PYTHONPATH", "").split(os.pathsep) if f]
    for i, folder in enumerate(f for f in folders if f not in sys.path):
        sys.path.insert(1 + i, folder)
