"""What a short `datahealth run` costs from the shell: with and without Prefect, and which Prefect server.

Builds the demo project (seven datasets: DuckDB warehouse, Parquet/CSV lake, a stream table) in a
temporary directory, then times whole `datahealth` processes, in interleaved rounds so load drifts
spread over every variant:
- `version`: `datahealth --version`, the floor of any command (interpreter and CLI imports);
- `no_prefect`: `datahealth run --no-prefect`;
- `temporary_server`: `datahealth run` without `PREFECT_API_URL` on a Prefect home used before (the
  usual case): the run starts its own temporary server and stops it at the end;
- `temporary_server_new_home`: the same on a new `PREFECT_HOME` (Prefect creates its database first);
- `running_server`: `datahealth run` with `PREFECT_API_URL` pointing at a server that is already up.
All runs use `--no-publish`, so the figures are the monitoring and Prefect, not the channels.
`temporary_server_cost_seconds` = median(temporary_server) − median(no_prefect).

Run: `python bench/cli_start.py` (part of `make bench`); writes bench/results/cli_start.json.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine_load, print_table, write_results  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATAHEALTH = str(Path(sys.executable).with_name("datahealth"))
PREFECT = str(Path(sys.executable).with_name("prefect"))
ROUNDS = 5
VARIANTS = ("version", "no_prefect", "temporary_server", "temporary_server_new_home", "running_server")


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
        SODA_CORE_TELEMETRY_ENABLED="false",
        DO_NOT_TRACK="1",
        **extra,
    )
    return env


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return elapsed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
        env=clean_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return server, api
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the Prefect server for `running_server` did not answer within 180 s")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="datahealth-cli-bench-"))
    try:
        project = work / "project"
        project.mkdir()
        for folder in ("sla_config", "checks"):
            shutil.copytree(REPO / folder, project / folder)
        warm_home = work / "prefect-home"
        timed([DATAHEALTH, "demo", "--days", "2", "--no-prefect"], project, clean_env(warm_home))
        run = [DATAHEALTH, "run", "--no-publish"]
        timed(run, project, clean_env(warm_home))  # warm-up: creates the home's Prefect database
        server, api = start_server(work / "server-home")
        samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
        load_before = machine_load()
        try:
            for round_ in range(ROUNDS):
                new_home = work / f"new-home-{round_}"
                commands = {
                    "version": ([DATAHEALTH, "--version"], clean_env(warm_home)),
                    "no_prefect": ([*run, "--no-prefect"], clean_env(warm_home)),
                    "temporary_server": (run, clean_env(warm_home)),
                    "temporary_server_new_home": (run, clean_env(new_home)),
                    "running_server": (run, clean_env(warm_home, PREFECT_API_URL=api)),
                }
                for name in VARIANTS:
                    command, env = commands[name]
                    samples[name].append(round(timed(command, project, env), 3))
        finally:
            server.terminate()
            server.wait(timeout=30)
        medians = {name: round(statistics.median(values), 3) for name, values in samples.items()}
        results = {
            "datasets": 7,
            "rounds": ROUNDS,
            **machine_load(),
            "load_average_before": load_before["load_average"],
            "median_seconds": medians,
            "samples_seconds": samples,
            "temporary_server_cost_seconds": round(medians["temporary_server"] - medians["no_prefect"], 3),
            "running_server_cost_seconds": round(medians["running_server"] - medians["no_prefect"], 3),
        }
        print_table(
            f"`datahealth` processes on the demo project (median of {ROUNDS} interleaved rounds)",
            ["variant", "median s", "min s", "max s"],
            [(name, medians[name], min(samples[name]), max(samples[name])) for name in VARIANTS],
        )
        print(f"load average {load_before['load_average']} -> {results['load_average']}")
        print(f"written {write_results('cli_start', results)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
