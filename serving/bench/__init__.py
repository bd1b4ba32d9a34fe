"""``zoo bench``: runners and servers (its *targets*) measured side by side, with a report.

- :mod:`serving.bench.settings`: :class:`BenchSettings` (one run) and the module it loads;
- :mod:`serving.bench.run`: :func:`run_bench` (every cell of a run);
- :mod:`serving.bench.results`: the typed results (cells, goals, the report) and their JSON;
- :mod:`serving.bench.environment`: the machine, versions and git commit of a run;
- :mod:`serving.bench.tune`: the Triton config search behind ``zoo bench --tune``;
- :mod:`serving.bench.report`: goals, JSON, Markdown and PNG plots;
- :mod:`serving.bench.load`: the closed-loop load generator (threads or asyncio), which
  ``zoo soak`` drives too;
- :mod:`serving.bench.targets`: the requests and one target per in-process runner or Triton
  protocol; :mod:`serving.bench.peers`: LitServe and perf_analyzer;
- :mod:`serving.bench.flops`, :mod:`serving.bench.stats`: FLOP counting, matmul peak,
  percentiles.
"""
