"""Project storage: one interface (:class:`Store`), a GeoPackage backend."""

from fenceline.store.base import AuditEntry, Snapshot, Store, Writer
from fenceline.store.gpkg import GeoPackageStore

__all__ = ["AuditEntry", "GeoPackageStore", "Snapshot", "Store", "Writer"]
