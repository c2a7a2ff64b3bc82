"""Robust statistics against closed forms and brute-force references."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from datahealth.rules.anomaly.stats import (
    band_multiplier,
    clipped_scale,
    concordant_slope,
    loo_medians,
    loo_residuals,
    t_tail,
)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 30])
def test_leave_one_out_medians_match_the_brute_force_median(n: int) -> None:
    rng = random.Random(n)
    values = [float(rng.randint(0, 9)) for _ in range(n)]  # ties included
    expected = [statistics.median(values[:i] + values[i + 1 :]) if n > 1 else None for i in range(n)]
    assert loo_medians(values) == expected
    assert loo_residuals(values) == [
        None if e is None else v - e for v, e in zip(values, expected, strict=True)
    ]


def test_clipped_scale_is_the_standard_deviation_on_clean_normal_data() -> None:
    rng = random.Random(1)
    residuals = [rng.gauss(0, 2.0) for _ in range(20_000)]
    assert clipped_scale(residuals) == pytest.approx(2.0, rel=0.03)


def test_clipped_scale_barely_moves_for_an_outlier_that_explodes_the_plain_one() -> None:
    rng = random.Random(2)
    clean = [rng.gauss(0, 1.0) for _ in range(100)]
    polluted = [*clean, 1_000.0]
    assert statistics.pstdev(polluted) > 50 * statistics.pstdev(clean)
    assert clipped_scale(polluted) < 1.2 * clipped_scale(clean)
    assert clipped_scale([]) == 0.0 and clipped_scale([0.0, 0.0, 0.0]) == 0.0


@pytest.mark.parametrize("x", [0.0, 0.5, 1.0, 3.0, 12.0])
def test_t_tail_matches_the_closed_forms_for_one_and_two_degrees_of_freedom(x: float) -> None:
    assert t_tail(x, 1.0) == pytest.approx(0.5 - math.atan(x) / math.pi, rel=1e-9, abs=1e-12)
    assert t_tail(x, 2.0) == pytest.approx(0.5 - x / (2 * math.sqrt(2 + x * x)), rel=1e-9, abs=1e-12)


def test_t_tail_approaches_the_normal_tail_for_many_degrees_of_freedom() -> None:
    assert t_tail(3.5, 100_000.0) == pytest.approx(math.erfc(3.5 / math.sqrt(2)) / 2, rel=1e-3)


@pytest.mark.parametrize("nu", [2.0, 3.0, 5.0, 20.0])
def test_band_multiplier_is_the_t_quantile_with_the_normal_tail(nu: float) -> None:
    normal_tail = math.erfc(3.5 / math.sqrt(2)) / 2
    assert t_tail(band_multiplier(3.5, nu), nu) == pytest.approx(normal_tail, rel=1e-6)


def test_band_multiplier_is_capped_where_the_quantile_runs_away() -> None:
    cauchy_quantile = math.tan(math.pi * (0.5 - math.erfc(3.5 / math.sqrt(2)) / 2))
    assert cauchy_quantile > 50 * 3.5 and band_multiplier(3.5, 1.0) == 50 * 3.5


def test_band_multiplier_widens_for_small_samples() -> None:
    assert band_multiplier(3.5, 1000) == pytest.approx(3.5, abs=0.02)
    assert band_multiplier(3.5, 5) > 2 * band_multiplier(3.5, 1000)


def test_concordant_slope_finds_a_noisy_line_and_ignores_noise() -> None:
    rng = random.Random(3)
    xs = [float(i) for i in range(30)]
    line = [7.0 + 3.0 * x + rng.gauss(0, 1.0) for x in xs]
    assert concordant_slope(xs, line, [0] * 30, 0.8) == pytest.approx(3.0, rel=0.05)
    flat = [rng.gauss(0, 1.0) for _ in xs]
    assert concordant_slope(xs, flat, [0] * 30, 0.8) == 0.0
    assert concordant_slope(xs[:3], line[:3], [0] * 3, 0.8) == 0.0  # 3 pairs: too few to call a trend


def test_concordant_slope_sees_growth_under_a_weekly_pattern_within_groups() -> None:
    xs = [float(i) for i in range(42)]
    weekdays = [i % 7 for i in range(42)]
    ys = [(400.0 if d >= 5 else 1_000.0) + 2.0 * x for x, d in zip(xs, weekdays, strict=True)]
    every = [(ys[j] - ys[i]) / (xs[j] - xs[i]) for i in range(42) for j in range(i + 1, 42)]
    assert sum(s > 0 for s in every) / len(every) < 0.8  # all pairs: no clear trend
    assert concordant_slope(xs, ys, weekdays, 0.8) == pytest.approx(2.0)
