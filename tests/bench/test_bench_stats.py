"""Percentiles and latency summaries against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serving.bench.stats import percentile, summarize

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=200), st.floats(min_value=0, max_value=100))
def test_percentile_matches_numpy(values: list[float], q: float) -> None:
    got = percentile(sorted(values), q)
    assert got == pytest.approx(float(np.percentile(values, q)), rel=1e-9, abs=1e-6)


def test_percentile_endpoints_and_interpolation() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5  # halfway between ranks 1 and 2
    assert percentile([7.0], 99) == 7.0


@pytest.mark.parametrize("q", [-1.0, 100.5])
def test_percentile_rejects_out_of_range(q: float) -> None:
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], q)


def test_percentile_rejects_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50)


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
