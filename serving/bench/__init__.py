"""``zoo bench``: backends and servers measured side by side, with a report.

- :mod:`serving.bench.run`: :class:`BenchSettings` and :func:`run_bench` (one run, every cell);
- :mod:`serving.bench.tune`: the Triton config search behind ``zoo bench --tune``;
- :mod:`serving.bench.report`: goals, JSON, Markdown and PNG plots;
- :mod:`serving.bench.load`: the closed-loop load generator (threads or asyncio);
- :mod:`serving.bench.targets`: one target per backend, and the LitServe peer's process;
- :mod:`serving.bench.flops`, :mod:`serving.bench.stats`: FLOP counting, matmul peak,
  percentiles.
"""
