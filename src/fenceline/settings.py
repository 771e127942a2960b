"""Typed settings read from ``FENCELINE_*`` environment variables.

=============================  ==========================================================
``FENCELINE_ANALYST``          who is recorded in the audit when ``--analyst`` is not given
``FENCELINE_MAX_UNZIPPED_MB``  largest total an archive (KMZ, zipped Shapefile) may unpack
                               to, in MiB (default 2048); guards against zip bombs
``FENCELINE_MAX_ZIP_RATIO``    largest compression ratio of one archive member (default 200)
=============================  ==========================================================
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

__all__ = ["Settings", "resolve_analyst", "settings"]


@dataclass(frozen=True)
class Settings:
    analyst: str | None
    max_unzipped_mb: float
    max_zip_ratio: float

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            analyst=os.environ.get("FENCELINE_ANALYST") or None,
            max_unzipped_mb=float(os.environ.get("FENCELINE_MAX_UNZIPPED_MB", "2048")),
            max_zip_ratio=float(os.environ.get("FENCELINE_MAX_ZIP_RATIO", "200")),
        )


def settings() -> Settings:
    """The settings in force now (read from the environment at each call)."""
    return Settings.from_env()


def resolve_analyst(analyst: str | None = None) -> str:
    """``analyst`` if given, else ``FENCELINE_ANALYST``, else the operating-system user."""
    if analyst:
        return analyst
    from_env = settings().analyst
    if from_env:
        return from_env
    try:
        return getpass.getuser()
    except Exception:  # no user name in a bare container
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"
