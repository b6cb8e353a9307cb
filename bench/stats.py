"""The bench's decision rule: when a measured ratio may be called a pass, a failure, or noise.

Each side of a row (ours, the floor) is a handful of samples taken alternately
(ours, floor, ours, floor, ...) so slow drift in the machine's load hits both
alike. A side's *noise* is half its range relative to its median,
``(max - min) / (2 * median)``: how far one run of identical work wanders. A
row's noise is the larger of its two sides'. With the ratio of medians ``r``
and a target ``r <= T``:

* **pass** when ``r + noise <= T``: the target holds on the medians and would
  still hold if the medians moved by the spread seen in this very run;
* **FAIL** when ``r - noise > T``: it misses even giving it the spread;
* **within noise** otherwise: the medians alone cannot tell, so neither pass nor
  fail is claimed (run again on a quieter machine, or with more ``--runs``).

The rule is written by hand because it is four lines; ``statistics`` gives the
medians.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Side:
    """The samples of one side of a row (seconds, MiB or a ratio), in the order they were taken."""

    samples: tuple[float, ...]

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    @property
    def noise(self) -> float:
        """Half the range, relative to the median (0 for a single sample: no spread seen, none claimed)."""
        return (self.max - self.min) / (2 * self.median) if self.median else 0.0


def verdict(ratio: float, noise: float, target: float | None) -> str:
    """``pass`` / ``FAIL`` / ``within noise`` for ``ratio <= target`` given the run's ``noise``.

    ``—`` for an info row (no target).
    """
    if target is None:
        return "—"
    if ratio + noise <= target:
        return "pass"
    if ratio - noise > target:
        return "FAIL"
    return "within noise"


@dataclass(frozen=True)
class Row:
    """One line of the results table.

    ``floor`` is the baseline measured alternately in the same run; with
    ``absolute`` the ours side is already a ratio (memory growth) and is held
    against the target directly, the floor's figure shown beside it.
    """

    name: str
    unit: str
    ours: Side
    floor: Side
    baseline: str
    target: float | None
    absolute: bool = False

    @property
    def ratio(self) -> float:
        return self.ours.median if self.absolute else self.ours.median / self.floor.median

    @property
    def noise(self) -> float:
        return self.ours.noise if self.absolute else max(self.ours.noise, self.floor.noise)

    @property
    def verdict(self) -> str:
        return verdict(self.ratio, self.noise, self.target)
