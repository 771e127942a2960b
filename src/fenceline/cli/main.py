"""Entry point of the ``fenceline`` program.

Library errors become one line on stderr and an exit code here, and only here: 2 for bad
input or usage (:class:`~fenceline.errors.InputError`, :class:`~fenceline.errors.ParameterError`,
:class:`~fenceline.errors.ProjectError`), 1 for other failures. Never a traceback.
"""

from __future__ import annotations

import sys

import typer

from fenceline import __version__
from fenceline.cli import (
    demo_commands,
    imagery_commands,
    metrics_commands,
    project_commands,
    report_commands,
    testimony_commands,
)
from fenceline.errors import FencelineError

app = typer.Typer(
    name="fenceline",
    help=(
        "Measure how a country seals its border, from evidence that holds up.\n\n"
        "A project is one GeoPackage file: open it in QGIS, import the fences and facilities "
        "you digitised, and compute the indicators."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

project_commands.register(app)
demo_commands.register(app)
metrics_commands.register(app)
report_commands.register(app)
imagery_commands.register(app)
testimony_commands.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fenceline {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """fenceline."""


def run(argv: list[str] | None = None) -> None:
    """Run the program; exit 0 ok, 1 failure, 2 bad input or usage."""
    from fenceline.cli.common import err_console

    try:
        # with standalone_mode=False, click returns (not raises) the code of typer.Exit(code)
        result = app(args=argv, standalone_mode=False)
    except FencelineError as exc:
        err_console.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except Exception as exc:  # click usage errors and anything unexpected
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        err_console.print(
            f"error: {type(exc).__name__}: {exc}", highlight=False, markup=False, soft_wrap=True
        )
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
