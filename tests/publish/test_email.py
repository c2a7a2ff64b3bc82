"""The email publisher through a real SMTP server (aiosmtpd): parts, security modes, routing, retries, and
its place in a run (after the report publisher, whose report it sends)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from datahealth.config.models import EmailConfig, Project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from datahealth.publish.email import EmailError, deliver_pending, send_report_email
from datahealth.report import render_project_report
from datahealth.store import deliveries
from tests.publish.runs import AS_OF, orders_project, pending_emails, warnings_of
from tests.report.history import HOSTILE_DATASET, PII_EMAIL, SECRET, History
from tests.support.ports import free_port
from tests.support.smtp import SmtpStarter, make_certificates

EXPECTED_RECIPIENTS = {"data@example.com", "crm@example.com", "revenue@example.com"}


def _with_email(project: Project, **settings: object) -> Project:
    email = project.config.publish.email.model_copy(update=settings)
    publish = project.config.publish.model_copy(update={"email": email})
    return project.model_copy(update={"config": project.config.model_copy(update={"publish": publish})})


def _parts(message: EmailMessage) -> tuple[str, str, EmailMessage]:
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()  # type: ignore[misc]
    assert alternative.get_content_type() == "multipart/alternative"
    text, html = alternative.get_payload()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    return text.get_content(), html.get_content(), attachment


def test_the_email_arrives_with_body_alternative_and_report(
    history: History, smtp_server: SmtpStarter
) -> None:
    with smtp_server() as server:
        project = _with_email(history.project, smtp_host=server.host, smtp_port=server.port, security="none")
        built = render_project_report(project, history.store)
        outcome = send_report_email(project, history.store, built)
        assert (outcome.sent, outcome.pending, outcome.warnings) == (1, 0, [])
        [received] = server.received
    assert (
        set(received.rcpt_tos) == EXPECTED_RECIPIENTS
    )  # defaults + crm route + revenue route (error severity)
    message = received.message
    assert message["From"] == "datahealth@localhost"
    assert "3 fail" in message["Subject"] and "2 unknown" in message["Subject"]
    text, html, attachment = _parts(message)
    assert "<script" not in html.lower() and len(html.encode()) < 100_000
    assert "check missing email failed" in html and "warehouse.&lt;svg/onload" in html
    assert HOSTILE_DATASET not in html and PII_EMAIL not in html + text
    assert "Top incidents (3 open)" in text and "fail: 3" in text
    assert attachment.get_filename() == built.files.path.name
    assert attachment.get_content_type() == "text/html"
    assert attachment.get_payload(decode=True) == built.files.path.read_bytes()
    assert deliveries.counts(history.store) == {"sent": 1}


def test_starttls_with_login_and_a_password_from_the_environment(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpStarter
) -> None:
    certificates = make_certificates(tmp_path / "tls")
    monkeypatch.setenv("DH_TEST_SMTP_PASSWORD", SECRET)
    with smtp_server(
        security="starttls", certificates=certificates, user="reporter", password=SECRET
    ) as server:
        project = _with_email(
            history.project,
            smtp_host=server.host,
            smtp_port=server.port,
            security="starttls",
            ca_file=str(certificates.ca_file),
            username="reporter",
            password_env="DH_TEST_SMTP_PASSWORD",
        )
        built = render_project_report(project, history.store)
        outcome = send_report_email(project, history.store, built)
        assert outcome.sent == 1 and outcome.warnings == []
        assert server.recorder.logins == ["reporter"] and len(server.received) == 1


def test_implicit_tls(history: History, tmp_path: Path, smtp_server: SmtpStarter) -> None:
    certificates = make_certificates(tmp_path / "tls")
    with smtp_server(security="ssl", certificates=certificates) as server:
        project = _with_email(
            history.project,
            smtp_host=server.host,
            smtp_port=server.port,
            security="ssl",
            ca_file=str(certificates.ca_file),
        )
        outcome = send_report_email(project, history.store, render_project_report(project, history.store))
        assert outcome.sent == 1 and len(server.received) == 1


def test_an_smtp_outage_keeps_the_email_pending_until_the_next_attempt(
    history: History, smtp_server: SmtpStarter
) -> None:
    port = free_port()  # nothing listens here yet
    project = _with_email(
        history.project, smtp_host="127.0.0.1", smtp_port=port, security="none", timeout_seconds=60
    )
    built = render_project_report(project, history.store)
    outcome = send_report_email(project, history.store, built)
    assert outcome.sent == 0 and outcome.pending == 1
    assert "kept pending" in outcome.warnings[0] and "ConnectionRefusedError" in outcome.warnings[0]
    [waiting] = deliveries.pending(history.store, "email")
    assert waiting.attempts == 1 and waiting.last_error
    with smtp_server(port=port) as server:
        retried = deliver_pending(history.store, project.config.publish.email)
        assert retried.sent == 1 and retried.warnings == []
        [received] = server.received
    assert received.message["Message-ID"] == waiting.payload["message_id"]
    assert _parts(received.message)[2].get_payload(decode=True) == built.files.path.read_bytes()
    assert deliveries.pending(history.store, "email") == []


def test_a_wrong_password_is_kept_pending_and_never_shown(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpStarter
) -> None:
    certificates = make_certificates(tmp_path / "tls")
    wrong = "wrong-password-4711"
    monkeypatch.setenv("DH_TEST_SMTP_PASSWORD", wrong)
    with smtp_server(
        security="starttls", certificates=certificates, user="reporter", password=SECRET
    ) as server:
        project = _with_email(
            history.project,
            smtp_host=server.host,
            smtp_port=server.port,
            security="starttls",
            ca_file=str(certificates.ca_file),
            username="reporter",
            password_env="DH_TEST_SMTP_PASSWORD",
        )
        outcome = send_report_email(project, history.store, render_project_report(project, history.store))
        assert outcome.pending == 1 and server.received == []
    assert "535" in outcome.warnings[0] and wrong not in outcome.warnings[0]
    [waiting] = deliveries.pending(history.store, "email")
    assert waiting.last_error and wrong not in waiting.last_error


def test_recipients_refused_for_good_are_given_up(history: History, smtp_server: SmtpStarter) -> None:
    with smtp_server(refuse=EXPECTED_RECIPIENTS) as server:
        project = _with_email(history.project, smtp_host=server.host, smtp_port=server.port, security="none")
        outcome = send_report_email(project, history.store, render_project_report(project, history.store))
    assert outcome.given_up == 1 and "rejected the report email for good" in outcome.warnings[0]
    assert deliveries.counts(history.store) == {"failed": 1}


def test_some_recipients_refused_still_delivers_to_the_others(
    history: History, smtp_server: SmtpStarter
) -> None:
    with smtp_server(refuse={"crm@example.com"}) as server:
        project = _with_email(history.project, smtp_host=server.host, smtp_port=server.port, security="none")
        outcome = send_report_email(project, history.store, render_project_report(project, history.store))
        assert outcome.sent == 1 and "crm@example.com (550)" in outcome.warnings[0]
        assert set(server.received[0].rcpt_tos) == EXPECTED_RECIPIENTS - {"crm@example.com"}


def test_configuration_problems_are_clear(history: History, monkeypatch: pytest.MonkeyPatch) -> None:
    built = render_project_report(history.project, history.store)
    with pytest.raises(EmailError, match="smtp_host is not set"):
        send_report_email(history.project, history.store, built)
    assert deliveries.counts(history.store) == {}
    monkeypatch.delenv("DH_TEST_UNSET_PASSWORD", raising=False)
    config = EmailConfig(
        smtp_host="127.0.0.1", smtp_port=free_port(), username="u", password_env="DH_TEST_UNSET_PASSWORD"
    )
    project = _with_email(history.project, **config.model_dump())
    outcome = send_report_email(project, history.store, built)
    assert outcome.pending == 1 and "DH_TEST_UNSET_PASSWORD, which is not set" in outcome.warnings[0]


def test_an_email_another_run_is_sending_is_not_sent_twice(
    history: History, smtp_server: SmtpStarter
) -> None:
    port = free_port()
    project = _with_email(
        history.project, smtp_host="127.0.0.1", smtp_port=port, security="none", timeout_seconds=60
    )
    send_report_email(project, history.store, render_project_report(project, history.store))
    [waiting] = deliveries.pending(history.store, "email")
    assert deliveries.claim(history.store, waiting.id)  # an overlapping run took it
    with smtp_server(port=port) as server:
        outcome = deliver_pending(history.store, project.config.publish.email)
        assert outcome.sent == 0 and server.received == []


# --- in a run -------------------------------------------------------------------------------------------


def test_a_tier_with_report_true_renders_and_emails_it(tmp_path: Path, smtp_server: SmtpStarter) -> None:
    with smtp_server() as server:
        project = orders_project(tmp_path, server.port)
        summary = run_monitor(project, tier="daily", as_of=AS_OF)
        assert warnings_of("report", summary.warnings) == warnings_of("email", summary.warnings) == []
        [received] = server.received
    report = tmp_path / "reports" / "data-health-20261005T070000Z.html"
    assert received.rcpt_tos == ["data@example.com"]
    assert [p.get_filename() for p in received.message.iter_attachments()] == [report.name]


def test_an_email_that_failed_in_one_run_goes_out_with_the_next(
    tmp_path: Path, smtp_server: SmtpStarter
) -> None:
    port = free_port()
    project = orders_project(tmp_path, port)
    first = run_monitor(project, as_of=AS_OF, options=RunOptions(report=True, email=True))
    [warning] = warnings_of("email", first.warnings)
    assert warning.startswith(f"email: EmailDeliveryError: SMTP delivery through 127.0.0.1:{port} failed")
    assert "kept pending" in warning and warnings_of("report", first.warnings) == []
    [waiting] = pending_emails(project)
    with smtp_server(port=port) as server:
        second = run_monitor(
            project, as_of=AS_OF.replace(hour=8), options=RunOptions(report=True, email=True)
        )
        assert warnings_of("email", second.warnings) == []
        received = server.received
    [newest] = received  # the queued one is superseded by the newer report, not sent beside it
    assert (
        newest.message["Message-ID"] != waiting.payload["message_id"] and "08:00" in newest.message["Subject"]
    )
    assert pending_emails(project) == []


def test_a_queued_report_superseded_by_a_newer_one_is_dropped_with_a_note(
    history: History, smtp_server: SmtpStarter
) -> None:
    port = free_port()
    project = _with_email(
        history.project, smtp_host="127.0.0.1", smtp_port=port, security="none", timeout_seconds=60
    )
    send_report_email(project, history.store, render_project_report(project, history.store))
    [old] = deliveries.pending(history.store, "email")
    with smtp_server(port=port) as server:
        outcome = send_report_email(project, history.store, render_project_report(project, history.store))
        [received] = server.received
    assert (outcome.sent, outcome.dropped, outcome.warnings) == (1, 1, [])
    assert "superseded by a newer report" in outcome.notes[0]
    assert received.message["Message-ID"] != old.payload["message_id"]
    assert deliveries.pending(history.store, "email") == []


def test_the_subject_decodes_as_a_standards_conforming_client_shows_it(
    history: History, smtp_server: SmtpStarter
) -> None:
    from email import message_from_bytes
    from email import policy as email_policy
    from email.header import decode_header, make_header

    from datahealth.publish.email import compose, subject_line

    long_title = "Santé des données — entrepôt central de l’équipe finance et contrôle de gestion"
    project = _with_email(history.project, security="none")
    report = project.config.publish.report.model_copy(update={"title": long_title})
    publish = project.config.publish.model_copy(update={"report": report})
    project = project.model_copy(update={"config": project.config.model_copy(update={"publish": publish})})
    built = render_project_report(project, history.store)
    expected = subject_line(built.data)
    assert "3 fail" in expected and " unknown," in expected  # status words, never the severity "error"
    with smtp_server() as server:
        project = _with_email(project, smtp_host=server.host, smtp_port=server.port)
        send_report_email(project, history.store, render_project_report(project, history.store))
        [received] = server.received
    raw_subject = message_from_bytes(received.raw, policy=email_policy.compat32)["Subject"]
    assert "=?utf-8?" in raw_subject  # encoded words were needed
    # RFC 2047 as clients decode it: whitespace between adjacent encoded words is dropped
    assert str(make_header(decode_header(raw_subject))) == expected
    assert str(received.message["Subject"]) == expected
    folded = compose({**_payload_of(history), "subject": expected}).as_bytes()
    assert all(len(line) <= 78 for line in folded.split(b"\r\n\r\n")[0].split(b"\r\n"))


def _payload_of(history: History) -> dict[str, object]:
    return {
        "from": "a@example.com",
        "to": ["b@example.com"],
        "text": "t",
        "html": "<p>h</p>",
        "date": "Sat, 10 Oct 2026 07:00:00 GMT",
        "message_id": "<x@example.com>",
        "subject": "",
    }


def test_smtp_port_security_and_user_come_from_the_environment(
    history: History, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpStarter
) -> None:
    from datahealth.publish.smtp import with_environment

    with smtp_server() as server:
        project = _with_email(history.project, smtp_host=server.host, smtp_port=1, security="ssl")
        monkeypatch.setenv("DATAHEALTH_SMTP_PORT", str(server.port))
        monkeypatch.setenv("DATAHEALTH_SMTP_SECURITY", "none")
        outcome = send_report_email(project, history.store, render_project_report(project, history.store))
        assert (outcome.sent, outcome.warnings) == (1, []) and len(server.received) == 1
    monkeypatch.setenv("DATAHEALTH_SMTP_USER", "reporter")
    assert with_environment(project.config.publish.email).username == "reporter"
    monkeypatch.setenv("DATAHEALTH_SMTP_PORT", "587x")
    with pytest.raises(EmailError, match=r"DATAHEALTH_SMTP_PORT='587x' is not valid"):
        with_environment(project.config.publish.email)


def test_an_unreachable_server_is_named_by_host_and_port(history: History) -> None:
    port = free_port()
    project = _with_email(history.project, smtp_host="127.0.0.1", smtp_port=port, security="none")
    outcome = send_report_email(project, history.store, render_project_report(project, history.store))
    assert f"127.0.0.1:{port}" in outcome.warnings[0]


def test_a_report_over_the_attachment_limit_is_linked_not_attached(
    history: History, smtp_server: SmtpStarter
) -> None:
    with smtp_server() as server:
        project = _with_email(
            history.project,
            smtp_host=server.host,
            smtp_port=server.port,
            security="none",
            attach_limit_bytes=1000,
        )
        built = render_project_report(project, history.store)
        send_report_email(project, history.store, built)
        [received] = server.received
    assert list(received.message.iter_attachments()) == []
    text = received.message.get_body(("plain",)).get_content()
    assert f"too large to attach: it is {built.files.path.name}" in text


def test_an_email_asked_for_without_an_smtp_host_is_a_warning_not_silence(tmp_path: Path) -> None:
    project = orders_project(tmp_path)
    summary = run_monitor(project, as_of=AS_OF, options=RunOptions(report=True, email=True))
    assert warnings_of("email", summary.warnings) == [
        "email: EmailDeliveryError: the run asks for the report by email, but publish.email.smtp_host is not set"
    ]
    assert (tmp_path / "reports" / "latest.html").is_file()  # the report itself was published


def test_a_report_that_cannot_be_rendered_is_not_emailed_and_the_others_still_publish(
    tmp_path: Path, smtp_server: SmtpStarter
) -> None:
    with smtp_server() as server:
        project = orders_project(tmp_path, server.port)
        (tmp_path / "reports").write_text("a file where the report directory should be")
        summary = run_monitor(project, tier="daily", as_of=AS_OF, options=RunOptions(report=True, email=True))
        assert server.received == []
    [report] = warnings_of("report", summary.warnings)
    assert report.startswith("report: ")
    assert warnings_of("email", summary.warnings) == [
        "email: EmailDeliveryError: the report could not be rendered, so it was not emailed"
    ]
    # every publisher ran, in order, each failure a warning (Slack's preview file cannot go there either)
    assert [w.split(":")[0] for w in summary.warnings] == ["report", "email", "slack"]
