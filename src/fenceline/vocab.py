"""Controlled vocabularies of the data model (DESIGN.md "Data model")."""

from __future__ import annotations

__all__ = [
    "FACILITY_KINDS",
    "FEATURE_TABLES",
    "FENCE_KINDS",
    "FENCE_LAYERS",
    "OBSERVATION_STATES",
    "SIDES",
]

FENCE_LAYERS: tuple[str, ...] = ("primary", "secondary", "tertiary", "other")
FENCE_KINDS: tuple[str, ...] = ("fence", "wall", "patrol_path", "other")
FACILITY_KINDS: tuple[str, ...] = ("guard_post", "watchtower", "garrison", "checkpoint", "other")
OBSERVATION_STATES: tuple[str, ...] = ("present", "absent", "upgraded", "removed", "unclear")
SIDES: tuple[str, ...] = ("left", "right")

#: the feature tables and the vocabulary fields each one has
FEATURE_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "fences": {"layer": FENCE_LAYERS, "kind": FENCE_KINDS},
    "facilities": {"kind": FACILITY_KINDS},
}
