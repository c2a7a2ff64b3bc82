"""BigQuery's stand-in: bqemulator (in its own virtualenv), and administrator access to it.

Datahealth reaches it as it reaches BigQuery, through a client whose `api_endpoint` points at the
emulator with anonymous credentials (`connect_args: {api_endpoint: http://127.0.0.1:PORT, anonymous:
true}`). The emulator is ephemeral: its datasets go when it stops.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datahealth.checks.soda_env import prepare_soda
from datahealth.core.processes import free_port
from datahealth.demo.standins.process import standin_server

PROJECT = "test"


@dataclass(frozen=True)
class BigQueryEmulator:
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connect_args(self) -> dict[str, Any]:
        return {"api_endpoint": self.endpoint, "anonymous": True}

    def url(self, dataset: str) -> str:
        return f"bigquery://{PROJECT}/{dataset}"

    def client(self) -> Any:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=PROJECT,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint},
        )

    def execute(self, *statements: str) -> None:
        client = self.client()
        try:
            for statement in statements:
                client.query(statement).result()
        finally:
            client.close()

    @contextmanager
    def dataset(self, prefix: str = "dh_test") -> Iterator[str]:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        client = self.client()
        try:
            client.create_dataset(name)
            yield name
        finally:
            client.delete_dataset(name, delete_contents=True, not_found_ok=True)
            client.close()


@contextmanager
def soda_with_anonymous_credentials() -> Iterator[None]:
    """soda-bigquery asks for application-default credentials; against the emulator they are anonymous."""
    from google.auth.credentials import AnonymousCredentials

    prepare_soda()  # soda_core first, then its plugins: the other order trips Soda's plugin loader
    from soda_bigquery.common.data_sources import bigquery_data_source  # noqa: F401  (before its connection module)
    from soda_bigquery.common.data_sources import bigquery_data_source_connection as soda_connection

    original = soda_connection.default
    soda_connection.default = lambda *args, **kwargs: (AnonymousCredentials(), PROJECT)
    try:
        yield
    finally:
        soda_connection.default = original


@contextmanager
def bigquery_emulator(standins: Path, log_dir: Path) -> Iterator[BigQueryEmulator]:
    """bqemulator on free loopback ports, with soda-bigquery able to scan it, until the block ends."""
    rest, grpc = free_port(), free_port()
    home = (
        standins / "bqemulator" / "home"
    ).resolve()  # where scripts/standins.sh installed DuckDB's extensions
    with (
        standin_server(
            standins,
            "bqemulator",
            "bqemulator_server.py",
            [rest, grpc],
            log_dir / "bqemulator.log",
            env={"HOME": str(home)},
        ),
        soda_with_anonymous_credentials(),
    ):
        yield BigQueryEmulator(rest)
