"""Summaries of repeated measurements: min / median / max over rounds."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Summary", "ratio"]


@dataclass(frozen=True)
class Summary:
    """Min, median and max of some rounds of one measurement (seconds unless said otherwise)."""

    min: float
    median: float
    max: float
    rounds: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            raise ValueError("no values to summarise")
        return cls(min(values), statistics.median(values), max(values), len(values))

    @property
    def spread(self) -> float:
        """(max - min) / median: how much the rounds disagree (0 when they agree)."""
        return (self.max - self.min) / self.median if self.median else 0.0

    def scaled(self, factor: float) -> Summary:
        """The same summary multiplied by `factor` (e.g. seconds -> ms per resource)."""
        return Summary(self.min * factor, self.median * factor, self.max * factor, self.rounds)


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, or NaN when the denominator is zero."""
    return numerator / denominator if denominator else float("nan")
