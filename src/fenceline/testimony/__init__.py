"""Testimony: encrypted witness records, the disclosure check, and a tamper-evident audit.

Testimony is held encrypted in the project file (AES-GCM, a key per witness wrapped by the
project key) and published only through :meth:`Vault.publish`: the disclosure check
(k-anonymity against the real population, a scan of the text for names, places, dates and
phone numbers) and sign-off by two different analysts. See ``docs/testimony.md``.

>>> from fenceline.testimony import TOPICS
>>> TOPICS["forced_repatriation"]
'Refoulement'
"""

from __future__ import annotations

from fenceline.testimony.auditlog import verify as verify_audit
from fenceline.testimony.disclosure import DisclosureReport, check_disclosure, describe
from fenceline.testimony.keys import KeySource, write_key_file
from fenceline.testimony.published import contact_chart_svg, published_for_report
from fenceline.testimony.records import Excerpt, Interview, Profile, Witness
from fenceline.testimony.scan import Finding, redact, scan_text
from fenceline.testimony.vault import PublishResult, Vault
from fenceline.testimony.vocab import TOPICS

__all__ = [
    "TOPICS",
    "DisclosureReport",
    "Excerpt",
    "Finding",
    "Interview",
    "KeySource",
    "Profile",
    "PublishResult",
    "Vault",
    "Witness",
    "check_disclosure",
    "contact_chart_svg",
    "describe",
    "published_for_report",
    "redact",
    "scan_text",
    "verify_audit",
    "write_key_file",
]
