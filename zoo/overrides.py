"""``--set key=value`` options: the config overrides of a model variant, parsed (torch-free)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from zoo.errors import InvalidInputError


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``--set`` options ``["width=128", "resolution=64"]`` → ``{"width": 128, "resolution": 64}``.

    Values are read as JSON (numbers, booleans) and kept as strings otherwise.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"--set takes key=value (e.g. width=128), got {item!r}.")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out
