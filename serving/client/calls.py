"""The zoo's verbs, each written once: its signature and documentation, which model serves it,
its wire inputs, its result.

Each function here is one verb of the SDK (``generate``, ``translate``, …): it takes the verb's
arguments and returns a :class:`Call`. Each client makes it a method with one adapter
(:func:`serving.client.clients.blocking`, :func:`serving.client.aio.awaited`) that runs the call
through the client's one path: the served signature, the inputs built and
checked against it (:mod:`serving.client.requests`), the inference, the result picked from the
outputs. So a verb's parameters, defaults and text are the same in
:class:`~serving.client.ZooClient`, :class:`~serving.client.AsyncZooClient` and
:class:`~serving.server.inprocess.InProcessZoo`, and nothing about it is written twice.

Every verb takes an optional keyword ``version``: that model version answers it (default: the
version the server serves; ``zoo repo list`` shows them).
"""

from __future__ import annotations

import inspect
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
from serving.client.transport import Version

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
    version: Version = None  # the model version asked for (None: the one the server serves)


F = TypeVar("F", bound=Callable[..., Any])


def as_method(method: F, verb: Callable[..., Call[Any]]) -> F:
    """``method``, a client's adapter of ``verb``, named, documented and signed as ``verb`` (with
    ``self`` first), so that ``help()`` and ``inspect.signature`` show the verb's own text."""
    sig = inspect.signature(verb)
    self_ = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    signed = sig.replace(
        parameters=[self_, *sig.parameters.values()], return_annotation=inspect.Signature.empty
    )
    method.__name__ = method.__qualname__ = verb.__name__
    method.__doc__ = verb.__doc__
    setattr(method, "__signature__", signed)  # noqa: B010 (a function has no such attribute)
    return method


def _output(name: str) -> Callable[[Mapping[str, Array]], Array]:
    return lambda out: out[name]


def _pair(first: str, second: str) -> Callable[[Mapping[str, Array]], tuple[Array, Array]]:
    return lambda out: (out[first], out[second])


def _images(images: Any) -> Inputs:
    return lambda sig: {"image": check_images(sig, images)}


# -- the zoo -----------------------------------------------------------------------------------
def generate(
    model: str,
    seeds: Any,
    labels: Any = None,
    psi: Any = None,
    mix_seeds: Any = None,
    *,
    version: Version = None,
) -> Call[U8]:
    """Images for ``seeds``, uint8 NHWC; cGAN needs ``labels``; ψ and mixing: StyleGAN2.

    Served by the model's ``generate`` (GANs) or ``sample`` (VAE). ``version`` asks for that
    model version (default: the one the server serves).
    """
    return Call(
        model,
        GENERATE_ENTRIES,
        lambda sig: generate_request(sig, seeds, labels=labels, psi=psi, mix_seeds=mix_seeds),
        _output("image"),
        version,
    )


def translate(
    model: str, images: Any, direction: str = "a2b", *, version: Version = None
) -> Call[U8]:
    """Image-to-image translation (CycleGAN), ``direction`` "a2b" or "b2a"; uint8 NHWC."""
    return Call(model, (f"translate_{direction}",), _images(images), _output("image"), version)


def encode(model: str, images: Any, *, version: Version = None) -> Call[tuple[Array, Array]]:
    """Latent codes of images (VAE): posterior mean ``(N, D)`` and log-variance ``(N, D)``."""
    return Call(model, ("encode",), _images(images), _pair("latent", "logvar"), version)


def decode(model: str, latents: Any, *, version: Version = None) -> Call[U8]:
    """Images from latent codes (VAE), uint8 NHWC."""
    return Call(
        model,
        ("decode",),
        lambda sig: {"latent": check_latents(sig, latents)},
        _output("image"),
        version,
    )


def reconstruct(model: str, images: Any, *, version: Version = None) -> Call[U8]:
    """Images through the autoencoder (VAE), uint8 NHWC."""
    return Call(model, ("reconstruct",), _images(images), _output("image"), version)


def inpaint(model: str, images: Any, masks: Any, *, version: Version = None) -> Call[U8]:
    """Fill the pixels where ``masks`` is 0 (VAE); known pixels are kept; uint8 NHWC."""

    def inputs(sig: ModelSignature) -> dict[str, Array]:
        imgs = check_images(sig, images)
        return {"image": imgs, "mask": check_masks(sig, masks, len(imgs))}

    return Call(model, ("inpaint",), inputs, _output("image"), version)


def classify(model: str, images: Any, *, version: Version = None) -> Call[npt.NDArray[np.float32]]:
    """Class logits ``(N, classes)`` of images; ``argmax(axis=1)`` is the predicted class."""
    return Call(model, ("classify",), _images(images), _output("logits"), version)


# -- projection, synthesis from ws, interpolation ------------------------------------------------
def project(model: str, images: Any, *, version: Version = None) -> Call[tuple[Array, U8]]:
    """ws ``(N, num_ws, w_dim)`` of digits and their reconstructions (uint8 NHWC).

    ``model`` is the generator (``stylegan2-mnist``) or its encoder; one feed-forward call.
    """
    return Call(encoder_of(model), ("project",), _images(images), _pair("w", "image"), version)


def synthesize(
    model: str,
    ws: Any,
    psi: Any = None,
    mix_seeds: Any = None,
    mix_layer: Any = None,
    mix_ws: Any = None,
    *,
    version: Version = None,
) -> Call[U8]:
    """Images from ws (StyleGAN2); ws from ``mix_layer`` on from ``mix_seeds`` or ``mix_ws``."""
    return Call(
        model,
        ("synthesize",),
        lambda sig: synthesize_request(
            sig, ws, psi=psi, mix_seeds=mix_seeds, mix_layer=mix_layer, mix_ws=mix_ws
        ),
        _output("image"),
        version,
    )


def interpolate(
    model: str, seed: int, seed_to: int, t: Any, labels: Any = None, *, version: Version = None
) -> Call[U8]:
    """One image per ``t`` in [0, 1] between two seeds' digits; a cGAN holds ``labels``."""
    return Call(
        model,
        ("interpolate",),
        lambda sig: interpolate_request(sig, seed, seed_to, t, labels=labels),
        _output("image"),
        version,
    )


def call(
    model: str, entry: str, /, *, version: Version = None, **inputs: Any
) -> Call[dict[str, Array]]:
    """Any entry point of ``model``: ``inputs`` by wire name (``seed=``, ``image=``, …), each
    filled and checked by its role; every output, by name (for an entry no verb names)."""
    return Call(model, (entry,), lambda sig: entry_request(sig, inputs), dict, version)
