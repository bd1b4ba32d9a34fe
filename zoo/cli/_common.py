"""What every command shares: the console, one-line errors, JSON output."""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from zoo.errors import ZooError
from zoo.settings import debug

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

#: Errors a user can fix; anything else is a bug and keeps its traceback.
_USER_ERRORS: tuple[type[BaseException], ...] = (
    ZooError,
    OSError,
    ValueError,
    KeyError,
    ImportError,
)


def cli_errors(fn: F) -> F:
    """Print a user-fixable error as one line and exit 1; ``ZOO_DEBUG=1`` shows the traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except _USER_ERRORS as e:
            if debug():
                traceback.print_exc()
            msg = str(e) if isinstance(e, ZooError) else f"{type(e).__name__}: {e}"
            # escape: "pip install 'genzoo[export]'" must not lose its brackets to rich markup
            err_console.print(f"[bold red]error:[/] {escape(msg)}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout (for ``--json``)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()
