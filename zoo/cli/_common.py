"""What every command shares: the console, one-line errors, JSON output, option groups.

The exit rule, in one place: a usage error (unknown option, missing argument) exits 2 with
click's message; a failure exits 1 with one line on stderr, and under ``--json`` also with
``{"error": message, "type": name}`` on stdout, so a script reading stdout always gets JSON.
"""

from __future__ import annotations

import functools
import inspect
import json
import shlex
import sys
import traceback
from collections.abc import Callable, Collection
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand

from zoo.errors import ZooError, missing_dependency
from zoo.settings import debug

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")

#: The ``--json`` flag every command that has machine output takes, as its ``as_json``
#: parameter (the name :func:`cli_errors` reads).
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
#: The zoo model a command works on, its first argument.
ModelArg = Annotated[str, typer.Argument(help="Model name, e.g. dcgan-mnist.")]
#: The model repository a command reads or writes (``None``: ``model_repository_dir()``).
RepositoryOpt = Annotated[
    Path | None, typer.Option(help="Repository folder; default model_repository/.")
]
#: The repository a command serves itself when it is given no ``--url`` (soak, playground).
ServedRepositoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--repository", help="Without --url: the repository to serve; default model_repository/."
    ),
]


class _RenamedFlags(TyperCommand):
    """A command that still takes its options' old names (:func:`renamed_flags`)."""

    renamed: ClassVar[dict[str, str]] = {}

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's own click Context
        """Put each old flag's new name in its place, with a warning, before click parses."""
        words = []
        for i, arg in enumerate(args):
            if arg == "--":  # what follows is an argument, whatever it looks like
                words += args[i:]
                break
            flag, eq, value = arg.partition("=")
            if flag in self.renamed:
                new = self.renamed[flag]
                err_console.print(
                    f"[yellow]warning:[/] {flag} is deprecated and will be removed; "
                    f"use {new} (same values).",
                    highlight=False,
                )
                arg = new + eq + value
            words.append(arg)
        return super().parse_args(ctx, words)


def renamed_flags(**old_to_new: str) -> type[TyperCommand]:
    """A command class (``@app.command(cls=...)``) that accepts renamed options' old names.

    Keys are the old flags without their dashes, ``_`` for ``-`` (``backends="--targets"``
    maps ``--backends`` to ``--targets``). The old name keeps working, prints a one-line
    deprecation warning on stderr and is left out of ``--help``.
    """
    table = {"--" + old.replace("_", "-"): new for old, new in old_to_new.items()}
    return type("RenamedFlags", (_RenamedFlags,), {"renamed": table})


#: Errors a user can fix; anything else is a bug and keeps its traceback.
_USER_ERRORS: tuple[type[BaseException], ...] = (
    ZooError,
    OSError,
    ValueError,
    KeyError,
    ImportError,
)


def split_names(values: list[str] | None) -> list[str] | None:
    """A repeatable option's names: ``-m a -m b`` and ``-m a,b`` both give ``["a", "b"]``.

    ``None`` when the option was not given (commands read that as "all of them").
    """
    if not values:
        return None
    return [name for value in values for name in value.split(",") if name]


def command_line(ctx: typer.Context) -> str:
    """The command as a user would type it, rebuilt from what click parsed (not ``sys.argv``).

    Arguments and the options given (not left at their defaults) in the order the command
    declares them; values as typed where that is unambiguous (``1.0`` reads back as ``1``).
    """
    # Duck-typed: typer may vendor its own click, whose classes are not the `click` package's.
    words: list[str] = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.param_type_name == "argument":
            words += [_word(v) for v in (value if isinstance(value, list | tuple) else [value])]
            continue
        source = ctx.get_parameter_source(param.name or "")
        if value is None or getattr(source, "name", "DEFAULT") == "DEFAULT":
            continue
        long = next((o for o in param.opts if o.startswith("--")), param.opts[0])
        if getattr(param, "is_flag", False):
            off = next((o for o in param.secondary_opts if o.startswith("--")), None)
            words += [long] if value else [off] if off else []
        elif param.multiple:
            for v in value:
                words += [long, _word(v)]
        else:
            words += [long, _word(value)]
    names: list[str] = []
    node: Any = ctx
    while node is not None and node.parent is not None:  # the root is the program: `zoo`
        names.insert(0, node.info_name or "")
        node = node.parent
    return shlex.join(["zoo", *names, *words])


def _word(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def error_json(e: BaseException) -> dict[str, str]:
    """The JSON object a failure prints on stdout under ``--json``."""
    return {"error": _message(e), "type": type(e).__name__}


def _message(e: BaseException) -> str:
    return str(e) if isinstance(e, ZooError) else f"{type(e).__name__}: {e}"


def cli_errors(fn: F) -> F:
    """Print a user-fixable error as one line and exit 1; ``ZOO_DEBUG=1`` shows the traceback.

    Under ``--json`` (the command's ``as_json`` parameter) the error is also printed on stdout
    as :func:`error_json`; so is a bug's, whose traceback still follows on stderr.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = kwargs.get("as_json") is True
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise  # an exit the command chose, Ctrl-C, a usage error (exit 2): typer's handling
        except _USER_ERRORS as e:
            if debug():
                traceback.print_exc()
            if isinstance(e, ImportError):  # an optional package: name the extra that brings it
                e = missing_dependency(e) or e
            if as_json:
                print_json(error_json(e))
            # escape: "pip install 'genzoo[export]'" must not lose its brackets to rich markup
            err_console.print(
                f"[bold red]error:[/] {escape(_message(e))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(1) from None
        except Exception as e:
            if as_json:
                print_json(error_json(e))
            raise

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout (for ``--json``)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def _options(group: type[Any], only: Collection[str] | None) -> list[inspect.Parameter]:
    """``group``'s fields (those named in ``only``, if given) as keyword-only command parameters
    (typer's options), in order; a field that is itself such a dataclass stands for its own."""
    hints = inspect.get_annotations(group, eval_str=True)
    params: list[inspect.Parameter] = []
    for f in fields(group):
        if is_dataclass(hints[f.name]):
            params += _options(hints[f.name], only)
        elif only is None or f.name in only:
            kind = inspect.Parameter.KEYWORD_ONLY
            params.append(
                inspect.Parameter(f.name, kind, default=f.default, annotation=hints[f.name])
            )
    return params


def _gather(group: type[Any], given: dict[str, Any]) -> Any:
    """One ``group`` from the options :func:`_options` listed, taken out of ``given``."""
    hints = inspect.get_annotations(group, eval_str=True)
    values = {}
    for f in fields(group):
        if is_dataclass(hints[f.name]):
            values[f.name] = _gather(hints[f.name], given)
        elif f.name in given:
            values[f.name] = given.pop(f.name)
    return group(**values)


def with_options(
    command: Callable[..., R],
    group: type[Any],
    name: str,
    *,
    only: Collection[str] | None = None,
) -> Callable[..., R]:
    """``command`` with ``group``'s fields, as options, in place of its parameter ``name``.

    ``group`` is a dataclass whose fields are typer options (annotation and default); typer
    reads the returned function's signature, so ``--help`` lists them where ``name`` stands,
    and on a call they are gathered into one ``group`` passed as ``name``. With ``only`` the
    command takes just those fields; the others keep their defaults.
    """
    signature = inspect.signature(command, eval_str=True)
    params = list(signature.parameters.values())
    at = [p.name for p in params].index(name)
    params[at : at + 1] = _options(group, only)

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        return command(*args, **{name: _gather(group, kwargs)}, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper
