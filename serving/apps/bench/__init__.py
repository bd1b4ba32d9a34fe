"""``zoo bench``: runners and servers (its *targets*) measured side by side, with a report.

- :mod:`serving.apps.bench.settings`: :class:`BenchSettings` (one run) and the module it loads;
- :mod:`serving.apps.bench.run`: :func:`run_bench` (every cell of a run);
- :mod:`serving.apps.bench.results`: the typed results (cells, goals, the report) and their JSON;
- :mod:`serving.apps.bench.environment`: the machine, versions and git commit of a run;
- :mod:`serving.apps.bench.tune`: the Triton config search behind ``zoo bench --tune``;
- :mod:`serving.apps.bench.report`: goals, JSON, Markdown and PNG plots;
- :mod:`serving.apps.bench.load`: the closed-loop load generator (threads or asyncio), which
  ``zoo soak`` drives too;
- :mod:`serving.apps.bench.targets`: the requests and one target per in-process runner or Triton
  protocol; :mod:`serving.apps.bench.peers`: LitServe and perf_analyzer;
- :mod:`serving.apps.bench.flops`, :mod:`serving.apps.bench.stats`: FLOP counting, matmul peak
  (CPU or CUDA), percentiles;
- :mod:`serving.apps.bench.gpu`: the GPU check's bench (its workloads, goals and report), which
  ``scripts/gpu_check.py`` runs on a device machine.
"""
