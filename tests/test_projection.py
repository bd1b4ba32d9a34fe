"""Projection into StyleGAN2, synthesis from ws and interpolation, in-process.

Expected values come from other entry points (a seed's ws through ``synthesize`` must draw
what ``generate`` draws for that seed; a morph's ends are the two seeds' digits), not from
stored results.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from serving.client import InvalidInputError as ClientInputError
from serving.client.requests import interpolate_request, synthesize_request
from serving.server.inprocess import InProcessZoo, signature_of
from zoo.cli.main import app
from zoo.errors import InvalidInputError
from zoo.hub import load as load_trained
from zoo.latent import seed_to_latent
from zoo.models.stylegan2.projection import psnr_per_image, refine_ws
from zoo.pipeline import from_uint8_nhwc, generator_inputs, synthesis_inputs
from zoo.registry import create_model, get_spec

GENERATORS = ("dcgan-mnist", "cgan-mnist", "stylegan2-mnist", "vae-mnist")


@pytest.fixture(scope="module")
def zoo() -> InProcessZoo:
    torch.manual_seed(7)
    modules = {name: create_model(name).eval() for name in GENERATORS}
    return InProcessZoo("torch", modules=modules, threads=1)


def test_synthesize_from_a_seeds_ws_draws_what_generate_draws(zoo: InProcessZoo) -> None:
    gen = zoo._modules["stylegan2-mnist"]
    with torch.no_grad():
        w = gen.mapping(torch.from_numpy(seed_to_latent(np.array([4, 5]), 64)))
    ws = w[:, None].expand(-1, 8, -1).numpy()
    assert np.array_equal(
        zoo.synthesize("stylegan2-mnist", ws), zoo.generate("stylegan2-mnist", [4, 5])
    )
    mixed = zoo.synthesize("stylegan2-mnist", ws, psi=0.6, mix_seeds=[8, 9], mix_layer=4)
    expected = zoo.generate("stylegan2-mnist", [4, 5], psi=0.6, mix_seeds=[8, 9])  # cutoff 4
    assert np.abs(mixed.astype(int) - expected).max() <= 1
    assert not np.array_equal(
        mixed, zoo.synthesize("stylegan2-mnist", ws, mix_seeds=8, mix_layer=1)
    )
    # A second digit's ws mix in the client: the request carries the spliced ws.
    other = np.random.default_rng(0).standard_normal(ws.shape).astype(np.float32)
    spliced = np.concatenate([ws[:, :3], other[:, 3:]], axis=1)
    by_sdk = zoo.synthesize("stylegan2-mnist", ws, mix_ws=other, mix_layer=3)
    assert np.array_equal(by_sdk, zoo.synthesize("stylegan2-mnist", spliced))
    with pytest.raises(ClientInputError, match="mix_layer"):
        zoo.synthesize("stylegan2-mnist", ws, mix_ws=other)


@pytest.mark.parametrize("model", GENERATORS)
def test_a_morph_starts_and_ends_at_the_two_seeds(zoo: InProcessZoo, model: str) -> None:
    labels = 3 if model == "cgan-mnist" else None
    frames = zoo.interpolate(model, 11, 12, [0.0, 0.5, 1.0], labels=labels)
    ends = zoo.generate(model, [11, 12], labels=None if labels is None else [3, 3])
    assert np.abs(frames[[0, 2]].astype(int) - ends).max() <= 1
    assert not np.array_equal(frames[1], frames[0]) and not np.array_equal(frames[1], frames[2])


def test_bad_ws_t_and_mixing_are_refused_by_the_sdk_and_the_wire() -> None:
    spec = get_spec("stylegan2-mnist")
    synth, interp = spec.entry_point("synthesize"), spec.entry_point("interpolate")
    sig = signature_of("stylegan2-mnist_synthesize", synth)
    nan = np.zeros((1, 8, 64), np.float32)
    nan[0, 0, 0] = np.nan

    def sdk(w: np.ndarray, **kw: object) -> object:
        return synthesize_request(sig, w, **kw)

    def wire(w: np.ndarray, mix_seeds: object = None, mix_layer: object = None) -> object:
        return synthesis_inputs(synth, w, mix_seeds=mix_seeds, mix_layers=mix_layer)

    for check in (sdk, wire):
        with pytest.raises((ClientInputError, InvalidInputError), match="finite"):
            check(nan)
        with pytest.raises((ClientInputError, InvalidInputError), match="shape"):
            check(np.zeros((1, 7, 64), np.float32))
        with pytest.raises((ClientInputError, InvalidInputError), match="mix"):
            check(np.zeros((1, 8, 64)), mix_seeds=3)
        with pytest.raises((ClientInputError, InvalidInputError), match=r"0\.\.8"):
            check(np.zeros((1, 8, 64)), mix_seeds=3, mix_layer=9)
    isig = signature_of("stylegan2-mnist_interpolate", interp)
    for t in (1.01, -0.1, np.nan):
        with pytest.raises(ClientInputError, match=r"\[0, 1\]"):
            interpolate_request(isig, 1, 2, t)
        with pytest.raises(InvalidInputError, match=r"\[0, 1\]"):
            generator_inputs(interp, [1], seeds_to=[2], t=[t])
    with pytest.raises(ClientInputError, match="not class-conditional"):
        interpolate_request(isig, 1, 2, 0.5, labels=3)
    with pytest.raises(InvalidInputError, match="end seed"):
        generator_inputs(interp, [1], t=[0.5])


def test_refinement_is_deterministic_and_moves_toward_the_digit() -> None:
    torch.manual_seed(3)
    projector = create_model("stylegan2-mnist-encoder").eval()
    classifier = load_trained("classifier-mnist")
    with torch.no_grad():
        target = projector.generator(torch.from_numpy(seed_to_latent(np.array([1, 2]), 64)))
        ws = projector.encode(target)
    first = refine_ws(projector, classifier, target, ws, steps=4)
    again = refine_ws(projector, classifier, target, ws, steps=4)
    assert torch.equal(first, again)
    with torch.no_grad():
        before = psnr_per_image(projector.generator.synthesis(ws).numpy(), target.numpy())
        after = psnr_per_image(projector.generator.synthesis(first).numpy(), target.numpy())
    assert np.all(after > before)


def test_cli_project_and_interpolate_write_their_files(tmp_path: Path) -> None:
    digits = load_trained("stylegan2-mnist")
    with torch.no_grad():
        x = digits(torch.from_numpy(seed_to_latent(np.array([0, 1]), 64)))
    paths = []
    for i, img in enumerate(((x.numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)):
        paths.append(tmp_path / f"digit{i}.png")
        Image.fromarray(img[0]).save(paths[-1])
    runner = CliRunner()
    rows = {}
    for steps in (0, 2):
        out = tmp_path / f"steps{steps}"
        args = ["project", "stylegan2-mnist", *map(str, paths), "--out", str(out)]
        result = runner.invoke(app, [*args, "--steps", str(steps), "--json"])
        assert result.exit_code == 0, result.output
        rows[steps] = json.loads(result.stdout)
        for row, path in zip(rows[steps], paths, strict=True):
            png, npy = out / f"{path.stem}.png", out / f"{path.stem}.npy"
            assert row["png"] == str(png) and row["w"] == str(npy)
            assert np.load(npy).shape == (8, 64)
            rec = np.asarray(Image.open(png))[None, ..., None]
            src = np.asarray(Image.open(path))[None, ..., None]
            db = psnr_per_image(from_uint8_nhwc(rec), from_uint8_nhwc(src))[0]
            assert row["psnr_db"] == pytest.approx(db, abs=1e-3)
    assert [r["psnr_db"] for r in rows[2]] != [r["psnr_db"] for r in rows[0]]
    gif = tmp_path / "morph.gif"
    args = ["interpolate", "cgan-mnist", "--seeds", "3,7", "--steps", "5", "--label", "2"]
    result = runner.invoke(app, [*args, "--out", str(gif), "--json"])
    assert result.exit_code == 0, result.output
    assert Image.open(gif).n_frames == 5
    assert Image.open(gif.with_suffix(".png")).size[0] > 5 * 32
    bad = runner.invoke(app, ["interpolate", "dcgan-mnist", "--seeds", "3", "--out", str(gif)])
    assert bad.exit_code != 0 and "two seeds" in bad.output
