"""The report's charts as inline SVG (matplotlib, Agg backend, text kept as text, no web fonts).

Each function takes figures already computed (by :mod:`fenceline.metrics` or read from a
bundled series) and only draws them.

>>> svg = bar_chart(["a", "b"], {"2019": [1, 2]}, title="t", ylabel="n", chart_id="x")
>>> svg.startswith("<svg") and "</svg>" in svg
True
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

__all__ = [
    "bar_chart",
    "layer_profile_chart",
    "layer_strip_chart",
    "series_chart",
    "timeline_chart",
]

INK = "#1f2933"
COLOURS = {
    "primary": "#b3261e",
    "secondary": "#e8710a",
    "tertiary": "#7b1fa2",
    "other": "#5f6368",
    "since": "#9aa5b1",
    "at": "#b3261e",
    "facilities": "#1a5fb4",
}
LAYER_COLOURS = {"0": "#e4e7eb", "1": "#f4b183", "2": "#e8710a", "3+": "#b3261e"}


def _style() -> dict[str, object]:
    return {
        "svg.fonttype": "none",
        "font.family": ["DejaVu Sans", "sans-serif"],
        "font.size": 9,
        "axes.edgecolor": "#9aa5b1",
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def _svg(fig: plt.Figure, chart_id: str, title: str) -> str:
    with matplotlib.rc_context({"svg.hashsalt": chart_id, **_style()}):
        buffer = io.StringIO()
        fig.savefig(
            buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Title": title}
        )
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    # unique ids per chart: several SVGs share one HTML document
    text = re.sub(r'id="([^"]+)"', rf'id="{chart_id}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{chart_id}-\1)", text)
    text = re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{chart_id}-\1"', text)
    text = re.sub(r'width="[\d.]+pt" height="[\d.]+pt"', 'width="100%"', text, count=1)
    return text.replace(
        "<svg ", f'<svg role="img" aria-label="{title}" class="chart" data-chart="{chart_id}" ', 1
    )


def _figure(width: float = 7.0, height: float = 3.0) -> tuple[plt.Figure, plt.Axes]:
    with matplotlib.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(width, height))
    return fig, ax


def timeline_chart(
    dates: Sequence[dt.date],
    series: dict[str, tuple[Sequence[float], Sequence[float], Sequence[float]]],
    *,
    title: str,
    ylabel: str,
    chart_id: str,
    marks: Sequence[tuple[dt.date, str]] = (),
) -> str:
    """Lines with uncertainty bands: ``series[name] = (value, lower, upper)`` per date.

    >>> import datetime as dt
    >>> days = [dt.date(2020, 1, 31), dt.date(2020, 2, 29)]
    >>> svg = timeline_chart(days, {"km": ([1, 2], [1, 2], [2, 3])}, title="t", ylabel="km",
    ...                      chart_id="tl")
    >>> 'data-chart="tl"' in svg
    True
    """
    with matplotlib.rc_context(_style()):
        fig, ax = _figure()
        for i, (name, (value, lower, upper)) in enumerate(series.items()):
            colour = (
                list(COLOURS.values())[i % len(COLOURS)] if name not in COLOURS else COLOURS[name]
            )
            ax.fill_between(
                dates,
                lower,
                upper,
                color=colour,
                alpha=0.2,
                linewidth=0,
                label=f"{name}: uncertain range",
            )
            ax.plot(dates, value, color=colour, linewidth=1.8, label=f"{name}: certainly present")
        for day, label in marks:
            ax.axvline(day, color="#52606d", linewidth=0.8, linestyle="--")
            ax.annotate(
                label,
                (day, 1.0),
                xycoords=("data", "axes fraction"),
                fontsize=8,
                ha="left",
                va="top",
                xytext=(3, 0),
                textcoords="offset points",
                color="#52606d",
            )
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.12), ncol=2)
        ax.grid(axis="y", color="#e4e7eb", linewidth=0.6)
        return _svg(fig, chart_id, title)


def bar_chart(
    categories: Sequence[str],
    groups: dict[str, Sequence[float]],
    *,
    title: str,
    ylabel: str,
    chart_id: str,
) -> str:
    """Grouped bars, one group per key of ``groups`` (e.g. the two dates), labelled with values.

    >>> svg = bar_chart(["guard post"], {"2019": [5], "2022": [174]}, title="t", ylabel="n",
    ...                 chart_id="kinds")
    >>> 'data-chart="kinds"' in svg
    True
    """
    with matplotlib.rc_context(_style()):
        fig, ax = _figure(7.0, 2.8)
        width = 0.8 / max(len(groups), 1)
        palette = [COLOURS["since"], COLOURS["at"], COLOURS["facilities"]]
        for i, (name, values) in enumerate(groups.items()):
            xs = [j + (i - (len(groups) - 1) / 2) * width for j in range(len(categories))]
            bars = ax.bar(xs, values, width, label=name, color=palette[i % len(palette)])
            ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], fontsize=8, padding=2)
        ax.set_xticks(range(len(categories)), [c.replace("_", " ") for c in categories])
        ax.set_ylabel(ylabel)
        ax.legend(frameon=False, fontsize=8)
        ax.grid(axis="y", color="#e4e7eb", linewidth=0.6)
        return _svg(fig, chart_id, title)


def layer_profile_chart(
    areas: Sequence[str], layers_km: Sequence[dict[str, float]], *, title: str, chart_id: str
) -> str:
    """Stacked horizontal bars: km of border covered by 0, 1, 2 and 3+ fence layers, per area.

    >>> svg = layer_profile_chart(["A"], [{"0": 1.0, "1": 2.0, "2": 3.0, "3+": 0.5}], title="t",
    ...                           chart_id="layers")
    >>> 'data-chart="layers"' in svg
    True
    """
    with matplotlib.rc_context(_style()):
        fig, ax = _figure(7.0, 0.45 * len(areas) + 1.0)
        left = [0.0] * len(areas)
        for key in ("0", "1", "2", "3+"):
            values = [float(layers.get(key, 0.0) or 0.0) for layers in layers_km]
            label = {"0": "no fence", "1": "1 layer", "2": "2 layers", "3+": "3 or more"}[key]
            ax.barh(
                areas,
                values,
                left=left,
                color=LAYER_COLOURS[key],
                label=label,
                edgecolor="white",
                linewidth=0.5,
            )
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.invert_yaxis()
        ax.set_xlabel("km of border")
        ax.legend(frameon=False, fontsize=8, ncol=4, loc="lower left", bbox_to_anchor=(0, 1.0))
        return _svg(fig, chart_id, title)


def layer_strip_chart(
    areas: Sequence[str],
    profiles: Sequence[Sequence[Sequence[float]]],
    *,
    title: str,
    chart_id: str,
) -> str:
    """One strip per area along the border, coloured by the number of fence layers.

    ``profiles`` are the metrics' ``layer_profile`` lists (``[from_km, to_km, layers]`` in
    border chainage); each strip starts at its area's first kilometre.

    >>> svg = layer_strip_chart(["A"], [[[10.0, 12.0, 0], [12.0, 15.0, 2]]], title="t",
    ...                         chart_id="strip")
    >>> 'data-chart="strip"' in svg
    True
    """
    with matplotlib.rc_context(_style()):
        fig, ax = _figure(7.0, 0.42 * len(areas) + 1.0)
        seen: set[str] = set()
        for row, profile in enumerate(profiles):
            if not profile:
                continue
            origin = float(profile[0][0])
            for key in ("0", "1", "2", "3+"):
                spans = [
                    (float(a) - origin, float(b) - float(a))
                    for a, b, n in profile
                    if ("3+" if n >= 3 else str(int(n))) == key
                ]
                if not spans:
                    continue
                label = {"0": "no fence", "1": "1 layer", "2": "2 layers", "3+": "3 or more"}[key]
                ax.broken_barh(
                    spans,
                    (row - 0.35, 0.7),
                    facecolors=LAYER_COLOURS[key],
                    label=None if key in seen else label,
                )
                seen.add(key)
        ax.set_yticks(range(len(areas)), list(areas))
        ax.set_ylim(len(areas) - 0.5, -0.5)
        ax.set_xlim(left=0)
        ax.set_xlabel("km along the border from the start of the area")
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(
            range(len(labels)),
            key=lambda i: ["no fence", "1 layer", "2 layers", "3 or more"].index(labels[i]),
        )
        ax.legend(
            [handles[i] for i in order],
            [labels[i] for i in order],
            frameon=False,
            fontsize=8,
            ncol=4,
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
        )
        return _svg(fig, chart_id, title)


def series_chart(
    years: Sequence[int],
    values: Sequence[float],
    *,
    title: str,
    ylabel: str,
    chart_id: str,
    derived: Sequence[bool] | None = None,
    highlight: tuple[int, int] | None = None,
) -> str:
    """A yearly public series as bars; derived (not published) values hatched.

    >>> svg = series_chart([2019, 2020], [1047, 229], title="t", ylabel="n", chart_id="s")
    >>> 'data-chart="s"' in svg
    True
    """
    with matplotlib.rc_context(_style()):
        fig, ax = _figure(7.0, 2.6)
        derived = derived or [False] * len(years)
        colours = ["white" if d else COLOURS["facilities"] for d in derived]
        ax.bar(
            years, values, color=colours, edgecolor=COLOURS["facilities"], hatch=None, linewidth=0.8
        )
        if highlight:
            ax.axvspan(highlight[0] - 0.5, highlight[1] + 0.5, color="#fde8e7", zorder=0)
            ax.annotate(
                "border sealed",
                (highlight[0] - 0.4, 1.0),
                xycoords=("data", "axes fraction"),
                va="top",
                fontsize=8,
                color=COLOURS["at"],
            )
        ax.set_ylabel(ylabel)
        ax.set_xticks(list(years)[:: max(1, len(years) // 12)])
        ax.grid(axis="y", color="#e4e7eb", linewidth=0.6)
        return _svg(fig, chart_id, title)
