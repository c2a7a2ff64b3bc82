"""Listing a lake's files once per run, within a time budget, and letting DuckDB read them.

A local root is globbed and stat'ed. An object store is listed with fsspec's `find` under the pattern's
fixed prefix (the store pages it: S3 1,000 keys per request, Azure 5,000, GCS 1,000), the pattern is then
matched client-side, and each object's size and last-modified time come from the listing, so freshness
needs no read. A listing that takes longer than `list_timeout` or finds more than `max_objects` objects
fails its dataset with a one-line reason. The store's filesystem is registered in DuckDB, which then
reads `s3://`, `abfss://` or `gs://` URLs through it.
"""

from __future__ import annotations

import glob
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
from fsspec import AbstractFileSystem
from fsspec.utils import glob_translate

from datahealth.core.errors import DatasetError
from datahealth.core.results import ErrorKind
from datahealth.engines.errors import ErrorHints, classify
from datahealth.sources.lakes import azure, gcs, s3
from datahealth.sources.lakes.location import Location

_STORES: dict[str, ModuleType] = {"s3": s3, "azure": azure, "gcs": gcs}
_GLOB_CHARS = re.compile(r"[*?\[]")

# what object-store clients say, beyond the generic driver words (engines/errors.py)
STORE_HINTS: ErrorHints = {
    ErrorKind.TIMEOUT: ("read timeout", "connect timeout"),
    ErrorKind.PERMISSION: ("forbidden", "authorizationfailure", "authenticationfailed", "invalidaccesskeyid",
                           "signaturedoesnotmatch", "anonymous caller", "failed to authenticate"),
    ErrorKind.MISSING: ("nosuchbucket", "no such bucket", "containernotfound", "the specified container",
                        "bucket does not exist"),
    ErrorKind.CORRUPT: ("invalid input error", "no magic bytes", "not a parquet file", "invalid parquet"),
    ErrorKind.UNREACHABLE: ("cannot connect", "could not connect to the endpoint", "name or service not known",
                            "connection reset", "connect call failed", "max retries exceeded"),
}  # fmt: skip


@dataclass(frozen=True)
class LakeFile:
    """One file: the URL/path DuckDB reads it by, its size and last-modified time (from the listing)."""

    url: str
    size: int
    modified: datetime


class LakeStore:
    """The files under one lake root; `list` caches each pattern's listing for the store's lifetime (a run)."""

    def __init__(
        self, location: Location, options: dict[str, Any], list_timeout: float, max_objects: int
    ) -> None:
        self.location = location
        self.options = options
        self.list_timeout = list_timeout
        self.max_objects = max_objects
        self._fs: AbstractFileSystem | None = None
        self._listings: dict[str, list[LakeFile]] = {}
        self._lock = threading.Lock()
        self.list_requests = 0

    @property
    def module(self) -> ModuleType | None:
        return _STORES.get(self.location.store)

    def filesystem(self) -> AbstractFileSystem:
        """The store's fsspec filesystem (built once, from the platform's standard variables)."""
        module = self.module
        assert module is not None, "local lakes have no fsspec filesystem"
        with self._lock:
            if self._fs is None:
                try:
                    self._fs = module.filesystem(self.options, self.location.account)
                except Exception as exc:  # noqa: BLE001 - any client set-up error is this source's config
                    raise classify(exc, f"opening {self.location.display()}", STORE_HINTS) from None
            return self._fs

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """Let DuckDB read this store's URLs (nothing to do on a local disk)."""
        if not self.location.is_local:
            con.register_filesystem(self.filesystem())

    def list_files(self, pattern: str) -> list[LakeFile]:
        """The files matching `pattern` under the root, sorted by URL; listed at most once per pattern."""
        with self._lock:
            cached = self._listings.get(pattern)
        if cached is not None:
            return cached
        files = self._list_local(pattern) if self.location.is_local else self._list_remote(pattern)
        with self._lock:
            self._listings[pattern] = files
        return files

    def _list_local(self, pattern: str) -> list[LakeFile]:
        root = self.location.local_root
        assert root is not None
        if not root.is_dir():
            raise DatasetError(f"lake root {root} does not exist", ErrorKind.MISSING)
        found = []
        for name in sorted(glob.glob(str(root / pattern), recursive=True)):
            if os.path.isfile(name):
                stat = os.stat(name)
                found.append(LakeFile(name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)))
        return found

    def _list_remote(self, pattern: str) -> list[LakeFile]:
        fs = self.filesystem()
        location = self.location
        full = location.key(pattern)
        fixed = _GLOB_CHARS.split(full, maxsplit=1)[0]
        prefix = fixed if fixed == full else fixed.rsplit("/", 1)[0]
        matcher = re.compile(glob_translate(full)) if fixed != full else None
        found = _within(self.list_timeout, lambda: fs.find(prefix, detail=True), location.display())
        module = self.module
        assert module is not None
        _remember(fs, found)
        files = []
        for name, info in sorted(found.items()):
            if info.get("type") == "directory" or (matcher is not None and not matcher.match(name)):
                continue
            files.append(
                LakeFile(location.url(name), int(info.get("size") or 0), _utc(module.modified(info)))
            )
        # the stores page their listings: S3 and GCS return at most 1,000 names per request, Azure 5,000
        self.list_requests += max(1, -(-len(found) // 1000))
        if len(found) > self.max_objects:
            raise DatasetError(
                f"{location.url(prefix)} holds {len(found):,} objects, more than max_objects "
                f"({self.max_objects:,}): narrow the dataset's path or raise max_objects",
                ErrorKind.CONFIG,
            )
        return files


def _within(seconds: float, listing: Callable[[], dict[str, Any]], where: str) -> dict[str, Any]:
    """Run `listing` in a helper thread; past `seconds` the dataset fails (the thread is left to finish)."""
    future: Future[dict[str, Any]] = Future()

    def run() -> None:
        try:
            future.set_result(listing())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            future.set_exception(exc)

    threading.Thread(target=run, name=f"list {where}", daemon=True).start()
    try:
        return future.result(timeout=seconds)
    except TimeoutError:
        raise DatasetError(
            f"listing {where} took longer than list_timeout ({seconds:g} s): "
            "narrow the path, add partition_window or raise list_timeout",
            ErrorKind.TIMEOUT,
        ) from None
    except FileNotFoundError as exc:
        raise DatasetError(
            f"listing {where} failed: bucket or container not found ({exc})", ErrorKind.MISSING
        ) from None
    except PermissionError:
        raise DatasetError(f"listing {where} failed: permission denied", ErrorKind.PERMISSION) from None
    except DatasetError:
        raise
    except Exception as exc:  # noqa: BLE001 - every client error becomes this dataset's one-line reason
        raise classify(exc, f"listing {where} failed", STORE_HINTS) from None


def _remember(fs: AbstractFileSystem, found: dict[str, Any]) -> None:
    """Seed the filesystem's directory cache with the listing, so DuckDB's opens need no HEAD per file."""
    by_parent: dict[str, list[dict[str, Any]]] = {}
    for name, info in found.items():
        by_parent.setdefault(name.rsplit("/", 1)[0], []).append({**info, "name": name})
    for parent, entries in by_parent.items():
        fs.dircache[parent] = entries


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.fromtimestamp(0, UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_path(file: LakeFile) -> Path:
    return Path(file.url)
