"""What fills each input of an entry point (its *role*): data the generic code reads, not names.

An input is filled by one of:

- ``seed``: the latent of one of the request's seeds, by the seed → latent rule
  (:mod:`zoo.latent`); :attr:`Role.seed` says which seed (``seed``, ``seed_to`` for
  interpolation's end, ``mix_seed`` for style mixing) and is also its name on the wire;
- ``label``: a class label in ``0..classes-1`` (the tensor's ``classes``);
- ``scalar``: one number per item that the caller passes by the input's name (ψ as ``psi``,
  ``t``), with a default where a request may leave it out; :attr:`Role.check` names its range
  rule (:data:`SCALAR_CHECKS`), else any finite number;
- ``ws``: given ws (one w per synthesis layer, as ``project`` returns them);
- ``layer``: the style-mixing layer of given ws;
- ``image``: an image, uint8 NHWC on the wire; ``mask``: a mask image, nonzero = known pixel;
- ``latent``: a latent code that travels as it is (``decode``'s); ``data``: anything else.

The zoo's input names keep their role implied by :data:`IMPLIED` (the one table of them), and
an input of another name is taken by its shape (:func:`role_of`) unless its ``TensorSpec``
states a role. The served config carries a role only where the client could not tell it from
the wire name and shape (:func:`wire_role`; the repository writer declares the rest), so the
zoo's configs say nothing about roles.

Torch-free, and it imports only NumPy and the checks (:mod:`zoo.validation`): the client SDK
reads roles too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args

import numpy as np
import numpy.typing as npt

from zoo.errors import InvalidInputError
from zoo.validation import check_number, check_psi, check_t

RoleKind = Literal["seed", "label", "scalar", "ws", "layer", "image", "mask", "latent", "data"]
#: The request's seeds a ``seed`` role may take its latent from (each is its wire name too).
SEEDS = ("seed", "seed_to", "mix_seed")

#: Range rules of scalars, by :attr:`Role.check`: values, count → float32 ``(n,)``.
SCALAR_CHECKS: dict[str, Callable[[Any, int], npt.NDArray[np.float32]]] = {
    "psi": check_psi,
    "t": check_t,
}
#: What a request that leaves out a required scalar is told, by :attr:`Role.check`.
_MISSING = {"t": "interpolate needs t in [0, 1] per seed."}


@dataclass(frozen=True)
class Role:
    """What fills one input (see the module's list of kinds)."""

    kind: RoleKind  # what fills it
    seed: str = ""  # kind "seed": which of the request's seeds (SEEDS), its wire name too
    default: float | None = None  # kind "scalar": the value when a request leaves it out
    optional: bool = False  # a request may leave it out (Triton `optional: true`)
    check: str = ""  # kind "scalar": its range rule in SCALAR_CHECKS ("": any finite number)

    def __post_init__(self) -> None:
        if self.kind not in get_args(RoleKind):
            raise ValueError(f"unknown input role {self.kind!r}; roles: {get_args(RoleKind)}")
        if (self.kind == "seed") != (self.seed in SEEDS):
            raise ValueError(f"a seed role names one of {SEEDS} (and only a seed role does)")
        if self.check and self.check not in SCALAR_CHECKS:
            raise ValueError(f"unknown scalar check {self.check!r}; checks: {list(SCALAR_CHECKS)}")

    def to_dict(self) -> dict[str, Any]:
        """The fields that differ from a bare role of its kind (JSON-ready)."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.seed:
            out["seed"] = self.seed
        if self.default is not None:
            out["default"] = self.default
        if self.optional:
            out["optional"] = True
        if self.check:
            out["check"] = self.check
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Role:
        """Inverse of :meth:`to_dict`."""
        default = data.get("default")
        return cls(
            kind=data["kind"],
            seed=str(data.get("seed", "")),
            default=None if default is None else float(default),
            optional=bool(data.get("optional", False)),
            check=str(data.get("check", "")),
        )


def seed_latent(which: str = "seed", *, optional: bool = False) -> Role:
    """The role of a latent computed from the request's seed ``which`` (one of :data:`SEEDS`)."""
    return Role("seed", seed=which, optional=optional)


def scalar(default: float | None = None, *, check: str = "") -> Role:
    """The role of a per-item number passed by name; with a ``default`` a request may omit it."""
    return Role("scalar", default=default, optional=default is not None, check=check)


#: The roles the zoo's input names imply (graph names; a seed's latent travels as its seed).
IMPLIED: dict[str, Role] = {
    "z": seed_latent("seed"),
    "z_to": seed_latent("seed_to"),
    "mix_z": seed_latent("mix_seed", optional=True),
    "label": Role("label"),
    "psi": scalar(1.0, check="psi"),
    "t": scalar(check="t"),
    "w": Role("ws"),
    "mix_layer": Role("layer", optional=True),
    "image": Role("image"),
    "mask": Role("mask"),
    "latent": Role("latent"),
}
#: The same roles by wire name (what the client sees).
_IMPLIED_ON_WIRE = {(r.seed or name): r for name, r in IMPLIED.items()}


class Tensor(Protocol):
    """What :func:`role_of` reads of a tensor (a ``zoo.registry.TensorSpec``)."""

    @property
    def name(self) -> str: ...
    @property
    def dtype(self) -> str: ...
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def role(self) -> Role | None: ...


def role_of(t: Tensor) -> Role:
    """What fills graph tensor ``t``: its stated role, else its name's, else its shape's."""
    if t.role is not None:
        return t.role
    if t.name in IMPLIED:
        return IMPLIED[t.name]
    if t.dtype == "float32" and len(t.shape) == 3:
        return Role("image")
    if t.dtype == "float32" and len(t.shape) == 1:
        return Role("latent")
    return scalar() if not t.shape else Role("data")


def wire_role(name: str, dtype: str, dims: tuple[int, ...]) -> Role:
    """What the client takes to fill wire input ``name`` when its config declares no role."""
    if name in _IMPLIED_ON_WIRE:
        return _IMPLIED_ON_WIRE[name]
    if dtype == "uint8" and len(dims) == 3:
        return Role("image")
    if dims == (1,):
        return scalar()
    return Role("latent") if dtype == "float32" and len(dims) == 1 else Role("data")


def encode_roles(roles: Mapping[str, Role]) -> str:
    """Declared roles (wire name → role) as the served config's parameter value (JSON)."""
    return json.dumps({k: r.to_dict() for k, r in roles.items()}, sort_keys=True)


def decode_roles(text: str) -> dict[str, Role]:
    """Inverse of :func:`encode_roles` (an empty text declares none)."""
    return {k: Role.from_dict(v) for k, v in json.loads(text).items()} if text else {}


def fill_scalar(role: Role, name: str, value: Any, n: int, *, entry: str) -> npt.NDArray[Any]:
    """Scalar input ``name`` of ``entry`` as float32 ``(n,)``: ``value``, else its default.

    A required scalar left out is refused; the value is checked by the role's range rule.
    """
    if value is None:
        if role.default is None:
            raise InvalidInputError(
                _MISSING.get(role.check, f"{entry!r} needs {name}: pass one number per seed.")
            )
        value = role.default
    check = SCALAR_CHECKS.get(role.check)
    return check(value, n) if check else check_number(value, n, name)
