"""``fenceline demo``: the first run of a newcomer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fenceline.cli.common import console

__all__ = ["register"]


def demo(
    out: Annotated[Path, typer.Option("-o", "--out", help="Directory to write the demo into.")] = Path(
        "demo-output"
    ),
) -> None:
    """Build a demonstration project on the bundled real border and say what it holds."""
    import fenceline
    from fenceline.geo import geodesic_length_km

    out.mkdir(parents=True, exist_ok=True)
    path = out / "demo.gpkg"
    for suffix in ("", "-wal", "-shm"):
        (out / f"demo.gpkg{suffix}").unlink(missing_ok=True)
    with fenceline.create(path, analyst="fenceline-demo") as project:
        border = project.border
        km = sum(geodesic_length_km(g) for g in border.geometry)
        console.print(f"project: {path.resolve()}")
        console.print(f"border: {border['name'].iloc[0]} ({km:,.1f} km geodesic, {len(border)} part)")
        console.print(
            f"fences: {len(project.fences)}, facilities: {len(project.facilities)}, "
            f"observations: {len(project.observations)}"
        )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
