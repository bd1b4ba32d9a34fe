"""Export: torch → ONNX → ONNX Runtime and TensorRT, with parity and quality gates."""
