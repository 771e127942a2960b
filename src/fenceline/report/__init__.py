"""The report: one self-contained HTML file (works offline, prints well) and a PDF of it.

It presents what :mod:`fenceline.metrics` computed — key findings in sentences, a map, tables
per area, charts, the corroborating public series, methods and attributions — and never
computes an indicator itself.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from fenceline.report.build import collect, render_html, testimony_section
from fenceline.report.chromium import find_chromium, run_chromium

__all__ = ["ReportResult", "testimony_section", "write_pdf", "write_report"]


@dataclass(frozen=True)
class ReportResult:
    """What :func:`write_report` wrote."""

    html: Path
    pdf: Path | None
    pdf_skipped: str | None  # why there is no PDF


def write_pdf(html_path: Path, pdf_path: Path) -> str | None:
    """Print the HTML to PDF with headless Chromium; returns why it was skipped, or None.

    The page is laid out at the printed width (A4 less the margins), with the network blocked.
    """
    binary = find_chromium()
    if binary is None:
        return "Chromium was not found (install it, or set FENCELINE_CHROMIUM)"
    pdf_path.unlink(missing_ok=True)
    result = run_chromium(
        html_path.resolve().as_uri(),
        [
            f"--print-to-pdf={pdf_path}",
            "--no-pdf-header-footer",
            "--virtual-time-budget=8000",
            "--run-all-compositor-stages-before-draw",
            # A4 less the margins (182 mm at 96 dpi): the map is laid out at the printed width
            "--window-size=688,1600",
        ],
        timeout=120,
        executable=binary,
    )
    if not pdf_path.exists() or pdf_path.stat().st_size == 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        return f"Chromium did not write the PDF ({lines[-1] if lines else f'exit {result.returncode}'})"
    return None


def write_report(
    project_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    at: dt.date | None = None,
    since: dt.date | None = None,
    pdf: bool = True,
) -> ReportResult:
    """Write ``report.html`` (and ``report.pdf``) for a project into ``out_dir``.

    ``at`` defaults to the latest observation's date; ``since`` (the baseline) is optional.
    Returns the paths written, and why there is no PDF when there is none.

    >>> import datetime as dt, os, tempfile
    >>> from fenceline.demo import build_demo
    >>> out = tempfile.mkdtemp()
    >>> project = build_demo(os.path.join(out, "demo.gpkg"))
    >>> result = write_report(project, out, since=dt.date(2019, 12, 31), pdf=False)
    >>> result.html.name, result.pdf_skipped
    ('report.html', 'not requested')
    """
    import fenceline
    from fenceline.errors import ParameterError

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with fenceline.open(project_path) as project:
        if at is None:
            observed = project.observations["observed"].astype(str)
            at = dt.date.fromisoformat(observed.max()[:10]) if len(observed) else dt.date.today()
        if since is not None and since >= at:
            raise ParameterError("--since", f"must be before --at ({since} is not before {at})")
        data = collect(project, at, since)
    html_path = out / "report.html"
    tmp = out / ".report.html.tmp"
    tmp.write_text(render_html(data, at, since), encoding="utf-8")
    tmp.replace(html_path)
    if not pdf:
        return ReportResult(html_path, None, "not requested")
    pdf_path = out / "report.pdf"
    skipped = write_pdf(html_path, pdf_path)
    return ReportResult(html_path, None if skipped else pdf_path, skipped)
