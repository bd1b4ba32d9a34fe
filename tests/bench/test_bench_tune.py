"""The config search's choice (a pure function) and its candidates."""

from __future__ import annotations

import pytest

from serving.apps.bench.tune import TuneConfig, TuneMeasurement, candidate_configs, pick_best
from serving.server.repository import RepositoryOptions

#: Distinct configurations to tell the measurements apart by name.
CONFIGS = {
    name: TuneConfig(instances=i + 1, threads=1, preferred_batch_sizes=(), max_queue_delay_us=0)
    for i, name in enumerate(("a", "b", "c", "failed", "slow tail", "fast tail"))
}


def m(throughput: float, p99: float | None, name: str) -> TuneMeasurement:
    return TuneMeasurement(CONFIGS[name], throughput, None, p99)


def best(runs: list[TuneMeasurement], bound: float) -> TuneConfig | None:
    found = pick_best(runs, bound)
    return None if found is None else found.config


def test_pick_best_takes_the_fastest_within_the_bound() -> None:
    runs = [m(900, 8.0, "a"), m(1500, 12.0, "b"), m(1200, 9.5, "c"), m(1000, None, "failed")]
    assert best(runs, 10.0) == CONFIGS["c"]  # b is faster but over the bound
    assert best(runs, 12.0) == CONFIGS["b"]  # the bound is inclusive
    assert best(runs, 100.0) == CONFIGS["b"]


def test_pick_best_breaks_ties_on_p99() -> None:
    runs = [m(1000, 9.0, "slow tail"), m(1000, 4.0, "fast tail")]
    assert best(runs, 10.0) == CONFIGS["fast tail"]


def test_pick_best_none_when_nothing_fits() -> None:
    assert pick_best([m(1000, 50.0, "a"), m(10, None, "b")], 10.0) is None
    assert pick_best([], 10.0) is None


@pytest.mark.parametrize(("cores", "batch", "conc"), [(2, 1, 16), (1, 1, 4), (8, 64, 16)])
def test_candidates_are_valid_repository_options(cores: int, batch: int, conc: int) -> None:
    cands = candidate_configs(cores, batch, conc)
    assert 3 <= len(cands) <= 6
    assert len(set(cands)) == len(cands)
    for c in cands:
        assert isinstance(c, TuneConfig)
        assert c.instances * c.threads <= max(cores, 1)
        RepositoryOptions(  # raises if the writer would refuse them
            instances=c.instances,
            threads=c.threads,
            preferred_batch_sizes=c.preferred_batch_sizes,
            max_queue_delay_us=c.max_queue_delay_us,
        )
