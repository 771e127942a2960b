"""``fenceline report``: the self-contained HTML report (and its PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fenceline.cli.common import ProjectArgument, console, err_console, parse_date_option

__all__ = ["register"]


def report(
    project: ProjectArgument,
    out: Annotated[
        Path,
        typer.Option("-o", "--out", help="Directory to write report.html and report.pdf into."),
    ],
    since: Annotated[
        str | None, typer.Option("--since", help="Baseline date S (changes are measured from it).")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Evaluation date T (default: the latest observation)."),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also print a PDF with headless Chromium.")
    ] = True,
) -> None:
    """Write the report: findings, map, tables, charts, public series, methods."""
    from fenceline.report import write_report

    result = write_report(
        project,
        out,
        at=parse_date_option("--at", at, bound="end"),
        since=parse_date_option("--since", since, bound="end"),
        pdf=pdf,
    )
    console.print(f"report: {result.html.resolve()}", highlight=False, soft_wrap=True)
    if result.pdf is not None:
        console.print(f"pdf: {result.pdf.resolve()}", highlight=False, soft_wrap=True)
    elif pdf:
        err_console.print(f"pdf skipped: {result.pdf_skipped}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
