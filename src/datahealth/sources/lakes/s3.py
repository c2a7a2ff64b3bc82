"""Amazon S3 (and S3-compatible stores) through s3fs, with the AWS default credential chain.

Nothing S3-specific is configured by datahealth: botocore reads `AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_PROFILE`, `AWS_REGION`/`AWS_DEFAULT_REGION`,
`AWS_ENDPOINT_URL` (an S3-compatible endpoint), instance and container roles. `storage_options` in the
source config are passed to `s3fs.S3FileSystem` as they are, for the rare setting the chain cannot give.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fsspec import AbstractFileSystem

PROTOCOLS = ("s3", "s3a")
# a dead endpoint must fail the dataset in seconds, not after botocore's default retries and 60 s timeouts
_CLIENT_CONFIG = {"connect_timeout": 5, "read_timeout": 30, "retries": {"max_attempts": 2}}


def filesystem(options: dict[str, Any], account: str | None = None) -> AbstractFileSystem:
    import s3fs

    settings: dict[str, Any] = {"config_kwargs": dict(_CLIENT_CONFIG), "skip_instance_cache": True, **options}
    return s3fs.S3FileSystem(**settings)


def modified(info: dict[str, Any]) -> datetime | None:
    value = info.get("LastModified")
    return value if isinstance(value, datetime) else None
