"""``fenceline metrics``, ``timeline`` and ``agreement``."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from fenceline.cli.common import ProjectArgument, console
from fenceline.errors import ParameterError

__all__ = ["register"]

FORMATS_METRICS = ("json", "table")
FORMATS_TIMELINE = ("json", "csv")


def _check_format(value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ParameterError("--format", f"must be one of {', '.join(allowed)}, not {value!r}")


def _open(path: Path) -> Any:
    import fenceline

    return fenceline.open(path)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}{unit}"
    return f"{value:,}{unit}"


def _table(result: dict[str, Any]) -> None:
    from rich.table import Table

    notice = result["provenance"].get("notice")
    if notice:
        console.print(f"[bold red]{notice}[/]")
    title = f"fenceline metrics at {result['at']}" + (
        f" since {result['since']}" if result["since"] else ""
    )
    table = Table(title=title)
    table.add_column("indicator")
    columns = [*result["areas"], result["total"]] if len(result["areas"]) > 1 else result["areas"]
    for column in columns:
        table.add_column(column["name"], justify="right")
    rows: list[tuple[str, Any]] = [
        ("border_km", lambda a: _fmt(a["border_km"])),
        ("fence_km (total)", lambda a: _fmt(a["fence_km"]["total"])),
        *[
            (f"  fence_km {k}", lambda a, k=k: _fmt(a["fence_km"][k]))
            for k in ("primary", "secondary", "tertiary", "other")
        ],
        ("fenced_border_km", lambda a: _fmt(a["fenced_border_km"])),
        ("fenced_border_km_since", lambda a: _fmt(a["fenced_border_km_since"])),
        *[
            (f"  layers_km {k}", lambda a, k=k: _fmt(a["layers_km"][k]))
            for k in ("0", "1", "2", "3+")
        ],
        ("new_fence_km", lambda a: _fmt(a["new_fence_km"])),
        ("upgraded_fence_km", lambda a: _fmt(a["upgraded_fence_km"])),
        ("uncertain_fence_km", lambda a: _fmt(a["uncertain_fence_km"])),
        ("facilities (total)", lambda a: _fmt(a["facilities"]["total"])),
        *[
            (f"  {k}", lambda a, k=k: _fmt(a["facilities"][k]))
            for k in ("guard_post", "watchtower", "garrison", "checkpoint", "other")
        ],
        ("facilities_since", lambda a: _fmt((a["facilities_since"] or {}).get("total"))),
        ("fold_increase", lambda a: _fmt(a["fold_increase"])),
        (
            "facilities_near_new_or_upgraded_fence",
            lambda a: _fmt(a["facilities_near_new_or_upgraded_fence"]),
        ),
        ("m_per_facility_along_fence", lambda a: _fmt(a["m_per_facility_along_fence"], " m")),
        ("m_per_facility_along_border", lambda a: _fmt(a["m_per_facility_along_border"], " m")),
        ("assessable_km", lambda a: _fmt(a["assessable_km"])),
        ("uncertain at T: fence_km", lambda a: _fmt(a["uncertain_at"]["fence_km"])),
        ("uncertain at T: facilities", lambda a: _fmt(a["uncertain_at"]["facilities"])),
        (
            "undated fences / facilities",
            lambda a: f"{a['undated']['fences']} / {a['undated']['facilities']}",
        ),
        (
            "outside corridor fences / facilities",
            lambda a: f"{a['outside_corridor']['fences']} / {a['outside_corridor']['facilities']}",
        ),
    ]
    for label, get in rows:
        table.add_row(label, *[get(c) for c in columns])
    console.print(table)
    p = result["provenance"]
    console.print(
        f"corridor {result['params']['corridor_m']:g} m, near {result['params']['near_m']:g} m; "
        f"{p['counts']['fences']} fences, {p['counts']['facilities']} facilities, "
        f"{p['counts']['observations_used']}/{p['counts']['observations']} observations used; "
        f"content sha256 {p['content_sha256'][:16]}…; fenceline {p['fenceline_version']}",
        highlight=False,
    )


def metrics(
    project: ProjectArgument,
    at: Annotated[
        str, typer.Option("--at", help="Evaluation date T (a month or year alone: its last day).")
    ],
    since: Annotated[str | None, typer.Option("--since", help="Baseline date S, before T.")] = None,
    area: Annotated[
        str | None, typer.Option("--area", help="Only this area (default: every area).")
    ] = None,
    corridor_m: Annotated[
        float, typer.Option("--corridor-m", help="Corridor width on the monitored side.")
    ] = 3000.0,
    near_m: Annotated[
        float, typer.Option("--near-m", help="Distance for facilities near new or upgraded fence.")
    ] = 500.0,
    fmt: Annotated[str, typer.Option("--format", help="json or table.")] = "table",
    layer_profile: Annotated[
        bool,
        typer.Option(
            "--layer-profile",
            help="JSON only: add each area's layer_profile, [from_km, to_km, layers] along "
            "the border on T.",
        ),
    ] = False,
) -> None:
    """Compute every indicator for the project's areas (definitions: docs/metrics.md)."""
    _check_format(fmt, FORMATS_METRICS)
    with _open(project) as p:
        result = p.metrics(
            at,
            since,
            area=area,
            corridor_m=corridor_m,
            near_m=near_m,
            layer_profile=layer_profile,
        )
    if fmt == "json":
        sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    else:
        _table(result)


def timeline(
    project: ProjectArgument,
    start: Annotated[str, typer.Option("--from", help="First date.")],
    end: Annotated[str, typer.Option("--to", help="Last date.")],
    step: Annotated[
        str, typer.Option("--step", help="day, week, month, quarter or year.")
    ] = "month",
    area: Annotated[
        str | None, typer.Option("--area", help="Only this area (default: all areas together).")
    ] = None,
    corridor_m: Annotated[
        float, typer.Option("--corridor-m", help="Corridor width on the monitored side.")
    ] = 3000.0,
    fmt: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
) -> None:
    """Indicators at every step between two dates, with lower and upper bounds."""
    from fenceline.metrics import timeline_rows

    _check_format(fmt, FORMATS_TIMELINE)
    with _open(project) as p:
        result = p.timeline(start, end, step, area=area, corridor_m=corridor_m)
    if fmt == "json":
        sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        return
    rows = timeline_rows(result)
    notice = result["provenance"].get("notice")
    if notice:
        sys.stdout.write(f"# {notice}\n")
    sys.stdout.write(
        f"# content_sha256={result['provenance']['content_sha256']} fenceline={result['provenance']['fenceline_version']}\n"
    )
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def agreement(
    a: Annotated[Path, typer.Argument(help="Analyst A's project (the reference).")],
    b: Annotated[Path, typer.Argument(help="Analyst B's project.")],
    tolerance_m: Annotated[float, typer.Option("--tolerance-m", help="Fence tolerance.")] = 5.0,
    point_tolerance_m: Annotated[
        float | None,
        typer.Option(
            "--point-tolerance-m", help="Facility matching distance (default: --tolerance-m)."
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="json or table.")] = "table",
) -> None:
    """Agreement of two analysts' fences (length-weighted) and facilities (matched points)."""
    import fenceline

    _check_format(fmt, FORMATS_METRICS)
    with _open(a) as pa, _open(b) as pb:
        result = fenceline.agreement(
            pa, pb, tolerance_m=tolerance_m, point_tolerance_m=point_tolerance_m
        )
    if fmt == "json":
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    f, p = result["fences"], result["facilities"]
    console.print(
        f"fences (tolerance {tolerance_m:g} m): A {f['a_km']:,.3f} km, B {f['b_km']:,.3f} km",
        highlight=False,
    )
    console.print(
        f"  precision {_fmt(f['precision'])}  recall {_fmt(f['recall'])}  F1 {_fmt(f['f1'])}",
        highlight=False,
    )
    console.print(f"facilities: A {p['a']}, B {p['b']}, matched {p['matched']}", highlight=False)
    console.print(
        f"  precision {_fmt(p['precision'])}  recall {_fmt(p['recall'])}  F1 {_fmt(p['f1'])}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics)
    app.command("timeline")(timeline)
    app.command("agreement")(agreement)
