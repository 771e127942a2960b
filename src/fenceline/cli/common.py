"""Options and helpers shared by every command."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from fenceline.dates import DateParseError, parse_date
from fenceline.errors import ParameterError

__all__ = [
    "AnalystOption",
    "ProjectArgument",
    "console",
    "err_console",
    "parse_date_option",
    "progress_bar",
]

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

ProjectArgument = Annotated[
    Path, typer.Argument(help="The project file (a GeoPackage made by `fenceline init`).")
]
AnalystOption = Annotated[
    str | None,
    typer.Option(
        "--analyst",
        help="Who is doing this, for the audit (default: $FENCELINE_ANALYST, else the OS user).",
    ),
]


def parse_date_option(name: str, value: str | None, bound: str = "start") -> dt.date | None:
    """Parse a date given on the command line; a bad one is a :class:`ParameterError`."""
    if value is None:
        return None
    try:
        return parse_date(value, bound=bound)  # type: ignore[arg-type]
    except DateParseError as exc:
        raise ParameterError(name, str(exc)) from None


@contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[callable]:  # type: ignore[valid-type]
    """A rich progress bar on stderr; yields ``update(done, total)``. Hidden when not a TTY."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    task = progress.add_task(description, total=total)

    def update(done: int, new_total: int | None = None) -> None:
        progress.update(task, completed=done, total=new_total if new_total is not None else total)

    with progress:
        yield update
