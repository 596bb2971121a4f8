"""How the benchmarks report: `name: value unit` lines as figures are measured, and
`ratio NAME: X.XX (target >= Y)` lines at the end; a figure cut short prints as `>N`, and
a ratio made from one is a bound."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of all at or below it (with
    fewer than 100 values, p99 is the largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def print_ratio(name: str, value: float | None, target: float) -> None:
    """The line a benchmark ends with; `n/a` when a figure behind it was not measured."""
    shown = "n/a" if value is None else f"{value:.2f}"
    print(f"ratio {name}: {shown} (target >= {target:g})")


@dataclass(frozen=True, slots=True)
class Figure:
    """A measured value; `capped`: the measurement was cut short, the value is a floor."""

    value: float
    unit: str
    capped: str = ""  # why, when cut short

    def __str__(self) -> str:
        digits = 0 if self.unit in ("requests", "bytes") else 1
        if self.capped:
            return f">{self.value:.{digits}f} {self.unit} ({self.capped})"
        return f"{self.value:.{digits}f} {self.unit}"


@dataclass(slots=True)
class Figures:
    """Every figure of the run, printed as it is measured."""

    by_name: dict[str, Figure] = field(default_factory=dict)

    def put(self, name: str, figure: Figure) -> None:
        self.by_name[name] = figure
        print(f"{name}: {figure}", flush=True)

    def say(self, name: str, text: str) -> None:
        print(f"{name}: {text}", flush=True)

    def get(self, name: str) -> Figure | None:
        return self.by_name.get(name)


@dataclass(frozen=True, slots=True)
class Ratio:
    value: float | None  # None: a figure behind it was not measured
    bound: str = ""  # "at most" or "at least" when a figure behind it was cut short


def ratio(top: Figure | None, bottom: Figure | None) -> Ratio:
    if top is None or bottom is None or (top.capped and bottom.capped) or bottom.value <= 0:
        return Ratio(None)
    bound = "at most" if bottom.capped else "at least" if top.capped else ""
    return Ratio(top.value / bottom.value, bound)


def worst(found: Sequence[Figure | None]) -> Figure | None:
    """The largest of the figures (a floor if any is one); None if any is missing."""
    measured = [figure for figure in found if figure is not None]
    if len(measured) < len(found) or not measured:
        return None
    capped = next((figure.capped for figure in measured if figure.capped), "")
    return Figure(max(figure.value for figure in measured), measured[0].unit, capped)
