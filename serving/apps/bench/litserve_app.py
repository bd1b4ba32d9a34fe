"""The LitServe peer: the same ONNX Runtime graph behind LitServe, with LitServe's batching.

``zoo bench --targets litserve`` starts this module as a subprocess on a loopback port
(``python -m serving.apps.bench.litserve_app --model dcgan-mnist --entry generate --onnx
model.onnx --port P``) and drives it with the same load generator as Triton. It is what a user
would otherwise write: a ``LitAPI`` whose worker holds one ONNX Runtime session, JSON bodies
(:mod:`serving.apps.bench.payload`), and LitServe's own dynamic batching (``max_batch_size``
requests, ``batch_timeout`` seconds). Requests convert with the same :mod:`serving.server.wire` code
as Triton's backend, so both servers do the same work per image.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import litserve as ls
import numpy as np
import numpy.typing as npt

from serving.apps.bench.payload import decode_tensors, encode_tensors
from serving.server.wire import graph_inputs, wire_outputs, wire_results

#: URL path of the prediction endpoint.
API_PATH = "/predict"

Tensors = dict[str, npt.NDArray[Any]]


class ZooOrtAPI(ls.LitAPI):
    """One ONNX Runtime session; with batching, ``predict`` gets a list of decoded requests.

    Defined at module level: LitServe spawns its worker and pickles this object into it.
    """

    def __init__(
        self,
        model: str,  # zoo model
        entry: str,  # entry point
        onnx_path: str,  # exported graph (uint8 output)
        *,
        threads: int,  # ONNX Runtime intra-op threads
        max_batch_size: int,  # requests LitServe batches together
        batch_timeout: float,  # seconds LitServe waits to fill a batch
    ) -> None:
        super().__init__(
            max_batch_size=max_batch_size, batch_timeout=batch_timeout, api_path=API_PATH
        )
        self.model, self.entry_name, self.onnx_path, self.threads = model, entry, onnx_path, threads

    def setup(self, device: str) -> None:
        """Open the ONNX Runtime session (in LitServe's worker process)."""
        from export.runners import make_runner

        self.runner = make_runner(
            "onnxruntime",
            self.model,
            self.entry_name,
            artifact=Path(self.onnx_path),
            threads=self.threads,
        )
        self.names = [w.name for w in wire_outputs(self.runner.entry)]

    def decode_request(self, request, **kwargs: Any) -> Tensors:
        """JSON body → wire arrays.

        ``request`` stays unannotated: LitServe reads the annotation to pick the body type,
        and none means a JSON body.
        """
        return decode_tensors(request)

    def batch(self, inputs: list[Tensors]) -> list[Tensors]:
        """Keep the list: requests may carry different numbers of images."""
        return inputs

    def predict(self, x: Any, **kwargs: Any) -> Any:
        """Run every request of the batch as one graph call; split the results back."""
        requests: list[Tensors] = x if isinstance(x, list) else [x]
        joined = {k: np.concatenate([r[k] for r in requests]) for k in requests[0]}
        ep = self.runner.entry
        outs = wire_results(ep, self.runner(*graph_inputs(ep, joined)))
        results, start = [], 0
        for r in requests:
            n = len(next(iter(r.values())))
            results.append({k: o[start : start + n] for k, o in zip(self.names, outs, strict=True)})
            start += n
        return results if isinstance(x, list) else results[0]

    def unbatch(self, output: Any) -> Any:
        """``predict`` already returns one result per request."""
        return output

    def encode_response(self, output: Tensors, **kwargs: Any) -> dict[str, Any]:
        """Wire arrays → JSON body."""
        return encode_tensors(output)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until killed; binds loopback unless ``--host`` says otherwise."""
    p = argparse.ArgumentParser(description="genzoo's LitServe peer for `zoo bench`.")
    p.add_argument("--model", required=True)
    p.add_argument("--entry", required=True)
    p.add_argument("--onnx", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-batch-size", type=int, default=64)
    p.add_argument("--batch-timeout", type=float, default=0.001)
    args = p.parse_args(argv)
    api = ZooOrtAPI(
        args.model,
        args.entry,
        args.onnx,
        threads=args.threads,
        max_batch_size=args.max_batch_size,
        batch_timeout=args.batch_timeout,
    )
    server = ls.LitServer(api, accelerator="cpu", devices=1, workers_per_device=1, timeout=60)
    server.run(
        host=args.host,
        port=args.port,
        num_api_servers=1,
        log_level="warning",
        generate_client_file=False,
    )


if __name__ == "__main__":
    main()
