"""``zoo project`` and ``zoo interpolate``: bring a digit into StyleGAN2, morph between seeds.

In-process by default, or against a running Triton with ``--url``; refinement (``--steps``)
always runs in-process, from the ws the encoder returned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zoo.cli._client import CaCertOpt, ClientCertOpt, ClientKeyOpt, HeaderOpt, connection_options
from zoo.cli._common import cli_errors, console, print_json
from zoo.cli.infer import (
    BackendOpt,
    ImagesArg,
    LocalOpt,
    ProtocolOpt,
    UrlOpt,
    open_zoo,
    parse_ints,
    read_images,
)
from zoo.errors import InvalidInputError
from zoo.models.stylegan2.projection import DEFAULT_STEPS

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@cli_errors
def project_command(
    name: Annotated[str, typer.Argument(help="Generator to project into, e.g. stylegan2-mnist.")],
    images: ImagesArg,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for <stem>.png and <stem>.npy (the ws).")
    ] = Path("out/project"),
    steps: Annotated[
        int, typer.Option(help="Refinement steps after the encoder (0 = the encoder alone).")
    ] = DEFAULT_STEPS,
    url: UrlOpt = None,
    protocol: ProtocolOpt = None,
    header: HeaderOpt = None,
    ca_cert: CaCertOpt = None,
    client_cert: ClientCertOpt = None,
    client_key: ClientKeyOpt = None,
    local: LocalOpt = False,
    backend: BackendOpt = "torch",
    as_json: JsonOpt = False,
) -> None:
    """Project digits into StyleGAN2's W+: reconstructions, ws and their PSNR per file."""
    from serving.apps.projection import project_digits
    from serving.client import encoder_of
    from zoo.registry import get_spec

    spec = get_spec(encoder_of(name))
    x = read_images(images, spec.resolution, spec.channels)
    conn = connection_options(header, ca_cert, client_cert, client_key)
    with open_zoo(url, protocol, local, backend, conn) as zoo:
        rows = project_digits(zoo, name, x, [p.stem for p in images], out, steps=steps)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{r['file']}: wrote {r['png']} and {r['w']} (PSNR {r['psnr_db']:.2f} dB)")


@cli_errors
def interpolate_command(
    name: Annotated[str, typer.Argument(help="Generator, e.g. stylegan2-mnist or dcgan-mnist.")],
    seeds: Annotated[str, typer.Option(help="Start and end seed, as A,B.")] = "0,1",
    steps: Annotated[int, typer.Option(help="Images from A to B, both included.")] = 8,
    label: Annotated[int | None, typer.Option(help="cGAN: the class held throughout.")] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="GIF to write; the PNG strip goes beside it.")
    ] = Path("out/morph.gif"),
    url: UrlOpt = None,
    protocol: ProtocolOpt = None,
    header: HeaderOpt = None,
    ca_cert: CaCertOpt = None,
    client_cert: ClientCertOpt = None,
    client_key: ClientKeyOpt = None,
    local: LocalOpt = False,
    backend: BackendOpt = "torch",
    as_json: JsonOpt = False,
) -> None:
    """Morph one seed's digit into another's (slerp in z; lerp in w for StyleGAN2)."""
    from serving.apps.projection import interpolate_strip

    pair = parse_ints(seeds)
    if len(pair) != 2:
        raise InvalidInputError(f"--seeds takes two seeds, A,B; got {seeds!r}.")
    conn = connection_options(header, ca_cert, client_cert, client_key)
    with open_zoo(url, protocol, local, backend, conn) as zoo:
        result = interpolate_strip(zoo, name, (pair[0], pair[1]), steps, out, label=label)
    if as_json:
        print_json(result)
        return
    console.print(f"wrote {result['gif']} and {result['png']} ({steps} images)")
