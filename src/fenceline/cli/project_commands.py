"""``fenceline init``, ``import`` and ``export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fenceline.cli.common import AnalystOption, ProjectArgument, console

__all__ = ["register"]


def init(
    project: Annotated[Path, typer.Argument(help="The project file to create (.gpkg).")],
    border: Annotated[
        Path | None,
        typer.Option(help="Border line file (default: the bundled Natural Earth line)."),
    ] = None,
    side: Annotated[
        str | None,
        typer.Option(help="The monitored country's side of the line: left or right."),
    ] = None,
    areas: Annotated[Path | None, typer.Option(help="Study areas to import.")] = None,
    analyst: AnalystOption = None,
) -> None:
    """Create a project file (a GeoPackage that QGIS opens as it is)."""
    import fenceline

    with fenceline.create(project, border=border, side=side, areas=areas, analyst=analyst) as p:
        parts = len(p.border)
        n_areas = len(p.areas)
    console.print(f"created {project}: border in {parts} part(s), {n_areas} area(s)")


def import_(
    project: ProjectArgument,
    source: Annotated[
        Path,
        typer.Argument(
            help="The file to import (GeoJSON, GeoPackage, Shapefile or .zip, KML/KMZ, CSV)."
        ),
    ],
    as_: Annotated[
        str,
        typer.Option(
            "--as", help="What the file holds: fences, facilities, areas or observations."
        ),
    ],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="TARGET=SOURCE: read TARGET (id, layer, kind, name, first_seen, last_absent, "
            "upgraded_seen, removed_seen, lon, lat, wkt, feature_id, observed, state...) from the "
            "field SOURCE. Repeatable.",
        ),
    ] = None,
    value: Annotated[
        list[str] | None,
        typer.Option(
            "--value",
            help='FIELD:SOURCE=TARGET: map a value of layer or kind, e.g. "layer:Main fence=primary". Repeatable.',
        ),
    ] = None,
    default: Annotated[
        list[str] | None,
        typer.Option(
            "--default",
            help="FIELD=VALUE for features whose file has no such field, e.g. layer=primary.",
        ),
    ] = None,
    observed: Annotated[
        str | None,
        typer.Option(
            help="Every imported feature was seen present on this date (e.g. the image date)."
        ),
    ] = None,
    crs: Annotated[
        str | None, typer.Option(help="CRS of a file that declares none (CSV default: EPSG:4326).")
    ] = None,
    layer: Annotated[
        str | None, typer.Option(help="Layer to read from a multi-layer file.")
    ] = None,
    day_first: Annotated[
        bool | None,
        typer.Option(
            "--day-first/--month-first", help="How to read ambiguous dates like 03/04/2021."
        ),
    ] = None,
    analyst: AnalystOption = None,
) -> None:
    """Import a file into the project: all or nothing.

    A bad feature rejects the whole file with one line naming the file, the feature and the
    field (exit 2), and the project is left unchanged. Re-importing the same file updates
    features by id and never duplicates them.
    """
    import fenceline
    from fenceline.cli.common import progress_bar
    from fenceline.io.mapping import parse_pairs, parse_value_pairs

    field_map = parse_pairs(map_, "--map")
    value_map = parse_value_pairs(value)
    defaults = parse_pairs(default, "--default")
    with fenceline.open(project) as p, progress_bar(f"importing {source.name}") as update:
        counts = p.import_file(
            source,
            as_=as_,
            field_map=field_map,
            value_map=value_map,
            defaults=defaults,
            observed=observed,
            crs=crs,
            layer=layer,
            day_first=day_first,
            analyst=analyst,
            progress=update,
        )
    summary = ", ".join(f"{k.replace('_', ' ')}: {v:,}" for k, v in sorted(counts.items()))
    console.print(f"imported {source.name} as {as_} ({summary})", highlight=False)


def export(
    project: ProjectArgument,
    out: Annotated[
        Path, typer.Argument(help="Output file: .geojson, .gpkg, .kml, .kmz, .csv or .shp.")
    ],
    at: Annotated[
        str | None,
        typer.Option(help="Only features present or uncertain at this date, with their status."),
    ] = None,
    only: Annotated[str | None, typer.Option(help="Only fences or only facilities.")] = None,
    analyst: AnalystOption = None,
) -> None:
    """Export fences and facilities with the dates derived from their observations."""
    import fenceline

    with fenceline.open(project) as p:
        counts = p.export(out, at=at, only=only, analyst=analyst)
    summary = ", ".join(f"{k.split('_')[0]}: {v:,}" for k, v in counts.items())
    console.print(f"wrote {out} ({summary})", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("import")(import_)
    app.command("export")(export)
