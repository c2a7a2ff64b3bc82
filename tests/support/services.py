"""Which fixtures bring up a real service, and so which markers a test that uses them gets.

A test that needs a service asks for it through one of these fixtures, directly or through a fixture
built on them (`pg_database` depends on `postgres_server`, so it counts too). `tests/conftest.py` marks
every collected test from `item.fixturenames` (the whole fixture closure): `integration` plus the
service's own marker. `make test-fast` deselects `integration` and so never needs a service;
`tests/test_markers.py` proves it.

Services started inside a test body are invisible to the hook, so tests never import the starters
below; they ask for the fixture of the same name, which hands the starter over.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

INTEGRATION = "integration"

SERVICE_FIXTURES: dict[str, str] = {
    # the machine's PostgreSQL (tests/support/postgres.py); pg_database and friends build on it
    "postgres_server": "postgres",
    # a private, password-protected PostgreSQL cluster the fault tests stop and start (tests/reliability)
    "cluster": "postgres",
    # Prefect: the in-process test harness, and a real `prefect server start` subprocess
    "prefect_harness": "prefect",
    "prefect_api_server": "prefect",
    "ephemeral_prefect": "prefect",  # a `datahealth` process that starts Prefect's temporary server
    # Debian's Chromium driven by Playwright
    "chromium": "chromium",
    # aiosmtpd servers on loopback ports (tests/support/smtp.py)
    "smtp_server": "smtp",
    # Debian's Prometheus, Pushgateway and promtool (tests/support/prometheus.py)
    "pushgateway": "prometheus",
    "prometheus": "prometheus",
    "promtool": "prometheus",
    # stream brokers (tests/support/streams.py): Tansu, moto's server, the machine's RabbitMQ
    "kafka_broker": "kafka",
    "aws_endpoint": "kinesis",
    "rabbitmq_server": "rabbitmq",
    # the machine's MariaDB (tests/support/mariadb.py); mariadb_database builds on it
    "mariadb_server": "mariadb",
    # cloud warehouses' local stand-ins, each in its own virtualenv (scripts/standins.sh)
    "snowflake_standin": "snowflake",
    "bigquery_standin": "bigquery",
    # object stores for lake tests (tests/support/lakes.py): moto's S3, Azurite, fake-gcs-server
    "s3_store": "s3",
    "azure_store": "azure",
    "gcs_store": "gcs",
    "hung_endpoint": "s3",  # a silent loopback listener standing in for a hung store
}


def markers_for(fixturenames: list[str] | tuple[str, ...]) -> list[str]:
    """The markers a test using `fixturenames` gets: none, or `integration` and one per service."""
    services = sorted({SERVICE_FIXTURES[name] for name in fixturenames if name in SERVICE_FIXTURES})
    return [INTEGRATION, *services] if services else []


# What reaches a service without going through a fixture: tests/test_markers.py checks that no test
# left for `make test-fast` calls one of these, in its body, its fixtures or the helpers they call.
STARTERS: tuple[tuple[str, str], ...] = (
    ("tests.support.postgres", "postgres_available"),
    ("tests.support.postgres", "temporary_database"),
    ("tests.support.postgres", "execute"),
    ("psycopg", "connect"),
    ("tests.reliability.cluster", "PrivateCluster"),
    ("tests.support.smtp", "smtp_server"),
    ("tests.support.prometheus", "pushgateway"),
    ("tests.support.prometheus", "prometheus"),
    ("tests.support.prometheus", "promtool"),
    ("tests.support.mariadb", "mariadb_available"),
    ("tests.support.mariadb", "temporary_database"),
    ("tests.support.mariadb", "execute"),
    ("tests.support.fakesnow", "fakesnow_server"),
    ("tests.support.bqemulator", "bigquery_emulator"),
    ("pymysql", "connect"),
    ("tests.orchestration.prefect_server", "prefect_server"),
    ("tests.support.streams", "tansu_broker"),
    ("tests.support.streams", "moto_server"),
    ("tests.support.streams", "rabbitmq_available"),
    ("tests.support.lakes", "azurite_server"),
    ("tests.support.lakes", "gcs_server"),
    ("tests.support.lakes", "silent_listener"),
    ("prefect.testing.utilities", "prefect_test_harness"),
    ("playwright.sync_api", "sync_playwright"),
)


def _starter_objects() -> list[tuple[object, str]]:
    found = []
    for module_name, attribute in STARTERS:
        module = importlib.import_module(module_name)
        found.append((getattr(module, attribute), f"{module_name}.{attribute}"))
    return found


def _referenced(node: ast.AST, namespace: dict[str, Any]) -> object | None:
    """The object a name (`smtp_server`) or a module attribute (`postgres.execute`) stands for."""
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        base = namespace.get(node.value.id)
        if inspect.ismodule(base):
            return getattr(base, node.attr, None)
    return None


def _module_or_none(name: str) -> object | None:
    """A module imported inside a function body; None where this Python lacks it (`crypt` on 3.13)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _local_names(tree: ast.AST) -> set[str]:
    """Names bound inside the function: parameters and assignment targets."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def starters_reached(functions: list[Callable[..., Any]], depth: int = 3) -> set[str]:
    """The STARTERS that `functions` use, directly or through test helpers up to `depth` calls deep.

    Reads each function's source: a name or `module.attribute` is resolved in the function's globals
    (and in its imports inside the body, which land in the same tree), so only what the code really
    names counts, not a same-named attribute of a config object.
    """
    starters = _starter_objects()
    found: set[str] = set()
    seen: set[object] = set()

    def visit(function: Callable[..., Any], budget: int) -> None:
        function = inspect.unwrap(function)
        code = getattr(function, "__code__", None)
        if code is None or code in seen:
            return
        seen.add(code)
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        except (OSError, TypeError, SyntaxError):
            return
        namespace = dict(getattr(function, "__globals__", {}))
        for node in ast.walk(tree):  # imports inside the body bind names too
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                module = _module_or_none(node.module)
                for alias in node.names:
                    namespace[alias.asname or alias.name] = getattr(module, alias.name, None)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.partition(".")[0]
                    namespace[bound] = _module_or_none(alias.name if alias.asname else bound)
        for name in _local_names(tree):  # a parameter called `prometheus` is not the starter
            namespace.pop(name, None)
        for node in ast.walk(tree):
            target = _referenced(node, namespace)
            if target is None:
                continue
            for starter, name in starters:
                if target is starter:
                    found.add(name)
            is_test_code = getattr(target, "__module__", "").startswith("tests.")
            if budget > 0 and is_test_code and (inspect.isfunction(target) or inspect.isclass(target)):
                members = [target] if inspect.isfunction(target) else list(vars(target).values())
                for member in members:
                    if inspect.isfunction(member):
                        visit(member, budget - 1)

    for function in functions:
        visit(function, depth)
    return found
