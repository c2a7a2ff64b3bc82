"""The email publisher: the report as a multipart message (email-safe HTML, plain text, the full report
attached) over SMTP.

Each email is put in the pending-delivery queue before the first attempt and taken out only when the
SMTP server accepted it, so an SMTP outage loses nothing: the next run (or `datahealth report --email`)
sends what is still pending, oldest first, with the original Message-ID so a receiving server can drop
a duplicate. A server that is down or refuses the login keeps the emails pending; a message the server
rejects permanently (5xx for the message or every recipient) is given up with a warning. A report email
still pending when a newer one is queued is dropped with a note: the newer report says everything the
older one did, and nobody wants two near-identical emails.

The report is attached only up to `attach_limit_bytes` (default 2 MB); a larger one is linked
(`publish.report.base_url`). Headers are built by the standard library's header registry under the
SMTP policy (RFC 5322 folding, RFC 2047 encoded words), so every client decodes the subject the same.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from datahealth.config.advice import clear_text_auth
from datahealth.config.models import EmailConfig, Project, ProjectConfig
from datahealth.core.wording import plural
from datahealth.publish.base import PublishError, SendResult
from datahealth.publish.context import PublishContext
from datahealth.publish.smtp import EmailError, permanent, reason, refusals, server_address, smtp_connection
from datahealth.report.data import ReportData, routing_severity
from datahealth.report.render import BuiltReport, render_email, templates_dir
from datahealth.rules.routing import destinations
from datahealth.store import HistoryStore, deliveries

CHANNEL = "email"
KIND = "report"
BODY_LIMIT_BYTES = 100_000  # Gmail clips larger messages
SUPERSEDED = "superseded by a newer report email"
log = logging.getLogger(__name__)


@dataclass
class EmailOutcome:
    sent: int = 0
    pending: int = 0
    given_up: int = 0
    dropped: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

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
    problems = ", ".join(f"{counts[s]} {s}" for s in ("unknown", "fail", "warn") if counts.get(s))
    score = "-" if data.score is None else f"{data.score:.0f}"
    title = " ".join(data.title.split())
    return f"{title}: {problems or 'all healthy'} · health {score}/100 · {data.as_of:%Y-%m-%d %H:%M} UTC"


def build_payload(project: Project, built: BuiltReport, recipients: Sequence[str]) -> dict[str, Any]:
    """Everything needed to (re)send the email later; stored as the pending delivery's payload."""
    config = project.config.publish.email
    attach = config.attach_report and built.files.size <= config.attach_limit_bytes
    html, text = render_email(
        built.data,
        templates_dir(project),
        report_name=built.files.path.name,
        attached=attach,
        too_large=config.attach_report and not attach,
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
    """The MIME message: multipart/mixed of (multipart/alternative of text and HTML) and the report file.
    Under `policy.SMTP` each header is a `headerregistry` object: folded and encoded as one unit (an
    encoded word never splits "4 fail" into "4" and "fail" that a decoder would join)."""
    message = EmailMessage(policy=policy.SMTP)
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


def write_report_email(project: Project, built: BuiltReport, directory: Path) -> Path:
    """`report --email --dry-run`: the email exactly as it would be sent, as `<report name>.eml` in
    `directory`; nothing is queued or sent. An email without recipients is written all the same."""
    payload = build_payload(project, built, report_recipients(project.config, built.data))
    path = directory / f"{built.files.path.stem}.eml"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_bytes(compose(payload).as_bytes())
    return path


def deliver_pending(store: HistoryStore, config: EmailConfig) -> EmailOutcome:
    """Send the pending report emails, oldest first, over one SMTP connection; those that fail stay pending."""
    outcome = EmailOutcome()
    clear_text = clear_text_auth(config)
    if clear_text:
        outcome.warnings.append(f"email: {clear_text}")
    requeued = deliveries.release_expired(store, CHANNEL)
    if requeued:
        outcome.warnings.append(
            f"email: {requeued} report email(s) claimed by a run that stopped mid-send were re-queued"
        )
    # Claim first: a run overlapping this one (another tier) must not send the same email again.
    mine = [item for item in deliveries.pending(store, CHANNEL) if deliveries.claim(store, item.id)]
    mine = _drop_superseded(store, mine, outcome)
    if not mine:
        return outcome
    done: set[int] = set()
    try:
        with smtp_connection(config) as client:
            for item in mine:
                _send_one(client, store, item, outcome)
                done.add(item.id)
    except (OSError, smtplib.SMTPException, EmailError) as exc:
        why = reason(exc)
        waiting = [item for item in mine if item.id not in done]
        for item in waiting:
            deliveries.mark_attempt_failed(store, item.id, why)
        outcome.pending = len(waiting)
        outcome.warnings.append(
            f"email: SMTP delivery through {server_address(config)} failed ({why}); "
            f"{plural(len(waiting), 'report email')} kept pending and retried on the next run"
        )
    return outcome


def _drop_superseded(
    store: HistoryStore, items: list[deliveries.Delivery], outcome: EmailOutcome
) -> list[deliveries.Delivery]:
    """Every report email but the newest is dropped (with a note): it would arrive beside a newer one."""
    reports = [item for item in items if item.kind == KIND]
    newest = max(reports, key=lambda item: item.id, default=None)
    kept = []
    for item in items:
        if item.kind != KIND or item is newest:
            kept.append(item)
            continue
        deliveries.mark_attempt_failed(store, item.id, SUPERSEDED, give_up=True)
        outcome.dropped += 1
        note = (
            f"email: the queued report email of {item.payload.get('date', item.created_at)} was dropped, "
            "superseded by a newer report (not sent twice)"
        )
        outcome.notes.append(note)
        log.info(note)
    return kept


def _send_one(
    client: smtplib.SMTP, store: HistoryStore, item: deliveries.Delivery, outcome: EmailOutcome
) -> None:
    message = compose(item.payload)
    try:
        refused = client.send_message(
            message, from_addr=item.payload["from"], to_addrs=list(item.payload["to"])
        )
    except smtplib.SMTPRecipientsRefused as exc:
        if not permanent(code for code, _ in exc.recipients.values()):
            raise
        _give_up(store, item, f"every recipient refused: {refusals(exc.recipients)}", outcome)
        return
    except smtplib.SMTPResponseException as exc:
        if isinstance(exc, smtplib.SMTPAuthenticationError) or not permanent([exc.smtp_code]):
            raise
        _give_up(store, item, reason(exc), outcome)
        return
    deliveries.mark_sent(store, item.id, external_ref=item.payload.get("message_id"))
    outcome.sent += 1
    if refused:
        outcome.warnings.append(f"email: some recipients refused the report email: {refusals(refused)}")


def _give_up(store: HistoryStore, item: deliveries.Delivery, why: str, outcome: EmailOutcome) -> None:
    deliveries.mark_attempt_failed(store, item.id, why, give_up=True)
    outcome.given_up += 1
    outcome.warnings.append(f"email: the SMTP server rejected the report email for good ({why}); not retried")


class EmailDeliveryError(PublishError):
    """The run's report email could not be sent now (it stays queued where it could be queued)."""


class EmailPublisher:
    """Emails the report the report publisher rendered for this run, and anything an outage left pending.

    It sends when the run asks for the email (`RunOptions.email`, a tier's `email: true`) or when an SMTP
    host is set and this run rendered a report; with an SMTP host set, emails left pending by an earlier
    outage go out on every run, report or not.
    """

    name = "email"

    def enabled(self, project: Project) -> bool:
        return bool(project.config.publish.email.smtp_host)

    def publish(self, context: PublishContext) -> None:
        config = context.project.config.publish.email
        wanted = context.options.email
        if not config.smtp_host:
            if wanted:
                raise EmailDeliveryError(
                    "the run asks for the report by email, but publish.email.smtp_host is not set"
                )
            return
        if wanted and context.report is None:
            raise EmailDeliveryError("the report could not be rendered, so it was not emailed")
        try:
            if context.report is not None:
                outcome = send_report_email(
                    context.project, context.store, context.report, run_id=context.run_id
                )
            else:
                outcome = deliver_pending(context.store, config)
        except EmailError as exc:
            raise EmailDeliveryError(str(exc)) from None
        if outcome.warnings:
            raise EmailDeliveryError("; ".join(w.removeprefix("email: ") for w in outcome.warnings))

    def send_test(self, project: Project, to: Sequence[str] = ()) -> SendResult:
        """A short plain-text email to `to` (default: `publish.email.recipients`), straight through SMTP."""
        config = project.config.publish.email
        recipients = list(to) or list(config.recipients)
        if not config.smtp_host:
            return SendResult.misconfigured(
                "publish.email.smtp_host is not set (the SMTP server to send through)"
            )
        if not recipients:
            return SendResult.misconfigured("no recipients: set publish.email.recipients (or pass --to)")
        message = EmailMessage()
        message["Subject"] = f"datahealth test email from {project.config.project.name}"
        message["From"] = config.sender
        message["To"] = ", ".join(recipients)
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=config.sender.rpartition("@")[2] or "localhost")
        message.set_content(
            "This is a test from `datahealth publish test email`: report emails from this project "
            f"reach you through {server_address(config)}.\n"
        )
        try:
            with smtp_connection(config) as client:
                refused = client.send_message(message, from_addr=config.sender, to_addrs=recipients)
        except EmailError as exc:
            return SendResult.misconfigured(str(exc))
        except smtplib.SMTPRecipientsRefused as exc:
            return SendResult.failed(
                f"the SMTP server {server_address(config)} refused every recipient: {refusals(exc.recipients)}"
            )
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult.failed(
                f"cannot send through the SMTP server {server_address(config)}: {reason(exc)}"
            )
        if refused:
            return SendResult.failed(
                f"the SMTP server {server_address(config)} refused some recipients: {refusals(refused)}"
            )
        return SendResult.sent(
            f"sent a test email to {', '.join(recipients)} through {server_address(config)}"
        )
