"""``zoo playground``: a web page (Gradio) to try every served model, through the client SDK.

The page talks to Triton only through :class:`serving.client.ZooClient`, exactly as any client
machine would. Pick a model and the page shows the controls its entry points take:

- generators (DCGAN, cGAN, StyleGAN2, the VAE's ``sample``): a first seed and a count give a
  grid; the cGAN adds a class label, StyleGAN2 the truncation ψ and a mixing seed;
- image models: draw or upload a digit, then translate it (CycleGAN, both directions),
  classify it, or encode → decode it (VAE, with the latent's size beside the image's) and
  inpaint it with a mask painted over the digit.

Every call shows its latency (the SDK call alone, measured around it). Input the SDK refuses
appears in the page as one error message (``gr.Error``), never as a traceback. Up to
:data:`MAX_CONCURRENT_CALLS` calls run side by side, so several people can use one page.

Each server call is also a named API endpoint, for ``gradio_client`` or any HTTP client:
``/generate``, ``/translate``, ``/classify``, ``/encode_decode`` and ``/inpaint``, taking the
page's inputs in order and returning what the page shows.

Images leave the page as they left the server: grids are PNG (lossless) at the model's
resolution, tiled by :func:`zoo.images.make_grid`, and enlarged on screen by CSS only.
:func:`start_playground` also starts the embedded Triton when no URL is given, and
:meth:`Playground.close` stops what it started. Gradio's analytics and version check are off.

The package: ``digits`` (a drawing or upload → the model's input), ``calls`` (what a served
model offers and the page's calls on the SDK), ``page`` (the Gradio page), and here, running it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serving.apps.playground.calls import (
    MAX_IMAGES,
    PlaygroundCalls,
    ServedModel,
    _gradio,
    served_models,
)
from serving.apps.playground.digits import (
    CANVAS,
    ZOOM,
    digit_from_image,
    editor_image,
    enlarge,
    mask_from_editor,
    softmax,
)
from serving.apps.playground.page import _CSS, MAX_CONCURRENT_CALLS, build_app, visibility
from serving.client import (
    Protocol,
    ServerUnavailableError,
    ZooClient,
)
from serving.client.closeable import Closeable
from serving.server.triton import LOOPBACK, ServerConfig, TritonServer

__all__ = [
    "CANVAS",
    "DEFAULT_PORT",
    "MAX_CONCURRENT_CALLS",
    "MAX_IMAGES",
    "ZOOM",
    "Playground",
    "PlaygroundCalls",
    "ServedModel",
    "build_app",
    "digit_from_image",
    "editor_image",
    "enlarge",
    "mask_from_editor",
    "served_models",
    "softmax",
    "start_playground",
    "visibility",
    "wait_forever",
]

#: Default port of the page (Gradio's usual one).
DEFAULT_PORT = 7860


@dataclass
class Playground(Closeable):
    """A running playground page (and the Triton it started, if any)."""

    url: str  # the page's address
    triton_url: str  # the server the page calls
    app: Any  # the gradio Blocks
    calls: PlaygroundCalls  # what the page's buttons call (on the SDK client)
    server: TritonServer | None = None  # the embedded Triton, when the playground started it
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        """Stop the page, close the client, stop the Triton it started."""
        if self._closed:
            return
        self._closed = True
        try:
            self.app.close()
        finally:
            self.calls.client.close()
            if self.server is not None:
                self.server.stop()


def start_playground(
    url: str | None = None,
    *,
    host: str = LOOPBACK,
    port: int = DEFAULT_PORT,
    protocol: Protocol | None = None,
    models: Sequence[str] | None = None,
    repository: Path | None = None,
    log_file: Path | None = None,
    progress: Callable[[str], None] | None = None,
    connection: Mapping[str, Any] | None = None,
) -> Playground:
    """Serve the page on ``host:port`` and return at once; ``close()`` stops it.

    With ``url`` the page calls that Triton server, over ``protocol`` (default: the URL's
    scheme, else HTTP) with the client's TLS and header options in ``connection``
    (``headers``, ``ca_cert``, ``client_cert``, ``client_key``). Without, it starts the
    embedded Triton on free loopback ports, serving ``repository`` (default
    ``model_repository/``, built first with the trained weights when it holds no model),
    limited to ``models`` when given. Start it from a thread that lives as long as the page
    (see :class:`TritonServer`).
    """
    gr = _gradio()
    say = progress or (lambda _msg: None)
    server: TritonServer | None = None
    if url is None:
        server = _start_triton(models, repository, log_file, say)
        protocol = protocol or "http"
        url = server.http_url if protocol == "http" else server.grpc_url
    client: ZooClient | None = None
    try:
        client = ZooClient(url, protocol=protocol, **(connection or {}))
        if not client.ready():
            raise ServerUnavailableError(
                f"the Triton server at {client.url} is not ready (or not running): start it "
                "with `zoo serve`, or leave out --url to start one."
            )
        note = f"{'embedded ' if server else ''}Triton at {client.url}"
        calls = PlaygroundCalls(client)
        app = build_app(calls, server_note=note)
        say(f"starting the page on {host}:{port}")
        _, local_url, _ = app.launch(
            server_name=host,
            server_port=port,
            prevent_thread_lock=True,
            quiet=True,
            share=False,
            inbrowser=False,
            show_error=False,
            footer_links=[],
            theme=gr.themes.Default(),
            css=_CSS,
        )
    except BaseException:
        if client is not None:
            client.close()
        if server is not None:
            server.stop()
        raise
    return Playground(str(local_url), client.url, app, calls, server)


def _start_triton(
    models: Sequence[str] | None,
    repository: Path | None,
    log_file: Path | None,
    say: Callable[[str], None],
) -> TritonServer:
    """The embedded Triton on free loopback ports, serving (and, if empty, building) the repo."""
    from serving.server.inprocess import served_entries
    from serving.server.repository import build_repository
    from zoo.settings import model_repository_dir

    repo = Path(repository or model_repository_dir())
    if not any(repo.glob("*/config.pbtxt")):
        say(f"building the Triton repository in {repo} (trained weights)")
        build_repository(list(models) if models else None, out_dir=repo, progress=say)
    config = ServerConfig.on_free_ports(
        repo,
        load_models=tuple(sorted(served_entries(list(models)))) if models else (),
    )
    say("starting Triton")
    return TritonServer(config, log_file=log_file).start()


def wait_forever(playground: Playground, stop: threading.Event) -> None:
    """Block until ``stop`` is set or the embedded Triton exits; raise if it exited."""
    from zoo.errors import ServerStartError

    while not stop.wait(0.5):
        if playground.server is not None and not playground.server.is_running():
            raise ServerStartError(
                f"Triton exited; see its log {playground.server.log_file}:\n"
                f"{playground.server.log_tail()}"
            )
