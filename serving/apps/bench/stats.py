"""Latency statistics: ``numpy.percentile`` with its default ("linear") interpolation.

Position ``(n - 1) * q / 100`` between the two nearest ranks, the method the reports have
always used, so figures stay comparable with earlier reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

#: Percentiles every report shows.
PERCENTILES = (50.0, 90.0, 99.0)


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
    ms = np.array([1e3 * float(x) for x in latencies_s], dtype=np.float64)
    if not ms.size:
        raise ValueError("no latencies to summarize")
    p50, p90, p99 = (float(p) for p in np.percentile(ms, PERCENTILES, method="linear"))
    return LatencySummary(
        count=int(ms.size), mean=float(ms.mean()), p50=p50, p90=p90, p99=p99, max=float(ms.max())
    )
