"""The sizing arithmetic of `make bench` (scripts/bench_sizing.py): Lambda's CPU share."""

from __future__ import annotations

import pytest

from scripts.bench_sizing import (
    FULL_VCPU_MB,
    SAFETY,
    cost_per_thousand,
    projected_seconds,
    recommend,
    smallest_size,
)


def test_cpu_scales_with_memory_up_to_one_vcpu():
    assert projected_seconds(0.2, FULL_VCPU_MB) == pytest.approx(0.2)
    assert projected_seconds(0.2, 3538) == pytest.approx(0.2)  # one thread: no faster beyond a vCPU
    assert projected_seconds(0.2, 256) == pytest.approx(0.2 * FULL_VCPU_MB / 256)  # ~1.4 s


def test_the_smallest_size_meets_the_target_with_the_margin():
    size = smallest_size(0.22, 0.4)
    assert size % 64 == 0
    assert projected_seconds(0.22 * SAFETY, size) <= 0.4 < projected_seconds(0.22 * SAFETY, size - 64)
    assert smallest_size(0.001, 0.1) == 256  # never below the API floor


def test_a_function_gets_the_size_of_its_most_demanding_route():
    measured = {
        "a": {"function": "F", "cpu_s": 0.001, "target_s": 0.1},
        "b": {"function": "F", "cpu_s": 0.2, "target_s": 0.4},
        "c": {"function": "G", "cpu_s": 0.001, "target_s": 0.1},
    }
    sizes = recommend(measured)
    assert sizes["F"] == smallest_size(0.2, 0.4) > sizes["G"] == 256


def test_cost_grows_with_memory_only_when_cpu_does_not_shrink():
    # A CPU-bound request costs the same GB-s below one vCPU, more above it.
    assert cost_per_thousand(0.2, 512) == pytest.approx(cost_per_thousand(0.2, 1024), rel=1e-9)
    assert cost_per_thousand(0.2, 3538) > cost_per_thousand(0.2, 1769)


def test_an_api_function_is_also_sized_for_its_cold_start():
    measured = {"a": {"function": "F", "cpu_s": 0.001, "target_s": 0.1}}
    assert recommend(measured) == {"F": 256}
    assert recommend(measured, {"F": 0.14})["F"] == smallest_size(0.14, 0.5) > 256
