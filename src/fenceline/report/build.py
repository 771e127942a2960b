"""Assemble the report: what metrics computed, in sentences, tables, charts and a map.

The report never computes an indicator: every figure comes from
:func:`fenceline.metrics.compute_metrics` and :func:`~fenceline.metrics.compute_timeline`
(what ``project.metrics`` and ``project.timeline`` call), on one snapshot and one engine;
this module only formats them, so the report equals
``fenceline metrics`` by construction (and a test checks it).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fenceline.hashing import sha256_file
from fenceline.report import charts
from fenceline.report.mapdata import map_layers, to_json

__all__ = ["ReportData", "collect", "render_html", "testimony_section"]

DEFINITIONS: list[tuple[str, str, str]] = [
    (
        "border_km",
        "border_km",
        "Geodesic length (WGS84) of the border line inside the study area. The denominator of every per-km-of-border figure.",
    ),
    (
        "chainage",
        "chainage",
        "Position along the border: geodesic km from the line's start to the border point nearest to a feature. A fence covers the chainage interval its vertices project onto.",
    ),
    (
        "corridor",
        "corridor",
        "The band of width corridor_m on the monitored side of the border, within the area. Features outside it are not counted; their number is reported (outside_corridor).",
    ),
    (
        "fence_km",
        "fence_km",
        "Geodesic length of fences present on the evaluation date T, clipped to the corridor, by layer (primary, secondary, tertiary, other) and in total. Fence in all layers: two parallel fences along 1 km of border count 2 km.",
    ),
    (
        "fenced_border_km",
        "fenced_border_km",
        "km of border (chainage) in the area covered by at least one fence present on T; fenced_border_km_since is the same on the baseline date S.",
    ),
    (
        "layers_km",
        "layers_km",
        "km of border covered by exactly 0, 1, 2 and 3 or more distinct fence layers on T; the four add up to border_km.",
    ),
    (
        "new_fence_km",
        "new_fence_km",
        "km of fence present on T and certainly absent on S (observed absent on or after S).",
    ),
    (
        "upgraded_fence_km",
        "upgraded_fence_km",
        "km of fence observed upgraded in (S, T]: last seen as it was on or after S, first seen upgraded on or before T.",
    ),
    (
        "uncertain_fence_km",
        "uncertain_fence_km",
        "km of fence present on T that is neither certainly present nor certainly absent on S. Never counted as new.",
    ),
    (
        "facilities",
        "facilities",
        "Security facilities (guard posts, watchtowers, garrisons, checkpoints, other) present on T inside the corridor; facilities_since: present on S.",
    ),
    ("fold_increase", "fold_increase", "facilities / facilities_since."),
    (
        "facilities_near_new_or_upgraded_fence",
        "facilities_near_new_or_upgraded_fence",
        "Facilities present on T within near_m of a new or upgraded fence.",
    ),
    (
        "m_per_facility",
        "m_per_facility_along_fence, m_per_facility_along_border",
        '1000 × fence_km / facilities and 1000 × border_km / facilities. HRW\'s "one every 110 m" is the first (743 km of fence / 6,820 facilities); along the 321 km of border it would be 47 m. Both are given, each with its denominator.',
    ),
    (
        "assessable_km",
        "assessable_km",
        "km of border covered by image footprints of both dates; empty when no images are registered.",
    ),
    (
        "timeline",
        "timeline",
        "The same indicators month by month. The line counts what was certainly present; the band reaches up to what may have been (features built between two images are uncertain between them).",
    ),
]


@dataclass
class ReportData:
    """Everything the template needs, already computed."""

    metrics: dict[str, Any]
    timeline: Any
    metrics_since: dict[str, Any] | None
    layers: dict[str, Any]
    notice: str | None
    project_path: Path
    content_sha256: str
    observations_before_since: int
    n_observations: int
    n_images: int
    testimony: str | None = None


def testimony_section(project_path: Path) -> str | None:
    """HTML of the published-testimony section, or None when there is nothing to publish.

    Uses ``fenceline.testimony.published_for_report`` when that module provides it; without
    it (or with nothing published) the report has no testimony section at all.

    >>> import os, tempfile, fenceline
    >>> path = os.path.join(tempfile.mkdtemp(), "p.gpkg")
    >>> fenceline.create(path).close()
    >>> testimony_section(Path(path)) is None
    True
    """
    try:
        from fenceline import testimony  # type: ignore[attr-defined]
    except ImportError:
        return None
    published = getattr(testimony, "published_for_report", None)
    if published is None:
        return None
    content = published(project_path)
    if not content:
        return None
    return _testimony_html(content)


def _testimony_html(content: dict[str, Any]) -> str:
    """The testimony section from ``published_for_report``'s dict (already disclosure-checked)."""
    esc = html.escape
    parts = ['<h2 id="testimony">Testimony</h2>']
    parts.append(
        f"<p>Excerpts published on {esc(str(content.get('published', '')))} after the disclosure check "
        f"(every combination of age band, sex, province, occupation and year of departure shared by at least "
        f"k = {esc(str(content.get('k', '')))} witnesses; names and places in the text checked), signed off by "
        f"{esc(str(content.get('signed_off_by', '')))}. Witnesses are described, never named.</p>"
    )
    for excerpt in content.get("excerpts", []):
        where = ", ".join(str(excerpt.get(k)) for k in ("place", "period") if excerpt.get(k))
        who = esc(str(excerpt.get("descriptor") or excerpt.get("witness") or ""))
        topics = ", ".join(str(t) for t in excerpt.get("topics") or [])
        parts.append(
            f'<blockquote class="testimony">“{esc(str(excerpt.get("text", "")))}”'
            f"<footer>{who}{' — ' + esc(where) if where else ''}"
            f"{' · ' + esc(topics) if topics else ''}</footer></blockquote>"
        )
    contact = content.get("contact_with_relatives")
    if isinstance(contact, dict) and contact.get("levels"):
        labels = {"none": "no contact", "rare": "rarely", "regular": "regularly"}
        levels = list(contact["levels"])
        svg = charts.bar_chart(
            [labels.get(level, level) for level in levels],
            {
                "before 2020": [contact["before_2020"].get(level, 0) for level in levels],
                "after 2020": [contact["after_2020"].get(level, 0) for level in levels],
            },
            title="Contact with relatives in North Korea",
            ylabel="witnesses",
            chart_id="contact",
        )
        parts.append(
            f'<figure id="chart-contact"><h3>Contact with relatives in North Korea, before and after 2020</h3>{svg}'
            f"<figcaption>How often the {esc(str(contact.get('witnesses', '')))} witnesses in the published set "
            "were in contact with relatives in North Korea before and after the border was sealed in 2020 "
            "(counts of witnesses, as coded by analysts).</figcaption></figure>"
        )
    return "\n".join(parts)


def collect(project: Any, at: dt.date, since: dt.date | None) -> ReportData:
    """Read the project and compute everything the report presents (through metrics).

    >>> import datetime as dt, os, tempfile, fenceline
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "posts.csv"), "w") as f:
    ...     _ = f.write("id,kind,lon,lat,first_seen\\np1,guard_post,129.76,42.45,2022-04-20\\n")
    >>> with fenceline.create(os.path.join(folder, "p.gpkg")) as project:
    ...     _ = project.import_file(os.path.join(folder, "posts.csv"), as_="facilities")
    ...     data = collect(project, dt.date(2023, 6, 30), None)
    >>> data.n_observations, data.metrics["at"]
    (1, '2023-06-30')
    """
    from fenceline.metrics import Engine, compute_metrics, compute_timeline

    # one read of the project and one engine for every figure: the same functions, defaults
    # and notice as project.metrics / project.timeline (and so `fenceline metrics`)
    snapshot = project.snapshot()
    notice = project.store.meta().get("notice")
    engine = Engine(snapshot)
    metrics = compute_metrics(snapshot, at, since, notice=notice, engine=engine, layer_profile=True)
    metrics_since = (
        compute_metrics(snapshot, since, notice=notice, engine=engine)
        if since is not None
        else None
    )
    start = _first_observed(snapshot.observations) or (since or at)
    begin = min(start, since) if since else start
    timeline = (
        compute_timeline(snapshot, begin, at, "month", notice=notice, engine=engine)
        if begin < at
        else None
    )
    observed = snapshot.observations["observed"].astype(str).str[:10]
    before = int((observed <= since.isoformat()).sum()) if since else 0
    return ReportData(
        metrics=metrics,
        timeline=timeline,
        metrics_since=metrics_since,
        layers=map_layers(snapshot, at, since),
        notice=notice,
        project_path=Path(project.path),
        content_sha256=snapshot.content_sha256,
        observations_before_since=before,
        n_observations=len(snapshot.observations),
        n_images=len(snapshot.images),
        # read while the project is still open: its read-only connection then leaves no
        # -wal/-shm files behind when the project closes
        testimony=testimony_section(Path(project.path)),
    )


def _first_observed(observations: Any) -> dt.date | None:
    if len(observations) == 0:
        return None
    first = str(observations["observed"].astype(str).min())[:10]
    day = dt.date.fromisoformat(first)
    return day.replace(day=1)


# --- formatting --------------------------------------------------------------------------
def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if (isinstance(value, float) and digits == 0) or isinstance(value, int):
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _total(value: Any) -> Any:
    """An indicator's headline value: ``total`` of a by-layer/by-kind object, else itself."""
    if isinstance(value, dict):
        return value.get("total")
    return value


def _static(name: str) -> str:
    return resources.files("fenceline.report").joinpath("static", name).read_text(encoding="utf-8")


def _leaflet_css() -> str:
    css = _static("leaflet/leaflet.css")
    for image in ("layers.png", "layers-2x.png"):
        data = (
            resources.files("fenceline.report")
            .joinpath("static", "leaflet", "images", image)
            .read_bytes()
        )
        css = css.replace(
            f"url(images/{image})", f"url(data:image/png;base64,{base64.b64encode(data).decode()})"
        )
    # the default marker icon is never used; its image must never be requested
    return css.replace("url(images/marker-icon.png)", "none")


def _css_string(text: str) -> str:
    """Text as the inside of a CSS string (also safe inside a <style> element)."""
    return "".join(ch if ch.isalnum() or ch in " .,:;-()'`" else f"\\{ord(ch):x} " for ch in text)


def _count(n: Any, noun: str) -> str:
    """``3 fences``, ``1 facility``: a count with its noun, singular or plural."""
    n = int(n or 0)
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n:,} {noun if n == 1 else plural}"


def _km(value: Any) -> str:
    """A length in a sentence: whole km, or one decimal below 10 km."""
    if value is None:
        return "–"
    return _num(float(value), 0) if abs(value) >= 10 or value == 0 else _num(value, 1)


def _findings(
    total: dict[str, Any],
    n_areas: int,
    at: str,
    since: str | None,
    near_m: Any = 500,
    unknown_since: str | None = None,
) -> list[dict[str, Any]]:
    """The key findings in sentences. ``unknown_since``: a baseline nothing was observed by."""
    out: list[dict[str, Any]] = []
    border = total.get("border_km")
    fence = _total(total.get("fence_km"))
    facilities = _total(total.get("facilities"))
    words = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    count = words[n_areas] if n_areas < len(words) else f"{n_areas:,}"
    areas = f"the {count} study areas" if n_areas != 1 else "the study area"
    if since is not None and total.get("new_fence_km") is not None:
        out.append(
            {
                "html": f"Between {since} and {at}, <strong>{_km(total.get('new_fence_km'))} km of new fence</strong> "
                f"appeared in {areas} ({_km(border)} km of border), and {_km(total.get('upgraded_fence_km'))} km "
                f"of existing fence was upgraded.",
                "defs": [
                    ("new_fence_km", "new fence"),
                    ("upgraded_fence_km", "upgraded"),
                    ("border_km", "border"),
                ],
            }
        )
    if unknown_since is not None:
        undated = total.get("uncertain_fence_km")
        text = f"Nothing was observed on or before {unknown_since}, so new and upgraded fence since then cannot be measured"
        if undated:
            text += (
                f": the {_km(undated)} km of fence present on {at} cannot be dated against {unknown_since} and is "
                "reported as uncertain, not counted as new"
            )
        out.append({"html": text + ".", "defs": [("uncertain_fence_km", "uncertain")]})
    out.append(
        {
            "html": f"On {at} fence in all layers measured <strong>{_km(fence)} km</strong> along {_km(border)} km of border.",
            "defs": [("fence_km", "fence km")],
        }
    )
    fenced = total.get("fenced_border_km")
    fenced_since = total.get("fenced_border_km_since")
    if fenced is not None:
        then = (
            f", against {_km(fenced_since)} km on {since}"
            if since and fenced_since is not None
            else ""
        )
        out.append(
            {
                "html": f"<strong>{_km(fenced)} km of the {_km(border)} km of border</strong> was fenced on {at}{then}.",
                "defs": [("fenced_border_km", "fenced border")],
            }
        )
    layers = total.get("layers_km") or {}
    multi = (layers.get("2") or 0) + (layers.get("3+") or 0)
    if multi:
        out.append(
            {
                "html": f"{_km(multi)} km of border had two or more layers of fence, {_km(layers.get('3+'))} km three or more.",
                "defs": [("layers_km", "layers")],
            }
        )
    if facilities:
        fold = total.get("fold_increase")
        since_count = _total(total.get("facilities_since"))
        growth = (
            (
                f", a <strong>{_num(fold, 0) if fold and fold >= 10 else _num(fold, 1)}-fold increase</strong> on the "
                f"{_num(since_count, 0)} standing on {since}"
            )
            if since and fold
            else ""
        )
        noun = "security facility" if facilities == 1 else "security facilities"
        out.append(
            {
                "html": f"<strong>{_num(facilities, 0)} {noun}</strong> stood near the fences on {at}{growth}.",
                "defs": [("facilities", "facilities")]
                + ([("fold_increase", "fold increase")] if growth else []),
            }
        )
        along_fence = total.get("m_per_facility_along_fence")
        along_border = total.get("m_per_facility_along_border")
        out.append(
            {
                "html": f"<strong>One facility every {_num(along_fence, 0)} m of fence</strong>, "
                f"or every {_num(along_border, 0)} m of border.",
                "defs": [("m_per_facility", "spacing")],
            }
        )
        near = total.get("facilities_near_new_or_upgraded_fence")
        if near is not None and since:
            out.append(
                {
                    "html": f"{_num(near, 0)} of them stand within {_num(near_m, 0)} m of a new or upgraded fence.",
                    "defs": [("facilities_near_new_or_upgraded_fence", "near")],
                }
            )
    uncertain = total.get("uncertain_fence_km")
    if since and uncertain and unknown_since is None:
        out.append(
            {
                "html": f"{_num(uncertain, 1)} km of fence present on {at} cannot be dated against {since} "
                "(no observation between): it is reported as uncertain, not counted as new.",
                "defs": [("uncertain_fence_km", "uncertain")],
            }
        )
    return out


def _nested_finding(
    area: dict[str, Any], parent: str, at: str, since: str | None
) -> dict[str, Any]:
    """A sentence for a section inside a larger area (e.g. a case study)."""
    facilities = _total(area.get("facilities"))
    then = _total(area.get("facilities_since"))
    text = f"{html.escape(str(area['name']))}, a section of {html.escape(parent)} ({_num(area.get('border_km'), 1)} km of border): "
    if since and area.get("new_fence_km") is not None:
        text += (
            f"{_num(area.get('new_fence_km'), 1)} km of new fence and {_num(area.get('upgraded_fence_km'), 1)} km "
            f"upgraded; facilities went from {_num(then, 0)} to {_num(facilities, 0)}, one every "
            f"{_num(area.get('m_per_facility_along_border_since'), 0)} m of border on {since} and every "
            f"{_num(area.get('m_per_facility_along_border'), 0)} m on {at}."
        )
    else:
        text += f"{_num(_total(area.get('fence_km')), 1)} km of fence and {_num(facilities, 0)} facilities on {at}."
    return {"html": text, "defs": [("new_fence_km", "new"), ("m_per_facility", "spacing")]}


def _missing(data: ReportData, total: dict[str, Any], at: str, since: str | None) -> list[str]:
    out = []
    if not _total(total.get("facilities")) and not _total(total.get("facilities_since")):
        out.append(
            "This project has no facilities present on either date: facility counts, the fold increase and "
            "the spacing of facilities cannot be given."
        )
    if not _total(total.get("fence_km")):
        out.append(
            f"No fence is present on {at}: fence lengths are zero and per-fence spacing cannot be given."
        )
    if since and data.observations_before_since == 0:
        out.append(
            f"No observation is dated on or before {since}: nothing is known of what stood then, so the "
            "changes since it (new and upgraded fence, facilities then, the fold increase) cannot be measured; "
            "fence present now is reported as uncertain, not as new."
        )
    if since is None:
        out.append(
            "No baseline date was given (--since): changes cannot be measured, only what stood on the date."
        )
    if data.n_images == 0:
        out.append(
            "No images are registered: the length of border assessable on both dates is unknown, and "
            "per-km figures use the whole border length in each area as their denominator."
        )
    if data.n_observations == 0:
        out.append(
            "The project has no observations: no feature can be dated, so nothing is counted as present."
        )
    undated = total.get("undated") or {}
    if undated.get("fences") or undated.get("facilities"):
        out.append(
            f"{_count(undated.get('fences'), 'fence')} and {_count(undated.get('facilities'), 'facility')} "
            "have no dated observation: they are counted on neither date (give them first_seen dates or "
            "observations)."
        )
    unsure = total.get("uncertain_at") or {}
    if unsure.get("fence_km") or unsure.get("facilities"):
        out.append(
            f"{_km(unsure.get('fence_km', 0))} km of fence and {_count(unsure.get('facilities'), 'facility')} may "
            f"or may not have stood on {at} (seen only after it, or removed around it): they are not counted as "
            "present on it."
        )
    outside = total.get("outside_corridor") or {}
    if outside.get("fences") or outside.get("facilities"):
        out.append(
            f"{_count(outside.get('fences'), 'fence')} and {_count(outside.get('facilities'), 'facility')} lie "
            "outside the corridor on the monitored side of the border and are not counted."
        )
    return out


AREA_COLUMNS: list[tuple[str, str, str | None, int]] = [
    # (key, heading, definition anchor, digits)
    ("name", "Area", None, 0),
    ("border_km", "Border km", "border_km", 1),
    ("fenced_border_km_since", "Fenced km (before)", "fenced_border_km", 1),
    ("fenced_border_km", "Fenced km (after)", "fenced_border_km", 1),
    ("fence_km", "Fence km, all layers", "fence_km", 1),
    ("new_fence_km", "New fence km", "new_fence_km", 1),
    ("upgraded_fence_km", "Upgraded km", "upgraded_fence_km", 1),
    ("uncertain_fence_km", "Uncertain km", "uncertain_fence_km", 1),
    ("facilities_since", "Facilities (before)", "facilities", 0),
    ("facilities", "Facilities (after)", "facilities", 0),
    ("fold_increase", "Fold", "fold_increase", 1),
    ("m_per_facility_along_fence", "m of fence per facility", "m_per_facility", 0),
    ("m_per_facility_along_border", "m of border per facility", "m_per_facility", 0),
    ("outside_corridor", "Outside corridor (fences / facilities)", "corridor", 0),
]


def _cell(entry: dict[str, Any], key: str, digits: int) -> str:
    if key == "name":
        return str(entry.get("name", "all areas"))
    value = entry.get(key)
    if key == "outside_corridor" and isinstance(value, dict):
        return f"{value.get('fences', 0):,} / {value.get('facilities', 0):,}"
    return _num(_total(value), digits)


def _timeline_points(
    timeline: Any,
) -> tuple[list[dt.date], dict[str, tuple[list[float], list[float], list[float]]]]:
    """Dates and (certain, lower, upper) per indicator from ``project.timeline`` output.

    The lower bound counts what was certainly present; the upper adds what may have been.
    """
    dates: list[dt.date] = []
    series: dict[str, tuple[list[float], list[float], list[float]]] = {}
    labels = {
        "fence_km": "fence km (all layers)",
        "fenced_border_km": "fenced border km",
        "facilities": "facilities",
    }
    for row in timeline.get("steps", []):
        dates.append(dt.date.fromisoformat(str(row["date"])[:10]))
        for key, label in labels.items():
            bounds = row.get(key) or {}
            low = float(bounds.get("lower") or 0.0)
            high = float(bounds.get("upper") or 0.0)
            triple = series.setdefault(label, ([], [], []))
            triple[0].append(low)
            triple[1].append(low)
            triple[2].append(high)
    return dates, series


def _nesting(data: ReportData) -> dict[str, str]:
    """Area name -> the area it lies inside (as the map layer records it)."""
    return {
        f["properties"]["name"]: f["properties"]["nested_in"]
        for f in data.layers["areas"]["features"]
        if f["properties"].get("nested_in")
    }


def _display_order(area_list: list[dict[str, Any]], nested: dict[str, str]) -> list[dict[str, Any]]:
    """Areas in the metrics' order, each section inside another area right after it."""
    ordered: list[dict[str, Any]] = []
    for a in [a for a in area_list if a.get("name") not in nested] or area_list:
        ordered.append(a)
        ordered += [b for b in area_list if nested.get(str(b.get("name"))) == a.get("name")]
    return ordered + [a for a in area_list if a not in ordered]


def _charts(data: ReportData, at: dt.date, since: dt.date | None) -> list[dict[str, str]]:
    out = []
    metrics = data.metrics
    marks = [(since, f"before: {since}")] if since else []
    marks.append((at, f"after: {at}"))
    if data.timeline:
        dates, series = _timeline_points(data.timeline)
        if dates:
            fence = {k: v for k, v in series.items() if k.startswith("fence km")}
            out.append(
                {
                    "id": "timeline-fence",
                    "title": "Fence built, month by month",
                    "svg": charts.timeline_chart(
                        dates,
                        fence,
                        title="Fence built, month by month",
                        ylabel="km of fence",
                        chart_id="timeline-fence",
                        marks=marks,
                    ),
                    "caption": "km of fence (all layers, inside the corridor) certainly present each month (line), with "
                    "the range it may have reached: a feature built between two images is uncertain between "
                    "them. Before an area's first image nothing is certainly present, so the line starts at zero and the "
                    "band shows what may already have stood. All study areas together.",
                }
            )
            fac = {k: v for k, v in series.items() if k == "facilities"}
            if fac and any(max(v[2]) > 0 for v in fac.values()):
                out.append(
                    {
                        "id": "timeline-facilities",
                        "title": "Facilities, month by month",
                        "svg": charts.timeline_chart(
                            dates,
                            fac,
                            title="Facilities, month by month",
                            ylabel="facilities",
                            chart_id="timeline-facilities",
                            marks=marks,
                        ),
                        "caption": "Facilities certainly present each month (line), and the number that may have stood (top of the band).",
                    }
                )
    total = metrics.get("total", {})
    kinds_at = total.get("facilities") if isinstance(total.get("facilities"), dict) else {}
    kinds_since = {}
    if data.metrics_since is not None:
        value = data.metrics_since.get("total", {}).get("facilities")
        kinds_since = value if isinstance(value, dict) else {}
    kinds = [k for k in kinds_at if k != "total" and (kinds_at.get(k) or kinds_since.get(k))]
    if kinds:
        groups = {}
        if since:
            groups[f"{since}"] = [kinds_since.get(k, 0) or 0 for k in kinds]
        groups[f"{at}"] = [kinds_at.get(k, 0) or 0 for k in kinds]
        out.append(
            {
                "id": "facilities-kind",
                "title": "Facilities by kind, before and after",
                "svg": charts.bar_chart(
                    kinds,
                    groups,
                    title="Facilities by kind",
                    ylabel="facilities",
                    chart_id="facilities-kind",
                ),
                "caption": "Facilities present inside the corridor on each date, by kind (all study areas).",
            }
        )
    areas = [
        a for a in _display_order(metrics.get("areas", []), _nesting(data)) if a.get("layers_km")
    ]
    if areas:
        out.append(
            {
                "id": "layer-strip",
                "title": "Layers of fence along the border",
                "svg": charts.layer_strip_chart(
                    [a["name"] for a in areas],
                    [a.get("layer_profile") or [] for a in areas],
                    title="Layers of fence along the border",
                    chart_id="layer-strip",
                ),
                "caption": f"Where along the border each area has 0, 1, 2 and 3 or more distinct "
                f"layers of fence on {at}, kilometre by kilometre (the border point nearest to "
                "each fence), areas in the order of the border line.",
            }
        )
        out.append(
            {
                "id": "layer-profile",
                "title": "Layers of fence per area",
                "svg": charts.layer_profile_chart(
                    [a["name"] for a in areas],
                    [a["layers_km"] for a in areas],
                    title="Layers of fence per area",
                    chart_id="layer-profile",
                ),
                "caption": f"km of border in each area covered by 0, 1, 2 and 3 or more distinct layers of fence on {at}, "
                "areas in the order of the border line.",
            }
        )
    return out


def _series_charts() -> list[dict[str, str]]:
    from fenceline.data import read_series

    defectors = read_series("defectors_arrivals_south_korea_1998_2024")
    trade = read_series("china_dprk_trade_annual_2015_2024")
    derived = [str(b).upper().startswith("DERIVED") for b in trade["basis"]]

    def sources(frame: Any) -> str:
        names = sorted({str(s) for s in frame["source"]})
        return "; ".join(names)

    return [
        {
            "id": "defectors",
            "title": "North Koreans arriving in South Korea, per year",
            "svg": charts.series_chart(
                defectors["year"].tolist(),
                defectors["arrivals"].tolist(),
                title="North Koreans arriving in South Korea",
                ylabel="arrivals",
                chart_id="defectors",
                highlight=(2020, 2023),
            ),
            "caption": "South Korea Ministry of Unification figures as quoted (the ministry revises them; variants are "
            f"kept in the bundled file). Sources: {sources(defectors)}.",
        },
        {
            "id": "trade",
            "title": "China–North Korea trade, per year (USD million)",
            "svg": charts.series_chart(
                trade["year"].tolist(),
                trade["total_usd_million"].tolist(),
                title="China–North Korea trade",
                ylabel="USD million",
                chart_id="trade",
                derived=derived,
                highlight=(2020, 2023),
            ),
            "caption": "China customs figures as reported; hollow bars are derived, not published (2016: from the 2017 "
            f"total and its stated change). Sources: {sources(trade)}.",
        },
    ]


def _provenance_lines(metrics: dict[str, Any]) -> list[str]:
    """What the metrics say they were computed from, and the denominators they used."""
    provenance = metrics.get("provenance") or {}
    out = []
    counts = provenance.get("counts") or {}
    if counts:
        out.append(
            "Computed from "
            + ", ".join(f"{_num(v, 0)} {k.replace('_', ' ')}" for k, v in counts.items())
            + "."
        )
    if provenance.get("border_length_km") is not None:
        out.append(f"Border line length: {_num(provenance['border_length_km'], 1)} km.")
    if provenance.get("lengths"):
        out.append(f"Lengths: {provenance['lengths']}.")
    for name, text in ((metrics.get("total") or {}).get("denominators") or {}).items():
        out.append(f"Denominator of {name}: {text}.")
    if provenance.get("fenceline_version"):
        out.append(f"fenceline {provenance['fenceline_version']}.")
    return out


def _inputs(data: ReportData) -> list[tuple[str, str]]:
    from fenceline.data import data_path

    out = [
        (
            f"project content ({data.project_path.name}: every layer and observation, not the audit)",
            data.content_sha256,
        ),
        (f"project file {data.project_path.name}", sha256_file(data.project_path)),
    ]
    for name in (
        "defectors_arrivals_south_korea_1998_2024.csv",
        "china_dprk_trade_annual_2015_2024.csv",
    ):
        out.append((f"bundled series {name}", sha256_file(data_path("series", name))))
    for name in ("ne10m_yalu_tumen_rivers.geojson", "geonames_cities15000_prk_and_border.geojson"):
        out.append((f"bundled map layer {name}", sha256_file(data_path("border", name))))
    return out


def render_html(data: ReportData, at: dt.date, since: dt.date | None) -> str:
    """The report as one self-contained HTML document.

    >>> import datetime as dt, os, tempfile, fenceline
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "posts.csv"), "w") as f:
    ...     _ = f.write("id,kind,lon,lat,first_seen\\np1,guard_post,129.76,42.45,2022-04-20\\n")
    >>> at = dt.date(2023, 6, 30)
    >>> with fenceline.create(os.path.join(folder, "p.gpkg")) as project:
    ...     _ = project.import_file(os.path.join(folder, "posts.csv"), as_="facilities")
    ...     page = render_html(collect(project, at, None), at, None)
    >>> page.startswith("<!DOCTYPE html>"), "No baseline date was given" in page
    (True, True)
    """
    import jinja2

    import fenceline
    from fenceline.data import BORDER_CAVEAT, BORDER_NAME

    metrics = data.metrics
    total = metrics.get("total", {})
    params = metrics.get("params", {})
    area_list = metrics.get("areas", [])
    at_s, since_s = at.isoformat(), since.isoformat() if since else None
    nested = _nesting(data)
    study = [a for a in area_list if a.get("name") not in nested]
    # with nothing observed by the baseline, changes since it are unknown, not zero
    baseline_unknown = since_s is not None and data.observations_before_since == 0
    findings = _findings(
        total,
        len(study) or len(area_list),
        at_s,
        None if baseline_unknown else since_s,
        params.get("near_m", 500),
        unknown_since=since_s if baseline_unknown else None,
    )
    findings += [
        _nested_finding(a, nested[a["name"]], at_s, None if baseline_unknown else since_s)
        for a in area_list
        if a.get("name") in nested
    ]
    ordered = _display_order(area_list, nested)
    rows = [
        {
            "name": a.get("name"),
            "total": False,
            "nested": a.get("name") in nested,
            "cells": [_cell(a, k, d) for k, _, _, d in AREA_COLUMNS],
        }
        for a in ordered
    ]
    rows.append(
        {
            "name": "total",
            "total": True,
            "cells": [
                "All study areas" if data.layers["areas"]["features"] else "Total",
                *[_cell(total, k, d) for k, _, _, d in AREA_COLUMNS[1:]],
            ],
        }
    )
    notice = data.notice
    head, rest = "", ""
    if notice:
        head, _, rest = notice.partition(":")
        head, rest = f"{head}:", rest
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fenceline.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        keep_trailing_newline=True,
    )
    subtitle = (
        f"Border fortification on {at_s}"
        + (f", compared with {since_s}" if since_s else "")
        + f". Project {data.project_path.name} (content sha256 {data.content_sha256[:12]}…)."
    )
    border_names = sorted(
        {str(f["properties"].get("label")) for f in data.layers["border"]["features"]}
    )
    bundled_border = BORDER_NAME in border_names
    caveat = (
        BORDER_CAVEAT
        if bundled_border
        else f"The border line is the project's own ({', '.join(border_names)}). A line drawn at a "
        "coarser scale is shorter (meanders are generalised away), so per-km figures are comparable "
        "only with figures measured on a line of similar detail."
    )
    border_text = (
        f"{caveat} Per-km figures in this report use the border length inside each area "
        "(border_km) or the fence length (fence_km) as their denominator, as each says."
    )
    attributions = [
        ("Border, rivers" if bundled_border else "Rivers")
        + " and populated places: Natural Earth 1:10m v4.0.0, public domain (naturalearthdata.com).",
        "Place names on the map: GeoNames (geonames.org), CC BY 4.0.",
        "Public series: Human Rights Watch (2024, 2022) figures as quoted; South Korea Ministry of Unification; "
        "China customs (GAC); each row's source is in the bundled files.",
        "Map drawn with Leaflet 1.9.4 (BSD-2-Clause), bundled in this file; charts made with matplotlib.",
    ]
    template = env.get_template("report.html.j2")
    return template.render(
        version=fenceline.__version__,
        notice=notice,
        notice_head=head,
        notice_rest=rest,
        notice_css=_css_string(notice or ""),
        title="Border fortification report"
        + (f": {data.project_path.stem}" if data.project_path.stem else ""),
        subtitle=subtitle,
        findings=findings,
        missing=_missing(data, total, at_s, since_s),
        at=at_s,
        since=since_s,
        corridor_m=f"{params.get('corridor_m', 3000):,.0f}",
        map_attribution="Natural Earth (public domain) · GeoNames (CC BY) · Leaflet",
        map_json=to_json(data.layers),
        table_heads=[(h, a) for _, h, a, _ in AREA_COLUMNS],
        area_rows=rows,
        total_note=(
            "Indented rows are sections inside the area above them. The total is measured on the "
            "union of the areas, so a section is never counted twice."
            if nested
            else None
        ),
        charts=_charts(data, at, since),
        series_charts=_series_charts(),
        testimony=data.testimony,
        definitions=DEFINITIONS,
        border_text=border_text,
        params=json.dumps(params, sort_keys=True),
        provenance=_provenance_lines(metrics),
        inputs=_inputs(data),
        attributions=attributions,
        leaflet_css=_leaflet_css(),
        leaflet_js=_static("leaflet/leaflet.js").replace("</script", "<\\/script"),
        report_css=_static("report.css"),
        report_js=_static("report.js"),
    )
