"""Field and value mapping: from the names analysts use to fenceline's data model.

``--map TARGET=SOURCE`` names the source field for a target field (``--map layer=Fence_Type``);
``--value FIELD:SOURCE=TARGET`` maps a value of a vocabulary field
(``--value "layer:Main fence=primary"``); ``--default FIELD=VALUE`` fills a field the file lacks.
Vocabulary values are matched without regard to case, spaces, hyphens and a few common
synonyms (``Watch tower`` is ``watchtower``, ``Guard post`` is ``guard_post``).

>>> normalise_value("Guard Post")
'guard_post'
>>> parse_pairs(["layer=Fence_Type"], "--map")
{'layer': 'Fence_Type'}
>>> parse_value_pairs(["layer:Main fence=primary"])
{'layer': {'main_fence': 'primary'}}
"""

from __future__ import annotations

import re

from fenceline.errors import ParameterError

__all__ = ["SYNONYMS", "normalise_value", "parse_pairs", "parse_value_pairs"]

#: common spellings of vocabulary values
SYNONYMS: dict[str, str] = {
    "guardpost": "guard_post",
    "guard_posts": "guard_post",
    "post": "guard_post",
    "sentry_post": "guard_post",
    "watch_tower": "watchtower",
    "tower": "watchtower",
    "watchtowers": "watchtower",
    "barracks": "garrison",
    "base": "garrison",
    "check_point": "checkpoint",
    "patrol_road": "patrol_path",
    "patrol_strip": "patrol_path",
    "patrol_track": "patrol_path",
    "1": "primary",
    "2": "secondary",
    "3": "tertiary",
    "first": "primary",
    "second": "secondary",
    "third": "tertiary",
}


def normalise_value(value: object) -> str:
    """Lower case, spaces and hyphens to underscores, synonyms resolved."""
    text = re.sub(r"[\s\-]+", "_", str(value).strip().lower())
    return SYNONYMS.get(text, text)


def parse_pairs(items: list[str] | None, option: str) -> dict[str, str]:
    """``["a=b", ...]`` -> ``{"a": "b"}``; a malformed item is a :class:`ParameterError`."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ParameterError(option, f"expected NAME=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def parse_value_pairs(items: list[str] | None) -> dict[str, dict[str, str]]:
    """``["layer:Main fence=primary"]`` -> ``{"layer": {"main_fence": "primary"}}``."""
    out: dict[str, dict[str, str]] = {}
    for item in items or []:
        field, colon, rest = item.partition(":")
        source, eq, target = rest.rpartition("=")
        if not colon or not eq or not field.strip() or not source.strip() or not target.strip():
            raise ParameterError("--value", f"expected FIELD:SOURCE=TARGET, got {item!r}")
        out.setdefault(field.strip(), {})[normalise_value(source)] = target.strip()
    return out
