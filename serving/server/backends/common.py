"""What the Python-backend models share; runs inside Triton's stub like them."""

from __future__ import annotations

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
