"""The benchmark's verdict rule (bench/stats.py): a pass must survive the run's own spread."""

import pytest

from bench.stats import Row, Side, verdict


@pytest.mark.parametrize("ratio,noise,target,expected", [
    (1.00, 0.01, 1.02, "pass"),  # holds on the median and with the spread
    (1.015, 0.01, 1.02, "within noise"),  # holds on the median only: no claim
    (1.03, 0.02, 1.02, "within noise"),  # misses on the median, but within the spread
    (1.05, 0.02, 1.02, "FAIL"),  # misses even giving it the spread
    (1.50, 0.00, None, "—"),  # info rows have no verdict
])
def test_verdict_needs_the_target_to_hold_beyond_the_noise(ratio, noise, target, expected):
    assert verdict(ratio, noise, target) == expected


def test_row_compares_medians_and_takes_the_wider_sides_noise():
    ours, floor = Side((2.0, 2.1, 2.4)), Side((2.0, 2.05, 2.1))
    row = Row("e2e", "s", ours, floor, "floor", 1.02)
    assert (ours.min, ours.median, ours.max) == (2.0, 2.1, 2.4)
    assert row.ratio == pytest.approx(2.1 / 2.05)
    assert row.noise == pytest.approx(0.4 / (2 * 2.1))  # ours wandered more than the floor
    assert row.verdict == "within noise"
    memory = Row("rss", "×", Side((1.01, 1.02, 1.02)), Side((1.0, 1.0, 1.0)), "floor", 1.10, absolute=True)
    assert memory.ratio == pytest.approx(1.02) and memory.verdict == "pass"
