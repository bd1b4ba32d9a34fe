"""The CLI against the session's Triton (`--url`), `zoo serve` in the foreground, and the demo."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from serving.apps.demo import make_pictures
from serving.client import ZooClient
from serving.server.inprocess import InProcessZoo
from serving.server.triton import TritonServer, free_port
from zoo.cli.main import app
from zoo.hub import pull_bundled
from zoo.registry import get_spec, list_models

runner = CliRunner()


#: ``zoo.images.save_grid``'s layout: 2 pixels of padding around every tile, then enlarged 2×.
PAD, SCALE = 2, 2


def grid_tiles(path: Path, n: int, ncols: int, size: int = 32) -> np.ndarray:
    """The ``n`` grey ``size``² images of a PNG grid the CLI wrote, as uint8 NHWC."""
    grid = np.asarray(Image.open(path))[::SCALE, ::SCALE]
    tiles = []
    for i in range(n):
        row, col = divmod(i, ncols)
        y, x = PAD + row * (size + PAD), PAD + col * (size + PAD)
        tiles.append(grid[y : y + size, x : x + size])
    return np.stack(tiles)[..., None]


@pytest.fixture(scope="module")
def digits(serving_modules: dict) -> np.ndarray:
    """Three 32×32 digits (uint8 NHWC) from the random-weight cGAN."""
    return InProcessZoo("torch", modules=serving_modules).generate(
        "cgan-mnist", [1, 2, 3], labels=[1, 2, 3]
    )


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory: pytest.TempPathFactory, digits: np.ndarray) -> list[Path]:
    """The digits as PNG files at the models' size, so the CLI reads exactly these pixels."""
    folder = tmp_path_factory.mktemp("digits")
    paths = []
    for i, d in enumerate(digits):
        paths.append(folder / f"digit{i}.png")
        Image.fromarray(d[..., 0]).save(paths[-1])
    return paths


def test_generate_writes_a_grid_over_http_and_grpc(triton: TritonServer, tmp_path: Path) -> None:
    for protocol, url in (("http", triton.http_url), ("grpc", triton.grpc_url)):
        out = tmp_path / f"grid-{protocol}.png"
        args = ["generate", "stylegan2-mnist", "--seeds", "0-3,9", "--psi", "0.7"]
        args += ["--mix-seed", "9", "--url", url, "--protocol", protocol, "--out", str(out)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        grid = np.asarray(Image.open(out))
        assert grid.shape == (2 * (2 * 34 + 2), 2 * (3 * 34 + 2))  # 5 images: 2 rows of 3
    a, b = (np.asarray(Image.open(tmp_path / f"grid-{p}.png")) for p in ("http", "grpc"))
    np.testing.assert_array_equal(a, b)


def test_cli_errors_are_one_red_line(triton: TritonServer, tmp_path: Path) -> None:
    cases = [
        (["generate", "cgan-mnist", "--seeds", "0-3"], "class-conditional"),
        (["generate", "dcgan-mnist", "--seeds", "3-1"], "cannot read seeds"),
        (["generate", "dcgan-mnst", "--seeds", "1"], "dcgan-mnist"),
        (["generate", "dcgan-mnist", "--local"], "either --url"),
    ]
    for args, message in cases:
        result = runner.invoke(
            app, [*args, "--url", triton.http_url, "--out", str(tmp_path / "x.png")]
        )
        assert result.exit_code == 1, result.output
        assert message in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["generate", "dcgan-mnist", "--url", f"127.0.0.1:{free_port()}"])
    assert result.exit_code == 1 and "zoo serve" in result.output


def test_translate_matches_the_sdk(
    triton: TritonServer, digits: np.ndarray, digit_files: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "t.png"
    args = ["translate", "cyclegan-digits", *map(str, digit_files), "--direction", "b2a"]
    result = runner.invoke(app, [*args, "--url", triton.http_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with ZooClient(triton.http_url) as zoo:
        want = zoo.translate("cyclegan-digits", digits, direction="b2a")
        other = zoo.translate("cyclegan-digits", digits, direction="a2b")
    tiles = grid_tiles(out, 6, ncols=3)  # inputs above outputs
    np.testing.assert_array_equal(tiles[:3], digits)
    np.testing.assert_array_equal(tiles[3:], want)
    assert not np.array_equal(want, other)  # so the check above tells the directions apart


def test_translate_refuses_an_unknown_direction(digit_files: list[Path]) -> None:
    result = runner.invoke(
        app,
        ["translate", "cyclegan-digits", str(digit_files[0]), "--direction", "sideways"],
    )
    assert result.exit_code == 1
    assert "--direction must be a2b or b2a, got 'sideways'" in result.output
    assert "Traceback" not in result.output


def test_inpaint_matches_the_sdk(
    triton: TritonServer, digits: np.ndarray, digit_files: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "i.png"
    args = ["inpaint", "vae-mnist", *map(str, digit_files), "--hole", "0,0,32,10"]
    args += ["--url", triton.grpc_url, "--protocol", "grpc", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    mask = np.ones((3, 32, 32, 1), np.uint8)
    mask[:, :10, :] = 0  # x 0, y 0, 32 wide, 10 high: the top ten rows are filled in
    with ZooClient(triton.grpc_url, protocol="grpc") as zoo:
        want = zoo.inpaint("vae-mnist", digits, mask)
    tiles = grid_tiles(out, 6, ncols=3)  # inputs with the hole above the filled images
    np.testing.assert_array_equal(tiles[:3], digits * mask)
    np.testing.assert_array_equal(tiles[3:], want)


def test_encode_then_decode_match_the_sdk(
    triton: TritonServer, digits: np.ndarray, digit_files: list[Path], tmp_path: Path
) -> None:
    """`zoo encode` writes the SDK's codes; `zoo decode` of that file draws the SDK's images."""
    codes, out = tmp_path / "codes.npz", tmp_path / "d.png"
    files = [str(p) for p in digit_files]
    result = runner.invoke(
        app, ["encode", "vae-mnist", *files, "--url", triton.http_url, "--out", str(codes)]
    )
    assert result.exit_code == 0, result.output
    with ZooClient(triton.http_url) as zoo:
        latent, logvar = zoo.encode("vae-mnist", digits)
        want = zoo.decode("vae-mnist", latent)
    with np.load(codes) as saved:
        np.testing.assert_array_equal(saved["latent"], latent)
        np.testing.assert_array_equal(saved["logvar"], logvar)
    result = runner.invoke(
        app, ["decode", "vae-mnist", str(codes), "--url", triton.grpc_url, "--protocol", "grpc",
              "--out", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(grid_tiles(out, 3, ncols=2), want)  # ceil(√3) columns
    np.save(tmp_path / "codes.npy", latent)  # a bare array is read as the codes too
    again = tmp_path / "again.png"
    args = ["decode", "vae-mnist", str(tmp_path / "codes.npy"), "--url", triton.http_url]
    assert runner.invoke(app, [*args, "--out", str(again)]).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_decode_refuses_a_file_without_codes_or_with_objects(tmp_path: Path) -> None:
    """No 'latent' array, or a pickled object array: one line each, nothing unpickled."""
    other = tmp_path / "other.npz"
    np.savez(other, z=np.zeros((1, 16), np.float32))
    objects = tmp_path / "objects.npy"
    np.save(objects, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    for path, says in ((other, "has no 'latent' array (it has z)"), (objects, "cannot read")):
        result = runner.invoke(app, ["decode", "vae-mnist", str(path), "--url", "127.0.0.1:1"])
        assert result.exit_code == 1, result.output
        assert says in result.output and "Traceback" not in result.output


def test_reconstruct_matches_the_sdk(
    triton: TritonServer, digits: np.ndarray, digit_files: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "r.png"
    args = ["reconstruct", "vae-mnist", *map(str, digit_files), "--url", triton.http_url]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with ZooClient(triton.http_url) as zoo:
        want = zoo.reconstruct("vae-mnist", digits)
    tiles = grid_tiles(out, 6, ncols=3)  # inputs above their reconstructions
    np.testing.assert_array_equal(tiles[:3], digits)
    np.testing.assert_array_equal(tiles[3:], want)


def test_classify_matches_the_sdk(
    triton: TritonServer, digits: np.ndarray, digit_files: list[Path]
) -> None:
    files = [str(p) for p in digit_files]
    result = runner.invoke(
        app, ["classify", "classifier-mnist", *files, "--url", triton.http_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    with ZooClient(triton.http_url) as zoo:
        logits = zoo.classify("classifier-mnist", digits).astype(np.float64)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # softmax, by hand
    assert json.loads(result.output) == [
        {"file": f, "class": int(p.argmax()), "probability": round(float(p.max()), 4)}
        for f, p in zip(files, probs, strict=True)
    ]


@pytest.mark.skipif(
    not get_spec("dcgan-mnist").sha256, reason="dcgan-mnist has no trained weights yet"
)
def test_generate_local_uses_the_trained_weights(
    tmp_path: Path, serving_modules: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the bundled copy, after its sha256 check
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    out = tmp_path / "local.png"
    result = runner.invoke(app, ["generate", "dcgan-mnist", "--seeds", "0-15", "--out", str(out)])
    assert result.exit_code == 0, result.output
    trained = pull_bundled("dcgan-mnist").load()
    local = InProcessZoo("torch", modules={"dcgan-mnist": trained})
    want = local.generate("dcgan-mnist", range(16))
    np.testing.assert_array_equal(grid_tiles(out, 16, ncols=4), want)
    random = InProcessZoo("torch", modules=serving_modules).generate("dcgan-mnist", range(16))
    assert not np.array_equal(want, random)  # the weights decide the picture


def test_repo_build_configs_only(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["repo", "build", "--configs-only", "--native", "--out", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dcgan-mnist_net" / "config.pbtxt").is_file()
    result = runner.invoke(
        app, ["repo", "build", "--native", "--engine", "torch", "--out", str(tmp_path)]
    )
    assert result.exit_code == 1 and "onnxruntime, tensorrt" in result.output


def test_make_pictures_calls_every_model(triton: TritonServer, tmp_path: Path) -> None:
    with ZooClient(triton.http_url) as zoo:
        pictures, notes = make_pictures(zoo, list_models(), tmp_path)
    assert set(pictures) == {
        "cgan-mnist",
        "dcgan-mnist",
        "stylegan2-mnist",
        "stylegan2-mnist_mixing",
        "vae-mnist_sample",
        "vae-mnist_reconstruct_inpaint",
        "cyclegan-digits",
    }
    assert all(p.is_file() and p.stat().st_size > 0 for p in pictures.values())
    assert any("agrees with cgan-mnist's labels" in n for n in notes)


def test_serve_runs_in_the_foreground_until_sigterm(serving_repo: Path, tmp_path: Path) -> None:
    ports = [free_port() for _ in range(3)]
    cmd = [str(Path(sys.executable).parent / "zoo")]
    cmd += ["serve", "--repository", str(serving_repo), "--models", "dcgan-mnist"]
    cmd += [
        "--http-port",
        str(ports[0]),
        "--grpc-port",
        str(ports[1]),
        "--metrics-port",
        str(ports[2]),
    ]
    cmd += ["--log-file", str(tmp_path / "serve.log")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with ZooClient(f"127.0.0.1:{ports[0]}", timeout=5) as zoo:
            deadline = time.monotonic() + 120
            while not zoo.ready() and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.3)
            assert zoo.list_models() == ["dcgan-mnist", "dcgan-mnist_interpolate"]
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "Triton ready" in output and "stopping Triton" in output
    with ZooClient(f"127.0.0.1:{ports[0]}", timeout=5) as zoo:
        assert not zoo.ready()


@pytest.mark.slow
def test_demo_command_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`zoo demo` on two models (the full zoo runs in `make demo`), offline, trained weights."""
    monkeypatch.setenv("ZOO_MODEL_REPOSITORY", str(tmp_path / "repo"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # empty cache: the bundled copies
    out = tmp_path / "out"
    args = ["demo", "--models", "dcgan-mnist,classifier-mnist", "--bench-seconds", "0.2"]
    result = runner.invoke(app, [*args, "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = result.output
    assert "pulled dcgan-mnist (bundled" in text and "Triton ready" in text
    assert "stopping Triton" in text and f"pictures in {out}/" in text
    assert "Started HTTPService" in (out / "tritonserver.log").read_text()
    # The picture is the trained model's, served: compare it with the same seeds in-process.
    modules = {m: pull_bundled(m).load() for m in ("dcgan-mnist", "classifier-mnist")}
    local = InProcessZoo("torch", modules=modules)
    want = local.generate("dcgan-mnist", range(64))
    got = grid_tiles(out / "dcgan-mnist.png", 64, ncols=8)
    assert np.abs(got.astype(np.int16) - want.astype(np.int16)).max() <= 1  # ORT vs torch
    # The classifier's note counts the classes of the 100 digits the demo generated.
    counts = np.bincount(
        local.classify("classifier-mnist", local.generate("dcgan-mnist", range(100))).argmax(1),
        minlength=10,
    )
    assert f"classifier-mnist classes of the generated digits: {counts.tolist()}" in text
    report = json.loads((out / "bench" / "bench.json").read_text())
    cells = [(c["target"], c["status"]) for c in report["results"]]
    assert [status for _, status in cells] == ["ok"] * len(cells) and len(cells) == 3
    assert all(c["images"] >= 64 for c in report["results"])
    assert "short zoo bench, dcgan-mnist" in text
