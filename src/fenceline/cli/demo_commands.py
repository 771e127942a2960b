"""``fenceline demo``: the first run of a newcomer — a project, its indicators, its report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from fenceline.cli.common import console, err_console

__all__ = ["register"]


def demo(
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Directory to write the demo into.")
    ] = Path("demo-output"),
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also print the report to PDF.")
    ] = True,
) -> None:
    """Build the demonstration project on the real border (SYNTHETIC features) and report on it."""
    import fenceline
    from fenceline.demo import DEMO_AT, DEMO_SINCE, build_demo
    from fenceline.report import write_report

    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    err_console.print(
        "SYNTHETIC DEMONSTRATION DATA: features generated to match HRW's published totals."
    )
    path = build_demo(out / "demo.gpkg")
    console.print(f"project: {path.resolve()}", highlight=False, soft_wrap=True)
    features = out / "demo-features.geojson"
    features.unlink(missing_ok=True)
    with fenceline.open(path) as project:
        project.export(features, analyst="fenceline-demo")
    console.print(f"features: {features.resolve()}", highlight=False, soft_wrap=True)
    result = write_report(path, out, at=DEMO_AT, since=DEMO_SINCE, pdf=pdf)
    if result.pdf is not None:
        console.print(f"pdf: {result.pdf.resolve()}", highlight=False, soft_wrap=True)
    elif pdf:
        err_console.print(f"pdf skipped: {result.pdf_skipped}", highlight=False, soft_wrap=True)
    console.print(f"report: {result.html.resolve()}", highlight=False, soft_wrap=True)
    err_console.print(f"done in {time.perf_counter() - started:.1f} s")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
