"""The report presents metrics' figures exactly, says what is synthetic and what is missing."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest

import fenceline
from fenceline.report import write_report
from tests.report.report_fixtures import small_project


def _text(page: Path) -> str:
    """The page's visible text (tags removed, entities decoded, whitespace collapsed)."""
    body = page.read_text(encoding="utf-8")
    body = re.sub(r"<script.*?</script>|<style.*?</style>|<svg.*?</svg>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _rows(page: Path) -> dict[str, list[str]]:
    """The study-area table: first cell -> the other cells."""
    body = page.read_text(encoding="utf-8")
    table = re.search(r'<h2 id="areas">.*?<tbody>(.*?)</tbody>', body, re.S).group(1)
    rows = {}
    for row in re.findall(r"<tr.*?</tr>", table, re.S):
        cells = [
            " ".join(html.unescape(re.sub(r"<[^>]+>", "", c)).split())
            for c in re.findall(r"<td.*?</td>", row, re.S)
        ]
        rows[cells[0]] = cells[1:]
    return rows


def _fmt(value: object, digits: int) -> str:
    if isinstance(value, dict):
        value = value["total"]
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _assert_report_shows(metrics: dict, page: Path, *, findings: bool = True) -> int:
    """Every cell of the study-area table (and the headline findings) equal ``metrics``."""
    rows = _rows(page)
    checked = 0
    for entry in [*metrics["areas"], {**metrics["total"], "name": "All study areas"}]:
        cells = rows[entry["name"]]
        corridor = entry["outside_corridor"]
        expected = [
            _fmt(entry["border_km"], 1),
            _fmt(entry["fenced_border_km_since"], 1),
            _fmt(entry["fenced_border_km"], 1),
            _fmt(entry["fence_km"], 1),
            _fmt(entry["new_fence_km"], 1),
            _fmt(entry["upgraded_fence_km"], 1),
            _fmt(entry["uncertain_fence_km"], 1),
            _fmt(entry["facilities_since"], 0),
            _fmt(entry["facilities"], 0),
            _fmt(entry["fold_increase"], 1),
            _fmt(entry["m_per_facility_along_fence"], 0),
            _fmt(entry["m_per_facility_along_border"], 0),
            f"{corridor['fences']:,} / {corridor['facilities']:,}",
        ]
        assert cells == expected, entry["name"]
        checked += 1
    assert len(rows) == checked  # no row the metrics do not have
    if not findings:
        return checked
    text = _text(page)
    total = metrics["total"]
    assert f"{total['new_fence_km']:,.0f} km of new fence" in text
    assert f"{total['upgraded_fence_km']:,.0f} km of existing fence was upgraded" in text
    assert f"fence in all layers measured {total['fence_km']['total']:,.0f} km" in text
    assert f"One facility every {total['m_per_facility_along_fence']:,.0f} m of fence" in text
    assert f"every {total['m_per_facility_along_border']:,.0f} m of border" in text
    assert f"{total['facilities']['total']:,.0f} security facilities" in text
    assert f"a {total['fold_increase']:,.0f}-fold increase" in text
    return checked


def test_report_figures_equal_fenceline_metrics(demo_report: dict) -> None:
    with fenceline.open(demo_report["project"]) as project:
        metrics = project.metrics(at=demo_report["at"], since=demo_report["since"])
    assert _assert_report_shows(metrics, demo_report["html"]) == len(metrics["areas"]) + 1


def test_report_figures_equal_the_metrics_command(demo_report: dict) -> None:
    """``fenceline metrics --format json``, run as a user runs it, gives the report's figures."""
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fenceline",
            "metrics",
            str(demo_report["project"]),
            "--at",
            demo_report["at"].isoformat(),
            "--since",
            demo_report["since"].isoformat(),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["at"] == demo_report["at"].isoformat()
    assert _assert_report_shows(metrics, demo_report["html"]) == len(metrics["areas"]) + 1


def test_findings_link_to_their_definitions(demo_report: dict) -> None:
    body = demo_report["html"].read_text(encoding="utf-8")
    findings = re.search(r'<ul class="findings">(.*?)</ul>', body, re.S).group(1)
    anchors = set(re.findall(r'href="#(def-[^"]+)"', findings))
    assert {"def-new_fence_km", "def-m_per_facility", "def-fence_km"} <= anchors
    for anchor in anchors:
        assert f'id="{anchor}"' in body


def test_every_page_and_the_map_say_synthetic(demo_report: dict) -> None:
    body = demo_report["html"].read_text(encoding="utf-8")
    assert "<title>SYNTHETIC DEMONSTRATION DATA" in body
    assert 'class="notice"' in body and 'class="map-synthetic"' in body
    assert '<meta name="fenceline-notice" content="SYNTHETIC DEMONSTRATION DATA' in body
    assert "@top-center" in body  # the notice is printed on every PDF page
    assert "no feature-level data of this border is public" in _text(demo_report["html"])


def test_html_is_self_contained(demo_report: dict) -> None:
    body = demo_report["html"].read_text(encoding="utf-8")
    # nothing is loaded from anywhere: no src/href to a resource, no url() but data:
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=", body)
    assert not re.search(r"url\((?!data:|#)", body.replace("url(#default#VML)", ""))
    assert "default-src 'none'" in body
    assert "sourceMappingURL" not in body


def test_methods_state_denominators_caveat_and_inputs(demo_report: dict) -> None:
    text = _text(demo_report["html"])
    assert "1,350–1,420 km" in text  # the Natural Earth caveat
    assert "743 km of fence / 6,820 facilities" in text
    with fenceline.open(demo_report["project"]) as project:
        assert project.content_sha256() in text
    assert "GeoNames (geonames.org), CC BY" in text and "Natural Earth" in text
    # the denominators as the metrics state them, and what they were computed from
    assert "Denominator of m_per_facility_along_fence: fence_km.total" in text
    assert "6,820 facilities" in text and "observations" in text


def test_layer_profile_is_drawn_along_the_border(demo_report: dict) -> None:
    body = demo_report["html"].read_text(encoding="utf-8")
    strip = body[body.index('data-chart="layer-strip"') :]
    strip = strip[: strip.index("</svg>")]
    with fenceline.open(demo_report["project"]) as project:
        metrics = project.metrics(at=demo_report["at"], layer_profile=True)
    # one bar per run of equal layer count, in every area (matplotlib writes each bar as a
    # path inside a PolyCollection group)
    runs = sum(len(a["layer_profile"]) for a in metrics["areas"])
    assert runs > 2 * len(metrics["areas"])
    bars = re.findall(r'<g id="layer-strip-PolyCollection_\d+">(.*?)</g>', strip, re.S)
    assert sum(group.count("<path") for group in bars) == runs
    for area in metrics["areas"]:
        assert area["name"] in strip


def test_public_series_are_shown_with_sources(demo_report: dict) -> None:
    body = demo_report["html"].read_text(encoding="utf-8")
    assert 'data-chart="defectors"' in body and 'data-chart="trade"' in body
    text = _text(demo_report["html"])
    assert "Ministry of Unification" in text and "Yonhap" in text and "China customs" in text


def test_report_without_facilities_says_so(tmp_path: Path) -> None:
    project = small_project(
        tmp_path / "p.gpkg", facilities=False, observed=["2019-01-10", "2023-01-10"]
    )
    result = write_report(
        project, tmp_path / "out", at=dt.date(2023, 6, 1), since=dt.date(2020, 1, 1), pdf=False
    )
    text = _text(result.html)
    assert "What this report cannot say" in text
    assert "This project has no facilities" in text
    assert "km of fence" in text
    assert "security facilities" not in text  # no finding about what is not there
    assert 'id="chart-facilities-kind"' not in result.html.read_text(encoding="utf-8")
    with fenceline.open(project) as p:
        metrics = p.metrics(at=dt.date(2023, 6, 1), since=dt.date(2020, 1, 1))
    assert _assert_report_shows(metrics, result.html, findings=False) == 2
    assert metrics["total"]["fence_km"]["total"] > 1.0  # the fixture's fence is counted
    assert _rows(result.html)["All study areas"][8] == "0"  # facilities after


def test_report_without_observations_before_since_says_so(tmp_path: Path) -> None:
    project = small_project(tmp_path / "p.gpkg", facilities=True, observed=["2022-05-10"])
    result = write_report(
        project, tmp_path / "out", at=dt.date(2023, 6, 1), since=dt.date(2020, 1, 1), pdf=False
    )
    text = _text(result.html)
    assert "No observation is dated on or before 2020-01-01" in text
    with fenceline.open(project) as p:
        metrics = p.metrics(at=dt.date(2023, 6, 1), since=dt.date(2020, 1, 1))
    # nothing is called new: it is uncertain, as metrics says
    assert metrics["total"]["new_fence_km"] == pytest.approx(0.0)
    rows = _rows(result.html)
    assert rows["All study areas"][4] == "0.0"
    assert _assert_report_shows(metrics, result.html, findings=False) == 2
    assert metrics["total"]["uncertain_fence_km"] > 0
    assert "cannot be dated against 2020-01-01" in text  # said as a finding too
    findings = re.search(
        r'<ul class="findings">(.*?)</ul>', result.html.read_text(encoding="utf-8"), re.S
    ).group(1)
    assert "km of new fence" not in findings  # unknown is not zero: no change is claimed
    assert "fold increase" not in findings


def test_since_must_precede_at(tmp_path: Path) -> None:
    from fenceline.errors import ParameterError

    project = small_project(tmp_path / "p.gpkg", facilities=True, observed=["2022-05-10"])
    with pytest.raises(ParameterError):
        write_report(
            project, tmp_path / "out", at=dt.date(2020, 1, 1), since=dt.date(2021, 1, 1), pdf=False
        )


def test_testimony_section_presents_the_published_set() -> None:
    from fenceline.report.build import _testimony_html

    section = _testimony_html(
        {
            "publication": "pub-1",
            "published": "2024-01-10",
            "k": 3,
            "signed_off_by": "reviewer",
            "levels": ["none", "rare", "regular"],
            "excerpts": [
                {
                    "witness": "W-07",
                    "descriptor": "woman in her 40s, trader",
                    "topics": ["border"],
                    "place": "Ryanggang",
                    "period": "2021",
                    "text": "The new fence <went> up in a month.",
                }
            ],
            "contact_with_relatives": {
                "witnesses": 5,
                "levels": ["none", "rare", "regular"],
                "before_2020": {"none": 0, "rare": 1, "regular": 4},
                "after_2020": {"none": 4, "rare": 1, "regular": 0},
            },
        }
    )
    assert "The new fence &lt;went&gt; up in a month." in section  # escaped, never raw
    assert "woman in her 40s, trader" in section and "k = 3" in section
    assert 'data-chart="contact"' in section


def test_no_testimony_means_no_section(demo_report: dict) -> None:
    from fenceline.report.build import testimony_section

    assert testimony_section(demo_report["project"]) is None
    assert 'id="testimony"' not in demo_report["html"].read_text(encoding="utf-8")


def test_report_command(tmp_path: Path) -> None:
    """``fenceline report``: prints the path; a month or year means its last day; bad dates exit 2."""
    import subprocess
    import sys

    project = small_project(
        tmp_path / "p.gpkg", facilities=True, observed=["2019-01-10", "2023-01-10"]
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fenceline", "report", str(project), *args, "--no-pdf"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    out = tmp_path / "out"
    result = run("-o", str(out), "--since", "2019", "--at", "2023-06")
    assert result.returncode == 0, result.stderr
    assert f"report: {(out / 'report.html').resolve()}" in result.stdout
    assert "Figures on 2023-06-30, compared with 2019-12-31" in _text(out / "report.html")

    bad = run("-o", str(tmp_path / "bad"), "--since", "2023-01-01", "--at", "2020-01-01")
    assert bad.returncode == 2
    lines = [line for line in bad.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--since" in lines[0] and "Traceback" not in bad.stderr
    assert not (tmp_path / "bad" / "report.html").exists()


def test_report_on_a_project_without_areas(tmp_path: Path) -> None:
    """No study areas: the whole border is the area, and the total is called a total."""
    posts = tmp_path / "posts.csv"
    posts.write_text(
        "id,kind,lon,lat,first_seen\np1,guard_post,129.76,42.45,2022-04-20\n", encoding="utf-8"
    )
    with fenceline.create(tmp_path / "p.gpkg") as project:
        project.import_file(posts, as_="facilities")
        metrics = project.metrics(at="2022-04-30")
    result = write_report(tmp_path / "p.gpkg", tmp_path / "out", at=dt.date(2022, 4, 30), pdf=False)
    rows = _rows(result.html)
    assert list(rows)[-1] == "Total"
    assert rows["Total"][0] == _fmt(metrics["total"]["border_km"], 1)
    assert "No baseline date was given" in _text(result.html)


def test_report_names_undated_features(tmp_path: Path) -> None:
    project = small_project(
        tmp_path / "p.gpkg", facilities=True, observed=["2019-01-10", "2023-01-10"], undated=True
    )
    with fenceline.open(project) as p:
        metrics = p.metrics(at=dt.date(2023, 6, 1), since=dt.date(2020, 1, 1))
    assert metrics["total"]["undated"]["facilities"] == 1
    result = write_report(
        project, tmp_path / "out", at=dt.date(2023, 6, 1), since=dt.date(2020, 1, 1), pdf=False
    )
    assert "0 fences and 1 facility have no dated observation" in _text(result.html)
