"""Latency statistics: percentiles by linear interpolation (NumPy's default method).

Kept free of NumPy on purpose: the load generator's raw figures go into the JSON report as they
are, and these few lines are checked against ``numpy.percentile`` in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Percentiles every report shows.
PERCENTILES = (50.0, 90.0, 99.0)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of ascending ``sorted_values``, linearly interpolated.

    Position ``(n - 1) * q / 100`` between the two nearest ranks, as ``numpy.percentile``'s
    default ("linear") method.
    """
    if not sorted_values:
        raise ValueError("percentile of an empty sequence")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile q must lie in 0..100, got {q}")
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    a, b = float(sorted_values[lo]), float(sorted_values[hi])
    return a + (b - a) * frac


@dataclass(frozen=True)
class LatencySummary:
    """Latency of one measured cell, in milliseconds."""

    count: int  # requests measured
    mean: float
    p50: float
    p90: float
    p99: float
    max: float

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready form."""
        return {
            "count": self.count,
            "mean": self.mean,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "max": self.max,
        }


def summarize(latencies_s: Iterable[float]) -> LatencySummary:
    """Mean, p50/p90/p99 and max of request latencies given in seconds, reported in ms."""
    ms = sorted(1e3 * float(x) for x in latencies_s)
    if not ms:
        raise ValueError("no latencies to summarize")
    p50, p90, p99 = (percentile(ms, q) for q in PERCENTILES)
    return LatencySummary(
        count=len(ms), mean=sum(ms) / len(ms), p50=p50, p90=p90, p99=p99, max=ms[-1]
    )
