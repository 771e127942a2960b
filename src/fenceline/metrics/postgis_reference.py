"""A reference for verification only: the indicators of DESIGN.md written as PostGIS SQL.

Used by ``tests/metrics/test_postgis.py`` (agreement with the engine) and by
``benchmarks/metrics_scale.py`` (speed). It is not part of fenceline's API and fenceline never
needs it to compute a figure. The SQL was written from the definitions in docs/metrics.md,
not from the engine's code: the feature timelines come from ``GROUP BY`` over observations,
lengths from ``ST_Length(geography)``, the corridor from ``ST_Buffer(..., 'side=left')``,
chainage from the nearest border segment (``<->``) and ``ST_LineLocatePoint``, covered
border from a gaps-and-islands union of chainage intervals.

What the two share, because the definitions fix it: the working projection for planar work
(the one the engine reports in its provenance, passed in as ``proj``), and the corridor's
buffer parameters (flat ends, 4 segments per quarter circle at bends).

Needs ``psycopg`` (extra ``[postgis]``) and a PostgreSQL server with PostGIS 3.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import shapely

from fenceline.errors import MissingDependencyError
from fenceline.store.base import Snapshot
from fenceline.vocab import FACILITY_KINDS, FENCE_LAYERS

__all__ = ["compute", "connect", "load", "timeline"]

INPUT = "fl_ref"
WORK = "fl_work"


def connect(url: str) -> Any:
    """A psycopg connection in autocommit mode."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("psycopg", "postgis") from None
    return psycopg.connect(url, autocommit=True)


def _ewkb(geoms: Any) -> list[str | None]:
    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0:
        return []
    out = shapely.to_wkb(shapely.set_srid(arr, 4326), hex=True, include_srid=True)
    return [None if g is None else str(g) for g in out]


def load(conn: Any, snapshot: Snapshot) -> None:
    """Copy a snapshot into schema ``fl_ref`` (dropped and recreated), as a team store would
    hold it, with the indexes a database administrator would create."""
    with conn.cursor() as cur:
        cur.execute(
            f"""
            DROP SCHEMA IF EXISTS {INPUT} CASCADE;
            CREATE SCHEMA {INPUT};
            CREATE TABLE {INPUT}.border_part (part int, side text, geom geometry);
            CREATE TABLE {INPUT}.area (ord int, name text, from_km float8, to_km float8,
                                       geom geometry);
            CREATE TABLE {INPUT}.fence (fid int, id text, layer text, geom geometry);
            CREATE TABLE {INPUT}.facility (fid int, id text, kind text, geom geometry);
            CREATE TABLE {INPUT}.obs (feature_id text, observed date, state text);
            CREATE TABLE {INPUT}.image (acquired date, geom geometry);
            """
        )
        border = snapshot.border
        sides = border["side"].fillna("left").astype(str).tolist()
        rows: list[tuple[Any, ...]] = list(
            zip(range(len(border)), sides, _ewkb(border.geometry.to_numpy()), strict=True)
        )
        _copy(cur, "border_part (part, side, geom)", rows)
        areas = snapshot.areas
        if areas is not None and len(areas):
            geoms = _ewkb(areas.geometry.to_numpy())
            rows = [
                (
                    i,
                    str(r.name),
                    None if _missing(r.from_km) else float(r.from_km),
                    None if _missing(r.to_km) else float(r.to_km),
                    g,
                )
                for i, (r, g) in enumerate(zip(areas.itertuples(index=False), geoms, strict=True))
            ]
            _copy(cur, "area (ord, name, from_km, to_km, geom)", rows)
        fences = snapshot.fences
        _copy(
            cur,
            "fence (fid, id, layer, geom)",
            zip(
                range(len(fences)),
                fences["id"].astype(str),
                fences["layer"].astype(str),
                _ewkb(fences.geometry.to_numpy()),
                strict=True,
            ),
        )
        facilities = snapshot.facilities
        _copy(
            cur,
            "facility (fid, id, kind, geom)",
            zip(
                range(len(facilities)),
                facilities["id"].astype(str),
                facilities["kind"].astype(str),
                _ewkb(facilities.geometry.to_numpy()),
                strict=True,
            ),
        )
        obs = snapshot.observations
        _copy(
            cur,
            "obs (feature_id, observed, state)",
            zip(
                obs["feature_id"].astype(str),
                obs["observed"].astype(str).str.slice(0, 10),
                obs["state"].astype(str),
                strict=True,
            ),
        )
        images = snapshot.images
        if images is not None and len(images):
            _copy(
                cur,
                "image (acquired, geom)",
                zip(
                    images["acquired"].astype(str).str.slice(0, 10),
                    _ewkb(images.geometry.to_numpy()),
                    strict=True,
                ),
            )
        cur.execute(
            f"""
            CREATE INDEX ON {INPUT}.obs (feature_id);
            CREATE INDEX ON {INPUT}.fence USING gist (geom);
            CREATE INDEX ON {INPUT}.facility USING gist (geom);
            ANALYZE {INPUT}.border_part; ANALYZE {INPUT}.area; ANALYZE {INPUT}.fence;
            ANALYZE {INPUT}.facility; ANALYZE {INPUT}.obs; ANALYZE {INPUT}.image;
            """
        )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _copy(cur: Any, target: str, rows: Any) -> None:
    with cur.copy(f"COPY {INPUT}.{target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# --- the definitions in SQL ---------------------------------------------------------------


def _status(alias: str, day: str) -> str:
    """Status at a day (integer days since 1970) from a timeline row: P, A or U."""
    return (
        f"CASE WHEN {alias}.built_by <= {day} AND ({alias}.removed_by IS NULL"
        f" OR {day} <= {alias}.removed_after) THEN 'P'"
        f" WHEN {alias}.built_after >= {day} OR {alias}.removed_by <= {day} THEN 'A'"
        " ELSE 'U' END"
    )


def _islands(source: str, keys: str) -> str:
    """Disjoint intervals (``keys``, lo, hi) of the union of ``source``'s (keys, lo, hi)
    rows: gaps and islands (touching intervals merge)."""
    return f"""
        SELECT {keys}, min(lo) AS lo, max(hi) AS hi FROM (
          SELECT *, sum(CASE WHEN prev_hi IS NULL OR lo > prev_hi THEN 1 ELSE 0 END)
                      OVER (PARTITION BY {keys} ORDER BY lo, hi ROWS UNBOUNDED PRECEDING) AS island
          FROM (
            SELECT {keys}, lo, hi, max(hi) OVER (PARTITION BY {keys} ORDER BY lo, hi
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_hi
            FROM ({source}) AS src
          ) AS ordered
        ) AS grouped GROUP BY {keys}, island"""


def _border_inside(polygon_table: str) -> str:
    """Chainage intervals (key, lo, hi) of the border inside each (key, geom) polygon."""
    return f"""
        SELECT key, min(s.start_km + ST_LineLocatePoint(s.pgeom, v.geom) * s.km) AS lo,
                    max(s.start_km + ST_LineLocatePoint(s.pgeom, v.geom) * s.km) AS hi
        FROM {polygon_table} AS p
        JOIN bseg AS s ON ST_Intersects(s.pgeom, p.geom),
        LATERAL ST_Dump(ST_Intersection(s.pgeom, p.geom)) AS piece,
        LATERAL ST_DumpPoints(piece.geom) AS v
        WHERE GeometryType(piece.geom) = 'LINESTRING'
        GROUP BY key, s.sid, piece.path"""


def _nearest_chainage(point: str) -> str:
    """LATERAL subquery: border part and chainage of the border point nearest ``point``."""
    return f"""LATERAL (
          SELECT b.part, b.start_km + ST_LineLocatePoint(b.pgeom, {point}) * b.km AS ch
          FROM bseg AS b ORDER BY b.pgeom <-> {point} LIMIT 1) AS near"""


def _prepare(cur: Any, proj: str, corridor_m: float) -> None:
    """Border segments, regions, their corridors, feature timelines, clipped fence pieces and
    their chainage cover: everything that does not depend on the dates."""
    from psycopg import sql

    p = sql.Literal(proj).as_string(cur) + "::text"
    w = float(corridor_m)
    statements = [
        f"DROP SCHEMA IF EXISTS {WORK} CASCADE",
        f"CREATE SCHEMA {WORK}",
        f"SET search_path = {WORK}, {INPUT}, public",
        # border segments with geodesic lengths and chainage at their start
        f"""CREATE TABLE bseg AS
        SELECT sid, part, side, pgeom, km,
               coalesce(sum(km) OVER (ORDER BY sid ROWS BETWEEN UNBOUNDED PRECEDING
                                      AND 1 PRECEDING), 0) AS start_km
        FROM (
          SELECT row_number() OVER (ORDER BY part, i) AS sid, part, side,
                 ST_Transform(ST_MakeLine(pt, nxt), {p}) AS pgeom,
                 ST_Length(ST_MakeLine(pt, nxt)::geography) / 1000.0 AS km
          FROM (
            SELECT b.part, b.side, d.path[1] AS i, d.geom AS pt,
                   lead(d.geom) OVER (PARTITION BY b.part ORDER BY d.path[1]) AS nxt
            FROM border_part AS b, LATERAL ST_DumpPoints(b.geom) AS d
          ) AS pts WHERE nxt IS NOT NULL
        ) AS segs""",
        "CREATE INDEX ON bseg USING gist (pgeom)",
        "ANALYZE bseg",
        # regions: every area (or the whole border), and their union as the total
        f"""CREATE TABLE region AS
        SELECT ord + 1 AS rid, name,
               CASE WHEN geom IS NULL OR ST_IsEmpty(geom) THEN NULL
                    ELSE ST_MakeValid(ST_Transform(geom, {p})) END AS polygon,
               greatest(from_km, 0) AS lo,
               least(to_km, (SELECT sum(km) FROM bseg)) AS hi
        FROM area
        UNION ALL
        SELECT 1, '(whole border)', NULL, 0, (SELECT sum(km) FROM bseg)
        WHERE NOT EXISTS (SELECT 1 FROM area)""",
        # corridor along a chainage range: the faces of each part's two-sided flat-ended
        # buffer, split by the part's line (extended by 2 widths + 1 m past its ends, to leave
        # the buffer even where an end lies within a meander's buffer), on the monitored side
        """CREATE FUNCTION beyond(p geometry, q geometry, d float8) RETURNS geometry AS $$
          SELECT ST_MakePoint(ST_X(p) + (ST_X(p) - ST_X(q)) / ST_Distance(p, q) * d,
                              ST_Y(p) + (ST_Y(p) - ST_Y(q)) / ST_Distance(p, q) * d)
        $$ LANGUAGE sql IMMUTABLE""",
        """CREATE TABLE band_line AS
          SELECT r.key, s.part, s.side,
                 ST_MakeLine(ST_LineSubstring(s.pgeom, greatest(0, (r.lo - s.start_km) / s.km),
                                              least(1, (r.hi - s.start_km) / s.km))
                             ORDER BY s.sid) AS line
          FROM (SELECT rid AS key, lo, hi FROM region WHERE polygon IS NULL
                UNION ALL SELECT 0, 0, sum(km) FROM bseg) AS r
          JOIN bseg AS s ON s.km > 0 AND least(s.start_km + s.km, r.hi)
                                - greatest(s.start_km, r.lo) > 1e-9  -- pieces over 1 µm
          GROUP BY r.key, s.part, s.side""",
        f"""CREATE TABLE band AS
        WITH faces AS (
          SELECT key, side, line, d.geom AS face, ST_PointOnSurface(d.geom) AS inside
          FROM band_line,
          LATERAL ST_Dump(ST_Split(
            ST_Buffer(line, {w}, 'endcap=flat quad_segs=4'),
            ST_AddPoint(
              ST_AddPoint(line, beyond(ST_StartPoint(line), ST_PointN(line, 2), {2 * w + 1}), 0),
              beyond(ST_EndPoint(line), ST_PointN(line, -2), {2 * w + 1})))) AS d),
        sided AS (
          SELECT f.key, f.side, f.face, nearest.turn
          FROM faces AS f, LATERAL (
            SELECT (ST_X(ST_EndPoint(g.geom)) - ST_X(ST_StartPoint(g.geom)))
                     * (ST_Y(f.inside) - ST_Y(ST_StartPoint(g.geom)))
                 - (ST_Y(ST_EndPoint(g.geom)) - ST_Y(ST_StartPoint(g.geom)))
                     * (ST_X(f.inside) - ST_X(ST_StartPoint(g.geom))) AS turn
            FROM ST_DumpSegments(f.line) AS g
            ORDER BY ST_Distance(g.geom, f.inside) LIMIT 1) AS nearest)
        SELECT key, ST_MakeValid(ST_Union(face)) AS geom FROM sided
        WHERE (side = 'right' AND turn < 0) OR (side <> 'right' AND turn > 0)
        GROUP BY key""",
        """CREATE TABLE corridor AS
        SELECT r.rid, CASE WHEN r.polygon IS NULL THEN b.geom
                           ELSE ST_Intersection((SELECT geom FROM band WHERE key = 0), r.polygon)
                      END AS geom
        FROM region AS r LEFT JOIN band AS b ON b.key = r.rid""",
        # border chainage intervals of each region
        f"""CREATE TABLE region_interval AS
        SELECT rid, lo, hi FROM region WHERE polygon IS NULL
        UNION ALL
        SELECT key, lo, hi FROM ({
            _islands(
                "SELECT key, lo, hi FROM ("
                + _border_inside(
                    "(SELECT rid AS key, polygon AS geom FROM region WHERE polygon IS NOT NULL)"
                )
                + ") AS raw WHERE hi > lo",
                "key",
            )
        }) AS polygon_intervals""",
        # the total: union of the regions (overlaps once), as region 0
        """INSERT INTO region_interval
        SELECT 0, lo, hi FROM region_interval WHERE (SELECT count(*) FROM region) = 1""",
        f"""INSERT INTO region_interval
        SELECT rid, lo, hi FROM ({
            _islands("SELECT 0 AS rid, lo, hi FROM region_interval", "rid")
        }) AS t
        WHERE (SELECT count(*) FROM region) > 1""",
        """INSERT INTO corridor SELECT 0, ST_Union(geom) FROM corridor""",
        """CREATE TABLE corridor_piece AS
        SELECT rid, ST_Subdivide(geom, 128) AS geom FROM corridor WHERE NOT ST_IsEmpty(geom)""",
        "CREATE INDEX ON corridor_piece USING gist (geom)",
        "ANALYZE corridor_piece",
        # feature timelines from observations (unclear ones carry no date)
        """CREATE TABLE tl AS
        WITH o AS (
          SELECT feature_id, observed - DATE '1970-01-01' AS d, state FROM obs
          WHERE state <> 'unclear'),
        b AS (
          SELECT feature_id,
                 min(d) FILTER (WHERE state IN ('present', 'upgraded')) AS built_by,
                 min(d) FILTER (WHERE state = 'upgraded') AS upgraded_by
          FROM o GROUP BY feature_id),
        c AS (
          SELECT o.feature_id,
                 max(o.d) FILTER (WHERE o.state = 'absent'
                                  AND (b.built_by IS NULL OR o.d < b.built_by)) AS built_after,
                 max(o.d) FILTER (WHERE o.state = 'present' AND o.d < b.upgraded_by)
                   AS upgraded_after,
                 min(o.d) FILTER (WHERE o.state = 'removed'
                                  OR (o.state = 'absent' AND o.d > b.built_by)) AS removed_by
          FROM o JOIN b USING (feature_id) GROUP BY o.feature_id),
        e AS (
          SELECT o.feature_id,
                 max(o.d) FILTER (WHERE o.state IN ('present', 'upgraded')
                                  AND o.d < c.removed_by) AS removed_after
          FROM o JOIN c USING (feature_id) GROUP BY o.feature_id)
        SELECT b.feature_id, b.built_by, c.built_after, b.upgraded_by, c.upgraded_after,
               c.removed_by, e.removed_after
        FROM b JOIN c USING (feature_id) JOIN e USING (feature_id)""",
        "CREATE INDEX ON tl (feature_id)",
        # features in the working projection
        f"""CREATE TABLE fence_p AS
        SELECT f.fid, CASE WHEN f.layer IN ({_sql_list(FENCE_LAYERS)}) THEN f.layer
                           ELSE 'other' END AS layer,
               ST_Transform(f.geom, {p}) AS pgeom, t.*
        FROM fence AS f LEFT JOIN tl AS t ON t.feature_id = f.id""",
        "CREATE INDEX ON fence_p USING gist (pgeom)",
        "CREATE INDEX ON fence_p (fid)",
        f"""CREATE TABLE facility_p AS
        SELECT f.fid, CASE WHEN f.kind IN ({_sql_list(FACILITY_KINDS)}) THEN f.kind
                           ELSE 'other' END AS kind,
               ST_Transform(f.geom, {p}) AS pt, t.*
        FROM facility AS f LEFT JOIN tl AS t ON t.feature_id = f.id""",
        "CREATE INDEX ON facility_p USING gist (pt)",
        "ANALYZE fence_p",
        "ANALYZE facility_p",
        # fences clipped to each corridor, geodesic length of each piece
        f"""CREATE TABLE piece AS
        SELECT row_number() OVER () AS pid, rid, fid, pg,
               ST_Length(ST_Transform(pg, {p}, 4326)::geography) / 1000.0 AS km
        FROM (
          SELECT c.rid, f.fid, d.geom AS pg
          FROM corridor_piece AS c JOIN fence_p AS f ON ST_Intersects(f.pgeom, c.geom),
          LATERAL ST_Dump(ST_Intersection(f.pgeom, c.geom)) AS d
          WHERE GeometryType(d.geom) = 'LINESTRING'
        ) AS clipped""",
        "CREATE INDEX ON piece USING gist (pg)",
        "ANALYZE piece",
        # chainage of every vertex of every piece
        f"""CREATE TABLE pvert AS
        SELECT pc.pid, pc.rid, pc.fid, v.path[1] AS i, near.part, near.ch
        FROM piece AS pc, LATERAL ST_DumpPoints(pc.pg) AS v, {_nearest_chainage("v.geom")}""",
        # chainage interval covered by each segment of a piece, clipped to its region
        """CREATE TABLE cover AS
        SELECT rid, fid, lo, hi FROM (
          SELECT s.rid, s.fid, greatest(least(a, b), ri.lo) AS lo,
                 least(CASE WHEN pa <> pb THEN least(a, b) ELSE greatest(a, b) END, ri.hi) AS hi
          FROM (
            SELECT rid, fid, ch AS a, lead(ch) OVER w AS b, part AS pa, lead(part) OVER w AS pb
            FROM pvert WINDOW w AS (PARTITION BY pid ORDER BY i)
          ) AS s JOIN region_interval AS ri ON ri.rid = s.rid
          WHERE s.b IS NOT NULL
        ) AS c WHERE hi > lo""",
        # facilities inside each corridor
        """CREATE TABLE fac_in AS
        SELECT DISTINCT c.rid, f.fid FROM corridor_piece AS c
        JOIN facility_p AS f ON ST_Intersects(f.pt, c.geom)""",
        # features assigned to each region (to count those outside its corridor)
        f"""CREATE TABLE fence_mid AS
        SELECT f.fid, near.ch FROM fence_p AS f,
        {_nearest_chainage("ST_LineInterpolatePoint(f.pgeom, 0.5)")}""",
        f"""CREATE TABLE facility_ch AS
        SELECT f.fid, near.ch FROM facility_p AS f, {_nearest_chainage("f.pt")}""",
        """CREATE TABLE fence_assigned AS
        SELECT DISTINCT r.rid, f.fid FROM region AS r JOIN fence_p AS f
          ON r.polygon IS NOT NULL AND ST_Intersects(f.pgeom, r.polygon)
        UNION
        SELECT r.rid, m.fid FROM region AS r JOIN fence_mid AS m
          ON r.polygon IS NULL AND m.ch BETWEEN r.lo AND r.hi""",
        "INSERT INTO fence_assigned SELECT DISTINCT 0, fid FROM fence_assigned",
        """CREATE TABLE facility_assigned AS
        SELECT DISTINCT r.rid, f.fid FROM region AS r JOIN facility_p AS f
          ON r.polygon IS NOT NULL AND ST_Intersects(f.pt, r.polygon)
        UNION
        SELECT r.rid, m.fid FROM region AS r JOIN facility_ch AS m
          ON r.polygon IS NULL AND m.ch BETWEEN r.lo AND r.hi""",
        "INSERT INTO facility_assigned SELECT DISTINCT 0, fid FROM facility_assigned",
    ]
    for statement in statements:
        cur.execute(statement)


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _days(value: dt.date | str) -> int:
    date = dt.date.fromisoformat(str(value)[:10])
    return (date - dt.date(1970, 1, 1)).days


def _rows(cur: Any, query: str) -> list[tuple[Any, ...]]:
    cur.execute(query)
    return list(cur.fetchall())


def compute(
    conn: Any,
    proj: str,
    at: dt.date | str,
    since: dt.date | str,
    corridor_m: float = 3000.0,
    near_m: float = 500.0,
) -> dict[str, dict[str, Any]]:
    """Every indicator per region, keyed by area name (and ``"total"``), from the SQL alone.

    Keys as in ``fenceline metrics --format json``; per-facility spacings and the fold
    increase are derived from the SQL counts by their formulas.
    """
    t, s = _days(at), _days(since)
    with conn.cursor() as cur:
        _prepare(cur, proj, corridor_m)
        _dated_tables(cur, t, s)
        out = _indicators(cur, t, s, near_m)
        _assessable(cur, out, proj, t, s)
        return {o["name"]: o for o in out.values()}


def _dated_tables(cur: Any, t: int, s: int) -> None:
    cur.execute(
        f"""CREATE TABLE fstat AS
        SELECT fid, layer, {_status("f", str(t))} AS st_t, {_status("f", str(s))} AS st_s,
               coalesce(f.upgraded_after >= {s} AND f.upgraded_by <= {t}, false) AS up,
               f.feature_id IS NOT NULL AS dated
        FROM fence_p AS f"""
    )
    cur.execute("CREATE INDEX ON fstat (fid)")
    cur.execute(
        f"""CREATE TABLE pstat AS
        SELECT fid, kind, {_status("f", str(t))} AS st_t, {_status("f", str(s))} AS st_s,
               f.feature_id IS NOT NULL AS dated
        FROM facility_p AS f"""
    )
    cur.execute("CREATE INDEX ON pstat (fid)")
    cur.execute("ANALYZE fstat")
    cur.execute("ANALYZE pstat")


def _indicators(cur: Any, t: int, s: int, near_m: float) -> dict[int, dict[str, Any]]:
    names = dict(_rows(cur, "SELECT rid, name FROM region"))
    names[0] = "total"
    out: dict[int, dict[str, Any]] = {
        rid: {
            "name": name,
            "fence_km": dict.fromkeys((*FENCE_LAYERS, "total"), 0.0),
            "fence_km_since": dict.fromkeys((*FENCE_LAYERS, "total"), 0.0),
            "new_fence_km": 0.0,
            "upgraded_fence_km": 0.0,
            "uncertain_fence_km": 0.0,
            "facilities": dict.fromkeys((*FACILITY_KINDS, "total"), 0),
            "facilities_since": dict.fromkeys((*FACILITY_KINDS, "total"), 0),
            "fenced_border_km": 0.0,
            "fenced_border_km_since": 0.0,
            "uncertain_at": {"fence_km": 0.0, "facilities": 0},
            "facilities_near_new_or_upgraded_fence": 0,
        }
        for rid, name in names.items()
    }
    for rid, km in _rows(cur, "SELECT rid, sum(hi - lo) FROM region_interval GROUP BY rid"):
        out[rid]["border_km"] = float(km)
    for rid, layer, now, then, new, up, unc, unc_at in _rows(
        cur,
        """SELECT p.rid, f.layer,
                  coalesce(sum(p.km) FILTER (WHERE f.st_t = 'P'), 0),
                  coalesce(sum(p.km) FILTER (WHERE f.st_s = 'P'), 0),
                  coalesce(sum(p.km) FILTER (WHERE f.st_t = 'P' AND f.st_s = 'A'), 0),
                  coalesce(sum(p.km) FILTER (WHERE f.st_t = 'P' AND f.up), 0),
                  coalesce(sum(p.km) FILTER (WHERE f.st_t = 'P' AND f.st_s = 'U'), 0),
                  coalesce(sum(p.km) FILTER (WHERE f.st_t = 'U'), 0)
           FROM piece AS p JOIN fstat AS f USING (fid) GROUP BY p.rid, f.layer""",
    ):
        o = out[rid]
        o["fence_km"][layer] += now
        o["fence_km"]["total"] += now
        o["fence_km_since"][layer] += then
        o["fence_km_since"]["total"] += then
        o["new_fence_km"] += new
        o["upgraded_fence_km"] += up
        o["uncertain_fence_km"] += unc
        o["uncertain_at"]["fence_km"] += unc_at
    for key, column in (("fenced_border_km", "st_t"), ("fenced_border_km_since", "st_s")):
        source = f"SELECT c.rid, c.lo, c.hi FROM cover AS c JOIN fstat AS f USING (fid) WHERE f.{column} = 'P'"
        for rid, km in _rows(
            cur, f"SELECT rid, sum(hi - lo) FROM ({_islands(source, 'rid')}) AS i GROUP BY rid"
        ):
            out[rid][key] = float(km)
    # km of border covered by exactly 1, 2, 3+ distinct layers: sweep over layer islands
    layer_islands = _islands(
        "SELECT c.rid, f.layer, c.lo, c.hi FROM cover AS c JOIN fstat AS f USING (fid)"
        " WHERE f.st_t = 'P'",
        "rid, layer",
    )
    layered = {rid: {1: 0.0, 2: 0.0, 3: 0.0} for rid in out}
    for rid, count, km in _rows(
        cur,
        f"""SELECT rid, least(n, 3), sum(w) FROM (
              SELECT rid, sum(delta) OVER (PARTITION BY rid ORDER BY pos, delta
                                           ROWS UNBOUNDED PRECEDING) AS n,
                     lead(pos) OVER (PARTITION BY rid ORDER BY pos, delta) - pos AS w
              FROM (SELECT rid, lo AS pos, 1 AS delta FROM ({layer_islands}) AS a
                    UNION ALL SELECT rid, hi, -1 FROM ({layer_islands}) AS b) AS events
            ) AS sweep WHERE n > 0 AND w IS NOT NULL GROUP BY rid, least(n, 3)""",
    ):
        layered[rid][int(count)] += float(km)
    for rid, o in out.items():
        covered = sum(layered[rid].values())
        o["layers_km"] = {
            "0": max(o["border_km"] - covered, 0.0),
            "1": layered[rid][1],
            "2": layered[rid][2],
            "3+": layered[rid][3],
        }
    for rid, kind, now, then, unc_at in _rows(
        cur,
        """SELECT i.rid, p.kind, count(*) FILTER (WHERE p.st_t = 'P'),
                  count(*) FILTER (WHERE p.st_s = 'P'), count(*) FILTER (WHERE p.st_t = 'U')
           FROM fac_in AS i JOIN pstat AS p USING (fid) GROUP BY i.rid, p.kind""",
    ):
        o = out[rid]
        o["facilities"][kind] += now
        o["facilities"]["total"] += now
        o["facilities_since"][kind] += then
        o["facilities_since"]["total"] += then
        o["uncertain_at"]["facilities"] += unc_at
    for rid, n in _rows(
        cur,
        f"""SELECT i.rid, count(*) FROM fac_in AS i
            JOIN pstat AS p USING (fid) JOIN facility_p AS fp USING (fid)
            WHERE p.st_t = 'P' AND EXISTS (
              SELECT 1 FROM piece AS pc JOIN fstat AS f USING (fid)
              WHERE pc.rid = i.rid AND f.st_t = 'P' AND (f.st_s = 'A' OR f.up)
                AND ST_DWithin(pc.pg, fp.pt, {float(near_m)}))
            GROUP BY i.rid""",
    ):
        out[rid]["facilities_near_new_or_upgraded_fence"] = int(n)
    for o in out.values():
        o["outside_corridor"] = {"fences": 0, "facilities": 0}
        o["undated"] = {"fences": 0, "facilities": 0}
    for rid, n in _rows(
        cur,
        """SELECT a.rid, count(*) FROM fence_assigned AS a JOIN fstat AS f USING (fid)
           WHERE f.st_t <> 'A' AND NOT EXISTS (
             SELECT 1 FROM piece AS p WHERE p.rid = a.rid AND p.fid = a.fid AND p.km > 0)
           GROUP BY a.rid""",
    ):
        out[rid]["outside_corridor"]["fences"] = int(n)
    for rid, n in _rows(
        cur,
        """SELECT a.rid, count(*) FROM facility_assigned AS a JOIN pstat AS p USING (fid)
           WHERE p.st_t <> 'A' AND NOT EXISTS (
             SELECT 1 FROM fac_in AS i WHERE i.rid = a.rid AND i.fid = a.fid)
           GROUP BY a.rid""",
    ):
        out[rid]["outside_corridor"]["facilities"] = int(n)
    for rid, n in _rows(
        cur,
        """SELECT rid, count(DISTINCT fid) FROM piece JOIN fstat USING (fid)
           WHERE km > 0 AND NOT dated GROUP BY rid""",
    ):
        out[rid]["undated"]["fences"] = int(n)
    for rid, n in _rows(
        cur,
        """SELECT rid, count(*) FROM fac_in JOIN pstat USING (fid) WHERE NOT dated
           GROUP BY rid""",
    ):
        out[rid]["undated"]["facilities"] = int(n)
    for o in out.values():
        n, n_since = o["facilities"]["total"], o["facilities_since"]["total"]
        o["m_per_facility_along_fence"] = 1000 * o["fence_km"]["total"] / n if n else None
        o["m_per_facility_along_border"] = 1000 * o["border_km"] / n if n else None
        o["fold_increase"] = n / n_since if n_since else None
    return out


def _assessable(cur: Any, out: dict[int, dict[str, Any]], proj: str, t: int, s: int) -> None:
    """Border km covered by image footprints of both epochs (None without images)."""
    n_images = _rows(cur, "SELECT count(*) FROM image WHERE geom IS NOT NULL")[0][0]
    for o in out.values():
        o["assessable_km"] = None if n_images == 0 else 0.0
    if n_images == 0:
        return
    from psycopg import sql

    p = sql.Literal(proj).as_string(cur) + "::text"
    epoch = "(acquired - DATE '1970-01-01')"
    rows = _rows(
        cur,
        f"""WITH both_epochs AS (
              SELECT 1 AS key, ST_MakeValid(ST_Intersection(
                (SELECT ST_Union(ST_Transform(geom, {p}))
                 FROM image WHERE {epoch} <= {s}),
                (SELECT ST_Union(ST_Transform(geom, {p}))
                 FROM image WHERE {epoch} > {s} AND {epoch} <= {t}))) AS geom),
            inside AS ({
            _islands(
                "SELECT key, lo, hi FROM ("
                + _border_inside("both_epochs")
                + ") AS raw WHERE hi > lo",
                "key",
            )
        })
            SELECT ri.rid, sum(greatest(least(ri.hi, i.hi) - greatest(ri.lo, i.lo), 0))
            FROM region_interval AS ri CROSS JOIN inside AS i GROUP BY ri.rid""",
    )
    for rid, km in rows:
        out[rid]["assessable_km"] = float(km)


def timeline(
    conn: Any,
    proj: str,
    dates: list[dt.date],
    corridor_m: float = 3000.0,
    prepared: bool = False,
) -> list[dict[str, Any]]:
    """Fence km, fenced border km and facilities of the total region at each date, lower
    (certainly present) and upper (present or uncertain) bounds.

    ``prepared``: :func:`compute` has just run on the same connection with the same
    projection and corridor, so the clipped features can be reused.
    """
    days = ", ".join(f"({_days(d)})" for d in dates)
    with conn.cursor() as cur:
        if prepared:
            cur.execute(f"SET search_path = {WORK}, {INPUT}, public")
            cur.execute("DROP TABLE IF EXISTS step, step_fence")
        else:
            _prepare(cur, proj, corridor_m)
        cur.execute(f"CREATE TABLE step AS SELECT d FROM (VALUES {days}) AS v(d)")
        fence_status = _status("f", "st.d")
        cur.execute(
            f"""CREATE TABLE step_fence AS
            SELECT st.d, f.fid, {fence_status} AS st FROM step AS st CROSS JOIN fence_p AS f
            WHERE f.fid IN (SELECT fid FROM piece WHERE rid = 0)"""
        )
        cur.execute("CREATE INDEX ON step_fence (fid)")
        rows: dict[int, dict[str, Any]] = {
            _days(d): {
                "date": d.isoformat(),
                "fence_km": {},
                "fenced_border_km": {},
                "facilities": {},
            }
            for d in dates
        }
        for bound, test in (("lower", "= 'P'"), ("upper", "<> 'A'")):
            for d, km in _rows(
                cur,
                f"""SELECT sf.d, sum(p.km) FROM piece AS p JOIN step_fence AS sf USING (fid)
                    WHERE p.rid = 0 AND sf.st {test} GROUP BY sf.d""",
            ):
                rows[d]["fence_km"][bound] = float(km)
            source = (
                "SELECT sf.d, c.lo, c.hi FROM cover AS c JOIN step_fence AS sf USING (fid)"
                f" WHERE c.rid = 0 AND sf.st {test}"
            )
            for d, km in _rows(
                cur, f"SELECT d, sum(hi - lo) FROM ({_islands(source, 'd')}) AS i GROUP BY d"
            ):
                rows[d]["fenced_border_km"][bound] = float(km)
            for d, n in _rows(
                cur,
                f"""SELECT st.d, count(*) FROM step AS st CROSS JOIN fac_in AS i
                    JOIN facility_p AS f USING (fid)
                    WHERE i.rid = 0 AND {_status("f", "st.d")} {test} GROUP BY st.d""",
            ):
                rows[d]["facilities"][bound] = int(n)
        for row in rows.values():
            for key in ("fence_km", "fenced_border_km", "facilities"):
                for bound in ("lower", "upper"):
                    row[key].setdefault(bound, 0 if key == "facilities" else 0.0)
        return [rows[_days(d)] for d in dates]
