"""The anomaly judge: is one value anomalous against a series' own history? Pure, no I/O.

One detector (`judge`) serves every metric (see `metrics` for which ones). It is built so that it does
not cry wolf:

- **Robust**: the expectation is a median and the spread a standard deviation with outliers clipped, so
  last week's outage in the training window barely moves the band.
- **Seasonal**: with `seasonality: auto` the detector compares "same weekday" (or "same hour") against
  "all runs": leave-one-out prediction errors on the same runs, times the band multiplier each model's
  degrees of freedom allow, and keeps the seasonal model unless its band would be clearly wider. While
  a seasonal model has too little evidence to be ruled out (the first two weeks), a value normal for the
  same weekday vetoes the plain model, so the first Saturday with 40 % fewer events is not an alert.
- **Self-calibrated**: the band is the chosen model's own leave-one-out error (a standard deviation
  with outliers clipped at 2.5 robust σ) times a Student-t quantile with the normal tail of
  `sensitivity` σ, so a short history gets a wider band instead of more false alarms; it is never
  narrower than a per-metric floor, so a constant series does not turn one extra row into an alert.
- **Trend-aware**: a strong monotonic trend (Theil–Sen slope, ≥ 80 % concordant pairs) is removed
  before judging, so a growing metric is not a spike every day.

Every judgement carries what it was judged against: the expected value and range, the model, and the
training points, which end up in the finding's details. The arithmetic lives in `stats`.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from datahealth.config.models import AnomalyConfig
from datahealth.rules.anomaly.stats import band_multiplier, clipped_scale, concordant_slope, loo_residuals
from datahealth.rules.anomaly.training import Span, leave_out

Direction = Literal["drop", "spike", "both"]
Seasonality = Literal["none", "day_of_week", "hour_of_day", "auto"]
Verdict = Literal["normal", "anomaly", "insufficient_history"]

EFFICIENCY = 0.9  # degrees of freedom per independent residual for the clipped scale (vs a plain SD)
PREFER_SEASONAL = 1.1  # keep a seasonal model unless its band is this many times as wide as the plain one
OWN_SCALE_MIN = 8  # residuals a bucket needs to set its own spread
VETO_EVIDENCE = 14  # below this many independent residuals a rejected seasonal model still vetoes
MIN_VALIDATION = 3  # leave-one-out residuals a seasonal model needs before it can be compared
TREND_CONCORDANCE = 0.8  # share of pairs that must agree before a trend is removed
_DAY = 86400.0
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float


@dataclass(frozen=True)
class Floors:
    """The narrowest spread the detector assumes: an absolute amount and a share of the expected value."""

    absolute: float = 0.0
    relative: float = 0.0


@dataclass(frozen=True)
class DetectorSettings:
    sensitivity: float = 3.5
    direction: Direction = "both"
    training_window: timedelta = timedelta(days=28)
    min_training: int = 7
    seasonality: Seasonality = "auto"
    timezone: str = "UTC"
    period: timedelta = timedelta(days=1)
    floors: Floors = Floors()
    trend: bool = True
    excluded: tuple[Span, ...] = ()  # incidents whose runs are not training data (see `training`)
    max_excluded_share: float = 0.5

    @classmethod
    def from_config(cls, config: AnomalyConfig, timezone: str = "UTC") -> DetectorSettings:
        return cls(
            sensitivity=config.sensitivity,
            direction=config.direction,
            training_window=config.training_window,
            min_training=config.min_training_runs,
            seasonality=config.seasonality,
            timezone=timezone,
            period=config.period,
            max_excluded_share=config.max_excluded_share,
        )

    def with_floors(self, floors: Floors, *, trend: bool = True) -> DetectorSettings:
        """These settings for a metric with its own floors (and trend removal on or off)."""
        return dataclasses.replace(self, floors=floors, trend=trend)

    def excluding(self, spans: Sequence[Span]) -> DetectorSettings:
        """These settings, leaving the runs inside `spans` out of the training data."""
        return dataclasses.replace(self, excluded=tuple(spans))

    def about(self, subject: str) -> DetectorSettings:
        """These settings for one metric: only the incidents about `subject` are left out of its training."""
        return dataclasses.replace(self, excluded=tuple(s for s in self.excluded if s.subject == subject))


@dataclass(frozen=True)
class Judgement:
    """The detector's verdict on one value, with everything needed to explain it."""

    verdict: Verdict
    observed: float
    expected: float | None = None
    low: float | None = None
    high: float | None = None
    score: float | None = None
    model: str = "none"
    trend_per_day: float = 0.0
    training: tuple[Point, ...] = ()
    basis: tuple[Point, ...] = ()
    direction: str | None = None  # drop | spike, when anomalous
    note: str = ""

    @property
    def is_anomaly(self) -> bool:
        return self.verdict == "anomaly"


@dataclass
class _Fit:
    """One model's expectation for the current bucket and its leave-one-out residuals on the training set."""

    name: str
    prediction: float | None
    basis: list[Point]
    residuals: dict[int, float] = field(default_factory=dict)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / _DAY


def _trend(points: Sequence[Point], tz: ZoneInfo) -> float:
    """Theil–Sen slope per day when the series is strongly monotonic, else 0 (no trend).

    Pairs of all runs first; if that shows no trend, pairs of runs on the same weekday (the seasonal
    Kendall test), so a weekly pattern does not hide a steady growth. At most 60 points are paired.
    """
    if len(points) < 6:
        return 0.0
    sample = (
        list(points) if len(points) <= 60 else [points[round(i * (len(points) - 1) / 59)] for i in range(60)]
    )
    return concordant_slope(
        [p.at.timestamp() / _DAY for p in sample],
        [p.value for p in sample],
        [p.at.astimezone(tz).weekday() for p in sample],
        TREND_CONCORDANCE,
    )


def _bucket_key(model: str, tz: ZoneInfo) -> Callable[[datetime], int]:
    if model == "day_of_week":
        return lambda at: at.astimezone(tz).weekday()
    if model == "hour_of_day":
        return lambda at: at.astimezone(tz).hour
    return lambda at: 0


def _fit(model: str, points: Sequence[Point], current_at: datetime, tz: ZoneInfo) -> _Fit:
    key = _bucket_key(model, tz)
    buckets: dict[int, list[int]] = defaultdict(list)
    for index, point in enumerate(points):
        buckets[key(point.at)].append(index)
    residuals: dict[int, float] = {}
    for members in buckets.values():
        errors = loo_residuals([points[i].value for i in members])
        for index, error in zip(members, errors, strict=True):
            if error is not None:
                residuals[index] = error
    basis = [points[i] for i in buckets.get(key(current_at), [])]
    prediction = statistics.median(p.value for p in basis) if basis else None
    return _Fit(model, prediction, basis, residuals)


def _model_text(model: str, basis: Sequence[Point], tz: ZoneInfo) -> str:
    if model == "day_of_week" and basis:
        return f"the {len(basis)} earlier {_WEEKDAYS[basis[0].at.astimezone(tz).weekday()]}s"
    if model == "hour_of_day" and basis:
        return f"the {len(basis)} earlier runs at {basis[0].at.astimezone(tz):%H}:00"
    return f"{len(basis)} earlier runs"


def judge(history: Sequence[Point], current: Point, settings: DetectorSettings) -> Judgement:
    """Is `current` anomalous against `history` (any order; only the training window before it counts)?"""
    start = current.at - settings.training_window
    training = sorted(
        (p for p in history if start <= p.at < current.at and math.isfinite(p.value)), key=lambda p: p.at
    )
    training = leave_out(
        training,
        settings.excluded,
        keep_at_least=settings.min_training,
        max_share=settings.max_excluded_share,
    )
    if len(training) < settings.min_training:
        return Judgement(
            "insufficient_history",
            current.value,
            training=tuple(training),
            note=f"learning: {len(training)} of {settings.min_training} runs of history",
        )
    tz = ZoneInfo(settings.timezone)
    slope = _trend(training, tz) if settings.trend else 0.0
    adjusted = [Point(p.at, p.value + slope * _days(current.at - p.at)) for p in training]
    plain = _fit("none", adjusted, current.at, tz)
    chosen, vetoes = plain, list[_Fit]()
    if settings.seasonality in ("day_of_week", "hour_of_day"):
        chosen = _fit(settings.seasonality, adjusted, current.at, tz)
        if chosen.prediction is None or len(chosen.residuals) < MIN_VALIDATION:
            return Judgement(
                "insufficient_history",
                current.value,
                training=tuple(training),
                note=f"learning: too few earlier runs for {settings.seasonality} seasonality",
            )
    elif settings.seasonality == "auto":
        chosen, vetoes = _choose_seasonal(adjusted, current.at, tz, plain, settings)
    assert chosen.prediction is not None
    residuals, n_eff = _evidence(chosen, adjusted, current.at, tz, settings)
    spread = max(
        clipped_scale(residuals),
        settings.floors.absolute,
        settings.floors.relative * abs(chosen.prediction),
        1e-12,
    )
    width = _multiplier(settings, n_eff) * spread
    low, high = chosen.prediction - width, chosen.prediction + width
    direction = _outside(current.value, low, high, settings.direction)
    for veto in vetoes:
        if (
            direction
            and veto.prediction is not None
            and not _outside(
                current.value, veto.prediction - width, veto.prediction + width, settings.direction
            )
        ):
            direction = None  # normal for the same weekday/hour: seasonality not shown, but not ruled out
    return Judgement(
        "anomaly" if direction else "normal",
        current.value,
        chosen.prediction,
        low,
        high,
        (current.value - chosen.prediction) / spread,
        chosen.name,
        slope,
        tuple(training),
        tuple(chosen.basis),
        direction,
        f"judged against {_model_text(chosen.name, chosen.basis, tz)}"
        + (f" (trend {slope:+.3g}/day removed)" if slope else ""),
    )


def _evidence(
    fit: _Fit, points: Sequence[Point], current_at: datetime, tz: ZoneInfo, settings: DetectorSettings
) -> tuple[list[float], float]:
    """The residuals that set a model's spread, and how many independent values they are worth.

    The current bucket's own residuals when it has enough (noise often grows with the level: busy hours
    vary more than quiet ones), else all buckets pooled: one value per run minus one per bucket, and at
    most one per period (a 15-minute tier's runs of a daily volume are not independent).
    """
    key = _bucket_key(fit.name, tz)
    own = [r for i, r in fit.residuals.items() if key(points[i].at) == key(current_at)]
    if fit.name != "none" and len(own) >= OWN_SCALE_MIN:
        return own, float(len(own) - 1)
    buckets = len({key(points[i].at) for i in fit.residuals})
    periods = _days(current_at - points[0].at) / max(_days(settings.period), 1e-9)
    return list(fit.residuals.values()), max(1.0, min(len(fit.residuals) - buckets, periods))


def _multiplier(settings: DetectorSettings, n_eff: float) -> float:
    return band_multiplier(settings.sensitivity, round(max(1.0, EFFICIENCY * n_eff), 1))


def _choose_seasonal(
    points: Sequence[Point], current_at: datetime, tz: ZoneInfo, plain: _Fit, settings: DetectorSettings
) -> tuple[_Fit, list[_Fit]]:
    """The seasonal model when its band would be about as narrow as the plain one's, else the plain model.

    Bands are compared as they will be drawn: leave-one-out error on the same runs times the multiplier
    for each model's degrees of freedom (a weekday model spends one per weekday). With the plain model,
    the seasonal models that know the current weekday/hour become vetoes: a value normal for the same
    weekday is not flagged even when seasonality could not (yet) be shown.
    """
    cadence = (
        statistics.median(_days(b.at - a.at) for a, b in zip(points, points[1:], strict=False))
        if len(points) > 1
        else 1.0
    )
    names = ["day_of_week"] if _days(current_at - points[0].at) >= 7 else []
    if cadence <= 0.25:
        names.append("hour_of_day")
    plain_dof = _evidence(plain, points, current_at, tz, settings)[1]
    best: tuple[float, _Fit] | None = None
    vetoes: list[_Fit] = []
    for name in names:
        fit = _fit(name, points, current_at, tz)
        if fit.prediction is None:
            continue
        if len(fit.residuals) < MIN_VALIDATION:
            vetoes.append(fit)
            continue
        evidence = _evidence(fit, points, current_at, tz, settings)[1]
        if evidence < VETO_EVIDENCE:
            vetoes.append(fit)  # compared, but on too little to rule seasonality out
        width = clipped_scale(list(fit.residuals.values())) * _multiplier(settings, evidence)
        baseline = clipped_scale([plain.residuals[i] for i in fit.residuals]) * _multiplier(
            settings, plain_dof
        )
        if width <= PREFER_SEASONAL * baseline and (best is None or width < best[0]):
            best = (width, fit)
    if best is not None:
        return best[1], []
    return plain, vetoes


def _outside(value: float, low: float, high: float, direction: Direction) -> str | None:
    if value < low and direction in ("drop", "both"):
        return "drop"
    if value > high and direction in ("spike", "both"):
        return "spike"
    return None
