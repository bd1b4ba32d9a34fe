"""Shared fixtures. Each area keeps its own fixtures in ``tests/<area>/conftest.py``."""

from __future__ import annotations

import pytest
import torch

from zoo.registry import list_models


@pytest.fixture(autouse=True, scope="session")
def _torch_threads() -> None:
    # CI has two cores; one intra-op thread per process keeps parallel servers from thrashing.
    torch.set_num_threads(1)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize any test taking ``model_name`` over the whole registry."""
    if "model_name" in metafunc.fixturenames:
        metafunc.parametrize("model_name", list_models())
