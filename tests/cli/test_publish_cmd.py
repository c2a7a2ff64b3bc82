"""`datahealth publish test slack|email|pushgateway|report` against the real local servers.

Slack is the suite's fake Slack Web API server (it checks tokens and channels as Slack does), email a
real aiosmtpd server, metrics a real Pushgateway. Exit 0 when the test message was delivered, 1 when the
delivery failed (the message names host:port, the HTTP status or Slack's error code), 2 when the
configuration is incomplete; no secret ever appears in the output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.config import load_project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from tests.support.fake_slack import FakeSlack
from tests.support.ports import free_port
from tests.support.projects import write_project
from tests.support.prometheus import PushgatewayStarter, Service, metrics_project, parse_samples
from tests.support.smtp import SmtpStarter, make_certificates

TOKEN_ENV = "DH_TEST_PUBLISH_SLACK_TOKEN"
WEBHOOK_ENV = "DH_TEST_PUBLISH_SLACK_WEBHOOK"
PASSWORD_ENV = "DH_TEST_PUBLISH_SMTP_PASSWORD"
SMTP_PASSWORD = "smtp-secret-9e77"


def project(root: Path, **publish: Any) -> Path:
    return write_project(
        root, {"wh": {"kind": "sql", "url": "sqlite:///wh.db"}}, {"wh.orders": {}}, publish=publish
    )


def publish_test(root: Path, target: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["publish", "test", target, "-p", str(root), *extra])
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


# --- slack --------------------------------------------------------------------------------------------


def test_slack_bot_posts_a_test_message(
    tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, slack.token)
    root = project(tmp_path, slack={"token_env": TOKEN_ENV, "base_url": slack.api_url})
    code, output = publish_test(root, "slack")
    assert code == 0, output
    [message] = slack.top_level("#data-alerts")
    assert "datahealth test message" in message.text
    assert (
        f"posted a test message to #data-alerts (bot via 127.0.0.1:{slack.port}, ts {message.ts})" in output
    )

    code, output = publish_test(root, "slack", "--to", "#crm-data")
    assert code == 0 and len(slack.top_level("#crm-data")) == 1


def test_slack_says_which_channel_and_error_code_failed(
    tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, slack.token)
    root = project(tmp_path, slack={"token_env": TOKEN_ENV, "base_url": slack.api_url})
    slack.only_channels({"#elsewhere"})  # the bot is not in #data-alerts
    code, output = publish_test(root, "slack")
    assert code == 1
    assert f"the test message to #data-alerts was not delivered (bot via 127.0.0.1:{slack.port})" in output
    assert "channel_not_found" in output


def test_a_wrong_slack_token_is_a_delivery_failure_that_never_shows_the_token(
    tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "xoxb-wrong-token-0000000000"
    monkeypatch.setenv(TOKEN_ENV, wrong)
    root = project(tmp_path, slack={"token_env": TOKEN_ENV, "base_url": slack.api_url})
    code, output = publish_test(root, "slack")
    assert code == 1 and "invalid_auth" in output and wrong not in output
    assert slack.messages == []


def test_slack_down_names_the_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens
    monkeypatch.setenv(TOKEN_ENV, "xoxb-some-token-1234567890")
    root = project(tmp_path, slack={"token_env": TOKEN_ENV, "base_url": f"http://127.0.0.1:{port}/api/"})
    code, output = publish_test(root, "slack")
    assert code == 1 and f"127.0.0.1:{port}" in output and "connection failed" in output


def test_slack_webhook_posts_without_showing_its_url(
    tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = slack.webhook_url("T000/B000/secret-path-3f9a")
    monkeypatch.setenv(WEBHOOK_ENV, url)
    root = project(tmp_path, slack={"webhook_url_env": WEBHOOK_ENV})
    code, output = publish_test(root, "slack")
    assert code == 0 and f"webhook via 127.0.0.1:{slack.port}" in output and "secret-path" not in output
    [posted] = slack.webhook_messages["T000/B000/secret-path-3f9a"]
    assert "datahealth test message" in posted["text"]


def test_slack_not_configured_is_a_configuration_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    code, output = publish_test(project(tmp_path), "slack")
    assert code == 2 and "Slack is not configured" in output
    code, output = publish_test(project(tmp_path, slack={"token_env": TOKEN_ENV}), "slack")
    assert code == 2 and f"{TOKEN_ENV} is not set" in output


# --- email --------------------------------------------------------------------------------------------


def test_email_sends_a_test_message(tmp_path: Path, smtp_server: SmtpStarter) -> None:
    with smtp_server() as server:
        email = {"smtp_host": server.host, "smtp_port": server.port, "security": "none"}
        root = project(tmp_path, email={**email, "recipients": ["data@example.com"]})
        code, output = publish_test(root, "email")
        assert code == 0, output
        code, _ = publish_test(root, "email", "--to", "ana@example.com", "--to", "bo@example.com")
        assert code == 0
        first, second = server.received
    assert f"sent a test email to data@example.com through 127.0.0.1:{server.port}" in output
    assert first.rcpt_tos == ["data@example.com"] and "datahealth test email" in first.message["Subject"]
    assert second.rcpt_tos == ["ana@example.com", "bo@example.com"]


def test_email_names_the_server_it_cannot_reach(tmp_path: Path) -> None:
    port = free_port()
    root = project(
        tmp_path,
        email={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "security": "none",
            "recipients": ["a@example.com"],
        },
    )
    code, output = publish_test(root, "email")
    assert code == 1
    assert f"cannot send through the SMTP server 127.0.0.1:{port}: ConnectionRefusedError" in output


def test_a_refused_login_is_a_delivery_failure_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpStarter
) -> None:
    certificates = make_certificates(tmp_path / "tls")
    monkeypatch.setenv(PASSWORD_ENV, "wrong-" + SMTP_PASSWORD)
    with smtp_server(
        security="starttls", certificates=certificates, user="reporter", password=SMTP_PASSWORD
    ) as server:
        email = {
            "smtp_host": server.host,
            "smtp_port": server.port,
            "ca_file": str(certificates.ca_file),
            "username": "reporter",
            "password_env": PASSWORD_ENV,
            "recipients": ["a@example.com"],
        }
        code, output = publish_test(project(tmp_path, email=email), "email")
        assert server.received == []
    assert code == 1 and f"127.0.0.1:{server.port}: 535" in output and SMTP_PASSWORD not in output


def test_a_refused_recipient_is_named(tmp_path: Path, smtp_server: SmtpStarter) -> None:
    with smtp_server(refuse={"gone@example.com"}) as server:
        email = {
            "smtp_host": server.host,
            "smtp_port": server.port,
            "security": "none",
            "recipients": ["gone@example.com"],
        }
        code, output = publish_test(project(tmp_path, email=email), "email")
    assert code == 1 and "refused every recipient: gone@example.com (550)" in output


def test_email_configuration_problems_send_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = publish_test(project(tmp_path), "email")
    assert code == 2 and "publish.email.smtp_host is not set" in output
    code, output = publish_test(project(tmp_path, email={"smtp_host": "127.0.0.1"}), "email")
    assert code == 2 and "no recipients" in output
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    email = {
        "smtp_host": "127.0.0.1",
        "username": "u",
        "password_env": PASSWORD_ENV,
        "recipients": ["a@example.com"],
    }
    code, output = publish_test(project(tmp_path, email=email), "email")
    assert code == 2 and f"{PASSWORD_ENV}, which is not set" in output


# --- pushgateway ----------------------------------------------------------------------------------------


def requests_served(gateway: Service) -> dict[str, float]:
    status, body = gateway.get("/metrics")
    assert status == 200
    return {
        dict(key[1])["handler"]: value
        for key, value in parse_samples(body).items()
        if key[0] == "pushgateway_http_requests_total"
    }


def test_pushgateway_takes_a_test_group_and_leaves_the_real_one_alone(
    tmp_path: Path, pushgateway: PushgatewayStarter
) -> None:
    with pushgateway(tmp_path / "pushgateway") as gateway:
        root = metrics_project(tmp_path / "project", prometheus={"pushgateway_url": gateway.url})
        run = run_monitor(load_project(root), as_of="2026-10-10T06:00:00Z", options=RunOptions(checks=False))
        assert run.warnings == []
        code, output = publish_test(root, "pushgateway")
        assert code == 0, output
        assert (
            f"pushed a test group to the Pushgateway at {gateway.url} (job datahealth) and deleted it"
            in output
        )
        served = requests_served(gateway)
        status, groups = gateway.get("/api/v1/metrics")
    assert served["push"] == 2 and served["delete"] == 1  # the run's push, the test's push and delete
    labels = [group["labels"] for group in json.loads(groups)["data"]]
    assert labels == [{"job": "datahealth"}]  # only the run's own group is left


def test_pushgateway_refusing_the_credentials_shows_the_status_not_the_password(
    tmp_path: Path, pushgateway: PushgatewayStarter
) -> None:
    with pushgateway(tmp_path / "pushgateway", basic_auth=("pusher", "right-password")) as gateway:
        url = f"http://pusher:wrong-password-77@{gateway.address}"
        root = metrics_project(tmp_path / "project", prometheus={"pushgateway_url": url})
        code, output = publish_test(root, "pushgateway")
    assert code == 1 and f"Pushgateway at {gateway.url}: HTTP 401 Unauthorized" in output
    assert "wrong-password-77" not in output


def test_pushgateway_unreachable_or_not_configured(tmp_path: Path) -> None:
    port = free_port()
    root = metrics_project(tmp_path / "down", prometheus={"pushgateway_url": f"http://127.0.0.1:{port}"})
    code, output = publish_test(root, "pushgateway")
    assert code == 1 and f"Pushgateway at http://127.0.0.1:{port}: connection refused" in output
    code, output = publish_test(metrics_project(tmp_path / "textfile"), "pushgateway")
    assert code == 2 and "pushgateway_url is not set" in output


# --- the rest -----------------------------------------------------------------------------------------


def test_report_and_unknown_targets(tmp_path: Path) -> None:
    root = project(tmp_path)
    code, output = publish_test(root, "report")
    assert code == 0 and "is writable" in output
    code, output = publish_test(root, "pager")
    assert code == 2 and "choose one of slack, email, pushgateway, report" in output
