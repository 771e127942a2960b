"""Every indicator agrees with a brute-force pure-Python reading of its definition on small
random cases (hypothesis)."""

from __future__ import annotations

import itertools

import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fenceline.metrics import compute_metrics
from tests.metrics.common import snapshot, walk
from tests.metrics.reference import Border, layers_at, reference_metrics

DATES = [
    "2019-01-01",
    "2019-07-01",
    "2020-01-01",
    "2020-07-01",
    "2021-01-01",
    "2021-07-01",
    "2022-01-01",
]
STATES = ["present", "present", "absent", "upgraded", "removed", "unclear"]
LAYERS = ["primary", "secondary", "tertiary", "other"]
KINDS = ["guard_post", "watchtower", "garrison", "checkpoint", "other"]
KM_TOL = (
    5e-3  # 5 m: the engine projects in a conformal plane, the reference in local azimuthal ones
)


@st.composite
def cases(draw: st.DrawFn) -> dict:
    lon0 = draw(st.floats(124.5, 130.0))
    lat0 = draw(st.floats(40.0, 42.5))
    azimuth = draw(st.floats(20, 160))
    coords = [(lon0, lat0)]
    for _ in range(draw(st.integers(3, 5))):
        azimuth += draw(st.floats(-10, 10))
        step = walk(*coords[-1], azimuth, draw(st.floats(2.0, 4.0)), 1)
        coords.append(step.coords[-1])
    border = Border(coords)
    length = border.length_km
    lo = draw(st.floats(0.0, length * 0.3))
    hi = draw(st.floats(length * 0.65, length))
    fences, facilities, observations = [], [], []

    def observe(fid: str) -> None:
        if draw(st.integers(0, 3)) > 0:  # a construction story: absent, present, maybe upgraded
            i, j, k = sorted(
                draw(st.lists(st.integers(0, len(DATES) - 1), min_size=3, max_size=3, unique=True))
            )
            observations.extend([(fid, DATES[i], "absent"), (fid, DATES[j], "present")])
            if draw(st.booleans()):
                observations.append((fid, DATES[k], draw(st.sampled_from(["upgraded", "removed"]))))
            return
        for _ in range(draw(st.integers(0, 3))):
            observations.append((fid, draw(st.sampled_from(DATES)), draw(st.sampled_from(STATES))))

    for i in range(draw(st.integers(1, 6))):
        where = draw(st.sampled_from(["inside", "inside", "right_side", "before_area"]))
        span = draw(st.floats(0.3, 1.2))
        if where == "before_area":
            if lo < 2.0:
                continue
            start = draw(st.floats(0.0, lo - 1.5))
        else:
            start = draw(st.floats(lo + 0.6, hi - 0.6 - span))
        n = draw(st.integers(2, 4))
        pts = []
        for k in range(n):
            offset = draw(st.floats(150, 1800))
            pts.append(
                border.at(start + span * k / (n - 1), -offset if where == "right_side" else offset)
            )
        fid = f"f{i}"
        fences.append(
            (fid, draw(st.sampled_from(LAYERS)), pts, where == "inside", where != "before_area")
        )
        observe(fid)
    for i in range(draw(st.integers(0, 12))):
        where = draw(st.sampled_from(["inside", "inside", "inside", "right_side", "far"]))
        c = draw(st.floats(lo + 0.6, hi - 0.6))
        offset = {
            "inside": draw(st.floats(100, 2800)),
            "right_side": -draw(st.floats(200, 2000)),
            "far": draw(st.floats(3300, 5000)),
        }[where]
        fid = f"p{i}"
        facilities.append(
            (fid, draw(st.sampled_from(KINDS)), border.at(c, offset), where == "inside", True)
        )
        observe(fid)
    since, at = sorted(draw(st.lists(st.sampled_from(DATES), min_size=2, max_size=2, unique=True)))
    return {
        "border": border,
        "area": (lo, hi),
        "fences": fences,
        "facilities": facilities,
        "observations": observations,
        "at": at,
        "since": since,
    }


def engine_result(case: dict, **kw: object) -> dict:
    snap = snapshot(
        [shapely.LineString(case["border"].coords)],
        fences=[(f[0], f[1], shapely.LineString(f[2])) for f in case["fences"]],
        facilities=[(f[0], f[1], shapely.Point(f[2])) for f in case["facilities"]],
        observations=case["observations"],
        areas=[{"name": "A", "from_km": case["area"][0], "to_km": case["area"][1]}],
    )
    return compute_metrics(snap, case["at"], case["since"], **kw)["areas"][0]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_indicators_match_brute_force(case: dict) -> None:
    assume(case["fences"] or case["facilities"])
    expected = reference_metrics(case, case["at"], case["since"], near_m=500.0)
    assume(expected["near_margin_m"] > 5.0)
    got = engine_result(case)
    for key in (
        "border_km",
        "fenced_border_km",
        "fenced_border_km_since",
        "new_fence_km",
        "upgraded_fence_km",
        "uncertain_fence_km",
    ):
        assert abs(got[key] - expected[key]) < KM_TOL, key
    for layer, km in expected["fence_km"].items():
        assert abs(got["fence_km"][layer] - km) < 1e-5, layer
    for k, km in expected["layers_km"].items():
        assert abs(got["layers_km"][k] - km) < 4 * KM_TOL, k
    assert got["facilities"] == expected["facilities"]
    assert got["facilities_since"] == expected["facilities_since"]
    assert (
        got["facilities_near_new_or_upgraded_fence"]
        == expected["facilities_near_new_or_upgraded_fence"]
    )
    assert got["outside_corridor"] == expected["outside_corridor"]
    for key in ("fold_increase", "m_per_facility_along_fence", "m_per_facility_along_border"):
        if expected[key] is None:
            assert got[key] is None, key
        else:
            assert abs(got[key] - expected[key]) <= 1e-3 * max(1.0, expected[key]), key


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_layer_profile_matches_brute_force(case: dict) -> None:
    expected = reference_metrics(case, case["at"], case["since"], near_m=500.0)
    got = engine_result(case, layer_profile=True)
    profile = got["layer_profile"]
    lo, hi = case["area"]
    hi = min(hi, case["border"].length_km)
    # it tiles the area's border, in order, with no two neighbours alike
    assert profile[0][0] == pytest.approx(lo, abs=KM_TOL)
    assert profile[-1][1] == pytest.approx(hi, abs=KM_TOL)
    for (_, b, n), (c, _, m) in itertools.pairwise(profile):
        assert b == c and n != m
    # its lengths per count are the layers_km figures
    sums = {"0": 0.0, "1": 0.0, "2": 0.0, "3+": 0.0}
    for a, b, n in profile:
        sums["3+" if n >= 3 else str(n)] += b - a
    for k, km in got["layers_km"].items():
        assert sums[k] == pytest.approx(km, abs=1e-5), k
    # and each interval's count is what the brute force finds there
    by_layer = expected["cover_by_layer"]
    cuts = [x for iv in by_layer.values() for pair in iv for x in pair]
    for a, b, n in profile:
        mid = (a + b) / 2
        if b - a > 8 * KM_TOL and all(abs(mid - x) > 4 * KM_TOL for x in cuts):
            assert n == layers_at(by_layer, mid), (a, b)
