"""Talking to Slack: bot-token (Web API) or incoming-webhook transport, with our own bounded retries.

slack_sdk's built-in retry handlers are switched off on purpose: its RateLimitErrorRetryHandler does
`int(Retry-After)` and crashes on values like "1.5", and its handlers have no notion of a total time
budget. Here every call goes through `RetryBudget.call`: 429 waits for Retry-After (seconds, fractions
or an HTTP date), 5xx and connection errors back off exponentially, and once the run's budget is spent
the caller keeps the message queued for the next run instead of blocking the flow.

Secrets (the token, webhook URLs) are registered for redaction the moment they are read, and the SDK
logs through a logger that redacts, because at DEBUG it prints request headers.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from datahealth.config.models import SlackConfig
from datahealth.core.redaction import RedactingFilter, redact, register_secret

log = logging.getLogger("datahealth.publish.slack.publisher")


class _DemoteFilter(logging.Filter):
    """The SDK logs each failed attempt at ERROR; we retry and warn once per run, so those are DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return _sdk_log.isEnabledFor(record.levelno)


_sdk_log = logging.getLogger("datahealth.publish.slack.publisher.sdk")
_sdk_log.addFilter(_DemoteFilter())
_sdk_log.addFilter(RedactingFilter())

T = TypeVar("T")

# Slack error codes worth another try: the service, not the message, is at fault.
_TRANSIENT_CODES = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# Codes that block every message until someone fixes the credentials.
_AUTH_CODES = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "missing_scope",
    "no_service",
    "action_prohibited",
}
# HTTP answers of a webhook URL that does not exist (mistyped, or the app removed): a configuration error.
_NO_SUCH_HOOK = {404, 410}
# Codes that block one channel until the bot is invited / the channel exists.
_CHANNEL_CODES = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "channel_is_archived",
    "no_active_hooks",
}


class SlackDeliveryError(Exception):
    """A message could not be delivered. `scope` says what it blocks: the message, its channel or everything.

    - "message": this message can never succeed (invalid blocks, too long): give it up.
    - "channel": the channel is unusable (bot not invited): keep it queued, skip that channel this run.
    - "all": Slack is down, rate-limited past the budget or the credentials are bad: keep everything queued.
    """

    def __init__(self, message: str, scope: str, code: str = "") -> None:
        super().__init__(redact(message))
        self.scope = scope
        self.code = code  # Slack's error code, e.g. "thread_not_found"


class _Retryable(Exception):
    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


@dataclass(frozen=True)
class Posted:
    """Where a message landed: the channel id and timestamp identify it for replies and updates."""

    channel_id: str | None = None
    ts: str | None = None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: "30", "1.5" or an HTTP date; None when absent or bad."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


@dataclass
class RetryBudget:
    """One run's allowance of waiting for Slack; shared by every call so a run's delay stays bounded."""

    seconds: float
    base_delay: float = 0.5
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self._deadline = self.clock() + self.seconds

    @property
    def remaining(self) -> float:
        return max(0.0, self._deadline - self.clock())

    def call(self, attempt: Callable[[], T], what: str) -> T:
        """Run `attempt` until it succeeds, fails for good, or waiting again would exceed the budget."""
        tries = 0
        while True:
            tries += 1
            try:
                return attempt()
            except _Retryable as exc:
                delay = exc.wait if exc.wait is not None else self._backoff(tries)
                if delay > self.remaining:
                    raise SlackDeliveryError(
                        f"{what}: {exc} (gave up after {tries} attempt{'s' if tries > 1 else ''}; "
                        f"retry budget {self.seconds:g}s)",
                        "all",
                    ) from None
                log.info("slack: %s: %s; retrying in %.2fs", what, redact(exc), delay)
                self.sleep(delay)

    def _backoff(self, tries: int) -> float:
        delay: float = min(self.max_delay, self.base_delay * 2 ** (tries - 1))
        return delay * (0.75 + random.random() / 2)  # jitter: concurrent workers do not retry in step


class SlackTransport(Protocol):
    """What the publisher needs from Slack; `threads` says whether replies and updates are possible."""

    threads: bool

    def target_for(self, channel: str) -> str:
        """The destination a routed channel's messages go to (webhook mode may merge channels)."""
        ...

    def post(
        self,
        target: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> Posted: ...

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Posted: ...


class BotTransport:
    """Bot-token mode: chat.postMessage for new messages and thread replies, chat.update to edit."""

    threads = True

    def target_for(self, channel: str) -> str:
        return channel

    def __init__(
        self, token: str, budget: RetryBudget, *, base_url: str | None = None, timeout: float = 10.0
    ) -> None:
        register_secret(token)
        kwargs: dict[str, Any] = {"base_url": _with_slash(base_url)} if base_url else {}
        self._client = WebClient(
            token=token, timeout=max(1, round(timeout)), retry_handlers=[], logger=_sdk_log, **kwargs
        )
        self._budget = budget

    def post(
        self,
        target: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> Posted:
        args: dict[str, Any] = {"channel": target, "text": text, "blocks": blocks, "unfurl_links": False}
        if thread_ts:
            args["thread_ts"] = thread_ts
            args["reply_broadcast"] = broadcast
        data = self._budget.call(lambda: self._api("chat.postMessage", args), f"chat.postMessage to {target}")
        return Posted(data.get("channel"), data.get("ts"))

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Posted:
        args = {"channel": channel_id, "ts": ts, "text": text, "blocks": blocks}
        data = self._budget.call(lambda: self._api("chat.update", args), f"chat.update in {channel_id}")
        return Posted(data.get("channel", channel_id), data.get("ts", ts))

    def _api(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.api_call(method, json=args)
        except SlackApiError as exc:
            raise _classify_api_error(exc) from None
        except Exception as exc:  # urllib/socket errors: Slack unreachable
            raise _Retryable(f"connection failed: {_describe(exc)}") from None
        return dict(response.data) if isinstance(response.data, dict) else {}


class WebhookTransport:
    """Incoming-webhook mode: one webhook per channel (or one for all); no threads, no edits."""

    threads = False

    def __init__(
        self, urls: dict[str, str], budget: RetryBudget, *, default: str, timeout: float = 10.0
    ) -> None:
        for url in urls.values():
            register_secret(url)
        self._default = default
        self._clients = {
            target: WebhookClient(url, timeout=max(1, round(timeout)), retry_handlers=[], logger=_sdk_log)
            for target, url in urls.items()
        }
        self._budget = budget

    def target_for(self, channel: str) -> str:
        """A channel without its own webhook goes to the default webhook (filed under the default channel)."""
        return channel if channel in self._clients else self._default

    def post(
        self,
        target: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> Posted:
        client = self._clients.get(target)
        if client is None:
            raise SlackDeliveryError(f"no incoming webhook configured for {target}", "channel")
        self._budget.call(lambda: self._send(client, text, blocks, target), f"webhook post to {target}")
        return Posted()

    def update(self, channel_id: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Posted:
        raise SlackDeliveryError("incoming webhooks cannot edit messages", "message")

    @staticmethod
    def _send(client: WebhookClient, text: str, blocks: list[dict[str, Any]], target: str) -> None:
        try:
            response = client.send(text=text, blocks=blocks, unfurl_links=False)
        except Exception as exc:
            raise _Retryable(f"connection failed: {_describe(exc)}") from None
        status, body = response.status_code, (response.body or "").strip()
        if status == 200:
            return
        if status == 429:
            raise _Retryable(
                "rate limited (HTTP 429)", parse_retry_after(_header(response.headers, "retry-after"))
            )
        if status >= 500:
            raise _Retryable(f"HTTP {status}")
        if status in _NO_SUCH_HOOK:
            raise SlackDeliveryError(
                f"configuration error: the incoming webhook for {target} answered HTTP {status} "
                f"({redact(body)[:120] or 'no such hook'}): the URL is wrong or the webhook was removed; "
                "set its environment variable to a current webhook URL (messages stay queued until then)",
                "channel",
                "no_such_hook",
            )
        scope = "all" if body in _AUTH_CODES else "channel" if body in _CHANNEL_CODES else "message"
        raise SlackDeliveryError(f"webhook refused the message: HTTP {status} {redact(body)[:200]}", scope)


def open_transport(config: SlackConfig, budget: RetryBudget) -> tuple[SlackTransport | None, str]:
    """The transport the config and environment allow, or None with the reason (→ preview mode).

    A bot token wins over webhooks. Webhooks are per channel (`webhooks:`), `webhook_url_env` for the rest.
    """
    token = _env(config.token_env)
    if token:
        return BotTransport(token, budget, base_url=config.base_url, timeout=config.timeout_seconds), "bot"
    urls = {channel: url for channel, env in config.webhooks.items() if (url := _env(env))}
    default_url = _env(config.webhook_url_env)
    if default_url:
        urls.setdefault(config.default_channel, default_url)
    if urls:
        return WebhookTransport(
            urls, budget, default=config.default_channel, timeout=config.timeout_seconds
        ), "webhook"
    names = [n for n in (config.token_env, config.webhook_url_env, *config.webhooks.values()) if n]
    if not names:
        return None, "no Slack token_env or webhook_url_env configured"
    return None, f"{' and '.join(names)} {'is' if len(names) == 1 else 'are'} not set"


def _env(name: str | None) -> str:
    return os.environ.get(name, "").strip() if name else ""


def _classify_api_error(exc: SlackApiError) -> Exception:
    response = exc.response
    status = int(getattr(response, "status_code", 200) or 200)
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error", "")) if data else ""
    if status == 429 or code == "ratelimited":
        headers = getattr(response, "headers", {}) or {}
        return _Retryable("rate limited (HTTP 429)", parse_retry_after(_header(headers, "retry-after")))
    if status >= 500 or code in _TRANSIENT_CODES:
        return _Retryable(f"HTTP {status} {code}".strip())
    scope = "all" if code in _AUTH_CODES else "channel" if code in _CHANNEL_CODES else "message"
    return SlackDeliveryError(f"Slack refused the request: {code or f'HTTP {status}'}", scope, code)


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) and value else value)
    return None


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return redact(f"{type(exc).__name__}: {reason or exc}".splitlines()[0])[:300]


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
