"""Where a lake's files live and how they are listed: the local disk or an object store (S3, Azure, GCS).

`location.py` parses a lake root (`s3://bucket/prefix`, `abfss://container@account.dfs.core.windows.net/p`,
`gs://bucket/p`, or a directory); `stores.py` lists it once per run within a time budget and registers
the store's fsspec filesystem in DuckDB; `s3.py`, `azure.py` and `gcs.py` build each filesystem from the
platform's standard environment variables; `partitions.py` reads hive partition values out of paths;
`delta.py` and `iceberg.py` read table formats from their own metadata.
"""
