"""zoo.validation: each input rule written once, and both sides refusing with the same words.

The SDK builds requests with these checks before anything is sent (serving.client.requests);
the server side converts what arrives with them (zoo.pipeline, which the Triton backends and
InProcessZoo run). Each test below puts the same bad input to both sides, through their real
entry points (``generate_request`` and ``generator_inputs`` ...), for the registry's real
signatures. The drift cases are where the two copies this module replaced used to disagree:
an empty seed list, the label range, two unrelated InvalidInputError classes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from google.protobuf.json_format import MessageToDict

import serving.client as sdk
from serving.client import ModelSignature, ZooClientError
from serving.client.requests import generate_request, interpolate_request, synthesize_request
from serving.client.signature import LABEL_CLASSES_PARAMETER
from serving.server.inprocess import InProcessZoo, signature_of
from serving.server.repository import RepositoryOptions, embedded_config
from zoo import errors
from zoo.errors import InvalidInputError
from zoo.pipeline import generator_inputs, synthesis_inputs
from zoo.registry import EntryPoint, TensorSpec, get_spec, triton_model_name
from zoo.validation import (
    MAX_SEED,
    check_labels,
    check_mix_layers,
    check_number,
    check_psi,
    check_t,
)


def _entry(model: str, entry: str | None = None) -> tuple[EntryPoint, ModelSignature]:
    """The registry's entry point and the SDK's view of it (what its served config declares)."""
    ep = get_spec(model).entry_point(entry)
    return ep, signature_of(triton_model_name(model, ep.name), ep, 64)


def _refusal(call: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The message of the InvalidInputError ``call`` raises (it must raise one)."""
    with pytest.raises(InvalidInputError) as info:
        call(*args, **kwargs)
    return str(info.value)


DCGAN, DCGAN_SIG = _entry("dcgan-mnist")
CGAN, CGAN_SIG = _entry("cgan-mnist")
CGAN_INTERP, CGAN_INTERP_SIG = _entry("cgan-mnist", "interpolate")
STYLEGAN, STYLEGAN_SIG = _entry("stylegan2-mnist")
SYNTH, SYNTH_SIG = _entry("stylegan2-mnist", "synthesize")
NUM_WS, W_DIM = SYNTH.inputs[0].shape


def test_one_error_hierarchy() -> None:
    # The SDK's error types are zoo.errors' (not look-alikes): a refusal on the server side is
    # the SDK's InvalidInputError, a ZooClientError, a ValueError and a ZooError at once.
    assert sdk.InvalidInputError is errors.InvalidInputError
    assert sdk.ZooClientError is errors.ZooClientError
    assert issubclass(InvalidInputError, ZooClientError)
    assert issubclass(InvalidInputError, ValueError) and issubclass(ZooClientError, errors.ZooError)
    for name in ("ServerUnavailableError", "ModelNotFoundError", "RequestTimeoutError"):
        assert getattr(sdk, name) is getattr(errors, name)
    assert issubclass(sdk.ModelNotFoundError, KeyError)
    assert issubclass(sdk.RequestTimeoutError, TimeoutError)
    assert sdk.MAX_SEED == MAX_SEED == 2**63 - 1


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ([], r"^seeds must be a non-empty 1-D list of integers, got shape \(0,\)\.$"),
        (range(0), r"^seeds must be a non-empty 1-D list of integers, got shape \(0,\)\.$"),
        ([[1, 2]], r"^seeds must be a non-empty 1-D list of integers, got shape \(1, 2\)\.$"),
        ([1.5], r"^seeds must be integers, got dtype float64\.$"),
        ([3, -1], r"^seeds must lie in 0\.\.9223372036854775807 \(non-negative int64\)\.$"),
        (np.array([2**63], np.uint64), r"^seeds must lie in 0\.\.9223372036854775807"),
    ],
)
def test_seeds_are_refused_alike_on_both_sides(seeds: Any, message: str) -> None:
    client = _refusal(generate_request, DCGAN_SIG, seeds)
    server = _refusal(generator_inputs, DCGAN, seeds)
    assert client == server
    assert re.search(message, client), client


def test_an_empty_seed_list_is_refused_on_both_sides() -> None:
    # The drift: the server side (zoo.latent) used to return an empty batch for [].
    assert "non-empty" in _refusal(generator_inputs, DCGAN, np.array([], np.int64))
    assert "non-empty" in _refusal(generate_request, DCGAN_SIG, [])
    good = generator_inputs(DCGAN, [0, MAX_SEED])
    assert good[0].shape == (2, DCGAN.inputs[0].shape[0])


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([1, 10], r"^labels must lie in 0\.\.9, got 10\.$"),
        ([-1, 9], r"^labels must lie in 0\.\.9, got -1\.$"),
        ([1.0, 2.0], r"^labels must be integers, got dtype float64\.$"),
        ([1], r"^expected 2 labels \(one per seed\), got shape \(1,\)\.$"),
    ],
)
def test_labels_are_refused_alike_on_both_sides(labels: Any, message: str) -> None:
    client = _refusal(generate_request, CGAN_SIG, [1, 2], labels=labels)
    server = _refusal(generator_inputs, CGAN, [1, 2], labels=labels)
    assert client == server
    assert re.search(message, client), client
    # interpolate takes the same rule for the label it holds
    client = _refusal(interpolate_request, CGAN_INTERP_SIG, 1, 2, [0.0, 1.0], labels=labels)
    server = _refusal(
        generator_inputs, CGAN_INTERP, [1, 1], labels=labels, seeds_to=[2, 2], t=[0.0, 1.0]
    )
    assert client == server


def test_the_label_range_comes_from_the_signature() -> None:
    # A family with 5 classes: both sides take 0..4 and refuse 5, with no 10 anywhere.
    label = TensorSpec("label", "int64", (), "class 0–4", classes=5)
    five = EntryPoint("generate", (CGAN.inputs[0], label), CGAN.outputs)
    sig = signature_of("five", five, 64)
    assert sig.label_classes == 5
    assert generate_request(sig, [1, 2], labels=[0, 4])["label"].tolist() == [[0], [4]]
    assert generator_inputs(five, [1, 2], labels=[0, 4])[1].tolist() == [0, 4]
    client = _refusal(generate_request, sig, [1, 2], labels=[4, 5])
    assert client == _refusal(generator_inputs, five, [1, 2], labels=[4, 5])
    assert client == "labels must lie in 0..4, got 5."
    assert "(0–4)" in _refusal(generate_request, sig, [1, 2])
    assert "(0–4)" in _refusal(generator_inputs, five, [1, 2])


def test_a_label_input_must_declare_its_classes() -> None:
    with pytest.raises(ValueError, match=r"'label' input must say how many classes"):
        TensorSpec("label", "int64", ())
    assert TensorSpec("mix_layer", "int64", ()).classes == 0  # other int inputs need none


def test_the_served_config_declares_the_label_range() -> None:
    # What `zoo repo build` writes, read back the way the SDK reads a server's config.
    config = embedded_config("cgan-mnist", CGAN, RepositoryOptions())
    as_json = MessageToDict(config, preserving_proto_field_name=True)
    assert as_json["parameters"][LABEL_CLASSES_PARAMETER] == {"string_value": "10"}
    assert ModelSignature.from_config(as_json).label_classes == 10
    unlabelled = MessageToDict(
        embedded_config("dcgan-mnist", DCGAN, RepositoryOptions()),
        preserving_proto_field_name=True,
    )
    assert ModelSignature.from_config(unlabelled).label_classes is None


def test_a_signature_without_the_range_leaves_it_to_the_server() -> None:
    # A plain KServe v2 server tells only tensor shapes: the SDK refuses what no range allows
    # (a negative label) and sends the rest; the server's own check (same rule) has the range.
    sig = ModelSignature.from_metadata(
        {
            "name": "cgan-mnist",
            "inputs": [
                {"name": "seed", "datatype": "INT64", "shape": [-1, 1]},
                {"name": "label", "datatype": "INT64", "shape": [-1, 1]},
            ],
            "outputs": [{"name": "image", "datatype": "UINT8", "shape": [-1, 32, 32, 1]}],
        }
    )
    assert sig.label_classes is None
    assert generate_request(sig, [1], labels=[12])["label"].tolist() == [[12]]
    assert _refusal(generate_request, sig, [1], labels=[-1]) == (
        "labels must lie in a non-negative class index, got -1."
    )
    assert "its class labels" in _refusal(generate_request, sig, [1])


def test_check_labels() -> None:
    assert check_labels(3, 4, 10).tolist() == [3, 3, 3, 3]
    out = check_labels(np.array([0, 9], np.uint8), 2, 10)
    assert out.dtype == np.int64 and out.tolist() == [0, 9]
    assert check_labels(np.array([], np.int64), 0, 10).shape == (0,)
    assert check_labels([0, 2**40], 2, None).tolist() == [0, 2**40]


@pytest.mark.parametrize(
    ("psi", "message"),
    [
        (
            [1.0, np.nan],
            r"^ψ must be a finite number in \[-10, 10\] "
            r"\(1 = no truncation, 0\.5–0\.8 is typical\)\.$",
        ),
        ([1.0, np.inf], r"^ψ must be a finite number in \[-10, 10\]"),
        ([1.0, 10.5], r"^ψ must be in \[-10, 10\] \(1 = no truncation\)\.$"),
        ([-10.01, 1.0], r"^ψ must be in \[-10, 10\]"),
        ([0.5, 0.5, 0.5], r"^expected 2 ψ values \(one per seed\), got shape \(3,\)\.$"),
    ],
)
def test_psi_is_refused_alike_on_both_sides(psi: Any, message: str) -> None:
    client = _refusal(generate_request, STYLEGAN_SIG, [1, 2], psi=psi)
    server = _refusal(generator_inputs, STYLEGAN, [1, 2], psi=psi)
    assert client == server
    assert re.search(message, client), client
    ws = np.zeros((2, NUM_WS, W_DIM), np.float32)
    assert _refusal(synthesize_request, SYNTH_SIG, ws, psi=psi) == client
    assert _refusal(synthesis_inputs, SYNTH, ws, psi=psi) == client


def test_check_psi() -> None:
    out = check_psi(0.7, 3)
    assert out.dtype == np.float32 and out.shape == (3,)
    np.testing.assert_allclose(out, [0.7, 0.7, 0.7], rtol=1e-6)
    assert check_psi([-10, 10], 2).tolist() == [-10.0, 10.0]  # the bounds are allowed
    assert check_psi([], 0).shape == (0,)
    with pytest.raises(InvalidInputError, match=r"\[-10, 10\]"):
        check_psi(2**70, 1)  # read as a number (float64), not as a Python object


def test_check_t() -> None:
    out = check_t(0.25, 3)
    assert out.dtype == np.float32 and out.tolist() == [0.25, 0.25, 0.25]
    assert check_t([0, 1], 2).tolist() == [0.0, 1.0]  # the ends are allowed, ints read as numbers
    assert check_t([], 0).shape == (0,)
    with pytest.raises(InvalidInputError) as info:
        check_t([0.1, 0.2, 0.3], 2)
    assert str(info.value) == "expected 2 t values (one per seed), got shape (3,)."
    with pytest.raises(InvalidInputError, match=r"^t must lie in \[0, 1\]"):
        check_t([0.5, None], 2)  # a missing value is refused as one, not as a TypeError


def test_check_number() -> None:
    """A scalar without a range rule (any other than ψ and t): any finite number, by its name."""
    out = check_number(2, 3, "gain")
    assert out.dtype == np.float32 and out.tolist() == [2.0, 2.0, 2.0]
    assert check_number([-1e30, 0.5], 2, "gain").tolist() == [np.float32(-1e30), 0.5]
    with pytest.raises(InvalidInputError) as info:
        check_number([1, 2, 3], 2, "gain")
    assert str(info.value) == "expected 2 gain values (one per seed), got shape (3,)."
    with pytest.raises(InvalidInputError) as info:
        check_number([0.5, None], 2, "gain")  # a missing value is refused as one, not a TypeError
    assert str(info.value) == "gain must be a finite number, got [0.5, nan]."
    with pytest.raises(InvalidInputError, match=r"^gain must be a finite number"):
        check_number(np.inf, 1, "gain")


def test_check_mix_layers() -> None:
    out = check_mix_layers(2, 3, NUM_WS)
    assert out.dtype == np.int64 and out.tolist() == [2, 2, 2]
    assert check_mix_layers([5], 2, NUM_WS).tolist() == [5, 5]  # one layer serves every seed
    assert check_mix_layers([0, NUM_WS], 2, NUM_WS).tolist() == [0, NUM_WS]  # the bounds
    assert check_mix_layers(np.array([3], np.int32), 1, NUM_WS).dtype == np.int64
    with pytest.raises(InvalidInputError) as info:
        check_mix_layers([1, 2], 3, NUM_WS)
    assert str(info.value) == "expected 3 mix_layer values (one per seed), got shape (2,)."


@pytest.mark.parametrize("t", [[0.0, 1.5], [-0.1, 0.5], [0.0, np.nan]])
def test_t_is_refused_alike_on_both_sides(t: Any) -> None:
    client = _refusal(interpolate_request, CGAN_INTERP_SIG, 1, 2, t, labels=3)
    server = _refusal(generator_inputs, CGAN_INTERP, [1, 1], labels=3, seeds_to=[2, 2], t=t)
    assert client == server
    assert client == "t must lie in [0, 1] (0 = the start seed's digit, 1 = the end seed's)."


@pytest.mark.parametrize(
    ("ws", "message"),
    [
        (np.zeros((2, NUM_WS, W_DIM + 1)), r"^w must be numbers of shape \(N, 8, 64\)"),
        (np.zeros((0, NUM_WS, W_DIM)), r"got float64 \(0, 8, 64\)\.$"),
        (np.full((1, NUM_WS, W_DIM), np.nan), r"^w must be finite \(no NaN or infinity\)"),
        (np.array([["a"] * W_DIM] * NUM_WS), r"^w must be numbers .* got <U1 \(1, 8, 64\)\.$"),
    ],
)
def test_ws_are_refused_alike_on_both_sides(ws: Any, message: str) -> None:
    client = _refusal(synthesize_request, SYNTH_SIG, ws)
    server = _refusal(synthesis_inputs, SYNTH, ws)
    assert client == server
    assert re.search(message, client), client


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (NUM_WS + 1, r"^mix_layer must be an integer in 0\.\.8, got \[9, 9\]\.$"),
        (-1, r"^mix_layer must be an integer in 0\.\.8, got \[-1, -1\]\.$"),
        (1.5, r"^mix_layer must be an integer in 0\.\.8, got \[1\.5, 1\.5\]\.$"),
        ([1, 2, 3], r"^expected 2 mix_layer values \(one per seed\), got shape \(3,\)\.$"),
    ],
)
def test_mix_layers_are_refused_alike_on_both_sides(layer: Any, message: str) -> None:
    ws = np.zeros((2, NUM_WS, W_DIM), np.float32)
    client = _refusal(synthesize_request, SYNTH_SIG, ws, mix_seeds=7, mix_layer=layer)
    server = _refusal(synthesis_inputs, SYNTH, ws, mix_seeds=[7], mix_layers=layer)
    assert client == server
    assert re.search(message, client), client
    # mixing with a second set of ws takes the same rule
    assert _refusal(synthesize_request, SYNTH_SIG, ws, mix_ws=ws, mix_layer=layer) == client


def test_mixing_seeds_are_refused_alike_on_both_sides() -> None:
    client = _refusal(generate_request, STYLEGAN_SIG, [1, 2], mix_seeds=[3])
    assert client == _refusal(generator_inputs, STYLEGAN, [1, 2], mix_seeds=[3])
    assert client == "expected 2 mixing seeds (one per seed), got 1."
    client = _refusal(generate_request, STYLEGAN_SIG, [1, 2], mix_seeds=[3, -4])
    assert client == _refusal(generator_inputs, STYLEGAN, [1, 2], mix_seeds=[3, -4])
    assert client.startswith("mixing seeds must lie in 0..")


def test_in_process_refusals_are_client_errors() -> None:
    # InProcessZoo answers the SDK's calls with the server side's conversion: a request that
    # bypasses the SDK's checks is refused there, and `except ZooClientError` catches it.
    from zoo import create_model

    with InProcessZoo("torch", modules={"cgan-mnist": create_model("cgan-mnist")}) as zoo:
        sig = zoo.signature("cgan-mnist", ("generate",))
        assert sig.label_classes == 10
        wire = {"seed": np.array([[1]], np.int64), "label": np.array([[42]], np.int64)}
        try:
            zoo.infer(sig, wire)
        except ZooClientError as e:
            caught: BaseException = e
        assert isinstance(caught, sdk.InvalidInputError) and isinstance(caught, ValueError)
        assert str(caught) == "labels must lie in 0..9, got 42."
        with pytest.raises(ZooClientError, match=r"^labels must lie in 0\.\.9, got 42\.$"):
            zoo.generate("cgan-mnist", [1], labels=[42])  # the SDK's own check, same words
        with pytest.raises(ZooClientError, match="non-empty"):
            zoo.generate("cgan-mnist", [], labels=[])
        assert zoo.generate("cgan-mnist", [1, 2], labels=[0, 9]).shape == (2, 32, 32, 1)
