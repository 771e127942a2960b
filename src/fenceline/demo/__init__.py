"""The demonstration project: HRW's six study areas on the real border, synthetic features."""

from __future__ import annotations

from fenceline.demo.build import build_demo
from fenceline.demo.plan import CASE_STUDY, DEMO_AT, DEMO_NOTICE, DEMO_SINCE

__all__ = ["CASE_STUDY", "DEMO_AT", "DEMO_NOTICE", "DEMO_SINCE", "build_demo"]
