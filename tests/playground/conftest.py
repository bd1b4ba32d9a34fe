"""Playground fixtures: one Triton, one page and one headless Chromium for the whole session.

The models have seeded random weights: the page does not care what the digits look like, and
the tests compare its pictures with the SDK's for the same request. The browser is Debian's
``chromium`` (``make chromium``, a prerequisite of ``make test``, installs it with apt), driven
by Playwright through ``executable_path``: Playwright's own browser download cannot be reached.
Where no chromium is installed the browser tests skip with the reason, except on CI (``CI``
set), where they fail: there a missing browser is a broken install. ``ZOO_SKIP_BROWSER=1`` is
the explicit opt-out for machines where apt cannot be used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
import torch

from serving.apps.playground import Playground, start_playground
from serving.client import ZooClient
from serving.server.repository import RepositoryOptions, build_repository
from serving.server.triton import LOOPBACK, ServerConfig, TritonServer, free_port
from zoo.registry import create_model

#: One model per page layout (dcgan-mnist is cgan-mnist's layout without the label).
MODELS = (
    "cgan-mnist",
    "classifier-mnist",
    "cyclegan-digits",
    "stylegan2-mnist",
    "stylegan2-mnist-encoder",
    "vae-mnist",
)
#: Where Debian's chromium package puts the browser (the /usr/bin one is a shell wrapper).
CHROMIUM_PATHS = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
#: The explicit opt-out: no browser tests (and no install by `make chromium`).
SKIP_BROWSER = "ZOO_SKIP_BROWSER"


def chromium_path() -> str | None:
    """The installed chromium binary, or None."""
    for candidate in CHROMIUM_PATHS:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``ZOO_SKIP_BROWSER=1``: skip the browser tests before any of their fixtures start."""
    if os.environ.get(SKIP_BROWSER) != "1":
        return
    skip = pytest.mark.skip(reason=f"{SKIP_BROWSER}=1: the browser tests are switched off")
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def playground_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Triton repository of the playground's models with seeded random weights."""
    torch.manual_seed(4321)
    modules = {name: create_model(name).eval() for name in MODELS}
    root = tmp_path_factory.mktemp("playground_repository")
    build_repository(
        list(MODELS),
        out_dir=root,
        options=RepositoryOptions(engine="onnxruntime", instances=1, threads=1),
        modules=modules,
        parity_n=2,
    )
    return root


@pytest.fixture(scope="session")
def playground_triton(
    playground_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TritonServer]:
    """The real embedded Triton serving the repository."""
    config = ServerConfig.on_free_ports(
        playground_repo,
    )
    log = tmp_path_factory.mktemp("playground_logs") / "tritonserver.log"
    with TritonServer(config, log_file=log).start(timeout=300) as server:
        yield server


@pytest.fixture(scope="session")
def sdk(playground_triton: TritonServer) -> Iterator[ZooClient]:
    """A client SDK of its own, to compare the page's pictures with."""
    with ZooClient(playground_triton.http_url) as client:
        yield client


@pytest.fixture(scope="session")
def playground(playground_triton: TritonServer) -> Iterator[Playground]:
    """The playground page, served on loopback, calling the session's Triton."""
    with start_playground(playground_triton.http_url, port=free_port()) as running:
        yield running


@pytest.fixture(scope="module")
def browser(missing_component: Callable[[str], NoReturn]) -> Iterator[Any]:
    """Headless Debian chromium under Playwright.

    Where it is not installed the browser tests skip, except on CI, where they fail;
    ``ZOO_SKIP_BROWSER=1`` switches them off explicitly (``make chromium`` honours it too).

    Module-scoped: Playwright's sync API runs an asyncio loop in this thread while it is open,
    and a loop left running makes every later ``asyncio.run`` in the session fail.
    """
    path = chromium_path()
    if path is None:
        missing_component(
            "chromium is not installed: run `make chromium` as root (apt-get), or set "
            f"{SKIP_BROWSER}=1 to run without the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """A browser tab on the playground, and the requests it tried to send off this machine."""

    page: Any  # playwright Page
    outside: list[str] = field(default_factory=list)  # URLs refused: not loopback


@pytest.fixture
def tab(browser: Any, playground: Playground) -> Iterator[Tab]:
    """A fresh tab on the playground; requests leaving loopback are refused and recorded."""
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    outside: list[str] = []

    def route(r: Any) -> None:
        host = r.request.url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        if host in (LOOPBACK, "localhost"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.goto(playground.url)
    page.wait_for_selector("#generate")
    yield Tab(page, outside)
    context.close()
