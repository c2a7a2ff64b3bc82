"""Regenerate the Prefect UI screenshots in docs/img/ from a real Prefect server and the demo project.

    .venv/bin/python scripts/prefect-screenshots.py            # writes docs/img/prefect-*.png

What it does: copies this repository's monitoring project (sla_config/, checks/, flows/) to a temporary
directory, starts `prefect server start` (UI on) on a free loopback port with its own PREFECT_HOME,
runs `datahealth demo` (30 simulated days) against it (the last day is a real flow run), then opens the UI pages in Debian's headless Chromium (through Playwright, with
`--no-sandbox` so it runs as root in containers) and saves a PNG of each. A page whose text does not show
what it should (a blank SPA, an error page) fails the script instead of producing an empty picture.
It is a documentation tool, not a test: it needs Chromium and takes a minute or two.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "img"
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1440, "height": 900}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api(base: str, path: str, body: dict | None = None) -> object:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def wait_healthy(api_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"prefect server exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    sys.exit("prefect server did not become healthy in 180 s")


def shoot(page: Page, url: str, expect: list[str], name: str) -> None:
    """Open `url`, wait until every text in `expect` is on the page, save docs/img/<name>.png."""
    page.goto(url, wait_until="networkidle")
    for text in expect:
        page.get_by_text(text, exact=False).first.wait_for(state="visible", timeout=60_000)
    body = page.inner_text("body")
    if len(body.strip()) < 200:
        sys.exit(f"{url}: the page is (nearly) blank; not saving {name}.png")
    page.wait_for_timeout(1500)  # let charts and icons settle
    target = OUT / f"{name}.png"
    page.screenshot(path=str(target), full_page=False)
    print(f"saved {target.relative_to(REPO)}")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="datahealth-screens-"))
    project = work / "project"
    project.mkdir()
    for part in ("sla_config", "checks", "flows"):
        shutil.copytree(REPO / part, project / part)
    port = free_port()
    ui = f"http://127.0.0.1:{port}"
    api_url = f"{ui}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(work / "prefect-home"),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        SODA_CORE_TELEMETRY_ENABLED="false",
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    log = work / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(api_url, server, log)
        subprocess.run(
            [str(BIN / "datahealth"), "demo", "-p", str(project), "--days", "30"], env=env, check=True
        )
        runs = api(api_url, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 1})
        assert isinstance(runs, list) and runs, "the demo made no flow run"
        run = runs[0]
        artifacts = api(
            api_url, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}, "limit": 10}
        )
        by_kind = {a["key"].rsplit("-", 1)[-1]: a["id"] for a in artifacts if a.get("key")}  # type: ignore[union-attr]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport=VIEWPORT)
            shoot(page, f"{ui}/runs/flow-run/{run['id']}", [run["name"], "observe"], "prefect-flow-run")
            shoot(page, f"{ui}/artifacts/artifact/{by_kind['summary']}", ["health score"], "prefect-summary")
            shoot(page, f"{ui}/artifacts/artifact/{by_kind['datasets']}", ["reason"], "prefect-datasets")
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
