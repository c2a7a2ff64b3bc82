"""Google Cloud Storage through gcsfs, with Application Default Credentials.

`GOOGLE_APPLICATION_CREDENTIALS` (a service-account key file), workload identity or `gcloud auth
application-default login` give the credentials; `STORAGE_EMULATOR_HOST` points at an emulator (then no
credentials are sent). `storage_options` go to `gcsfs.GCSFileSystem` as they are (e.g. `project`).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from fsspec import AbstractFileSystem

PROTOCOLS = ("gs", "gcs")


def filesystem(options: dict[str, Any], account: str | None = None) -> AbstractFileSystem:
    # gcsfs otherwise probes every bucket for a hierarchical namespace over gRPC, which can hang for 60 s
    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    import gcsfs

    settings: dict[str, Any] = {"skip_instance_cache": True, **options}
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator:
        settings.setdefault("token", "anon")
        settings.setdefault("endpoint_url", emulator if "://" in emulator else f"http://{emulator}")
    return gcsfs.GCSFileSystem(**settings)


def modified(info: dict[str, Any]) -> datetime | None:
    value = info.get("updated") or info.get("mtime")
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None
