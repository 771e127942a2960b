"""What has been published: read without the key, for reports and exports.

Only text that passed the disclosure check and two analysts' sign-off is ever stored in
plaintext; this module reads nothing else.

>>> import fenceline, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "p.gpkg")
>>> fenceline.create(path).close()
>>> published_for_report(path) is None
True
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

from fenceline.errors import ProjectError

__all__ = ["contact_chart_svg", "published_for_report"]


def published_for_report(project_path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The published testimony set of a project, or None when there is none.

    Returns ``{"publication", "published", "k", "signed_off_by", "levels", "excerpts":
    [{"witness", "descriptor", "topics", "huridocs", "place", "period", "text"}, ...],
    "contact_with_relatives": {"witnesses", "levels", "before_2020": {level: n},
    "after_2020": {level: n}} or None}``. Needs no key and writes nothing.
    """
    path = str(project_path)
    if not os.path.isfile(path):
        raise ProjectError(path, "no such project file")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0)
    except sqlite3.DatabaseError as exc:  # pragma: no cover - unreadable file
        raise ProjectError(path, f"cannot be read ({exc})") from None
    try:
        db.execute("PRAGMA temp_store=MEMORY")
        has_tables = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE name IN "
            "('testimony_publications', 'testimony_published')"
        ).fetchone()[0]
        if has_tables < 2:
            return None
        row = db.execute(
            "SELECT publication_id, published, summary FROM testimony_publications "
            "WHERE status = 'published' ORDER BY published DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        publication_id, published, summary_text = row
        items = [
            json.loads(item)
            for (item,) in db.execute(
                "SELECT item FROM testimony_published WHERE publication_id = ? ORDER BY position",
                (publication_id,),
            )
        ]
    except sqlite3.DatabaseError as exc:
        raise ProjectError(path, f"cannot read published testimony ({exc})") from None
    finally:
        db.close()
    summary = json.loads(summary_text)
    if not items:
        return None
    return {
        "publication": publication_id,
        "published": published,
        "k": summary["k"],
        "signed_off_by": summary["signed_off_by"],
        "levels": summary["levels"],
        "excerpts": items,
        "contact_with_relatives": summary["contact_with_relatives"],
    }


def contact_chart_svg(contact: dict[str, Any]) -> str:
    """An SVG bar chart of contact with relatives before and after 2020 (matplotlib).

    >>> svg = contact_chart_svg({"witnesses": 5, "levels": ["none", "rare", "regular"],
    ...     "before_2020": {"none": 0, "rare": 1, "regular": 4},
    ...     "after_2020": {"none": 4, "rare": 1, "regular": 0}})
    >>> svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
    True
    """
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    levels = contact["levels"]
    labels = {"none": "no contact", "rare": "rarely", "regular": "regularly"}
    figure = Figure(figsize=(6, 3))
    axes = figure.subplots()
    width = 0.38
    positions = range(len(levels))
    before = [contact["before_2020"][level] for level in levels]
    after = [contact["after_2020"][level] for level in levels]
    axes.bar(
        [p - width / 2 for p in positions], before, width, label="before 2020", color="#8da0cb"
    )
    axes.bar([p + width / 2 for p in positions], after, width, label="after 2020", color="#d95f02")
    axes.set_xticks(list(positions), [labels.get(level, level) for level in levels])
    axes.set_ylabel("witnesses")
    axes.set_title(f"Contact with relatives in North Korea ({contact['witnesses']} witnesses)")
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
