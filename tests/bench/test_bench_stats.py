"""Latency summaries: milliseconds, NumPy's linear percentiles, the JSON keys."""

from __future__ import annotations

import numpy as np
import pytest

from serving.apps.bench.stats import summarize


def test_summarize_reports_milliseconds() -> None:
    rng = np.random.default_rng(0)
    seconds = rng.exponential(0.01, 1000)
    s = summarize(seconds.tolist())
    ms = seconds * 1e3
    assert s.count == 1000
    assert s.mean == pytest.approx(ms.mean())
    for q, got in ((50, s.p50), (90, s.p90), (99, s.p99)):
        assert got == pytest.approx(np.percentile(ms, q))
    assert s.max == pytest.approx(ms.max())
    assert set(s.to_dict()) == {"count", "mean", "p50", "p90", "p99", "max"}
    with pytest.raises(ValueError):
        summarize([])


def test_summarize_interpolates_linearly_between_ranks() -> None:
    """The reports' method: position (n - 1)·q/100 between the two nearest ranks."""
    s = summarize([0.001, 0.002, 0.003, 0.004])
    assert s.p50 == pytest.approx(2.5)  # halfway between ranks 1 and 2
    assert s.p90 == pytest.approx(3.7)  # 0.7 of the way from rank 2 to rank 3
    assert summarize([0.007]).p99 == pytest.approx(7.0)
