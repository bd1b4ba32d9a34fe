"""Property-based tests (hypothesis): request validators, the repository writer, and every
user-supplied name that becomes a path or a URL.

No server: these check the functions the server and the SDK run, over many generated inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from export.artifacts import version_dir
from serving import client
from serving.client.requests import check_images, check_masks, check_seeds, generate_request
from serving.server.inprocess import signature_of
from serving.server.repository import (
    EMBEDDED_ENGINES,
    NATIVE_PLATFORMS,
    RepositoryOptions,
    model_configs,
    parse_config,
    render_config,
    write_configs,
)
from serving.server.wire import graph_inputs, wire_inputs
from zoo import pipeline, validation
from zoo.errors import InvalidInputError, InvalidNameError, UnknownModelError
from zoo.hub import check_repo_id, check_revision, parse_model_ref
from zoo.naming import check_model_name
from zoo.registry import get_spec, list_models, triton_model_name

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that tries hard to escape: separators, dots, NUL, unicode, percent-encoding, drive letters.
hostile = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="./\\-_~%:@ \x00\nabcAZ09", max_size=30),
    st.sampled_from(["..", "../x", "/etc/passwd", "a/../../b", "C:\\x", "%2e%2e/x", "~", ""]),
)


def _accepted(check: Any, value: str) -> bool:
    try:
        check(value)
    except InvalidNameError:
        return False
    return True


def _contained(root: Path, *parts: str) -> bool:
    path = root.joinpath(*parts).resolve()
    return path == root.resolve() or root.resolve() in path.parents


# -- names → paths and URLs -----------------------------------------------------------------
#
# Random text is almost never a valid name, so each strategy mixes well-formed names in and
# each property counts both outcomes: it must see accepted and refused inputs, or it has not
# tested what it claims.

#: Least number of examples of each outcome (accepted, refused) a property must see.
MIN_EACH = 5

names_st = st.one_of(
    hostile,
    st.sampled_from(list_models()),
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,30}", fullmatch=True),
)
_segment = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,12}"
revisions_st = st.one_of(
    hostile,
    st.from_regex(rf"{_segment}(/{_segment}){{0,2}}", fullmatch=True),
    st.from_regex(r"[0-9a-f]{40}", fullmatch=True),
)
_part = r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}"
repo_ids_st = st.one_of(hostile, st.from_regex(rf"{_part}/{_part}", fullmatch=True))


def _both_outcomes(outcomes: list[bool]) -> None:
    accepted = sum(outcomes)
    assert accepted >= MIN_EACH, f"only {accepted} of {len(outcomes)} inputs were accepted"
    assert len(outcomes) - accepted >= MIN_EACH, f"only {len(outcomes) - accepted} were refused"


def test_model_names_never_leave_their_folder() -> None:
    outcomes: list[bool] = []

    @FAST
    @given(name=names_st)
    def check(name: str) -> None:
        outcomes.append(_accepted(check_model_name, name))
        if outcomes[-1]:
            assert "/" not in name and "\\" not in name and not name.startswith(".")
            assert _contained(Path("/zoo/weights"), name)

    check()
    _both_outcomes(outcomes)


def test_revisions_never_leave_the_cache_or_the_url_path() -> None:
    outcomes: list[bool] = []

    @FAST
    @given(revision=revisions_st)
    def check(revision: str) -> None:
        outcomes.append(_accepted(check_revision, revision))
        if outcomes[-1]:
            assert ".." not in revision and not revision.startswith("/") and "\\" not in revision
            assert "%" not in revision and "?" not in revision and "#" not in revision
            assert _contained(Path("/cache/snapshots"), revision)

    check()
    _both_outcomes(outcomes)


def test_repo_ids_are_two_plain_parts() -> None:
    outcomes: list[bool] = []

    @FAST
    @given(repo_id=repo_ids_st)
    def check(repo_id: str) -> None:
        outcomes.append(_accepted(check_repo_id, repo_id))
        if outcomes[-1]:
            org, name = repo_id.split("/")
            assert "--" not in repo_id  # the cache folder is models--ORG--NAME: no ambiguity
            assert _contained(Path("/cache"), f"models--{org}--{name}")

    check()
    _both_outcomes(outcomes)


def test_model_refs_are_checked_as_a_whole() -> None:
    """``zoo pull NAME@REV``: either both parts pass their checks, or it is refused."""
    outcomes: list[bool] = []

    @FAST
    @given(
        ref=st.one_of(
            hostile,
            names_st,
            st.builds(lambda n, r: f"{n}@{r}", names_st, revisions_st),
        )
    )
    def check(ref: str) -> None:
        name, _, rev = ref.partition("@")
        parts_ok = _accepted(check_model_name, name) and (
            "@" not in ref or _accepted(check_revision, rev)
        )
        try:
            got = parse_model_ref(ref)
        except InvalidNameError:
            outcomes.append(False)
            assert not parts_ok
            return
        outcomes.append(True)
        assert parts_ok and got == (name, rev if "@" in ref else None)

    check()
    _both_outcomes(outcomes)


def test_export_out_paths_stay_in_the_repository() -> None:
    """``zoo export NAME --entry E --out ROOT`` writes only below ROOT, for any NAME and E."""
    root = Path("/repo")
    outcomes: list[bool] = []

    @FAST
    @given(data=st.data(), real=st.booleans())
    def check(data: st.DataObject, real: bool) -> None:
        # Half the time a real model and one of its entry points (or none): the valid case.
        name = data.draw(st.sampled_from(list_models()) if real else hostile)
        tasks = get_spec(name).entry_names if name in list_models() else ("generate",)
        entry = data.draw(st.one_of(st.none(), st.sampled_from(tasks)) if real else hostile)
        try:
            folder = version_dir(name, entry, repository=root)
        except (UnknownModelError, InvalidNameError):
            outcomes.append(False)
            assert name not in list_models() or entry not in (None, *get_spec(name).entry_names)
            return
        outcomes.append(True)
        assert name in list_models()
        assert folder.parent.parent == root and _contained(root, str(folder.relative_to(root)))

    check()
    _both_outcomes(outcomes)


@SLOW
@given(names=st.lists(hostile, min_size=1, max_size=3))
def test_repository_writer_models_are_checked_before_writing(
    tmp_path_factory: pytest.TempPathFactory, names: list[str]
) -> None:
    """``zoo repo build --models ...``: unknown or hostile names write nothing at all."""
    assume(not all(n in list_models() for n in names))
    root = tmp_path_factory.mktemp("repo") / "inner"
    with pytest.raises((UnknownModelError, InvalidNameError)):
        write_configs(root, names)
    assert not root.exists()


# -- request validators: the SDK and the server agree, and only ever raise InvalidInputError --


def _outcome(fn: Any, *args: Any, **kwargs: Any) -> bool:
    """True when ``fn`` accepts, False when it refuses with the typed error; anything else fails."""
    try:
        fn(*args, **kwargs)
    except (InvalidInputError, client.InvalidInputError):
        return False
    return True


seeds_st = st.lists(st.integers(min_value=-(2**70), max_value=2**70), min_size=1, max_size=5)


@FAST
@given(seeds=seeds_st)
def test_seed_checks_agree(seeds: list[int]) -> None:
    in_range = all(0 <= s <= 2**63 - 1 for s in seeds)
    assert _outcome(check_seeds, seeds) == in_range
    if all(-(2**63) <= s <= 2**63 - 1 for s in seeds):  # what int64 on the wire can carry
        entry = get_spec("dcgan-mnist").entry_point()
        server = _outcome(pipeline.generator_inputs, entry, np.array(seeds, np.int64))
        assert server == in_range


SIGS = {
    name: signature_of(triton_model_name(name), get_spec(name).entry_point(), 64)
    for name in ("dcgan-mnist", "cgan-mnist", "stylegan2-mnist")
}


@FAST
@given(
    labels=st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=2, max_size=2)
)
def test_label_checks_agree(labels: list[int]) -> None:
    arr = np.array(labels, np.int64)
    sdk = _outcome(generate_request, SIGS["cgan-mnist"], [1, 2], labels=arr)
    server = _outcome(
        pipeline.generator_inputs, get_spec("cgan-mnist").entry_point(), [1, 2], labels=arr
    )
    assert sdk == server == all(0 <= v <= 9 for v in labels)


@FAST
@given(
    psi=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=3)
)
def test_psi_checks_agree(psi: list[float]) -> None:
    arr = np.array(psi, np.float32)
    n = len(psi)
    sdk = _outcome(generate_request, SIGS["stylegan2-mnist"], list(range(n)), psi=arr)
    entry = get_spec("stylegan2-mnist").entry_point()
    server = _outcome(pipeline.generator_inputs, entry, list(range(n)), psi=arr)
    assert sdk == server == bool(np.all(np.isfinite(arr)) and np.abs(arr).max() <= 10)


image_dtypes = st.sampled_from([np.uint8, np.float32, np.int64, np.float64, np.bool_])


@FAST
@given(
    arr=hnp.arrays(
        image_dtypes,
        st.one_of(
            hnp.array_shapes(min_dims=1, max_dims=5, max_side=4),
            st.sampled_from([(2, 32, 32, 1), (1, 32, 32), (0, 32, 32, 1), (1, 32, 32, 3)]),
        ),
    )
)
def test_image_and_mask_checks_accept_only_model_sized_input(arr: np.ndarray) -> None:
    sig = signature_of("vae-mnist_inpaint", get_spec("vae-mnist").entry_point("inpaint"), 64)
    try:
        images = check_images(sig, arr)
    except client.InvalidInputError:
        ok_shape = arr.ndim in (3, 4) and arr.shape[1:3] == (32, 32) and arr.shape[0] > 0
        assert not (ok_shape and arr.dtype == np.uint8 and (arr.ndim == 3 or arr.shape[3] == 1))
    else:
        assert images.dtype == np.uint8 and images.shape[1:] == (32, 32, 1)
    n = arr.shape[0] if arr.ndim else 0
    try:
        masks = check_masks(sig, arr, n)
    except client.InvalidInputError:
        return
    assert masks.shape == (n, 32, 32, 1) and set(np.unique(masks)) <= {0, 1}


def _valid_wire(data: st.DataObject, entry: Any, batch: int) -> dict[str, np.ndarray]:
    """Wire inputs the SDK would send: seeds in range, labels 0–9, finite ψ, t in [0, 1],
    mixing layers 0..num_ws, finite ws, any pixels.
    """
    wire: dict[str, np.ndarray] = {}
    for w in wire_inputs(entry):
        shape = (batch, *w.dims)
        if w.name in ("seed", "mix_seed", "seed_to"):
            elements: Any = st.integers(min_value=0, max_value=validation.MAX_SEED)
        elif w.name == "label":
            elements = st.integers(min_value=0, max_value=9)
        elif w.name == "t":
            elements = st.floats(min_value=0, max_value=1, width=32)
        elif w.name == "mix_layer":  # 0..num_ws, the ws' first axis
            num_ws = next(v.dims[0] for v in wire_inputs(entry) if v.name == "w")
            elements = st.integers(min_value=0, max_value=num_ws)
        elif w.name == "psi":
            elements = st.floats(min_value=-10, max_value=10, width=32)
        elif w.dtype == "float32":  # latent codes
            elements = st.floats(min_value=-1e3, max_value=1e3, width=32)
        else:
            elements = None  # uint8 pixels: any byte
        wire[w.name] = data.draw(hnp.arrays(np.dtype(w.dtype), shape, elements=elements))
    return wire


def _any_wire(data: st.DataObject, entry: Any, batch: int) -> dict[str, np.ndarray]:
    """What Triton lets through: the right dtype and shape, any values."""
    wire: dict[str, np.ndarray] = {}
    for w in wire_inputs(entry):
        elements: Any = None
        if w.dtype == "int64":
            elements = st.integers(min_value=-(2**63), max_value=2**63 - 1)
        elif w.dtype == "float32":
            elements = st.floats(width=32, allow_nan=True, allow_infinity=True)
        wire[w.name] = data.draw(hnp.arrays(np.dtype(w.dtype), (batch, *w.dims), elements=elements))
    return wire


def test_server_conversion_only_raises_typed_errors() -> None:
    """What Triton lets through (right dtype and shape) is converted or refused, never a crash.

    The backend answers ZooError/ValueError with INVALID_ARG for that request alone; any other
    exception would fail every request batched with it. Valid requests must be converted.
    """
    outcomes: list[bool] = []

    @FAST
    @given(data=st.data(), model=st.sampled_from(list_models()), valid=st.booleans())
    def check(data: st.DataObject, model: str, valid: bool) -> None:
        entry = data.draw(st.sampled_from(get_spec(model).entry_points))
        batch = data.draw(st.integers(min_value=1, max_value=3))
        wire = (_valid_wire if valid else _any_wire)(data, entry, batch)
        try:
            out = graph_inputs(entry, wire)
        except InvalidInputError:
            assert not valid, f"a valid request for {entry.name} was refused"
            outcomes.append(False)
            return
        outcomes.append(True)
        assert len(out) == len(entry.inputs) and all(len(a) == batch for a in out)

    check()
    # Pixels are valid whatever their values, so refusals are rare here: count conversions.
    assert sum(outcomes) >= MIN_EACH, f"only {sum(outcomes)} of {len(outcomes)} were converted"


# -- the repository writer: any valid options give configs that round-trip -------------------


@st.composite
def repository_options(draw: st.DrawFn) -> RepositoryOptions:
    native = draw(st.booleans())
    engine = draw(st.sampled_from(sorted(NATIVE_PLATFORMS) if native else EMBEDDED_ENGINES))
    max_batch = draw(st.integers(min_value=1, max_value=4096))
    preferred = draw(st.lists(st.integers(min_value=1, max_value=max_batch), max_size=3))
    return RepositoryOptions(
        engine=engine,
        native=native,
        max_batch_size=max_batch,
        preferred_batch_sizes=tuple(preferred),
        max_queue_delay_us=draw(st.integers(min_value=0, max_value=10**6)),
        instances=draw(st.integers(min_value=1, max_value=16)),
        threads=draw(st.integers(min_value=1, max_value=64)),
        response_cache=draw(st.booleans()),
    )


@SLOW
@given(options=repository_options(), models=st.lists(st.sampled_from(list_models()), max_size=2))
def test_configs_round_trip_through_model_config(
    options: RepositoryOptions, models: list[str]
) -> None:
    configs = model_configs(models or None, options)
    assert configs
    for name, (_, _, cfg) in configs.items():
        text = render_config(cfg)
        back = parse_config(text)
        assert back == cfg and back.name == name
        assert back.max_batch_size == options.max_batch_size
        if back.platform != "ensemble":  # an ensemble schedules its steps, not batches
            preferred = list(back.dynamic_batching.preferred_batch_size)
            assert preferred == list(options.preferred_batch_sizes)
            assert back.instance_group[0].count == options.instances
        assert all(d > 0 for t in [*back.input, *back.output] for d in t.dims)


@FAST
@given(
    max_batch=st.integers(min_value=-5, max_value=5),
    instances=st.integers(min_value=-2, max_value=2),
    preferred=st.lists(st.integers(min_value=-5, max_value=10), max_size=3),
    engine=st.text(max_size=12),
)
def test_invalid_options_are_refused(
    max_batch: int, instances: int, preferred: list[int], engine: str
) -> None:
    valid = (
        engine in EMBEDDED_ENGINES
        and max_batch >= 1
        and instances >= 1
        and all(1 <= b <= max_batch for b in preferred)
    )
    try:
        RepositoryOptions(
            engine=engine,
            max_batch_size=max_batch,
            instances=instances,
            preferred_batch_sizes=tuple(preferred),
        )
    except (InvalidInputError, InvalidNameError):
        assert not valid
    else:
        assert valid
