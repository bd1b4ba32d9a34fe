"""The signature of a served model as the client reads it, and the wire format's constants."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from zoo.roles import Role, decode_roles, wire_role

#: Config parameter in which a served model declares how many classes its ``label`` takes.
LABEL_CLASSES_PARAMETER = "zoo_label_classes"
#: Config parameter declaring the roles of the inputs whose name and shape do not tell them
#: (JSON, wire name → role; :func:`zoo.roles.encode_roles`).
ROLES_PARAMETER = "zoo_roles"
#: Entry-point names that generate from seeds (GANs call it ``generate``, the VAE ``sample``).
GENERATE_ENTRIES = ("generate", "sample")
#: Name suffix of the zoo model that projects images into a generator (see encoder_of).
ENCODER_SUFFIX = "-encoder"

Array = npt.NDArray[Any]

_NP_DTYPES = {
    "TYPE_FP32": np.float32,
    "TYPE_INT64": np.int64,
    "TYPE_UINT8": np.uint8,
    "TYPE_FP16": np.float16,
    "TYPE_INT32": np.int32,
    "TYPE_BOOL": np.bool_,
}


@dataclass(frozen=True)
class ModelSignature:
    """What one served Triton model takes and returns, read from its ``config.pbtxt``."""

    name: str  # Triton model name, e.g. "vae-mnist_encode"
    inputs: dict[str, tuple[np.dtype[Any], tuple[int, ...]]]  # name → (dtype, per-item dims)
    outputs: dict[str, tuple[np.dtype[Any], tuple[int, ...]]]  # name → (dtype, per-item dims)
    max_batch_size: int  # largest batch one request may carry (0: no batch axis or no limit known)
    label_classes: int | None = None  # its label input takes 0..label_classes-1 (None: not told)
    declared: Mapping[str, Role] = field(default_factory=dict)  # roles its config declares

    def role(self, name: str) -> Role:
        """What fills input ``name``: the role its config declares, else its name's or shape's."""
        if name in self.declared:
            return self.declared[name]
        dtype, dims = self.inputs[name]
        return wire_role(name, dtype.name, dims)

    def inputs_of(self, kind: str) -> list[str]:
        """The inputs that ``kind`` fills (:mod:`zoo.roles`), in signature order."""
        return [name for name in self.inputs if self.role(name).kind == kind]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ModelSignature:
        """Build from Triton's model configuration as JSON (HTTP or gRPC ``as_json``)."""
        cfg = config.get("config", config)

        def tensors(key: str) -> dict[str, tuple[np.dtype[Any], tuple[int, ...]]]:
            return {
                t["name"]: (
                    np.dtype(_NP_DTYPES.get(t["data_type"], np.float32)),
                    tuple(int(d) for d in t.get("dims", ())),
                )
                for t in cfg.get(key, ())
            }

        params = cfg.get("parameters", {})
        classes = params.get(LABEL_CLASSES_PARAMETER, {}).get("string_value")
        roles = params.get(ROLES_PARAMETER, {}).get("string_value", "")
        return cls(
            name=cfg["name"],
            inputs=tensors("input"),
            outputs=tensors("output"),
            max_batch_size=int(cfg.get("max_batch_size", 0)),
            label_classes=int(classes) if classes else None,
            declared=decode_roles(roles),
        )

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> ModelSignature:
        """Build from the v2 core protocol's model metadata (``GET /v2/models/{name}``).

        What a server without Triton's model-configuration extension (KServe's model servers)
        tells: tensor names, datatypes (``INT64``) and shapes whose leading -1 is the batch
        axis. It has no batch limit, so every call goes in one request.
        """

        def tensors(key: str) -> dict[str, tuple[np.dtype[Any], tuple[int, ...]]]:
            out = {}
            for t in metadata.get(key, ()):
                shape = [int(d) for d in t.get("shape", ())]  # gRPC's JSON spells int64 as str
                dims = shape[1:] if shape[:1] == [-1] else shape
                dtype = _NP_DTYPES.get(f"TYPE_{t['datatype']}", np.float32)
                out[t["name"]] = (np.dtype(dtype), tuple(dims))
            return out

        return cls(
            name=metadata["name"],
            inputs=tensors("inputs"),
            outputs=tensors("outputs"),
            max_batch_size=0,
        )
