"""Suite-wide fixtures and the hook that marks tests from the services they use.

Services are real: PostgreSQL on 127.0.0.1:5432, the others started by the fixtures below on free
loopback ports. Which fixture means which service is listed in tests/support/services.py.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("SODA_CORE_TELEMETRY_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("DO_NOT_TRACK", "1")
# Tests talk to loopback only: no cloud metadata probes from the Snowflake connector or AWS SDKs.
os.environ.setdefault("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ.setdefault("NO_GCE_CHECK", "true")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
# Prefect keeps its settings, profiles and ephemeral database under PREFECT_HOME: never the user's own.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="datahealth-test-prefect-"))

from datahealth.core import redaction  # noqa: E402
from tests.support import (  # noqa: E402
    lakes,  # noqa: E402
    mariadb,  # noqa: E402
    postgres,
    prometheus,
    smtp,
    streams,
)
from tests.support.bqemulator import BigQueryEmulator, bigquery_emulator  # noqa: E402
from tests.support.fakesnow import FakesnowServer, fakesnow_server  # noqa: E402
from tests.support.projects import write_project  # noqa: E402
from tests.support.services import markers_for  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _secret_registry_per_test() -> Iterator[None]:
    """Secrets a test registers leave with it: the registry is process-wide, and a value one test expands
    from `${ENV}` (a `/tmp` history folder) would otherwise blank out paths in every later test's output."""
    saved = set(redaction._secrets)
    yield
    with redaction._lock:
        redaction._secrets.clear()
        redaction._secrets.update(saved)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test from the fixtures it uses (their whole closure): `integration` plus one per service."""
    for item in items:
        for marker in markers_for(getattr(item, "fixturenames", ())):
            item.add_marker(marker)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The machine's PostgreSQL; `make test` starts it. Failing (not skipping) keeps the suite honest."""
    if not postgres.postgres_available():
        pytest.fail(
            f"PostgreSQL is not reachable on {postgres.PG_HOST}:{postgres.PG_PORT}; run `make services`"
        )
    return f"{postgres.PG_HOST}:{postgres.PG_PORT}"


@pytest.fixture
def pg_database(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; yields its name."""
    with postgres.temporary_database() as name:
        yield name


@pytest.fixture(scope="session")
def mariadb_server() -> str:
    """The machine's MariaDB; `make test` starts it. Failing (not skipping) keeps the suite honest."""
    if not mariadb.mariadb_available():
        pytest.fail(f"MariaDB is not reachable on {mariadb.HOST}:{mariadb.PORT}; run `make services`")
    return f"{mariadb.HOST}:{mariadb.PORT}"


@pytest.fixture
def mariadb_database(mariadb_server: str) -> Iterator[str]:
    """A fresh, empty MariaDB database for one test; yields its name."""
    with mariadb.temporary_database() as name:
        yield name


@pytest.fixture(scope="session")
def snowflake_standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakesnowServer]:
    """fakesnow's server (Snowflake's stand-in) for the session, on a free loopback port; the product's
    launcher also lets soda-snowflake scan it (fakesnow has no CURRENT_WAREHOUSE())."""
    with fakesnow_server(tmp_path_factory.mktemp("fakesnow")) as server:
        yield server


@pytest.fixture(scope="session")
def bigquery_standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigQueryEmulator]:
    """bqemulator (BigQuery's stand-in) for the session, on free loopback ports; the product's launcher
    also gives soda-bigquery anonymous credentials against it."""
    with bigquery_emulator(tmp_path_factory.mktemp("bq")) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test server for the whole session (it takes 5–30 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def smtp_server() -> smtp.SmtpStarter:
    """Starts aiosmtpd servers: `with smtp_server(security="ssl", certificates=...) as server:`.

    Handed over as a starter (not a running server) because tests stop one mid-test and bring one back
    on the same port; asking for it is what marks the test `integration` and `smtp`.
    """
    return smtp.smtp_server


@pytest.fixture(scope="session")
def pushgateway() -> prometheus.PushgatewayStarter:
    """Starts Debian's Pushgateway: `with pushgateway(tmp_path / "gw", basic_auth=...) as gateway:`."""
    return prometheus.pushgateway


@pytest.fixture(scope="session", name="prometheus")
def prometheus_starter() -> prometheus.PrometheusStarter:
    """Starts Debian's Prometheus: `with prometheus(tmp_path / "prom", [target]) as api:`."""
    return prometheus.prometheus


@pytest.fixture(scope="session")
def promtool() -> prometheus.Promtool:
    """Runs Debian's promtool (`promtool("check", "config", path)`)."""
    return prometheus.promtool


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[str]:
    """A Tansu Kafka broker for the session (in-memory); yields host:port. Tests use unique topic names."""
    with streams.tansu_broker() as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """moto's server (Kinesis, DynamoDB) for the session; yields its URL. Tests use unique stream names."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    with streams.moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def rabbitmq_server() -> str:
    """The machine's RabbitMQ; `make test` starts it. Failing (not skipping) keeps the suite honest."""
    if not streams.rabbitmq_available():
        pytest.fail("RabbitMQ is not reachable on 127.0.0.1:5672; run `make services`")
    return streams.RABBITMQ_URL


@pytest.fixture
def ephemeral_prefect(tmp_path: Path) -> dict[str, str]:
    """Environment for a `datahealth` process that starts (and must stop) Prefect's temporary server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    home = tmp_path / "prefect-home"
    home.mkdir()
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
        DO_NOT_TRACK="1",
    )
    return env


@pytest.fixture
def orders_database(tmp_path: Path) -> Path:
    """`warehouse.orders` (one row, updated 2026-10-01 00:00) with a 30h/48h SLA; the project lives in tmp_path."""
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, updated_at TIMESTAMP)")
        conn.execute("INSERT INTO orders VALUES (1, '2026-10-01 00:00:00')")
    write_project(
        tmp_path,
        {"warehouse": {"kind": "sql", "url": f"sqlite:///{database}"}},
        {
            "warehouse.orders": {
                "table": "orders",
                "timestamp_column": "updated_at",
                "sla": {"warn_after": "30h", "error_after": "48h"},
            }
        },
    )
    return database


@pytest.fixture(scope="session")
def s3_store() -> Iterator[lakes.ObjectStore]:
    """moto's server as an S3 store for lake tests; the env holds the standard AWS variables."""
    with streams.moto_server() as url:
        yield lakes.s3_store(url)


@pytest.fixture(scope="session")
def azure_store() -> Iterator[lakes.ObjectStore]:
    """Azurite (Blob API) for lake tests; installed under .cache/standins when missing."""
    with lakes.azurite_server() as store:
        yield store


@pytest.fixture(scope="session")
def gcs_store() -> Iterator[lakes.ObjectStore]:
    """fake-gcs-server for lake tests; the env holds STORAGE_EMULATOR_HOST."""
    with lakes.gcs_server() as store:
        yield store


@pytest.fixture(scope="session")
def hung_endpoint() -> Iterator[str]:
    """A loopback port that accepts connections and never answers (a hung object store)."""
    with lakes.silent_listener() as url:
        yield url
