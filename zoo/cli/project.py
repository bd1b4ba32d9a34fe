"""``zoo project`` and ``zoo interpolate``: bring a digit into StyleGAN2, morph between seeds.

In-process by default, or against a running Triton with ``--url``; refinement (``--steps``)
always runs in-process, from the ws the encoder returned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zoo.cli._client import Connection, with_connection
from zoo.cli._common import JsonFlag, cli_errors, console, print_json
from zoo.cli.infer import ImagesArg, parse_ints, read_images
from zoo.errors import InvalidInputError
from zoo.models.stylegan2.projection import DEFAULT_STEPS


@cli_errors
@with_connection
def project_command(
    name: Annotated[str, typer.Argument(help="Generator to project into, e.g. stylegan2-mnist.")],
    images: ImagesArg,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for <stem>.png and <stem>.npy (the ws).")
    ] = Path("out/project"),
    steps: Annotated[
        int, typer.Option(help="Refinement steps after the encoder (0 = the encoder alone).")
    ] = DEFAULT_STEPS,
    *,
    conn: Connection,
    as_json: JsonFlag = False,
) -> None:
    """Project digits into StyleGAN2's W+: reconstructions, ws and their PSNR per file."""
    from serving.apps.projection import project_digits
    from serving.client.requests import encoder_of
    from zoo.registry import get_spec

    spec = get_spec(encoder_of(name))
    x = read_images(images, spec.resolution, spec.channels)
    with conn.open() as zoo:
        rows = project_digits(zoo, name, x, [p.stem for p in images], out, steps=steps)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{r['file']}: wrote {r['png']} and {r['w']} (PSNR {r['psnr_db']:.2f} dB)")


@cli_errors
@with_connection
def interpolate_command(
    name: Annotated[str, typer.Argument(help="Generator, e.g. stylegan2-mnist or dcgan-mnist.")],
    seeds: Annotated[str, typer.Option(help="Start and end seed, as A,B.")] = "0,1",
    steps: Annotated[int, typer.Option(help="Images from A to B, both included.")] = 8,
    label: Annotated[int | None, typer.Option(help="cGAN: the class held throughout.")] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="GIF to write; the PNG strip goes beside it.")
    ] = Path("out/morph.gif"),
    *,
    conn: Connection,
    as_json: JsonFlag = False,
) -> None:
    """Morph one seed's digit into another's (slerp in z; lerp in w for StyleGAN2)."""
    from serving.apps.projection import interpolate_strip

    pair = parse_ints(seeds)
    if len(pair) != 2:
        raise InvalidInputError(f"--seeds takes two seeds, A,B; got {seeds!r}.")
    with conn.open() as zoo:
        result = interpolate_strip(zoo, name, (pair[0], pair[1]), steps, out, label=label)
    if as_json:
        print_json(result)
        return
    console.print(f"wrote {result['gif']} and {result['png']} ({steps} images)")
