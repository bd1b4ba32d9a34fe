"""Serving: Triton model repository, embedded server launcher, client SDK and benchmarks."""
