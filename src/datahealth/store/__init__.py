"""The history store: SQLite by default, PostgreSQL when several workers share it; migrated by Alembic."""

from datahealth.store.repository import HistoryStore, HistoryStoreError, StoredObservation, schema_fingerprint

__all__ = ["HistoryStore", "HistoryStoreError", "StoredObservation", "schema_fingerprint"]
