"""The edge cases docs/metrics.md documents, each on a small hand-built case."""

from __future__ import annotations

import pytest
import shapely

from fenceline.errors import ParameterError
from fenceline.metrics import compute_metrics, compute_timeline, step_dates
from tests.metrics.common import GEOD, geographiclib_km, snapshot, walk

LON, LAT = 128.0, 41.5
BORDER = walk(LON, LAT, 90.0, 10.0, 10)  # 10 km due east; monitored side: left (north)
BUILT = [("absent", "2020-01-01"), ("present", "2021-01-01")]


def north(km_along: float, metres: float) -> tuple[float, float]:
    p = GEOD.Line(LAT, LON, 90.0).Position(km_along * 1000)
    q = GEOD.Direct(p["lat2"], p["lon2"], p["azi2"] - 90, metres)
    return q["lon2"], q["lat2"]


def obs(fid: str, story: list[tuple[str, str]] = BUILT) -> list[tuple[str, str, str]]:
    return [(fid, d, s) for s, d in story]


def metrics(fences=(), facilities=(), observations=(), areas=(), border=(BORDER,), **kw):
    snap = snapshot(list(border), fences, facilities, observations, areas, **kw.pop("snap", {}))
    return compute_metrics(snap, kw.pop("at", "2022-01-01"), kw.pop("since", "2020-06-01"), **kw)


def test_fence_crossing_area_boundary_counts_the_part_inside() -> None:
    fence = shapely.LineString([north(2, 500), north(8, 500)])
    r = metrics(
        [("f", "primary", fence)],
        observations=obs("f"),
        areas=[{"name": "A", "from_km": 0, "to_km": 5}],
    )
    area = r["areas"][0]
    assert area["fence_km"]["total"] == pytest.approx(3.0, rel=2e-3)
    assert area["fenced_border_km"] == pytest.approx(3.0, abs=2e-3)
    assert area["layers_km"]["0"] == pytest.approx(2.0, abs=2e-3)


def test_fence_parallel_to_border_covers_its_projection() -> None:
    fence = shapely.LineString([north(1, 2000), north(4, 2000)])
    area = metrics([("f", "secondary", fence)], observations=obs("f"))["areas"][0]
    assert area["fenced_border_km"] == pytest.approx(3.0, abs=2e-3)
    assert area["fence_km"]["secondary"] == pytest.approx(geographiclib_km(fence), rel=1e-3)


def test_fence_crossing_the_border_counts_only_the_monitored_side() -> None:
    south = GEOD.Direct(LAT, LON + 0.06, 180, 1000)
    fence = shapely.LineString([(south["lon2"], south["lat2"]), north(5, 1000)])
    area = metrics([("f", "primary", fence)], observations=obs("f"))["areas"][0]
    assert 0.9 < area["fence_km"]["total"] < 1.2  # about the northern half
    assert area["fence_km"]["total"] < geographiclib_km(fence) / 1.5


def test_border_with_several_parts_concatenates_chainage() -> None:
    second = walk(LON + 0.2, LAT + 0.1, 90.0, 5.0, 5)
    fence = shapely.LineString([north(1, 300), north(2, 300)])
    r = metrics(
        [("f", "primary", fence)],
        observations=obs("f"),
        border=(BORDER, second),
        snap={"sides": ["left", "left"]},
        areas=[
            {"name": "second", "from_km": 10.0, "to_km": 15.0},
            {"name": "first", "from_km": 0.0, "to_km": 10.0},
        ],
    )
    second_area, first_area = r["areas"]
    assert second_area["border_km"] == pytest.approx(5.0, abs=1e-3)
    assert second_area["fence_km"]["total"] == 0
    assert first_area["fence_km"]["total"] == pytest.approx(geographiclib_km(fence), rel=1e-3)
    assert r["total"]["border_km"] == pytest.approx(15.0, abs=1e-3)


def test_since_equal_to_construction_date() -> None:
    fence = shapely.LineString([north(1, 300), north(2, 300)])
    # seen present on S itself: present at S, so not new
    built_on_s = obs("f", [("absent", "2020-01-01"), ("present", "2020-06-01")])
    area = metrics([("f", "primary", fence)], observations=built_on_s)["areas"][0]
    assert area["new_fence_km"] == 0 and area["fenced_border_km_since"] > 0.99
    # seen absent on S itself: certainly absent at S, so new by T
    absent_on_s = obs("f", [("absent", "2020-06-01"), ("present", "2021-01-01")])
    area = metrics([("f", "primary", fence)], observations=absent_on_s)["areas"][0]
    assert area["new_fence_km"] == pytest.approx(area["fence_km"]["total"])


def test_undated_features_are_reported_never_counted() -> None:
    fence = shapely.LineString([north(1, 300), north(2, 300)])
    area = metrics([("f", "primary", fence)], [("p", "guard_post", shapely.Point(north(1, 200)))])[
        "areas"
    ][0]
    assert area["fence_km"]["total"] == 0 and area["facilities"]["total"] == 0
    assert area["undated"] == {"fences": 1, "facilities": 1}
    assert area["uncertain_at"]["fence_km"] == pytest.approx(1.0, rel=1e-3)


def test_polygon_area_and_assessable_km() -> None:
    polygon = shapely.box(LON - 0.01, LAT - 0.05, LON + 0.06, LAT + 0.05)  # ~5 km of border
    fence = shapely.LineString([north(1, 300), north(3, 300)])
    images = [
        ("before", "2020-01-01", shapely.box(LON - 1, LAT - 1, LON + 0.03, LAT + 1)),
        ("after", "2021-06-01", shapely.box(LON - 1, LAT - 1, LON + 1, LAT + 1)),
    ]
    area = metrics(
        [("f", "primary", fence)],
        observations=obs("f"),
        areas=[{"name": "P", "geometry": polygon}],
        snap={"images": images},
    )["areas"][0]
    border_in = geographiclib_km(shapely.intersection(BORDER, polygon))
    assert area["border_km"] == pytest.approx(border_in, rel=1e-3)
    assert area["fenced_border_km"] == pytest.approx(2.0, abs=2e-3)
    assert area["assessable_km"] == pytest.approx(
        geographiclib_km(
            shapely.intersection(BORDER, shapely.box(LON, LAT - 1, LON + 0.03, LAT + 1))
        ),
        rel=1e-3,
    )


def test_assessable_is_null_without_images_or_since() -> None:
    fence = shapely.LineString([north(1, 300), north(3, 300)])
    assert (
        metrics([("f", "primary", fence)], observations=obs("f"))["areas"][0]["assessable_km"]
        is None
    )
    r = metrics([("f", "primary", fence)], observations=obs("f"), since=None)
    assert r["areas"][0]["assessable_km"] is None and r["since"] is None


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"since": "2022-01-01"}, "--since"),
        ({"since": "2023-01-01"}, "--since"),
        ({"area": "nowhere"}, "--area"),
    ],
)
def test_bad_parameters(kwargs: dict, parameter: str) -> None:
    fence = shapely.LineString([north(1, 300), north(3, 300)])
    with pytest.raises(ParameterError) as info:
        metrics([("f", "primary", fence)], observations=obs("f"), **kwargs)
    assert info.value.parameter == parameter


def test_empty_project_and_no_border() -> None:
    with pytest.raises(ParameterError, match="nothing to measure"):
        metrics()
    fence = shapely.LineString([north(1, 300), north(3, 300)])
    with pytest.raises(ParameterError, match="no border"):
        metrics([("f", "primary", fence)], border=())


def test_timeline_bounds_bracket_the_uncertain_interval() -> None:
    fence = shapely.LineString([north(1, 300), north(3, 300)])
    snap = snapshot([BORDER], [("f", "primary", fence)], observations=obs("f"))
    result = compute_timeline(snap, "2019-10-01", "2021-06-01", "quarter")
    rows = {s["date"]: s for s in result["steps"]}
    assert rows["2019-10-01"]["fence_km"] == {"lower": 0.0, "upper": 0.0}
    assert rows["2020-04-01"]["fence_km"]["lower"] == 0.0
    assert rows["2020-04-01"]["fence_km"]["upper"] == pytest.approx(2.0, rel=2e-3)
    assert rows["2021-04-01"]["fenced_border_km"]["lower"] == pytest.approx(2.0, abs=2e-3)
    assert len(step_dates(*[__import__("datetime").date(y, 1, 1) for y in (2018, 2024)])) == 73


def test_corridor_across_a_junction_of_parts_does_not_bridge_the_gap() -> None:
    """A chainage range spanning two disjoint parts: one band per part, no band along the
    gap between the end of the first part and the start of the second (a past bug)."""
    from fenceline.geo import BorderReference

    second = walk(LON + 0.2, LAT + 0.1, 90.0, 5.0, 5)
    ref = BorderReference([BORDER, second], ["left", "right"])
    corridor = ref.corridor(1000.0, 8.0, 12.0)
    assert len(shapely.get_parts(corridor)) == 2
    # 4 km of border, 1 km wide, to the working projection's scale (well under 0.1 %)
    assert corridor.area == pytest.approx(4.0e6, rel=1e-3)
    assert corridor.area == pytest.approx(
        ref.corridor(1000.0, 8.0, 10.0).area + ref.corridor(1000.0, 10.0, 12.0).area, rel=1e-9
    )


def test_layer_profile_along_the_border() -> None:
    fences = [
        ("a", "primary", shapely.LineString([north(1, 300), north(5, 300)])),
        ("b", "secondary", shapely.LineString([north(3, 600), north(8, 600)])),
    ]
    r = metrics(fences, observations=obs("a") + obs("b"), layer_profile=True)
    profile = r["areas"][0]["layer_profile"]
    assert [n for _, _, n in profile] == [0, 1, 2, 1, 0]
    cuts = [profile[0][0]] + [b for _, b, _ in profile]
    assert cuts == pytest.approx([0, 1, 3, 5, 8, 10], abs=3e-3)
    assert "layer_profile" not in metrics(fences, observations=obs("a") + obs("b"))["areas"][0]


@pytest.mark.parametrize("table", ["observations", "images"])
def test_unreadable_stored_date_names_its_table(table: str) -> None:
    """A date another GDAL client wrote into the project that is not a date."""
    fence = shapely.LineString([north(1, 300), north(3, 300)])
    observations = obs("f")
    images = [("img", "2020-01-01", shapely.box(LON - 1, LAT - 1, LON + 1, LAT + 1))]
    if table == "observations":
        observations = [("f", "spring 2021", "present")]
    else:
        images = [("img", "not a date", images[0][2])]
    with pytest.raises(ParameterError) as caught:
        metrics([("f", "primary", fence)], observations=observations, snap={"images": images})
    column = {"observations": "observations.observed", "images": "images.acquired"}[table]
    assert caught.value.parameter == column
