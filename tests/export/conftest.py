"""Export fixtures: random-init models and ONNX exports cached for the whole session.

Exports take seconds each, so every (model, entry point, flags) is exported once into a
session temp folder and shared by the tests that need it. Parity runs on a small ``n`` and
one ONNX Runtime thread (CI has two cores).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from export.onnx import ExportResult, export_onnx
from zoo.registry import create_model

#: Inputs the parity gate compares on in tests (the CLI default is 64).
TEST_PARITY_N = 8

Exporter = Callable[..., ExportResult]


@pytest.fixture(scope="session")
def random_module() -> Callable[[str], nn.Module]:
    """``get(name)``: one random-init model per name, seeded, shared by the session."""
    cache: dict[str, nn.Module] = {}

    def get(name: str) -> nn.Module:
        if name not in cache:
            torch.manual_seed(0)
            cache[name] = create_model(name).eval()
        return cache[name]

    return get


@pytest.fixture(scope="session")
def exported(
    tmp_path_factory: pytest.TempPathFactory, random_module: Callable[[str], nn.Module]
) -> Exporter:
    """``exported(model, entry, **flags)``: the cached export of one entry point."""
    root = tmp_path_factory.mktemp("exports")
    cache: dict[tuple[Any, ...], ExportResult] = {}

    def get(model: str, entry: str, **flags: Any) -> ExportResult:
        key = (model, entry, tuple(sorted(flags.items())))
        if key not in cache:
            suffix = "-".join(f"{k}={v}" for k, v in sorted(flags.items())) or "plain"
            cache[key] = export_onnx(
                model,
                entry,
                out_dir=root / f"{model}_{entry}_{suffix}" / "1",
                module=random_module(model),
                parity_n=TEST_PARITY_N,
                threads=1,
                **flags,
            )
        return cache[key]

    return get


@pytest.fixture(scope="session")
def parity_n() -> int:
    """Inputs the parity gate compares on in tests."""
    return TEST_PARITY_N


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A fresh version folder for exports a test changes."""
    return tmp_path / "m" / "1"
