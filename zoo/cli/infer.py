"""The inference commands: ``zoo generate``, ``translate``, ``encode``, ``decode``,
``reconstruct``, ``inpaint`` and ``classify``.

Each runs in-process by default, or against a running Triton with ``--url`` (``zoo serve``,
the NGC container, a remote host), through the same client interface.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import numpy.typing as npt
import typer

from zoo.cli._client import Connection, with_connection
from zoo.cli._common import JsonFlag, cli_errors, console, print_json
from zoo.errors import InvalidInputError

OutOpt = Annotated[Path, typer.Option("--out", "-o", help="PNG to write (a grid for several).")]
ImagesArg = Annotated[list[Path], typer.Argument(help="PNG images (resized to the model's size).")]
AutoencoderArg = Annotated[str, typer.Argument(help="Autoencoder, e.g. vae-mnist.")]


def parse_ints(text: str, what: str = "seeds") -> list[int]:
    """``"0-15"``, ``"1,5,9"`` or ``"0-3,10"`` → a list of integers."""
    out: list[int] = []
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            lo, sep, hi = part.partition("-")
            if sep and lo:
                if int(hi) < int(lo):
                    raise ValueError(part)
                out.extend(range(int(lo), int(hi) + 1))
            else:
                out.append(int(part))
    except ValueError:
        raise InvalidInputError(
            f"cannot read {what} {text!r}: use a range like 0-15, a list like 1,5,9, or both."
        ) from None
    if not out:
        raise InvalidInputError(f"no {what} given: use a range like 0-15 or a list like 1,5,9.")
    return out


def read_images(paths: list[Path], size: int, channels: int) -> npt.NDArray[np.uint8]:
    """PNG/JPEG files → uint8 NHWC at ``size``×``size`` (grey for one channel)."""
    from PIL import Image

    if not paths:
        raise InvalidInputError("pass at least one image file.")
    images = []
    for p in paths:
        if not p.is_file():
            raise InvalidInputError(f"no image at {p}.")
        with Image.open(p) as opened:
            im = opened.convert("L" if channels == 1 else "RGB").resize((size, size))
            arr = np.asarray(im, dtype=np.uint8)
        images.append(arr[..., None] if channels == 1 else arr)
    return np.stack(images)


def _save(images: npt.NDArray[np.uint8], out: Path, ncols: int | None = None) -> None:
    from zoo.images import save_grid, save_png

    if len(images) == 1:
        save_png(images[0], out, scale=4)
    else:
        save_grid(images, out, ncols=ncols)
    console.print(f"wrote {out} ({len(images)} image{'s' * (len(images) > 1)})")


def _spec_size(name: str) -> tuple[int, int]:
    from zoo.registry import get_spec

    spec = get_spec(name)
    return spec.resolution, spec.channels


@cli_errors
@with_connection
def generate_command(
    name: Annotated[str, typer.Argument(help="Generator, e.g. dcgan-mnist.")],
    seeds: Annotated[str, typer.Option(help="Seeds: 0-15, 1,5,9 or 0-3,10.")] = "0-15",
    label: Annotated[
        str | None, typer.Option(help="Class for cGAN models: one for all, or a list.")
    ] = None,
    psi: Annotated[float | None, typer.Option(help="StyleGAN2 truncation ψ (1 = none).")] = None,
    mix_seed: Annotated[
        int | None, typer.Option(help="StyleGAN2: seed whose fine styles are mixed in.")
    ] = None,
    out: OutOpt = Path("out/generate.png"),
    *,
    conn: Connection,
) -> None:
    """Generate images from seeds (same seed, same image, in-process or served)."""
    seed_list = parse_ints(seeds)
    labels = None
    if label is not None:
        labels = parse_ints(label, "labels")
        labels = labels * len(seed_list) if len(labels) == 1 else labels
    mix = None if mix_seed is None else [mix_seed] * len(seed_list)
    with conn.open() as zoo:
        images = zoo.generate(name, seed_list, labels=labels, psi=psi, mix_seeds=mix)
    _save(images, out)


@cli_errors
@with_connection
def translate_command(
    name: Annotated[str, typer.Argument(help="Image-to-image model, e.g. cyclegan-digits.")],
    images: ImagesArg,
    direction: Annotated[str, typer.Option(help="a2b or b2a.")] = "a2b",
    out: OutOpt = Path("out/translate.png"),
    *,
    conn: Connection,
) -> None:
    """Translate images to the other domain (CycleGAN)."""
    if direction not in ("a2b", "b2a"):
        raise InvalidInputError(f"--direction must be a2b or b2a, got {direction!r}.")
    x = read_images(images, *_spec_size(name))
    with conn.open() as zoo:
        _save(np.concatenate([x, zoo.translate(name, x, direction)]), out, ncols=len(x))


def read_latents(path: Path) -> npt.NDArray[np.float32]:
    """Latent codes from an ``.npy`` file or the ``latent`` array of an ``.npz`` (``zoo encode``).

    NumPy's pickle support stays off: a file that holds Python objects is refused.
    """
    if not path.is_file():
        raise InvalidInputError(f"no latent file at {path}: pass an .npy or .npz (zoo encode).")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise InvalidInputError(
            f"cannot read latent codes from {path} ({e}): pass an .npy array, or the .npz "
            "that `zoo encode` writes."
        ) from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            if "latent" not in loaded.files:
                raise InvalidInputError(
                    f"{path} has no 'latent' array (it has {', '.join(loaded.files) or 'none'}): "
                    "pass the .npz that `zoo encode` writes."
                )
            loaded = loaded["latent"]
    return np.asarray(loaded, dtype=np.float32)


@cli_errors
@with_connection
def encode_command(
    name: AutoencoderArg,
    images: ImagesArg,
    out: Annotated[
        Path, typer.Option("--out", "-o", help=".npz to write: `latent` (mean) and `logvar`.")
    ] = Path("out/encode.npz"),
    *,
    conn: Connection,
) -> None:
    """Encode images to latent codes (VAE): the posterior mean and log-variance, as .npz."""
    x = read_images(images, *_spec_size(name))
    with conn.open() as zoo:
        latent, logvar = zoo.encode(name, x)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as f:  # np.savez on a path would append .npz to any other suffix
        np.savez(f, latent=latent, logvar=logvar)
    console.print(f"wrote {out} (latent {latent.shape[0]}×{latent.shape[1]}, logvar alike)")


@cli_errors
@with_connection
def decode_command(
    name: AutoencoderArg,
    latents: Annotated[
        Path, typer.Argument(help="Latent codes: .npy (N, D), or the .npz of `zoo encode`.")
    ],
    out: OutOpt = Path("out/decode.png"),
    *,
    conn: Connection,
) -> None:
    """Decode latent codes to images (VAE)."""
    z = read_latents(latents)
    with conn.open() as zoo:
        _save(zoo.decode(name, z), out)


@cli_errors
@with_connection
def reconstruct_command(
    name: AutoencoderArg,
    images: ImagesArg,
    out: OutOpt = Path("out/reconstruct.png"),
    *,
    conn: Connection,
) -> None:
    """Pass images through the autoencoder (VAE); writes the inputs above their reconstructions."""
    x = read_images(images, *_spec_size(name))
    with conn.open() as zoo:
        _save(np.concatenate([x, zoo.reconstruct(name, x)]), out, ncols=len(x))


@cli_errors
@with_connection
def inpaint_command(
    name: Annotated[str, typer.Argument(help="Inpainting model, e.g. vae-mnist.")],
    images: ImagesArg,
    mask: Annotated[
        Path | None, typer.Option(help="Mask PNG: white = known pixel, black = fill.")
    ] = None,
    hole: Annotated[
        str, typer.Option(help="Without --mask: the rectangle to fill, as x,y,width,height.")
    ] = "0,16,32,16",
    out: OutOpt = Path("out/inpaint.png"),
    *,
    conn: Connection,
) -> None:
    """Fill the hidden part of images (VAE); writes inputs-with-hole and results."""
    size, channels = _spec_size(name)
    x = read_images(images, size, channels)
    if mask is not None:
        m = (read_images([mask], size, 1) > 127).astype(np.uint8)
        masks = np.repeat(m, len(x), axis=0)
    else:
        box = parse_ints(hole, "hole")
        if len(box) != 4:
            raise InvalidInputError(f"--hole takes x,y,width,height (four numbers), got {hole!r}.")
        left, top, width, height = box
        masks = np.ones((len(x), size, size, 1), dtype=np.uint8)
        masks[:, top : top + height, left : left + width] = 0
    with conn.open() as zoo:
        filled = zoo.inpaint(name, x, masks)
    _save(np.concatenate([x * masks, filled]), out, ncols=len(x))


@cli_errors
@with_connection
def classify_command(
    name: Annotated[str, typer.Argument(help="Classifier, e.g. classifier-mnist.")],
    images: ImagesArg,
    *,
    conn: Connection,
    as_json: JsonFlag = False,
) -> None:
    """Classify images; prints the class and its probability per file."""
    x = read_images(images, *_spec_size(name))
    with conn.open() as zoo:
        logits = zoo.classify(name, x).astype(np.float64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    rows = [
        {"file": str(p), "class": int(pr.argmax()), "probability": round(float(pr.max()), 4)}
        for p, pr in zip(images, probs, strict=True)
    ]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{r['file']}: {r['class']} ({r['probability']:.1%})")
