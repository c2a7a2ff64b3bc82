"""Real Prometheus and Pushgateway processes (Debian's binaries) on free loopback ports, for one test each.

Each instance gets its own temp storage directory and log file; readiness is polled (never a fixed
sleep) and a process that dies while starting fails the test with the tail of its log.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import json
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.ports import free_port

PROMETHEUS = "prometheus"
PUSHGATEWAY = "prometheus-pushgateway"
PROMTOOL = "promtool"
START_TIMEOUT = 60.0


def binary(name: str) -> str:
    """The path of a Debian binary; `make test` installs the packages (failing, not skipping, keeps tests honest)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin")
    if path is None:
        raise RuntimeError(
            f"{name} is not installed; run `make system-deps` (Debian packages prometheus, "
            "prometheus-pushgateway)"
        )
    return path


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    auth: tuple[str, str] | None = None

    @property
    def address(self) -> str:
        """host:port, as a Prometheus scrape target."""
        return self.url.removeprefix("http://")

    def get(self, path: str) -> tuple[int, bytes]:
        return http_get(self.url + path, auth=self.auth)

    def log_tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def http_get(url: str, timeout: float = 5.0, auth: tuple[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback test URL)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _wait_ready(service: Service, path: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(
                f"{service.name} exited with {service.process.returncode}:\n{service.log_tail()}"
            )
        try:
            status, _ = http_get(service.url + path, timeout=1.0, auth=service.auth)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    service.stop()
    raise TimeoutError(
        f"{service.name} not ready at {service.url}{path} after {timeout}s:\n{service.log_tail()}"
    )


def _start(
    name: str, argv: list[str], workdir: Path, port: int, ready_path: str, auth: tuple[str, str] | None = None
) -> Service:
    log = workdir / f"{name}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, cwd=workdir)
    service = Service(name, f"http://127.0.0.1:{port}", process, log, auth)
    _wait_ready(service, ready_path)
    return service


@contextmanager
def pushgateway(
    workdir: Path, *, basic_auth: tuple[str, str] | None = None, port: int | None = None
) -> Iterator[Service]:
    """A Pushgateway persisting to a file of its own (Debian's default file is shared), optionally with basic auth.

    `port` brings one back at the address a project already points at (an outage test's recovery).
    """
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [
        binary(PUSHGATEWAY),
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
        f"--persistence.file={workdir / 'pushgateway.data'}",
    ]
    if basic_auth is not None:
        web_config = workdir / "web.yml"
        web_config.write_text(
            yaml.safe_dump({"basic_auth_users": {basic_auth[0]: bcrypt_hash(basic_auth[1])}})
        )
        argv.append(f"--web.config.file={web_config}")
    service = _start("pushgateway", argv, workdir, port, "/-/ready", basic_auth)
    try:
        yield service
    finally:
        service.stop()


@contextmanager
def prometheus(
    workdir: Path,
    targets: list[str],
    *,
    rule_files: Sequence[Path] = (),
    honor_labels: bool = True,
    interval: str = "1s",
) -> Iterator[PrometheusApi]:
    """Prometheus scraping `targets` (host:port) every `interval`, evaluating `rule_files`."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {
                "job_name": "datahealth-test",
                "honor_labels": honor_labels,
                "static_configs": [{"targets": targets}],
            }
        ],
    }
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    argv = [
        binary(PROMETHEUS),
        f"--config.file={config_file}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    service = _start("prometheus", argv, workdir, port, "/-/ready")
    try:
        yield PrometheusApi(service)
    finally:
        service.stop()


def bcrypt_hash(password: str) -> str:
    """The bcrypt hash the exporter toolkit's web config wants, from libcrypt's crypt(3) (cost 4: fast).

    Called through ctypes: Python 3.13 removed the `crypt` module, and bcrypt is not a dependency.
    """
    library = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    library.crypt.restype = ctypes.c_char_p
    library.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    salt = "$2b$04$" + "".join(secrets.choice(alphabet) for _ in range(22))
    hashed = library.crypt(password.encode(), salt.encode())
    if not hashed or not hashed.startswith(b"$2b$04$"):
        raise RuntimeError(f"libcrypt did not produce a bcrypt hash: {hashed!r}")
    return hashed.decode()


class PrometheusApi:
    """The few calls of Prometheus' HTTP API the tests need."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def _get(self, path: str, **params: str) -> Any:
        status, body = http_get(f"{self.service.url}{path}?{urllib.parse.urlencode(params)}")
        payload = json.loads(body)
        if status != 200 or payload.get("status") != "success":
            raise AssertionError(f"{path} {params}: HTTP {status}: {payload.get('error', payload)}")
        return payload["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query; a scalar result counts as one sample."""
        data = self._get("/api/v1/query", query=expr)
        return [{"metric": {}, "value": data["result"]}] if data["resultType"] == "scalar" else data["result"]

    def series(self, match: str) -> list[dict[str, str]]:
        return list(self._get("/api/v1/series", **{"match[]": match}))

    def rules(self) -> list[dict[str, Any]]:
        return [rule for group in self._get("/api/v1/rules")["groups"] for rule in group["rules"]]

    def targets(self) -> list[dict[str, Any]]:
        return list(self._get("/api/v1/targets")["activeTargets"])

    def wait_for(self, description: str, probe: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Poll `probe` until it returns something truthy; fail with its last answer after `timeout`."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = probe()
            if last:
                return last
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout}s waiting for {description}; last answer: {last!r}")


def promtool(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [binary(PROMTOOL), *args], input=stdin, cwd=cwd, capture_output=True, timeout=120, check=False
    )


# what the `pushgateway`, `prometheus` and `promtool` fixtures hand a test (tests/conftest.py)
PushgatewayStarter = Callable[..., AbstractContextManager[Service]]
PrometheusStarter = Callable[..., AbstractContextManager[PrometheusApi]]
Promtool = Callable[..., subprocess.CompletedProcess[bytes]]


# small monitoring projects and reading exposition text ----------------------------------------

Labels = tuple[tuple[str, str], ...]


def labels(**values: str) -> Labels:
    return tuple(sorted(values.items()))


def parse_samples(text: str | bytes, *, drop: tuple[str, ...] = ()) -> dict[tuple[str, Labels], float]:
    """Exposition text → {(name, sorted labels): value}, without the labels named in `drop` (e.g. job)."""
    from prometheus_client.parser import text_string_to_metric_families

    if isinstance(text, bytes):
        text = text.decode()
    result = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            kept = {k: v for k, v in sample.labels.items() if k not in drop}
            result[(sample.name, labels(**kept))] = sample.value
    return result


def metrics_project(
    root: Path,
    *,
    datasets: Sequence[str] = ("wh.orders", "wh.customers"),
    prometheus: dict[str, Any] | None = None,
    history_url: str | None = None,
    source_url: str = "duckdb:///wh.duckdb",
) -> Path:
    """A DuckDB warehouse with `orders` (50 rows) and `customers` (5 rows) and a project monitoring `datasets`."""
    import duckdb

    from tests.support.projects import write_project

    database = root / "wh.duckdb"
    if not database.exists():
        root.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(database))
        con.execute(
            "CREATE TABLE orders AS SELECT range AS id, TIMESTAMP '2026-10-10 05:00:00' AS updated_at "
            "FROM range(50)"
        )
        con.execute(
            "CREATE TABLE customers AS SELECT range AS id, TIMESTAMP '2026-10-09 05:00:00' AS updated_at "
            "FROM range(5)"
        )
        con.close()
    known = {
        "wh.orders": {"timestamp_column": "updated_at", "sla": {"warn_after": "2h", "error_after": "4h"}},
        "wh.customers": {"timestamp_column": "updated_at", "severity": "warn", "sla": {"error_after": "1d"}},
        "wh.missing": {},
    }
    sections: dict[str, Any] = {
        "publish": {"prometheus": {"textfile": "reports/datahealth.prom", **(prometheus or {})}}
    }
    write_project(
        root,
        sources={"wh": {"kind": "sql", "url": source_url}},
        datasets={name: known[name] for name in datasets},
        **sections,
    )
    if history_url is not None:
        project_file = root / "sla_config" / "project.yaml"
        config = yaml.safe_load(project_file.read_text())
        config["history"]["url"] = history_url
        project_file.write_text(yaml.safe_dump(config, sort_keys=False))
    return root


def drop_table(root: Path, table: str) -> None:
    import duckdb

    con = duckdb.connect(str(root / "wh.duckdb"))
    con.execute(f"DROP TABLE {table}")  # test fixture's own identifier
    con.close()
