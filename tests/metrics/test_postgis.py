"""Every indicator agrees with the same definitions written as PostGIS SQL, on a mid-size
SYNTHETIC case: a two-part border (the second part monitored on its right), a chainage range,
a range across the parts' junction, a polygon area, image footprints, several hundred fences
and facilities with their observations.

Tolerances: counts must be equal. Lengths agree to 1e-6 relative (plus 2 mm absolute): both
sides clip with GEOS in the same working projection and measure geodesically on WGS84, but
PostGIS measures with its own spheroid code (not PROJ's GeographicLib port) and sums in a
different order, and its ST_LineLocatePoint/ST_LineSubstring round fractions differently; the
differences seen are below 1e-9 km.

Needs a server: ``eval "$(bash scripts/start-postgis.sh)"`` sets FENCELINE_TEST_PG.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
import shapely

from fenceline.metrics import compute_metrics, compute_timeline
from fenceline.metrics.synthetic import synthetic_snapshot
from fenceline.metrics.timeline import step_dates
from tests.conftest import skip_or_fail
from tests.metrics.common import walk

pytestmark = pytest.mark.postgis

REL, ABS = 1e-6, 2e-6


@pytest.fixture(scope="module")
def pg() -> Any:
    """A database of its own for this test process (xdist workers and other test runs may
    share the server), dropped at the end."""
    url = os.environ.get("FENCELINE_TEST_PG")
    if not url:
        skip_or_fail("FENCELINE_TEST_PG is not set (run scripts/start-postgis.sh)")
    from fenceline.metrics import postgis_reference

    try:
        server = postgis_reference.connect(url)
    except Exception as exc:  # any connection failure: skip on a laptop, fail in CI
        skip_or_fail(f"cannot connect to {url}: {exc}")
    from psycopg.conninfo import make_conninfo

    name = f"fenceline_test_metrics_{os.getpid()}"
    server.execute(f"DROP DATABASE IF EXISTS {name}")
    server.execute(f"CREATE DATABASE {name}")
    conn = postgis_reference.connect(make_conninfo(url, dbname=name))
    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    yield postgis_reference, conn
    conn.close()
    server.execute(f"DROP DATABASE IF EXISTS {name}")
    server.close()


def mid_size_case(seed: int) -> Any:
    part_1 = walk(128.0, 41.5, 60, 40, 40)
    part_2 = walk(128.6, 41.75, 100, 30, 25)
    areas = [
        {"name": "range", "from_km": 5.0, "to_km": 30.0},
        {"name": "across the junction", "from_km": 35.0, "to_km": 60.0},
        {"name": "polygon", "geometry": shapely.box(128.3, 41.4, 128.95, 42.0)},
    ]
    images = [
        ("before", "2019-06-01", shapely.box(127.9, 41.3, 128.5, 42.0)),
        ("between", "2021-03-01", shapely.box(128.25, 41.3, 128.7, 42.0)),
        ("after", "2022-06-01", shapely.box(128.2, 41.3, 129.2, 42.0)),
    ]
    return synthetic_snapshot(
        [part_1, part_2],
        ["left", "right"],
        n_fences=300,
        n_facilities=600,
        areas=areas,
        fence_km=3.0,
        images=images,
        seed=seed,
    )


def assert_agree(got: Any, expected: Any, path: str) -> int:
    """Compare every key the SQL computed; returns how many values were compared."""
    if isinstance(expected, dict):
        return sum(assert_agree(got[k], v, f"{path}.{k}") for k, v in expected.items())
    if expected is None or isinstance(expected, (str, int)):
        assert got == expected, path
    else:
        assert got == pytest.approx(expected, rel=REL, abs=ABS), path
    return 1


@pytest.mark.parametrize(
    ("seed", "at", "since"), [(1, "2022-12-31", "2019-12-31"), (2, "2021-06-30", "2020-01-31")]
)
def test_every_indicator_matches_postgis(pg: Any, seed: int, at: str, since: str) -> None:
    reference, conn = pg
    snap = mid_size_case(seed)
    result = compute_metrics(snap, at, since, near_m=400.0)
    reference.load(conn, snap)
    expected = reference.compute(
        conn, result["provenance"]["working_projection"], at, since, near_m=400.0
    )
    assert set(expected) == {"range", "across the junction", "polygon", "total"}
    compared = 0
    for area in [*result["areas"], result["total"]]:
        compared += assert_agree(area, expected[area["name"]], area["name"])
    assert compared > 150
    # the case exercises what it claims to
    total = expected["total"]
    assert total["outside_corridor"]["fences"] > 0 and total["outside_corridor"]["facilities"] > 0
    assert total["new_fence_km"] > 0 and total["upgraded_fence_km"] > 0
    assert total["uncertain_fence_km"] > 0 and total["layers_km"]["3+"] > 0
    assert 0 < total["assessable_km"] < total["border_km"]
    assert total["facilities_near_new_or_upgraded_fence"] > 0


def test_timeline_matches_postgis(pg: Any) -> None:
    reference, conn = pg
    snap = mid_size_case(3)
    result = compute_timeline(snap, "2018-01", "2024-12", "quarter")
    reference.load(conn, snap)
    dates = step_dates(dt.date(2018, 1, 1), dt.date(2024, 12, 31), "quarter")
    expected = reference.timeline(conn, result["provenance"]["working_projection"], dates)
    assert [s["date"] for s in result["steps"]] == [e["date"] for e in expected]
    for got, want in zip(result["steps"], expected, strict=True):
        assert_agree(got, want, got["date"])
    assert expected[0]["fence_km"]["upper"] > expected[0]["fence_km"]["lower"]
    assert expected[-1]["facilities"]["lower"] > expected[0]["facilities"]["lower"]
