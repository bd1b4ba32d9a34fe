"""The zoo's calls, each described once: which model serves it, its wire inputs, its result.

A verb of either client (``generate``, ``translate``, …) builds a :class:`Call` here from its
arguments and runs it through the client's one path: the served signature, the inputs built
and checked against it (:mod:`serving.client.requests`), the inference, the result picked from
the outputs. :class:`~serving.client.clients.BaseZooClient` runs it blocking,
:class:`~serving.client.aio.AsyncZooClient` awaited; nothing about a verb is written twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from serving.client.requests import (
    check_images,
    check_latents,
    check_masks,
    encoder_of,
    entry_request,
    generate_request,
    interpolate_request,
    synthesize_request,
)
from serving.client.signature import GENERATE_ENTRIES, Array, ModelSignature

R = TypeVar("R")
U8 = npt.NDArray[np.uint8]
Inputs = Callable[[ModelSignature], dict[str, Array]]


@dataclass(frozen=True)
class Call(Generic[R]):
    """One call of the zoo: what serves it, how its inputs are built, what it returns."""

    model: str  # the zoo model asked (or a Triton model's own name)
    entries: tuple[str, ...]  # entry points that may serve it, tried in this order
    inputs: Inputs  # the wire inputs, checked against the served signature (only then built)
    result: Callable[[Mapping[str, Array]], R]  # what the verb returns, from the model's outputs


def _output(name: str) -> Callable[[Mapping[str, Array]], Array]:
    return lambda out: out[name]


def _pair(first: str, second: str) -> Callable[[Mapping[str, Array]], tuple[Array, Array]]:
    return lambda out: (out[first], out[second])


def _images(images: Any) -> Inputs:
    return lambda sig: {"image": check_images(sig, images)}


def generate(model: str, seeds: Any, labels: Any, psi: Any, mix_seeds: Any) -> Call[U8]:
    """Seeds (and labels, ψ, mixing seeds) → images, by ``generate`` (GANs) or ``sample`` (VAE)."""
    return Call(
        model,
        GENERATE_ENTRIES,
        lambda sig: generate_request(sig, seeds, labels=labels, psi=psi, mix_seeds=mix_seeds),
        _output("image"),
    )


def translate(model: str, images: Any, direction: str) -> Call[U8]:
    """Images → images, by ``translate_a2b`` or ``translate_b2a``."""
    return Call(model, (f"translate_{direction}",), _images(images), _output("image"))


def encode(model: str, images: Any) -> Call[tuple[Array, Array]]:
    """Images → posterior mean and log-variance, by ``encode``."""
    return Call(model, ("encode",), _images(images), _pair("latent", "logvar"))


def decode(model: str, latents: Any) -> Call[U8]:
    """Latent codes → images, by ``decode``."""
    return Call(
        model, ("decode",), lambda sig: {"latent": check_latents(sig, latents)}, _output("image")
    )


def reconstruct(model: str, images: Any) -> Call[U8]:
    """Images → images through the autoencoder, by ``reconstruct``."""
    return Call(model, ("reconstruct",), _images(images), _output("image"))


def inpaint(model: str, images: Any, masks: Any) -> Call[U8]:
    """Images and masks (one per image) → filled images, by ``inpaint``."""

    def inputs(sig: ModelSignature) -> dict[str, Array]:
        imgs = check_images(sig, images)
        return {"image": imgs, "mask": check_masks(sig, masks, len(imgs))}

    return Call(model, ("inpaint",), inputs, _output("image"))


def classify(model: str, images: Any) -> Call[npt.NDArray[np.float32]]:
    """Images → class logits, by ``classify``."""
    return Call(model, ("classify",), _images(images), _output("logits"))


def project(model: str, images: Any) -> Call[tuple[Array, Array]]:
    """Images → ws and reconstructions, by the ``project`` of ``model``'s encoder."""
    return Call(encoder_of(model), ("project",), _images(images), _pair("w", "image"))


def synthesize(
    model: str, ws: Any, psi: Any, mix_seeds: Any, mix_layer: Any, mix_ws: Any
) -> Call[U8]:
    """ws (and ψ, style mixing from seeds or other ws) → images, by ``synthesize``."""
    return Call(
        model,
        ("synthesize",),
        lambda sig: synthesize_request(
            sig, ws, psi=psi, mix_seeds=mix_seeds, mix_layer=mix_layer, mix_ws=mix_ws
        ),
        _output("image"),
    )


def interpolate(model: str, seed: int, seed_to: int, t: Any, labels: Any) -> Call[U8]:
    """Two seeds and the points ``t`` between them (and labels) → images, by ``interpolate``."""
    return Call(
        model,
        ("interpolate",),
        lambda sig: interpolate_request(sig, seed, seed_to, t, labels=labels),
        _output("image"),
    )


def entry(model: str, name: str, values: Mapping[str, Any]) -> Call[dict[str, Array]]:
    """Any entry point ``name`` of ``model``: its inputs by wire name, each filled by its role
    (:func:`~serving.client.requests.entry_request`); every output, by name."""
    return Call(model, (name,), lambda sig: entry_request(sig, values), dict)
