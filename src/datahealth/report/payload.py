"""The compact JSON the report page draws its charts from, and how it is embedded safely.

Size is the budget that matters (a thousand datasets in under 3 MB, six in about half a megabyte, the
page being mailed as an attachment), so series are plain arrays on the shared time axis, statuses and check outcomes are one
character per point, null ratios are integers in parts per million, and empty keys are left out.
The page reads the JSON from a `<script type="application/json">` element; every `<`, `>` and `&` is
written as a `\\u` escape so no data value can close that element or open another.

The JSON and the plotly.js bundle are embedded gzip-compressed and base64-encoded (`pack`): about a fifth
of their size as text. The page inflates them with the browser's own `DecompressionStream` before it
draws; `unpack_page` does the same in Python, for tests and for anyone reading a report's data.
"""

from __future__ import annotations

import base64
import gzip
import math
import re
from datetime import datetime
from typing import Any

import orjson

from datahealth.report.data import DatasetView, ReportData

STATUS_CODE: dict[str | None, str] = {"ok": "o", "warn": "w", "fail": "f", "unknown": "u"}
OUTCOME_CODE: dict[str | None, str] = {"pass": "p", "warn": "w", "fail": "f", "error": "e"}
TIMELINE_INCIDENTS = 300
status_code, outcome_code = STATUS_CODE.get, OUTCOME_CODE.get  # bound once: called per point
_SCRIPT_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def script_json(value: Any) -> str:
    """JSON that is safe inside an HTML `<script>` element (no `</script>`, `<!--` or line separators).

    orjson, and the escapes as byte replacements: for a thousand datasets the standard library's encoder
    and a `str.translate` over its 2.5 MB result took a quarter of the render. A NaN or infinity
    (which the payload already turns into gaps) would be written as `null`."""
    encoded = orjson.dumps(value)
    for raw, escaped in _SCRIPT_ESCAPES:
        encoded = encoded.replace(raw, escaped)
    return encoded.decode("utf-8")


def pack(text: str, level: int = 6) -> str:
    """gzip + base64: the form the page embeds large scripts in (no `<`, `>` or `&` can occur in it).
    Fixed mtime, so the same report renders to the same bytes. The chart data, compressed on every render,
    uses level 4: half the time of 6 for 5% more bytes."""
    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=level, mtime=0)).decode("ascii")


def unpack(packed: str) -> str:
    return gzip.decompress(base64.b64decode(packed)).decode("utf-8")


_PACKED_SCRIPT = re.compile(r'(<script [^>]*data-encoding="gzip\+base64"[^>]*>)(.*?)(</script>)', re.S)


def unpack_page(html: str) -> str:
    """A report page with its packed scripts inflated in place: the text a reader's browser works with."""
    return _PACKED_SCRIPT.sub(lambda m: m.group(1) + unpack(m.group(2)) + m.group(3), html)


def browser_payload(data: ReportData) -> dict[str, Any]:
    recent = sorted(data.incidents, key=lambda i: (i.is_open, i.opened_at), reverse=True)[:TIMELINE_INCIDENTS]
    return {
        "t": [_iso(t) for t in data.axis.points],
        "asOf": _iso(data.as_of),
        "health": {
            **{
                status: [c[status] for c in data.health_counts]
                for status in ("ok", "warn", "fail", "unknown")
            },
            "score": data.health_scores,
        },
        "incidents": [
            [
                i.id,
                i.dataset,
                i.kind,
                i.severity,
                i.status,
                i.title,
                _iso(i.opened_at),
                _iso(i.resolved_at),
                [[_iso(at), event] for at, event in data.incident_events.get(i.id, ())],
            ]
            for i in sorted(recent, key=lambda i: (i.opened_at, i.id))
        ],
        "incidentsTotal": len(data.incidents),
        "ds": {d.name: dataset_payload(d) for d in data.datasets},
    }


def dataset_payload(view: DatasetView) -> dict[str, Any]:
    config, history = view.config, view.history
    payload: dict[str, Any] = {
        "st": view.status,
        "r": history.rows,
        "l": [None if v is None else round(v / 3600, 2) for v in history.lags],
        "s": "".join([status_code(s, "-") for s in history.statuses]),
    }
    optional: dict[str, Any] = {
        "d": config.description,
        "o": config.owners,
        "tg": config.tags,
        "err": view.error,
        "ek": view.error_kind,
        "sla": [_hours(view.sla_warn_seconds), _hours(view.sla_error_seconds)]
        if view.sla_warn_seconds or view.sla_error_seconds
        else None,
        "an": [config.anomaly.sensitivity, config.anomaly.min_training_runs, config.anomaly.direction]
        if config.anomaly.enabled
        else None,
        "ax": sorted(history.anomalies),
        "bd": {str(i): list(b) for i, b in sorted(history.bands.items())},
        "nc": history.null_columns,
        "nz": [_ppm(series) for series in history.null_ratios],
        "ck": [
            [name, column, "".join([outcome_code(o, "-") for o in outcomes])]
            for name, column, outcomes in history.checks
        ],
        "cl": [
            [
                c.name,
                c.check_type,
                c.column,
                c.outcome,
                _number(c.observed_value),
                c.threshold,
                c.message,
                c.failing_rows,
            ]
            for c in view.checks
        ],
        "sc": [
            [_iso(e.at), e.change.kind, e.change.column, e.change.before, e.change.after, e.accepted]
            for e in view.schema_changes
        ],
        "f": [[f.severity, f.kind, f.title, f.message, f.observed, f.expected] for f in view.findings],
    }
    payload.update({k: v for k, v in optional.items() if v})
    return payload


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ppm(series: list[float | None]) -> list[int | None]:
    """Null ratios as integer parts per million (a NaN or infinity from a driver becomes a gap). Most
    ratios are zero: those skip `round`, a quarter of a million calls at a thousand datasets."""
    try:
        return [None if v is None else round(v * 1_000_000) if v else 0 for v in series]
    except (ValueError, OverflowError):
        return [None if v is None or not math.isfinite(v) else round(v * 1_000_000) for v in series]


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 3)


def _number(value: float | None) -> float | None:
    """Six significant digits: a check's observed 127.51916666666666 reads as 127.519."""
    return float(f"{value:.6g}") if value is not None and math.isfinite(value) else None
