"""Secrets never leave: everything runs with known secret values, then every output is scanned for them.

Secrets used: the warehouse and history passwords (a private PostgreSQL with scram auth, password from an
environment variable and one written in a URL), the password of an unreachable source (it appears in
its error path), the Slack bot token, a Slack webhook URL, the SMTP password and the Pushgateway's basic
auth. Outputs scanned: captured logs (DEBUG and up), stdout/stderr, the Prefect flow run's logs and
artifacts, every row of the history store, the report pages, the emails as sent, every request Slack
received (minus the Authorization header, where the token belongs), the metrics textfile and what the
Pushgateway holds, and the CLI's status, incidents and metrics output.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from datahealth.checks.soda_env import prepare_soda
from datahealth.cli import app
from datahealth.config import load_project
from datahealth.engines.postgres import soda_connection_properties
from datahealth.report.payload import unpack_page
from datahealth.sources.sql import SqlSource
from datahealth.store.tables import metadata
from tests.reliability.cluster import PrivateCluster
from tests.reliability.conftest import CLUSTER_PASSWORD
from tests.reliability.world import SLACK_TOKEN_ENV, open_store, run, write_monitoring_project
from tests.support.fake_slack import FakeSlack
from tests.support.ports import free_port, wait_for_port
from tests.support.prometheus import PushgatewayStarter
from tests.support.smtp import SmtpStarter

TAG = uuid.uuid4().hex[:10]
SECRETS = {
    "warehouse password": CLUSTER_PASSWORD,
    "unreachable source password": f"remote-Secret-{TAG}",
    "slack token": f"xoxb-Secret-{TAG}",
    "slack webhook": f"Webhook-Secret-{TAG}",
    "smtp password": f"smtp-Secret-{TAG}",
    "pushgateway password": f"push-Secret-{TAG}",
}
PG_PASSWORD_ENV, SMTP_PASSWORD_ENV, WEBHOOK_ENV = (
    "DH_SEC_PG_PASSWORD",
    "DH_SEC_SMTP_PASSWORD",
    "DH_SEC_WEBHOOK",
)
FIRST, SECOND = "2026-10-12T06:00:00+00:00", "2026-10-12T08:00:00+00:00"
cli = CliRunner()


class Recorder(logging.Handler):
    """Every record of the loggers it is attached to, formatted with its traceback, as an operator's log file."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def leaks(outputs: dict[str, Any]) -> list[str]:
    """Which secret turned up in which output (empty: none)."""
    found = []
    for where, content in outputs.items():
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
        found += [f"{name} in {where}" for name, secret in SECRETS.items() if secret in text]
    return found


def store_dump(root: Path) -> str:
    store = open_store(root)
    try:
        with store.engine.connect() as conn:
            return "\n".join(
                f"{table.name}: {row!r}"
                for table in metadata.sorted_tables
                for row in conn.execute(sa.select(table))
            )
    finally:
        store.close()


def prefect_outputs(flow_run_id: Any) -> dict[str, str]:
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    # The run's logs travel to the server on a background worker: send what is queued
    # before reading, or the read races the worker (an empty read once failed CI).
    APILogWorker.drain_all(timeout=30)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        flow_run = client.read_flow_run(flow_run_id)
    assert artifacts and logs  # something to scan
    return {
        "prefect artifacts": "\n".join(f"{a.key}: {a.data}" for a in artifacts),
        "prefect logs": "\n".join(log.message for log in logs),
        "prefect flow run": f"{flow_run.parameters} {flow_run.state}",
    }


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_no_output_contains_a_secret(
    tmp_path: Path,
    cluster: PrivateCluster,
    smtp_server: SmtpStarter,
    pushgateway: PushgatewayStarter,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    recorder = Recorder()
    for name in ("", "prefect"):  # Prefect's loggers do not propagate to the root logger
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "level", logging.DEBUG)
        logger.addHandler(recorder)
    monkeypatch.setattr(
        logging.getLogger("mail.log"), "level", logging.INFO
    )  # the test SMTP server's own chatter
    try:
        check_every_output(tmp_path, cluster, smtp_server, pushgateway, monkeypatch, capfd, recorder)
    finally:
        for name in ("", "prefect"):
            logging.getLogger(name).removeHandler(recorder)


def check_every_output(
    tmp_path: Path,
    cluster: PrivateCluster,
    smtp_server: SmtpStarter,
    pushgateway: PushgatewayStarter,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    recorder: Recorder,
) -> None:
    cluster.ensure_running()
    warehouse = cluster.create_database(f"sec_{TAG}")
    history_db = cluster.create_database(f"sec_history_{TAG}")
    cluster.execute(
        "CREATE TABLE orders AS SELECT g % 9 AS id, TIMESTAMP '2026-10-10 05:00:00' AS updated_at "
        "FROM generate_series(1, 10) g",  # a duplicate id: a failing check
        "CREATE TABLE customers AS SELECT g AS id, now() AS updated_at FROM generate_series(1, 5) g",
        dbname=warehouse,
    )
    slack = FakeSlack(token=SECRETS["slack token"]).start()
    monkeypatch.setenv(SLACK_TOKEN_ENV, SECRETS["slack token"])
    monkeypatch.setenv(PG_PASSWORD_ENV, CLUSTER_PASSWORD)
    monkeypatch.setenv(SMTP_PASSWORD_ENV, SECRETS["smtp password"])
    monkeypatch.setenv(WEBHOOK_ENV, slack.webhook_url(f"T000/B000/{SECRETS['slack webhook']}"))
    outputs: dict[str, Any] = {}
    try:
        with (
            smtp_server(user="monitor", password=SECRETS["smtp password"]) as smtp,
            pushgateway(
                tmp_path / "pushgateway", basic_auth=("pusher", SECRETS["pushgateway password"])
            ) as gw,
        ):
            root = write_monitoring_project(
                tmp_path / "project",
                {
                    "pg": {
                        "kind": "sql",
                        "url": f"postgresql+psycopg://postgres:${{{PG_PASSWORD_ENV}}}"
                        f"@127.0.0.1:{cluster.port}/{warehouse}",
                    },
                    "remote": {
                        "kind": "sql",
                        "url": f"postgresql+psycopg://dh:{SECRETS['unreachable source password']}"
                        f"@127.0.0.1:{free_port()}/x",
                    },
                },
                {
                    "pg.orders": {
                        "timestamp_column": "updated_at",
                        "primary_key": ["id"],
                        "sla": {"error_after": "1d"},
                    },
                    "pg.customers": {"timestamp_column": "updated_at", "primary_key": ["id"]},
                    "remote.events": {},
                },
                slack=slack,
                smtp_port=smtp.port,
                pushgateway_url=f"http://pusher:{SECRETS['pushgateway password']}@{gw.address}",
                history_url=cluster.url(history_db),  # the password written into the URL itself
                email={"username": "monitor", "password_env": SMTP_PASSWORD_ENV, "timeout_seconds": 60},
                slack_settings={"webhook_url_env": WEBHOOK_ENV},
                settings={"name": "secrets", "task_retries": 1, "task_retry_delay": "0.1s"},
            )
            project_root = str(root)

            from datahealth.orchestration.flow import data_health

            state = data_health(project_dir=project_root, as_of=FIRST, return_state=True)
            assert state.is_completed(), state
            first = state.result()
            assert {d["dataset"]: d["status"] for d in first["datasets"]} == {
                "pg.customers": "ok",
                "pg.orders": "fail",
                "remote.events": "unknown",
            }
            assert first["warnings"] == [] and slack.top_level("#data-alerts")  # the bot posted
            outputs.update(prefect_outputs(state.state_details.flow_run_id))
            outputs["flow result"] = first

            monkeypatch.delenv(SLACK_TOKEN_ENV)  # the second run alerts through the webhook instead
            cluster.execute(
                "INSERT INTO orders VALUES (100, TIMESTAMP '2026-10-12 07:00:00')", dbname=warehouse
            )
            second = run(root, SECOND, max_workers=4)
            assert second.warnings == [] and slack.webhook_messages  # the webhook got the resolve notice
            outputs["run summary"] = second.to_dict()
            outputs["pushgateway"] = gw.get("/metrics")[1]
            assert b"datahealth_dataset_status" in outputs["pushgateway"]
            outputs["emails"] = b"\n".join(m.raw for m in smtp.received)
            assert len(smtp.received) == 2 and smtp.recorder.logins == ["monitor", "monitor"]
    finally:
        slack.stop()
    webhook_path = f"/services/T000/B000/{SECRETS['slack webhook']}"  # the webhook's URL is where it belongs
    assert any(r.path == webhook_path for r in slack.requests)
    outputs["slack requests"] = [
        (
            r.path if r.path != webhook_path else "webhook",
            r.status,
            r.body,
            {k: v for k, v in r.headers.items() if k != "authorization"},
        )
        for r in slack.requests
    ]
    assert {r.headers.get("authorization") for r in slack.requests if r.path == "chat.postMessage"} == {
        f"Bearer {SECRETS['slack token']}"
    }  # the token went where it belongs, and only there
    for page in sorted((root / "reports").glob("*")):
        raw = (
            page.read_bytes()
        )  # report pages pack their data (gzip + base64): searched as the browser sees them
        outputs[f"reports/{page.name}"] = (
            unpack_page(raw.decode("utf-8")).encode("utf-8") if page.suffix == ".html" else raw
        )
    assert "reports/latest.html" in outputs and "reports/datahealth.prom" in outputs
    outputs["history store"] = store_dump(root)
    assert "remote.events" in outputs["history store"] and "could not" in outputs["history store"]
    for command in (["status"], ["incidents", "list", "--status", "all"], ["metrics"]):
        result = cli.invoke(app, [*command, "-p", str(root)])
        assert result.exit_code == 0, result.output
        outputs[f"datahealth {' '.join(command)}"] = result.output
    outputs["logs"] = "\n".join(recorder.lines)
    captured = capfd.readouterr()
    outputs["stdout"], outputs["stderr"] = captured.out, captured.err
    for expected in ("INFO prefect.flow_runs Monitoring 3 datasets", "remote.events"):
        assert expected in outputs["logs"]  # the logs really were captured
    # ... at DEBUG: whichever driver logs at DEBUG in this run (which ones do depends on what earlier
    # tests in the session already started), its records reach the recorder.
    assert recorder.level == logging.DEBUG and logging.getLogger().getEffectiveLevel() == logging.DEBUG

    assert leaks(outputs) == []


def test_warehouse_connections_are_read_only(tmp_path: Path, cluster: PrivateCluster, warehouse: str) -> None:
    """Even as the superuser: our engine's sessions, Soda's, DuckDB and SQLite files all refuse writes."""
    from datahealth.config.models import SqlSourceConfig

    cluster.execute("CREATE TABLE t AS SELECT 1 AS x", dbname=warehouse)
    pg = SqlSource("pg", SqlSourceConfig(kind="sql", url=cluster.url(warehouse)), tmp_path)
    with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"), pg.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE written (x int)"))
    prepare_soda()
    from soda_postgres.common.data_sources.postgres_data_source_connection import PostgresDataSource

    soda = PostgresDataSource(
        name="pg", connection=soda_connection_properties(pg.url, pg.config)
    ).connection_properties
    with (
        psycopg.connect(**soda.to_connection_kwargs()) as soda_session,
        pytest.raises(  # as Soda connects
            psycopg.errors.ReadOnlySqlTransaction
        ),
    ):
        soda_session.execute("DELETE FROM t")
    pg.close()

    duck_file = tmp_path / "wh.duckdb"
    duckdb.connect(str(duck_file)).close()
    sqlite_file = tmp_path / "wh.db"
    sa.create_engine(f"sqlite:///{sqlite_file}").connect().close()
    for name, url, refusal in (
        ("duck", f"duckdb:///{duck_file}", "read-only"),
        ("lite", f"sqlite:///{sqlite_file}", "readonly database"),
    ):
        source = SqlSource(name, SqlSourceConfig(kind="sql", url=url), tmp_path)
        with pytest.raises(sa.exc.DBAPIError, match=refusal), source.engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE written (x INTEGER)"))
        source.close()
    with psycopg.connect(cluster.dsn(warehouse)) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'written'").fetchone() == (0,)


def _listening(port: int) -> list[str]:
    """Local addresses of TCP sockets listening on `port` (from /proc: IPv4 and IPv6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.append(address)
    return found


@pytest.mark.integration  # starts a `datahealth serve-metrics` process
def test_serve_metrics_listens_on_loopback_only_by_default(tmp_path: Path) -> None:
    root = write_monitoring_project(
        tmp_path, {"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}}, {"wh.t": {}}
    )
    duckdb.connect(str(tmp_path / "wh.duckdb")).execute("CREATE TABLE t AS SELECT 1 AS x").close()
    load_project(root)
    port = free_port()
    exporter = subprocess.Popen(
        [sys.executable, "-m", "datahealth", "serve-metrics", "-p", str(root), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, timeout=120)
        assert _listening(port) == ["0100007F"]  # 127.0.0.1, and nothing on 0.0.0.0 or ::
    finally:
        exporter.send_signal(signal.SIGTERM)
        try:
            exporter.wait(timeout=30)
        except subprocess.TimeoutExpired:
            exporter.kill()
            exporter.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _listening(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _listening(port) == []
