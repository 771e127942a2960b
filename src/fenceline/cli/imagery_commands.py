"""``fenceline images``, ``detect`` and ``review``: imagery evidence and change detection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fenceline.cli.common import (
    AnalystOption,
    ProjectArgument,
    console,
    parse_date_option,
    progress_bar,
)

__all__ = ["register"]

images_app = typer.Typer(
    help="Register images as evidence and list or export them.", no_args_is_help=True
)
review_app = typer.Typer(
    help="Review change-detection candidates: accept or reject them.", no_args_is_help=True
)


def _open(project: Path):
    import fenceline

    return fenceline.open(project)


@images_app.command("add")
def images_add(
    project: ProjectArgument,
    file: Annotated[Path, typer.Argument(help="GeoTIFF or Cloud-Optimised GeoTIFF.")],
    acquired: Annotated[str, typer.Option(help="Acquisition date (YYYY-MM-DD).")],
    sensor: Annotated[str | None, typer.Option(help="Sensor or platform.")] = None,
    licence: Annotated[str | None, typer.Option(help="Licence of the image.")] = None,
    image_id: Annotated[
        str | None, typer.Option("--id", help="Image id (default img-<sha256>).")
    ] = None,
    analyst: AnalystOption = None,
) -> None:
    """Register an image as evidence (the file is hashed and never modified)."""
    from fenceline.imagery.catalog import add_image
    from fenceline.settings import resolve_analyst

    date = parse_date_option("--acquired", acquired)
    with _open(project) as p:
        record = add_image(
            p.store,
            file,
            acquired=date,
            sensor=sensor,
            licence=licence,
            image_id=image_id,
            analyst=resolve_analyst(analyst),
        )
    console.print(
        f"registered {record['id']}: acquired {record['acquired']}, {record['gsd_m']:g} m, "
        f"{record['crs']}, sha256 {record['sha256'][:16]}…"
        + (" (SYNTHETIC)" if record.get("synthetic") else ""),
        highlight=False,
    )


@images_app.command("list")
def images_list(project: ProjectArgument) -> None:
    """List the registered images."""
    with _open(project) as p:
        images = p.images
    for _, row in images.iterrows():
        console.print(
            f"{row['id']}\t{row['acquired']}\t{row.get('sensor') or ''}\t{row['gsd_m']:g} m\t"
            f"{row['crs']}\t{row['path']}",
            highlight=False,
        )


@images_app.command("stac")
def images_stac(
    project: ProjectArgument,
    out: Annotated[Path, typer.Option("-o", "--out", help="STAC ItemCollection JSON file.")],
) -> None:
    """Export the images as a STAC ItemCollection."""
    from fenceline.imagery.catalog import to_stac

    with _open(project) as p:
        collection = to_stac(p.images)
    out.write_text(json.dumps(collection, indent=1))
    console.print(f"wrote {len(collection['features'])} STAC item(s) to {out}")


def detect(
    project: ProjectArgument,
    before: Annotated[str, typer.Option(help="Id of the earlier image.")],
    after: Annotated[str, typer.Option(help="Id of the later image.")],
    area: Annotated[str | None, typer.Option(help="Only this study area.")] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://host:8786).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Local processes (default: FENCELINE_WORKERS, else one per CPU when the run "
            "has 128 tiles or more and 1 below that: a pool costs seconds to start)."
        ),
    ] = None,
    tile_size: Annotated[int, typer.Option(help="Tile side in pixels.")] = 1024,
    detector: Annotated[
        str, typer.Option(help="classical, onnx, or a Detector subclass as package.module:Class.")
    ] = "classical",
    model: Annotated[
        Path | None, typer.Option(help="ONNX model file (with --detector onnx).")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="classical: change threshold in robust standard deviations (default 6); "
            "onnx: probability taken as change (default 0.5)."
        ),
    ] = None,
    analyst: AnalystOption = None,
) -> None:
    """Detect new and removed structures and linear features between two images."""
    from fenceline.errors import ParameterError
    from fenceline.imagery.detect import ClassicalDetector, OnnxDetector
    from fenceline.imagery.pipeline import detect_changes
    from fenceline.settings import resolve_analyst

    if tile_size < 128:
        raise ParameterError("--tile-size", "must be at least 128 pixels")
    if detector == "classical":
        chosen = ClassicalDetector(k_sigma=threshold) if threshold else ClassicalDetector()
    elif detector == "onnx":
        if model is None:
            raise ParameterError("--model", "--detector onnx needs a model file")
        chosen = OnnxDetector(model, threshold=threshold or 0.5)
    elif ":" in detector:
        from fenceline.imagery.detect import detector_from_spec

        chosen = detector_from_spec({"name": detector, "class": detector})
    else:
        raise ParameterError("--detector", "must be classical, onnx or package.module:Class")
    with _open(project) as p, progress_bar("tiles") as update:
        summary = detect_changes(
            p.store,
            before,
            after,
            area=area,
            detector=chosen,
            scheduler=scheduler,
            workers=workers,
            tile_size=tile_size,
            analyst=resolve_analyst(analyst),
            progress=update,
        )
    dy, dx = summary["shift_px"]
    console.print(
        f"run {summary['run_id']}: {summary['tiles']} tile(s)"
        + (f" ({summary['tiles_skipped']} done earlier)" if summary["tiles_skipped"] else "")
        + f", {summary['candidates_added']} new candidate(s); shift {dy:+.2f}, {dx:+.2f} px, "
        f"gain {summary['gain']:.3f}",
        highlight=False,
    )


@review_app.command("list")
def review_list(
    project: ProjectArgument,
    status: Annotated[str, typer.Option(help="pending, accepted, rejected or all.")] = "pending",
    min_score: Annotated[float | None, typer.Option(help="Only scores at least this.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
) -> None:
    """List candidates, best score first."""
    from fenceline.imagery.review import list_candidates

    with _open(project) as p:
        frame = list_candidates(
            p.store, status=None if status == "all" else status, min_score=min_score
        )
    for _, row in frame.head(limit).iterrows():
        c = row.geometry.centroid
        size = (
            f"{row['area_m2']:.0f} m²"
            if row["kind"].endswith("structure")
            else f"{row['length_m']:.0f} m"
        )
        console.print(
            f"{row['id']}\t{row['kind']}\t{row['score']:.2f}\t{size}\t{c.y:.5f},{c.x:.5f}\t"
            f"{row['before_image']}→{row['after_image']}\ttile {row['window']}\t{row['status']}",
            highlight=False,
        )
    console.print(f"{len(frame)} candidate(s)", highlight=False)


@review_app.command("accept")
def review_accept(
    project: ProjectArgument,
    ids: Annotated[list[str] | None, typer.Argument(help="Candidate ids.")] = None,
    min_score: Annotated[
        float | None, typer.Option(help="All pending with at least this score.")
    ] = None,
    facility_kind: Annotated[
        str, typer.Option(help="Kind of facility for structures.")
    ] = "guard_post",
    fence_kind: Annotated[str, typer.Option(help="Kind of fence for linear features.")] = "fence",
    fence_layer: Annotated[str, typer.Option(help="Layer of fence for linear features.")] = "other",
    analyst: AnalystOption = None,
) -> None:
    """Accept candidates: they become facilities or fences with dated observations."""
    from fenceline.imagery.review import accept
    from fenceline.settings import resolve_analyst

    with _open(project) as p:
        counts = accept(
            p.store,
            ids or None,
            min_score=min_score,
            facility_kind=facility_kind,
            fence_kind=fence_kind,
            fence_layer=fence_layer,
            analyst=resolve_analyst(analyst),
        )
    console.print(f"accepted {counts['accepted']} candidate(s)")


@review_app.command("reject")
def review_reject(
    project: ProjectArgument,
    ids: Annotated[list[str] | None, typer.Argument(help="Candidate ids.")] = None,
    max_score: Annotated[
        float | None, typer.Option(help="All pending with at most this score.")
    ] = None,
    analyst: AnalystOption = None,
) -> None:
    """Reject candidates."""
    from fenceline.imagery.review import reject
    from fenceline.settings import resolve_analyst

    with _open(project) as p:
        counts = reject(p.store, ids or None, max_score=max_score, analyst=resolve_analyst(analyst))
    console.print(f"rejected {counts['rejected']} candidate(s)")


@review_app.command("export")
def review_export(
    project: ProjectArgument,
    out: Annotated[Path, typer.Argument(help="Output .gpkg or .geojson for QGIS.")],
    status: Annotated[str, typer.Option(help="pending, accepted, rejected or all.")] = "pending",
) -> None:
    """Export candidates for review in QGIS (fill the `decision` column: accept/reject)."""
    from fenceline.imagery.review import export_candidates

    with _open(project) as p:
        n = export_candidates(p.store, out, status=None if status == "all" else status)
    console.print(f"wrote {n} candidate(s) to {out}")


@review_app.command("import-decisions")
def review_import(
    project: ProjectArgument,
    file: Annotated[Path, typer.Argument(help="The exported file with decisions filled in.")],
    facility_kind: Annotated[
        str, typer.Option(help="Kind of facility for structures.")
    ] = "guard_post",
    fence_kind: Annotated[str, typer.Option(help="Kind of fence for linear features.")] = "fence",
    analyst: AnalystOption = None,
) -> None:
    """Read decisions back from a reviewed export (all or nothing)."""
    from fenceline.imagery.review import import_decisions
    from fenceline.settings import resolve_analyst

    with _open(project) as p:
        counts = import_decisions(
            p.store,
            file,
            analyst=resolve_analyst(analyst),
            facility_kind=facility_kind,
            fence_kind=fence_kind,
        )
    console.print(f"accepted {counts['accepted']}, rejected {counts['rejected']} candidate(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(images_app, name="images")
    app.command("detect")(detect)
    app.add_typer(review_app, name="review")
