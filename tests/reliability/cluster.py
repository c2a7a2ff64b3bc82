"""A PostgreSQL cluster of the tests' own (initdb into a temp dir, a free loopback port) to stop and break.

The machine's server on 5432 is shared by every test and developer, so the fault tests never stop it:
they stop, restart and misconfigure this one instead. `initdb` refuses to run as root, so when the
tests run as root the cluster is created and run by the `postgres` system user (`runuser`). With a
`password` the cluster uses scram-sha-256 over TCP, so a URL password is really needed (and checked).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.support.ports import free_port

SUPERUSER = "postgres"
START_TIMEOUT = 60


def _as_server_user(argv: list[str]) -> list[str]:
    """initdb and postgres refuse root: run them as the `postgres` system user when we are root."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", SUPERUSER, "--", *argv]


class PrivateCluster:
    """initdb once; `start()`/`stop()` as often as a test needs; `destroy()` removes everything."""

    def __init__(self, password: str | None = None) -> None:
        self.password = password
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="datahealth-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SUPERUSER)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        argv = [
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C.UTF-8",
            "--auth-local=trust",
        ]
        if password is None:
            argv.append("--auth-host=trust")
        else:
            pwfile = self.root / "pwfile"
            pwfile.write_text(password + "\n")
            if os.geteuid() == 0:
                os.chown(pwfile, entry.pw_uid, entry.pw_gid)
            argv += ["--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        self._run(argv)
        if password is not None:
            (self.root / "pwfile").unlink()

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(_as_server_user(argv), capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()}\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # lifecycle -----------------------------------------------------------------------------------

    def running(self) -> bool:
        try:
            with psycopg.connect(self.dsn(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def start(self) -> None:
        """Start and poll until it accepts connections (pg_ctl -w waits for the postmaster's ready file)."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off"
        self._run(
            [
                "pg_ctl",
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                str(START_TIMEOUT),
                "start",
            ]
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not self.running():
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"private PostgreSQL on {self.port} did not accept connections:\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop at once, as a crash or a cut network would (open connections break mid-session)."""
        self._run(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def ensure_running(self) -> None:
        if not self.running():
            self.start()

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                _as_server_user(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    # connections ---------------------------------------------------------------------------------

    def dsn(self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        secret = password if password is not None else (self.password if user == SUPERUSER else None)
        auth = f" password={secret}" if secret else ""
        return f"host=127.0.0.1 port={self.port} user={user} dbname={dbname}{auth}"

    def url(self, dbname: str, user: str = SUPERUSER, password: str | None = None) -> str:
        """A SQLAlchemy URL; the superuser's URL carries the cluster password when there is one."""
        secret = password if password is not None else (self.password if user == SUPERUSER else None)
        auth = f"{user}:{secret}" if secret else user
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{dbname}"

    def execute(self, *statements: str, dbname: str = "postgres") -> None:
        """Run the tests' own DDL as the superuser (autocommit)."""
        with psycopg.connect(self.dsn(dbname), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)  # the tests' own DDL

    def create_database(self, name: str) -> str:
        self.execute(f'CREATE DATABASE "{name}"')
        return name
