"""Who hears about what: matches incidents to routes from `routing:` in sla_config.

Routes are tried in order; the first match wins unless it says `continue_matching: true`, in which
case later routes are tried too (e.g. "revenue errors also go to #revenue-alerts"). A dataset with no
matching route goes to the Slack default channel and the email default recipients.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from datahealth.config.models import DatasetConfig, ProjectConfig, Route
from datahealth.rules.findings import SEVERITY_RANK


@dataclass(frozen=True)
class Destinations:
    slack_channels: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    routes: tuple[str, ...] = field(default_factory=tuple)


def route_matches(route: Route, dataset: DatasetConfig, severity: str) -> bool:
    match = route.match
    if match.owners and not set(match.owners) & set(dataset.owners):
        return False
    if match.tags and not set(match.tags) & set(dataset.tags):
        return False
    if match.sources and dataset.source not in match.sources:
        return False
    if match.datasets and not any(fnmatch.fnmatchcase(dataset.name, p) for p in match.datasets):
        return False
    return not (match.min_severity and SEVERITY_RANK.get(severity, 0) < SEVERITY_RANK[match.min_severity])


def destinations(config: ProjectConfig, dataset: DatasetConfig, severity: str) -> Destinations:
    """The Slack channels and email recipients for an incident of `severity` on `dataset`."""
    channels: list[str] = []
    emails: list[str] = []
    names: list[str] = []
    for index, route in enumerate(config.routing):
        if not route_matches(route, dataset, severity):
            continue
        names.append(route.name or f"route {index + 1}")
        if route.slack_channel and route.slack_channel not in channels:
            channels.append(route.slack_channel)
        emails.extend(e for e in route.email if e not in emails)
        if not route.continue_matching:
            break
    if not names:
        channels = [config.publish.slack.default_channel]
        emails = list(config.publish.email.recipients)
    return Destinations(tuple(channels), tuple(emails), tuple(names))
