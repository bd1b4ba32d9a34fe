"""The zoo's naming rules: what a model name may be, and the Triton name of an entry point.

Torch-free and registry-free (the registry checks every model it registers against
:func:`check_model_name`; :func:`zoo.registry.triton_model_name` applies :func:`served_name`
to a registered spec).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from zoo.errors import InvalidNameError

# A model name is lower-case words joined by dashes: safe as a path segment and a repo name.
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

#: The entry point a multi-entry model serves under its own name (see :func:`served_name`).
SERVED_AS_MODEL = "generate"


def check_model_name(name: str) -> str:
    """Return ``name`` if it is a well-formed model name, else raise :class:`InvalidNameError`."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise InvalidNameError(
            f"invalid model name {name!r}: use lower-case letters, digits and dashes "
            "(e.g. 'dcgan-mnist'); run `zoo list` to see every model."
        )
    return name


def served_name(model: str, entry: str, entries: Sequence[str]) -> str:
    """The Triton model name serving ``entry`` of ``model``, whose entry points are ``entries``.

    A model's ``generate`` entry point, or its only one, is served under the model's own name
    (``dcgan-mnist``, ``classifier-mnist``); every other entry point gets ``<model>_<entry>``
    (``vae-mnist_encode``, ``dcgan-mnist_interpolate``), so adding an entry point to a model
    renames none of its served models.
    """
    own = len(entries) == 1 or entry == SERVED_AS_MODEL
    return model if own else f"{model}_{entry}"
