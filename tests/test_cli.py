"""The ``zoo`` CLI through typer's runner: listing, info, training, one-line errors."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
from typer.testing import CliRunner

from zoo.cli.main import app
from zoo.registry import list_models

runner = CliRunner()


def test_list_json_names_every_model() -> None:
    result = runner.invoke(app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    assert sorted(m["name"] for m in json.loads(result.stdout)) == list_models()


def test_info_json_has_signature_and_hub_repo() -> None:
    result = runner.invoke(app, ["info", "stylegan2-mnist", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["repo_id"] == "genzoo/stylegan2-mnist"
    names = [t["name"] for t in info["entry_points"][0]["inputs"]]
    assert names == ["z", "psi", "mix_z"]


def test_unknown_model_is_one_line_with_a_suggestion() -> None:
    result = runner.invoke(app, ["info", "dcgan-mnst"])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "dcgan-mnist" in lines[0]


def test_train_runs_and_writes_weights(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["train", "dcgan-mnist", "--max-steps", "2", "--out", str(out), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["steps"] == 2
    assert (out / "model" / "model.safetensors").is_file()
    resumed = runner.invoke(app, [*args[:3], "3", *args[4:], "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["steps"] == 3


def test_train_bad_loss_is_one_line() -> None:
    result = runner.invoke(app, ["train", "dcgan-mnist", "--loss", "mse", "--max-steps", "1"])
    assert result.exit_code == 1
    assert "unknown GAN loss" in result.output


# -- habits every command shares ------------------------------------------------------------
def test_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"genzoo {version('genzoo')}\n"


def test_usage_errors_exit_2_and_failures_exit_1() -> None:
    assert runner.invoke(app, ["info"]).exit_code == 2  # missing argument
    assert runner.invoke(app, ["list", "--no-such-option"]).exit_code == 2
    assert runner.invoke(app, ["info", "no-such-model"]).exit_code == 1


def test_a_failure_under_json_is_a_json_object_on_stdout() -> None:
    result = runner.invoke(app, ["info", "no-such-model", "--json"])
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["type"] == "UnknownModelError"
    assert "unknown model 'no-such-model'" in error["error"]
    assert result.stderr.startswith("error: unknown model")  # the human line stays on stderr
    plain = runner.invoke(app, ["info", "no-such-model"])
    assert plain.stdout == ""  # without --json nothing goes to stdout


def _commands() -> list[tuple[str, Any]]:
    """Every leaf command of the app (click objects: typer may vendor click), by full name."""
    out: list[tuple[str, Any]] = []

    def walk(prefix: str, cmd: Any) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(f"{prefix} {name}".strip(), sub)
        else:
            out.append((prefix, cmd))

    walk("", typer.main.get_command(app))
    return out


def test_json_is_a_flag_on_every_command() -> None:
    with_json = []
    for name, cmd in _commands():
        for p in cmd.params:
            if "--json" in p.opts:
                assert p.is_flag, f"zoo {name} --json takes a value"
                assert p.name == "as_json", f"zoo {name}: cli_errors reads the flag as as_json"
                with_json.append(name)
    assert {"list", "info", "bench", "soak", "eval", "pull", "train"} <= set(with_json)


@pytest.mark.parametrize(
    "args",
    [
        ["bench", "dcgan-mnist", "--json", "out/bench.json"],
        ["bench", "--json", "out/bench.json", "dcgan-mnist"],
        ["bench", "--tune", "dcgan-mnist", "--p99-ms", "20", "--json", "out/bench.json"],
    ],
)
def test_bench_refuses_the_old_json_path_spelling_with_a_hint(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.replace("│", " ").split())  # typer may draw it in a box
    assert "no longer takes a path" in flat and "--json-out PATH" in flat


def test_bench_json_prints_the_report_alone_and_json_out_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    args = ["bench", "dcgan-mnist", "--targets", "onnxruntime", "--batch", "1"]
    args += ["--concurrency", "1", "--duration", "0.2", "--warmup", "0", "--threads", "1"]
    result = runner.invoke(app, [*args, "--json", "--json-out", str(path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # stdout is the JSON document and nothing else
    assert report["schema"] == "genzoo.bench/2"
    assert [c["target"] for c in report["results"]] == ["onnxruntime"]
    assert json.loads(path.read_text()) == report


@pytest.mark.parametrize(
    "old", [["--backends", "onnxruntime,nope"], ["--backends=onnxruntime,nope"]]
)
def test_bench_still_takes_backends_for_targets_with_a_deprecation_warning(old: list[str]) -> None:
    """`--backends` was `--targets`' name (issue 26): it still names the targets, and says so."""
    result = runner.invoke(app, ["bench", "dcgan-mnist", *old])
    assert result.exit_code == 1, result.output
    assert "--backends is deprecated" in result.stderr and "use --targets" in result.stderr
    assert "unknown target(s) nope" in result.stderr  # the value reached --targets' check
    help_text = runner.invoke(app, ["bench", "--help"]).stdout
    assert "--targets" in help_text and "--backends" not in help_text


def test_every_command_uses_the_one_definition_of_the_default_ports() -> None:
    from serving.apps.bench.settings import BenchSettings
    from serving.client import ZooClient, ports
    from serving.server.triton import ServerConfig

    assert (ports.HTTP_PORT, ports.GRPC_PORT, ports.METRICS_PORT) == (8000, 8001, 8002)  # Triton's
    serve = dict(_commands())["serve"]
    defaults = {p.name: p.default for p in serve.params}
    assert (defaults["http_port"], defaults["grpc_port"], defaults["metrics_port"]) == (
        8000,
        8001,
        8002,
    )
    config = ServerConfig(model_repository="unused")
    assert (config.http_port, config.grpc_port, config.metrics_port) == (8000, 8001, 8002)
    assert ZooClient("localhost").url == "localhost:8000"
    assert ZooClient("localhost", protocol="grpc").url == "localhost:8001"
    # A server named by its HTTP address: bench and soak assume gRPC on the same host, 8001.
    assert ports.default_grpc_url("127.0.0.1:9000") == "127.0.0.1:8001"
    bench = BenchSettings(model="dcgan-mnist", url="127.0.0.1:9000")
    assert bench.grpc_url == "127.0.0.1:8001"


@pytest.fixture
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under the umask it is parametrized with (restored afterwards)."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)], indirect=["umask"])
def test_written_files_get_the_users_umask(umask: int, mode: int, tmp_path: Path) -> None:
    grid = tmp_path / "grid.png"
    result = runner.invoke(app, ["generate", "dcgan-mnist", "--seeds", "0-3", "--out", str(grid)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(grid.stat().st_mode) == mode
    from zoo.weights import write_atomic

    text = tmp_path / "sub" / "note.txt"
    write_atomic(text, lambda p: p.write_text("x"))
    assert stat.S_IMODE(text.stat().st_mode) == mode
    assert [p.name for p in text.parent.iterdir()] == ["note.txt"]  # no temporary file left


def test_command_line_is_rebuilt_from_the_parsed_arguments() -> None:
    """What `zoo bench` records: the options given, in declared order, as typed; not sys.argv."""
    from zoo.cli._common import command_line

    sub = typer.Typer()

    @sub.command("run")
    def run(
        ctx: typer.Context,
        name: str,
        batch: Annotated[str, typer.Option()] = "1,8",
        duration: Annotated[float, typer.Option()] = 5.0,
        set_: Annotated[list[str] | None, typer.Option("--set")] = None,
        fast: Annotated[bool, typer.Option("--fast/--slow")] = False,
        out: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        typer.echo(command_line(ctx))

    root = typer.Typer()
    root.add_typer(sub, name="tool")
    args = ["tool", "run", "m", "--out", "a b", "--set", "k=1", "--duration", "0.5", "--set"]
    result = runner.invoke(root, [*args, "w=2", "--fast"])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.strip()
        == "zoo tool run m --duration 0.5 --set k=1 --set w=2 --fast --out 'a b'"
    )
    again = runner.invoke(root, ["tool", "run", "m", "--batch", "1,8", "--slow"])
    # Given explicitly, even at its default, an option is recorded (the user typed it).
    assert again.stdout.strip() == "zoo tool run m --batch 1,8 --slow"


def test_a_renamed_flag_still_works_with_a_warning() -> None:
    """`renamed_flags`: the old spelling (alone or with `=`) maps to the new one and says so;
    a word after `--` is an argument, and the old name stays out of --help."""
    from zoo.cli._common import renamed_flags

    tool = typer.Typer()

    @tool.command("run", cls=renamed_flags(backends="--targets", old_name="--new-name"))
    def run(
        words: Annotated[list[str] | None, typer.Argument()] = None,
        targets: Annotated[str, typer.Option()] = "a",
        new_name: Annotated[int, typer.Option()] = 0,
    ) -> None:
        typer.echo(f"{targets} {new_name} {words}")

    @tool.command("other")
    def other() -> None:
        """A second command, so that `run` is a subcommand."""

    new = runner.invoke(tool, ["run", "--targets", "x", "--new-name", "3"])
    old = runner.invoke(tool, ["run", "--backends", "x", "--old-name=3", "--", "--backends"])
    assert new.exit_code == old.exit_code == 0, old.output
    assert new.stdout.strip() == "x 3 None" and not new.stderr
    assert old.stdout.strip() == "x 3 ['--backends']"
    assert "--backends is deprecated" in old.stderr and "use --targets" in old.stderr
    assert "--old-name is deprecated" in old.stderr and "use --new-name" in old.stderr
    help_text = runner.invoke(tool, ["run", "--help"]).stdout
    assert "--targets" in help_text and "--backends" not in help_text


#: The commands whose ``--engine`` (a runner's engine) was called ``--backend`` (issue 26).
ENGINE_COMMANDS = {
    "eval",
    "serve",
    "repo build",
    *("generate", "translate", "encode", "decode", "reconstruct", "inpaint", "classify"),
    *("project", "interpolate"),
}


def test_every_engine_option_takes_its_old_name_and_no_option_is_called_backend() -> None:
    commands = dict(_commands())
    with_engine = {n for n, c in commands.items() if any("--engine" in p.opts for p in c.params)}
    assert with_engine == ENGINE_COMMANDS
    for name in ENGINE_COMMANDS:
        assert getattr(commands[name], "renamed", {}) == {"--backend": "--engine"}, name
    assert not [n for n, c in commands.items() if any("--backend" in p.opts for p in c.params)]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["eval", "dcgan-mnist", "--seed", "0"], "unknown engine 'tpu'"),
        (["generate", "dcgan-mnist", "--seeds", "0", "--local"], "unknown engine 'tpu'"),
        (["repo", "build", "--configs-only"], "engine 'tpu' is not available"),
        (["serve", "--models", "dcgan-mnist"], "engine 'tpu' is not available"),
    ],
    ids=["eval", "generate", "repo-build", "serve"],
)
def test_the_old_backend_flag_still_reaches_the_engine_with_a_warning(
    args: list[str], error: str, tmp_path: Path
) -> None:
    """`--backend X` is `--engine X` plus a deprecation warning (an unknown engine fails fast,
    right after parsing, with the same error both ways)."""
    where = ["--out", str(tmp_path)] if args[0] == "repo" else []
    where += ["--repository", str(tmp_path)] if args[0] == "serve" else []
    new = runner.invoke(app, [*args, *where, "--engine", "tpu"])
    old = runner.invoke(app, [*args, *where, "--backend", "tpu"])
    assert new.exit_code == old.exit_code == 1, old.output
    assert error in new.output and error in old.output, old.output
    assert "deprecated" not in new.stderr
    assert "--backend is deprecated" in old.stderr and "use --engine" in old.stderr
    assert not list(tmp_path.iterdir())  # nothing was built
