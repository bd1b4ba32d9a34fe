"""Fixtures of the metrics area: a random-weight evaluator and model factory, shipped reports."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from zoo.evaluate import EvalReport, evaluate
from zoo.registry import create_model, get_spec
from zoo.runners import Runner, TorchRunner
from zoo.settings import EVAL_NAME
from zoo.weights import bundled_dir


@pytest.fixture(scope="session")
def random_evaluator() -> nn.Module:
    """``classifier-mnist`` with random weights: a fixed but untrained feature extractor."""
    torch.manual_seed(0)
    return create_model("classifier-mnist").eval()


@pytest.fixture(scope="session")
def random_modules() -> Callable[[str], nn.Module]:
    """Random-weight models, built once per name."""
    cache: dict[str, nn.Module] = {}

    def get(name: str) -> nn.Module:
        if name not in cache:
            torch.manual_seed(1)
            cache[name] = create_model(name).eval()
        return cache[name]

    return get


@pytest.fixture(scope="session")
def random_factory(
    random_modules: Callable[[str], nn.Module],
) -> Callable[[str, str], Runner]:
    """A ``runner_factory`` over the random-weight models."""

    def make(name: str, entry: str) -> Runner:
        return TorchRunner(name, random_modules(name), entry)

    return make


@pytest.fixture(scope="session")
def random_reports(
    random_factory: Callable[[str, str], Runner], random_evaluator: nn.Module
) -> Callable[[str], EvalReport]:
    """``evaluate`` of each random-weight model at n = 40, computed once per name."""
    cache: dict[str, EvalReport] = {}

    def get(name: str) -> EvalReport:
        if name not in cache:
            cache[name] = evaluate(
                name, runner_factory=random_factory, evaluator=random_evaluator, n=40
            )
        return cache[name]

    return get


def _require_shipped(name: str, card: bool = False) -> None:
    folder = bundled_dir(name)
    if not get_spec(name).sha256 or not (folder / "model.safetensors").is_file():
        pytest.skip(f"{name} has no trained weights committed yet")
    if not (folder / EVAL_NAME).is_file():
        pytest.skip(f"{name} has no {EVAL_NAME} yet: run `zoo card {name} --eval`")
    if card and not (folder / "README.md").is_file():
        pytest.skip(f"{name} has no model card yet: run `zoo card {name}`")


@pytest.fixture
def require_shipped() -> Callable[..., None]:
    """``require_shipped(name, card=False)`` skips unless the weights + eval.json (+ card) ship."""
    return _require_shipped
