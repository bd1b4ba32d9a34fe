"""Shared fixtures. Each area keeps its own fixtures in ``tests/<area>/conftest.py``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NoReturn

import pytest
import torch

from zoo.registry import list_models

# No test reaches huggingface.co. Unless a test points HF_ENDPOINT at the olah mirror (tests/hub's
# hub_env), the Hub is a loopback port where nothing listens: a pull of the trained weights is
# refused at once and resolves to the bundled copy, after its sha256 check. Set at import, before
# anything reads it; the CLI and servers started by tests inherit it.
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"


@pytest.fixture(autouse=True, scope="session")
def _torch_threads() -> None:
    # CI has two cores; one intra-op thread per process keeps parallel servers from thrashing.
    torch.set_num_threads(1)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize any test taking ``model_name`` over the whole registry."""
    if "model_name" in metafunc.fixturenames:
        metafunc.parametrize("model_name", list_models())


def on_ci() -> bool:
    """Whether this run is CI's (``CI`` set, as every CI service and `.ci/run`'s host do)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _missing_component(reason: str) -> NoReturn:
    """A real component a test needs is missing: skip here, fail on CI.

    CI installs every component (``make test``), so there a missing one is a broken install,
    not a reason to pass. Opt-outs are explicit variables checked by the callers (e.g.
    ``ZOO_SKIP_BROWSER=1``), never a silent skip.
    """
    if on_ci():
        pytest.fail(f"{reason} (CI is set: a missing real component fails the run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def missing_component() -> Callable[[str], NoReturn]:
    """``missing_component(reason)``: skip the test, or fail it on CI."""
    return _missing_component
