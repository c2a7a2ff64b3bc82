"""Robust statistics for the anomaly detector: plain math on plain numbers, no dates, no config.

- `loo_medians` / `loo_residuals`: leave-one-out medians and prediction errors, the evidence a model's
  band is calibrated on (a run never predicts itself);
- `clipped_scale`: a standard deviation whose residuals are clipped at 2.5 robust σ, so one outage in
  the training window barely moves the band;
- `band_multiplier`: the Student-t quantile with the normal tail of `sensitivity` σ, so a short history
  gets a wider band instead of more false alarms;
- `concordant_slope`: a Theil–Sen slope, reported only for a strongly monotonic series.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Hashable, Sequence

TRIM = 0.2  # share of the largest absolute residuals left out of the robust σ
TRIMMED_ABS_MEAN = 0.5585  # E|Z| below its 80th percentile, for a standard normal Z
CLIP = 2.5  # residuals beyond this many robust σ count as this many
CLIPPED_VARIANCE = 0.9776  # E[min(Z², 2.5²)] for a standard normal Z


def loo_medians(values: Sequence[float]) -> list[float | None]:
    """Median of all other values for each value, in O(n log n) (None for a single value)."""
    n = len(values)
    if n < 2:
        return [None] * n
    order = sorted(range(n), key=lambda i: values[i])
    ranked = [values[i] for i in order]
    result: list[float | None] = [None] * n
    m = n - 1
    for position, index in enumerate(order):

        def at(r: int, position: int = position) -> float:
            return ranked[r if r < position else r + 1]

        result[index] = (at((m - 1) // 2) + at(m // 2)) / 2
    return result


def loo_residuals(values: Sequence[float]) -> list[float | None]:
    """Each value minus the median of the others: its leave-one-out prediction error (None alone)."""
    return [
        None if median is None else value - median
        for value, median in zip(values, loo_medians(values), strict=True)
    ]


def clipped_scale(residuals: Sequence[float]) -> float:
    """σ from residuals: a standard deviation with residuals clipped at 2.5 robust σ.

    The robust σ (mean absolute residual without the largest 20 %) bounds what one outlier in the
    training window can do; the clipped standard deviation then uses every residual, so it is nearly as
    efficient as a plain one on clean data and exact for light-tailed noise (which robust estimators
    calibrated for a normal distribution overstate by a quarter).
    """
    if not residuals:
        return 0.0
    ordered = sorted(abs(r) for r in residuals)
    kept = ordered[: max(1, math.ceil(len(ordered) * (1 - TRIM)))]
    robust = statistics.fmean(kept) / TRIMMED_ABS_MEAN
    if robust == 0:
        return 0.0
    limit = CLIP * robust
    return math.sqrt(statistics.fmean(min(r, limit) ** 2 for r in ordered) / CLIPPED_VARIANCE)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (Lentz's method)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-12:
            break
    return h


def t_tail(x: float, nu: float) -> float:
    """P(T > x) for Student's t with `nu` degrees of freedom, x ≥ 0."""
    if x <= 0:
        return 0.5
    z = nu / (nu + x * x)
    a, b = nu / 2, 0.5
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(z) + b * math.log1p(-z)
    )
    incomplete = (
        front * _betacf(a, b, z) / a if z < (a + 1) / (a + b + 2) else 1 - front * _betacf(b, a, 1 - z) / b
    )
    return incomplete / 2


@functools.lru_cache(maxsize=4096)
def band_multiplier(sensitivity: float, nu: float) -> float:
    """How many σ wide the band is: the Student-t quantile with the normal tail of `sensitivity` σ.

    With a long history this is `sensitivity`; with a short one (the scale itself is uncertain) it is
    wider, which keeps the false-alarm rate of a cold start near that of a long history. It is capped at
    50 × `sensitivity` (reached only below about two degrees of freedom).
    """
    tail = math.erfc(sensitivity / math.sqrt(2)) / 2
    low, high = sensitivity, sensitivity * 50
    if t_tail(high, nu) > tail:
        return high
    for _ in range(80):
        middle = (low + high) / 2
        low, high = (middle, high) if t_tail(middle, nu) > tail else (low, middle)
    return high


def concordant_slope(
    xs: Sequence[float], ys: Sequence[float], groups: Sequence[Hashable], concordance: float
) -> float:
    """Theil–Sen slope (median of pairwise slopes) when the series is strongly monotonic, else 0.

    Monotonic means at least `concordance` of the rising-or-falling pairs agree. All pairs are tried
    first, then only pairs within the same group (the seasonal Kendall test: with groups = weekdays a
    weekly pattern cannot hide a steady growth). Needs at least 6 pairs.
    """
    every: list[float] = []
    same_group: list[float] = []
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            span = xs[j] - xs[i]
            if span > 0:
                slope = (ys[j] - ys[i]) / span
                every.append(slope)
                if groups[i] == groups[j]:
                    same_group.append(slope)
    for slopes in (every, same_group):
        rising = sum(1 for s in slopes if s > 0)
        falling = sum(1 for s in slopes if s < 0)
        if len(slopes) >= 6 and rising + falling and max(rising, falling) / (rising + falling) >= concordance:
            return statistics.median(slopes)
    return 0.0
