"""``zoo serve``, ``zoo repo build`` and ``zoo demo``: the Triton side of the zoo."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from serving.client.ports import GRPC_PORT, HTTP_PORT, METRICS_PORT
from zoo.cli._common import (
    JsonFlag,
    RepositoryOpt,
    cli_errors,
    console,
    err_console,
    print_json,
    split_names,
)
from zoo.cli._signals import stop_on_signals
from zoo.cli.export import SetOpt

repo_app = typer.Typer(help="Build the Triton model repository.", no_args_is_help=True)

ModelsOpt = Annotated[
    list[str] | None,
    typer.Option("--models", "-m", help="Models to include (repeat the option); default: all."),
]
EngineOpt = Annotated[
    str,
    typer.Option(
        help="Engine of the runner inside Triton (with --native: of Triton's platform or "
        "backend): onnxruntime, openvino, openvino-bf16, torch or tensorrt."
    ),
]


@cli_errors
def repo_build_command(
    models: ModelsOpt = None,
    engine: EngineOpt = "onnxruntime",
    native: Annotated[
        bool,
        typer.Option(
            help="Native onnxruntime_onnx / tensorrt_plan / openvino configs for the NGC container."
        ),
    ] = False,
    out: RepositoryOpt = None,
    max_batch_size: Annotated[int, typer.Option(help="Largest batch per execution.")] = 64,
    instances: Annotated[int, typer.Option(help="Model instances per model.")] = 1,
    threads: Annotated[int, typer.Option(help="Intra-op threads per instance.")] = 1,
    configs_only: Annotated[
        bool, typer.Option("--configs-only", help="Write config.pbtxt files only; no export.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Re-export even when up to date.")] = False,
    set_: SetOpt = None,
    optimize: Annotated[
        bool,
        typer.Option(
            help="Then pick each entry point's fastest gated engine on this host (zoo optimize); "
            "needs --out, so the tracked defaults stay host-independent."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Export every entry point and write a Triton model repository (config.pbtxt + files).

    --set builds random-weight variants of the models (--models) with their own signatures.
    --optimize measures every engine here and serves the winners (report in out/optimize/).
    """
    from serving.server.repository import RepositoryOptions, build_repository, write_configs

    options = RepositoryOptions(
        engine=engine,
        native=native,
        max_batch_size=max_batch_size,
        preferred_batch_sizes=tuple(b for b in (16, 64) if b <= max_batch_size) or (1,),
        instances=instances,
        threads=threads,
    )
    names = split_names(models)
    overrides = _variants(names, set_)
    from zoo.settings import model_repository_dir

    tracked = out is None or out.resolve() == model_repository_dir().resolve()
    if optimize and (tracked or configs_only or overrides):
        from zoo.errors import InvalidInputError

        raise InvalidInputError(
            "--optimize writes this host's choices: give it a repository of its own with --out "
            "(not the tracked model_repository/), without --configs-only or --set."
        )
    if configs_only:
        paths = write_configs(out, names, options, overrides=overrides)
        if as_json:
            print_json([str(p) for p in paths])
        else:
            console.print(f"wrote {len(paths)} configs under {paths[0].parent.parent}")
        return
    with console.status("building the repository") as status:
        built = build_repository(
            names,
            out_dir=out,
            options=options,
            overrides=overrides,
            force=force,
            progress=status.update,
        )
        if optimize:
            from serving.apps.optimize import run_optimize

            assert out is not None  # refused above otherwise
            run_optimize(
                sorted({b.model for b in built}),
                repository=out,
                write=True,
                report_dir=Path("out/optimize"),
                progress=status.update,
            )
    if as_json:
        print_json([{"name": b.name, "path": str(b.path)} for b in built])
        return
    table = Table("Triton model", "zoo model", "entry", "files")
    for b in built:
        table.add_row(b.name, b.model, b.entry, ", ".join(p.name for p in b.files))
    console.print(table)


@cli_errors
def serve_command(
    models: ModelsOpt = None,
    repository: RepositoryOpt = None,
    host: Annotated[
        str, typer.Option(help="Address to bind (all three ports); 0.0.0.0 exposes the server.")
    ] = "127.0.0.1",
    http_port: Annotated[int, typer.Option(help="HTTP port.")] = HTTP_PORT,
    grpc_port: Annotated[int, typer.Option(help="gRPC port.")] = GRPC_PORT,
    metrics_port: Annotated[int, typer.Option(help="Prometheus metrics port.")] = METRICS_PORT,
    engine: Annotated[
        str | None,
        typer.Option(help="Rebuild the repository for this runner engine first (as repo build)."),
    ] = None,
    cache_mb: Annotated[int, typer.Option(help="Response cache size in MiB (0 = off).")] = 64,
    log_file: Annotated[Path | None, typer.Option(help="Server log file.")] = None,
    max_restarts: Annotated[
        int, typer.Option(help="Restarts in a row (with backoff) if Triton dies; 0 = none.")
    ] = 5,
    set_: SetOpt = None,
    restrict_apis: Annotated[
        bool,
        typer.Option(
            "--restrict-apis",
            help="Admin APIs (model control, shared memory, statistics, trace, logging) need "
            "the admin key on loopback too; always so on any other --host.",
        ),
    ] = False,
    admin_key_file: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the generated admin key (0600; implies --restrict-apis); "
            "default $ZOO_HOME/serve/admin-key-<http-port>. ZOO_ADMIN_KEY gives the key instead.",
        ),
    ] = None,
) -> None:
    """Run the embedded Triton server in the foreground until Ctrl-C or SIGTERM.

    Models that fail to load are reported and the others served; if Triton dies it is
    restarted, with a doubling wait, at most --max-restarts times in a row. --set first
    builds random-weight variants of --models into the repository (like `zoo repo build --set`).
    Bound to anything but loopback, Triton's admin APIs answer only requests carrying the admin
    key.
    """
    from serving.server.admin_key import ADMIN_KEY_HEADER, read_admin_key, write_admin_key
    from serving.server.repository import RepositoryOptions, build_repository
    from serving.server.triton import ServerConfig, TritonServer, is_loopback
    from zoo.settings import model_repository_dir, zoo_home

    repo = repository or model_repository_dir()
    if engine is not None or set_:
        names = split_names(models)
        with console.status("building the repository") as status:
            build_repository(
                names,
                out_dir=repo,
                options=RepositoryOptions(engine=engine or "onnxruntime"),
                overrides=_variants(names, set_),
                progress=status.update,
            )
    config = ServerConfig(
        model_repository=repo,
        http_address=host,
        grpc_address=host,
        metrics_address=host,
        http_port=http_port,
        grpc_port=grpc_port,
        metrics_port=metrics_port,
        cache_size=cache_mb * 2**20,
        load_models=tuple(triton_models(models)),
    )
    key_file: Path | None = None  # a key file this run wrote (removed when it stops)
    key_note = ""
    if restrict_apis or admin_key_file is not None or not is_loopback(host):
        config.admin_key = read_admin_key()  # ZOO_ADMIN_KEY, when set
        if config.admin_key is None:
            key_file = admin_key_file or zoo_home() / "serve" / f"admin-key-{http_port}"
            config.admin_key = write_admin_key(key_file)
        source = f"key in {key_file} (0600)" if key_file else "key from ZOO_ADMIN_KEY"
        key_note = f"\nadmin APIs: header {ADMIN_KEY_HEADER}, {source}"
    server = TritonServer(config, log_file=log_file)
    stop = threading.Event()
    with stop_on_signals(stop) as serving:
        try:
            _serve(server, stop, serving, max_restarts=max_restarts, key_note=key_note)
        except KeyboardInterrupt:
            pass  # a second signal while starting: what started is stopped below
        finally:
            if server.is_running():
                console.print("stopping Triton")
            server.stop()
            if key_file is not None:
                key_file.unlink(missing_ok=True)


def _serve(
    server: Any,
    stop: threading.Event,
    serving: Callable[[], None],
    *,
    max_restarts: int,
    key_note: str,
) -> None:
    """Start ``server``, say where it serves, and keep it up until ``stop`` is set."""
    from serving.server.triton import RestartPolicy, supervise

    started = time.monotonic()
    with console.status("starting Triton"):
        server.start()
    ready_s = time.monotonic() - started
    serving()
    console.print(
        f"[green]Triton ready[/]  HTTP {server.http_url}  gRPC {server.grpc_url}  "
        f"metrics {server.metrics_url}\nlog: {server.log_file}   Ctrl-C to stop{key_note}",
        highlight=False,
        soft_wrap=True,
    )
    _print_footprint(server, ready_s)
    _print_models(server)

    def notify(message: str) -> None:
        err_console.print(f"[yellow]{escape(message)}[/]", highlight=False, soft_wrap=True)
        if message.startswith("tritonserver restarted"):
            _print_models(server)

    supervise(server, stop, policy=RestartPolicy(max_restarts=max_restarts), notify=notify)


def _print_footprint(server: Any, ready_s: float) -> None:
    """One line: how long the server took to be ready and the memory it and its stubs hold."""
    from serving.apps.soak import server_rss_mib

    rss = server_rss_mib(server.pid) if server.pid else 0.0
    console.print(
        f"ready in {ready_s:.1f} s; RSS {rss / 1024:.2f} GiB (tritonserver + backend stubs)",
        highlight=False,
    )


def _print_models(server: Any) -> None:
    """Which models are up, and why the others are not (Triton's repository index)."""
    states = server.model_states()
    up = [m.name for m in states if m.ready]
    console.print(f"models up ({len(up)}): {', '.join(up) or 'none'}", highlight=False)
    for m in states:
        if not m.ready and m.state != "UNLOADED":  # UNLOADED: not asked for (--models)
            err_console.print(
                f"[bold red]not loaded:[/] {escape(f'{m.name} ({m.state}): {m.reason}')}",
                highlight=False,
                soft_wrap=True,
            )


def _variants(models: list[str] | None, items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``--set`` overrides for each of ``models`` (which --set needs, so no model is a surprise)."""
    if not items:
        return {}
    from zoo.errors import InvalidInputError
    from zoo.overrides import parse_overrides

    if not models:
        raise InvalidInputError("--set builds a variant: name its model(s) with --models.")
    overrides = parse_overrides(items)
    return {m: overrides for m in models}


def triton_models(models: list[str] | None) -> list[str]:
    """The Triton models serving the zoo models of a ``--models`` option (:func:`split_names`);
    empty when none are named (load everything in the repository)."""
    names = split_names(models)
    if not names:
        return []
    from serving.server.inprocess import served_entries

    return sorted(served_entries(names))


@cli_errors
def demo_command(
    out: Annotated[Path, typer.Option(help="Folder for the pictures and the server log.")] = Path(
        "out"
    ),
    models: ModelsOpt = None,
    online: Annotated[
        bool, typer.Option(help="Pull from the Hub first (default: offline, bundled weights).")
    ] = False,
    bench_seconds: Annotated[float, typer.Option(help="Seconds per benchmark path.")] = 2.0,
) -> None:
    """The main job: pull → export → repository → Triton → generate via the SDK → bench."""
    from serving.apps.demo import run_demo

    with console.status("starting") as status:
        start = time.monotonic()

        def progress(message: str) -> None:
            console.print(f"[dim]{time.monotonic() - start:6.1f}s[/] {message}", highlight=False)
            status.update(message)

        result = run_demo(
            out_dir=out,
            models=split_names(models),
            offline=not online,
            bench_seconds=bench_seconds,
            progress=progress,
        )
    for note in result.notes:
        console.print(note)
    if result.bench_report:
        from zoo.cli.bench import summary_table

        title = f"short zoo bench, dcgan-mnist (report: {result.out_dir / 'bench'}/bench.md)"
        console.print(summary_table(result.bench_report, title=title))
    console.print(f"[bold green]pictures in {result.out_dir}/[/]")
    for name, path in result.pictures.items():
        console.print(f"  {name}: {path}")
