"""``fenceline init``, ``import`` and ``export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fenceline.cli.common import AnalystOption, console

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


def register(app: typer.Typer) -> None:
    app.command("init")(init)
