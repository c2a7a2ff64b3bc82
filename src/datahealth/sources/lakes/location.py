"""A lake root parsed once: which store it is on, the bucket/container, and the prefix under it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from datahealth.core.errors import DatasetError
from datahealth.core.results import ErrorKind

# URL scheme → store; each store's module builds the filesystem DuckDB reads through
SCHEMES = {
    "s3": "s3",
    "s3a": "s3",
    "abfs": "azure",
    "abfss": "azure",
    "az": "azure",
    "gs": "gcs",
    "gcs": "gcs",
}


@dataclass(frozen=True)
class Location:
    """`store` is local, s3, azure or gcs; `bucket` the bucket/container; `prefix` has no slashes at the ends."""

    store: str
    scheme: str
    bucket: str
    prefix: str
    account: str | None = None  # Azure: the storage account named in an abfss:// host
    local_root: Path | None = None

    @property
    def is_local(self) -> bool:
        return self.store == "local"

    def key(self, relative: str) -> str:
        """`bucket/prefix/relative` as fsspec names objects (no scheme)."""
        return "/".join(part for part in (self.bucket, self.prefix, relative.strip("/")) if part)

    def url(self, key: str) -> str:
        """The URL DuckDB reads an object by (the scheme its registered filesystem answers)."""
        return f"{self.scheme}://{key}"

    def display(self) -> str:
        if self.local_root is not None:
            return str(self.local_root)
        return self.url(self.key(""))


def parse_root(root: str, project_root: Path) -> Location:
    """Parse `root`; an unknown URL scheme is a config error naming the ones that work."""
    if "://" not in root:
        path = Path(root).expanduser()
        path = path if path.is_absolute() else project_root / path
        return Location("local", "file", "", "", local_root=path)
    parts = urlsplit(root)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return Location("local", "file", "", "", local_root=Path(parts.path))
    store = SCHEMES.get(scheme)
    if store is None:
        raise DatasetError(
            f"lake root {root!r}: unknown scheme {scheme}:// (use s3://, abfss://, az://, gs:// or a directory)",
            ErrorKind.CONFIG,
        )
    bucket, _, account_host = parts.netloc.partition("@")
    if not bucket:
        raise DatasetError(f"lake root {root!r} names no bucket or container", ErrorKind.CONFIG)
    account = account_host.split(".", 1)[0] if account_host else None
    # fsspec's Azure filesystem answers abfs:// and az:// alike; abfss:// (TLS) maps onto the same API
    return Location(store, scheme, bucket, parts.path.strip("/"), account)
