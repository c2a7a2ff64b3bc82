"""The history store: SQLite by default, PostgreSQL when several workers share it; migrated by Alembic."""

from datahealth.store.repository import HistoryStore, HistoryStoreError, schema_fingerprint

__all__ = ["HistoryStore", "HistoryStoreError", "schema_fingerprint"]
