"""The emailed report: a multipart message (email-safe HTML, plain text, the full report attached) over SMTP.

Each email is put in the pending-delivery queue before the first attempt and taken out only when the
SMTP server accepted it, so an SMTP outage loses nothing: the next run (or `datahealth report --email`)
sends what is still pending, oldest first, with the original Message-ID so a receiving server can drop
a duplicate. A server that is down or refuses the login keeps the emails pending; a message the server
rejects permanently (5xx for the message or every recipient) is given up with a warning.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from datahealth.config.models import EmailConfig, Project, ProjectConfig
from datahealth.core.redaction import redact, register_secret
from datahealth.report.data import ReportData, routing_severity
from datahealth.report.render import BuiltReport, render_email, templates_dir
from datahealth.rules.routing import destinations
from datahealth.store import HistoryStore, deliveries

CHANNEL = "email"
KIND = "report"
BODY_LIMIT_BYTES = 100_000  # Gmail clips larger messages


class EmailError(Exception):
    """Email cannot be sent with this configuration (no server, missing password variable, no recipients)."""


@dataclass
class EmailOutcome:
    sent: int = 0
    pending: int = 0
    given_up: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.warnings


def report_recipients(config: ProjectConfig, data: ReportData) -> list[str]:
    """`publish.email.recipients` plus every routing destination of the report's datasets (at the severity
    of each dataset's worst open incident or finding, so `min_severity` routes hear only of what concerns them)."""
    recipients = list(dict.fromkeys(config.publish.email.recipients))
    for view in data.datasets:
        for address in destinations(config, view.config, routing_severity(view, data.incidents)).emails:
            if address not in recipients:
                recipients.append(address)
    return recipients


def subject_line(data: ReportData) -> str:
    counts = data.counts
    problems = ", ".join(f"{counts[s]} {s}" for s in ("error", "fail", "warn") if counts.get(s))
    score = "-" if data.score is None else f"{data.score:.0f}"
    title = " ".join(data.title.split())
    return f"{title}: {problems or 'all healthy'} · health {score}/100 · {data.as_of:%Y-%m-%d %H:%M} UTC"


def build_payload(project: Project, built: BuiltReport, recipients: Sequence[str]) -> dict[str, Any]:
    """Everything needed to (re)send the email later; stored as the pending delivery's payload."""
    config = project.config.publish.email
    attach = config.attach_report
    html, text = render_email(
        built.data, templates_dir(project), report_name=built.files.path.name, attached=attach
    )
    size = len(html.encode("utf-8"))
    if size > BODY_LIMIT_BYTES:  # only a user's template override can get here; say so rather than be clipped
        text = (
            text
            + f"\n(note: the HTML body is {size:,} bytes, over the {BODY_LIMIT_BYTES:,} some clients show)\n"
        )
    domain = config.sender.rpartition("@")[2] or "localhost"
    return {
        "subject": subject_line(built.data),
        "from": config.sender,
        "to": list(recipients),
        "html": html,
        "text": text,
        "attachment": str(built.files.path) if attach else None,
        "message_id": make_msgid(domain=domain),
        "date": formatdate(built.data.generated_at.timestamp(), usegmt=True),
    }


def compose(payload: dict[str, Any]) -> EmailMessage:
    """The MIME message: multipart/mixed of (multipart/alternative of text and HTML) and the report file."""
    message = EmailMessage()
    message["Subject"] = " ".join(str(payload["subject"]).split())
    message["From"] = payload["from"]
    message["To"] = ", ".join(payload["to"])
    message["Date"] = payload["date"]
    message["Message-ID"] = payload["message_id"]
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    attachment = payload.get("attachment")
    if attachment:
        path = Path(attachment)
        if path.is_file():
            message.add_attachment(path.read_bytes(), maintype="text", subtype="html", filename=path.name)
    return message


def send_report_email(
    project: Project, store: HistoryStore, built: BuiltReport, *, run_id: str | None = None
) -> EmailOutcome:
    """Queue this report's email, then deliver everything pending (this email included)."""
    config = project.config.publish.email
    if not config.smtp_host:
        raise EmailError("publish.email.smtp_host is not set (the SMTP server to send through)")
    recipients = report_recipients(project.config, built.data)
    if not recipients:
        raise EmailError("no recipients: set publish.email.recipients or an `email:` list in a routing rule")
    payload = build_payload(project, built, recipients)
    deliveries.enqueue(
        store, channel=CHANNEL, target=", ".join(recipients)[:512], kind=KIND, payload=payload, run_id=run_id
    )
    return deliver_pending(store, config)


def deliver_pending(store: HistoryStore, config: EmailConfig) -> EmailOutcome:
    """Send the pending report emails, oldest first, over one SMTP connection; those that fail stay pending."""
    outcome = EmailOutcome()
    deliveries.release_expired(store, CHANNEL)
    # Claim first: a run overlapping this one (another tier) must not send the same email again.
    mine = [item for item in deliveries.pending(store, CHANNEL) if deliveries.claim(store, item.id)]
    if not mine:
        return outcome
    done: set[int] = set()
    try:
        with smtp_connection(config) as client:
            for item in mine:
                _send_one(client, store, item, outcome)
                done.add(item.id)
    except (OSError, smtplib.SMTPException, EmailError) as exc:
        reason = _reason(exc)
        waiting = [item for item in mine if item.id not in done]
        for item in waiting:
            deliveries.mark_attempt_failed(store, item.id, reason)
        outcome.pending = len(waiting)
        outcome.warnings.append(
            f"email: SMTP delivery failed ({reason}); {len(waiting)} report email(s) kept "
            "pending and retried on the next run"
        )
    return outcome


def _send_one(
    client: smtplib.SMTP, store: HistoryStore, item: deliveries.Delivery, outcome: EmailOutcome
) -> None:
    message = compose(item.payload)
    try:
        refused = client.send_message(
            message, from_addr=item.payload["from"], to_addrs=list(item.payload["to"])
        )
    except smtplib.SMTPRecipientsRefused as exc:
        if not _permanent(code for code, _ in exc.recipients.values()):
            raise
        _give_up(store, item, f"every recipient refused: {_refusals(exc.recipients)}", outcome)
        return
    except smtplib.SMTPResponseException as exc:
        if isinstance(exc, smtplib.SMTPAuthenticationError) or not _permanent([exc.smtp_code]):
            raise
        _give_up(store, item, _reason(exc), outcome)
        return
    deliveries.mark_sent(store, item.id, external_ref=item.payload.get("message_id"))
    outcome.sent += 1
    if refused:
        outcome.warnings.append(f"email: some recipients refused the report email: {_refusals(refused)}")


def _give_up(store: HistoryStore, item: deliveries.Delivery, reason: str, outcome: EmailOutcome) -> None:
    deliveries.mark_attempt_failed(store, item.id, reason, give_up=True)
    outcome.given_up += 1
    outcome.warnings.append(
        f"email: the SMTP server rejected the report email for good ({reason}); not retried"
    )


@contextlib.contextmanager
def smtp_connection(config: EmailConfig) -> Iterator[smtplib.SMTP]:
    """A connected (and, when configured, encrypted and logged-in) SMTP client."""
    if not config.smtp_host:
        raise EmailError("publish.email.smtp_host is not set")
    password = smtp_password(config)
    context = ssl.create_default_context(cafile=config.ca_file) if config.security != "none" else None
    client: smtplib.SMTP
    if config.security == "ssl":
        client = smtplib.SMTP_SSL(
            config.smtp_host, config.smtp_port, timeout=config.timeout_seconds, context=context
        )
    else:
        client = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout_seconds)
    try:
        if config.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if config.username:
            client.login(config.username, password or "")
        yield client
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def smtp_password(config: EmailConfig) -> str | None:
    """The SMTP password from the environment variable the config names (registered for redaction)."""
    if not config.password_env:
        if config.username:
            raise EmailError(
                "publish.email.username is set but publish.email.password_env (the variable "
                "holding the password) is not"
            )
        return None
    value = os.environ.get(config.password_env)
    if not value:
        raise EmailError(
            f"publish.email.password_env names {config.password_env}, which is not set in the environment"
        )
    register_secret(value)
    return value


def _permanent(codes: Any) -> bool:
    codes = list(codes)
    return bool(codes) and all(isinstance(c, int) and 500 <= c < 600 for c in codes)


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{address} ({code})" for address, (code, _) in sorted(refused.items()))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return redact(f"{exc.smtp_code} {text}".splitlines()[0])
    return redact(f"{type(exc).__name__}: {exc}".splitlines()[0])
