"""Azure Blob Storage and Data Lake Storage Gen2 through adlfs (the Blob API; `abfss://` maps onto it).

Credentials come from the standard variables adlfs reads: `AZURE_STORAGE_CONNECTION_STRING`, or
`AZURE_STORAGE_ACCOUNT_NAME` with `AZURE_STORAGE_ACCOUNT_KEY` / `AZURE_STORAGE_SAS_TOKEN`, or a service
principal (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`) and managed identity through
azure-identity's default chain. The account in an `abfss://container@account.dfs.core.windows.net/` root
is used unless a connection string names one.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from fsspec import AbstractFileSystem

PROTOCOLS = ("abfs", "abfss", "az")


def filesystem(options: dict[str, Any], account: str | None = None) -> AbstractFileSystem:
    import adlfs

    settings: dict[str, Any] = {"skip_instance_cache": True, **options}
    has_connection_string = "connection_string" in settings or os.environ.get(
        "AZURE_STORAGE_CONNECTION_STRING"
    )
    if account and not has_connection_string:
        settings.setdefault("account_name", account)
    return adlfs.AzureBlobFileSystem(**settings)


def modified(info: dict[str, Any]) -> datetime | None:
    value = info.get("last_modified")
    return value if isinstance(value, datetime) else None
