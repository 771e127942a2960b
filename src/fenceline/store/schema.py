"""The project file's schema: GeoPackage tables, fenceline layers, and migrations.

The schema version is kept in ``fenceline_meta``; :data:`MIGRATIONS` maps each version to the
SQL that brings a project from the version before it. A project newer than this fenceline is
refused rather than misread.

A column's allowed values are checked as ``CHECK (x = 'a' OR x = 'b')``, not ``x IN ('a', 'b')``:
the same rule, but SQLite evaluates a CHECK's IN list by building a small temporary table on
every row it inserts. For the 2,873 candidates of a 67 MP scene's queue that was 16 ms of 36
(``benchmarks/detect_speed.py``; docs/imagery.md §5). Projects made before keep the IN form,
which means the same.
"""

from __future__ import annotations

__all__ = [
    "APPLICATION_ID",
    "CORE_COLUMNS",
    "LAYERS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "base_ddl",
]

#: PRAGMA application_id of a GeoPackage ('GPKG')
APPLICATION_ID = 0x47504B47
#: PRAGMA user_version of GeoPackage 1.4
GPKG_USER_VERSION = 10400

#: layers with geometry: table -> (geometry column type, description)
LAYERS: dict[str, tuple[str, str]] = {
    "border": ("LINESTRING", "Border line, one row per part, in chainage order"),
    "areas": ("MULTIPOLYGON", "Study areas (polygon, or from_km/to_km chainage on the border)"),
    "images": ("MULTIPOLYGON", "Image footprints (valid pixels) registered as evidence"),
    "fences": ("LINESTRING", "Fences, walls and patrol paths"),
    "facilities": ("POINT", "Guard posts, watchtowers, garrisons, checkpoints"),
}
#: attribute tables (no geometry), registered in gpkg_contents so GIS clients list them
ATTRIBUTE_TABLES: dict[str, str] = {
    "observations": "Dated observations of features (the only source of time)",
    "audit": "Append-only record of every write: who, when, what",
}

#: the columns fenceline owns in each table (other columns are the user's attributes)
CORE_COLUMNS: dict[str, tuple[str, ...]] = {
    "border": ("fid", "geom", "name", "side"),
    "areas": ("fid", "geom", "name", "from_km", "to_km"),
    "images": (
        "fid",
        "geom",
        "id",
        "acquired",
        "sensor",
        "gsd_m",
        "sha256",
        "path",
        "licence",
        "crs",
    ),
    "fences": ("fid", "geom", "id", "layer", "kind"),
    "facilities": ("fid", "geom", "id", "kind"),
    "observations": ("fid", "feature_id", "image_id", "observed", "state", "analyst", "note"),
    "audit": (
        "fid",
        "at",
        "analyst",
        "action",
        "source",
        "source_sha256",
        "counts",
        "detail",
        "fenceline_version",
    ),
}

_SRS_4326 = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)

SCHEMA_VERSION = 2


def _id_trigger(table: str) -> str:
    # A GIS client (QGIS, ogr2ogr) that adds a feature without an id gets a stable one.
    return f"""
CREATE TRIGGER "{table}_default_id" AFTER INSERT ON "{table}"
WHEN NEW.id IS NULL
BEGIN
  UPDATE "{table}" SET id = '{table}-' || NEW.fid WHERE fid = NEW.fid;
END;
"""


def base_ddl() -> str:
    """SQL that creates an empty project at :data:`SCHEMA_VERSION`."""
    contents = []
    for table, (geometry_type, description) in LAYERS.items():
        contents.append(
            f"INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
            f"VALUES ('{table}', 'features', '{table}', '{description}', 4326);"
        )
        contents.append(
            "INSERT INTO gpkg_geometry_columns VALUES "
            f"('{table}', 'geom', '{geometry_type}', 4326, 0, 0);"
        )
    for table, description in ATTRIBUTE_TABLES.items():
        contents.append(
            f"INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
            f"VALUES ('{table}', 'attributes', '{table}', '{description}');"
        )
    return f"""
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{_SRS_4326}', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));

CREATE TABLE fenceline_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE border (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom LINESTRING NOT NULL,
  name TEXT, side TEXT NOT NULL DEFAULT 'left' CHECK (side = 'left' OR side = 'right'));
CREATE TABLE areas (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON,
  name TEXT NOT NULL UNIQUE, from_km REAL, to_km REAL);
CREATE TABLE images (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON,
  id TEXT UNIQUE, acquired DATE, sensor TEXT, gsd_m REAL, sha256 TEXT, path TEXT,
  licence TEXT, crs TEXT);
CREATE TABLE fences (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom LINESTRING,
  id TEXT UNIQUE, layer TEXT DEFAULT 'other', kind TEXT DEFAULT 'fence');
CREATE TABLE facilities (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom POINT,
  id TEXT UNIQUE, kind TEXT DEFAULT 'other');
CREATE TABLE observations (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, feature_id TEXT NOT NULL, image_id TEXT,
  observed DATE NOT NULL,
  state TEXT NOT NULL CHECK (state = 'present' OR state = 'absent' OR state = 'upgraded'
                             OR state = 'removed' OR state = 'unclear'),
  analyst TEXT, note TEXT);
CREATE UNIQUE INDEX observations_unique
  ON observations (feature_id, ifnull(image_id, ''), observed, state);
CREATE INDEX observations_feature ON observations (feature_id);
CREATE TABLE audit (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, at DATETIME NOT NULL, analyst TEXT NOT NULL,
  action TEXT NOT NULL, source TEXT, source_sha256 TEXT, counts TEXT, detail TEXT,
  fenceline_version TEXT);
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
{_id_trigger("fences")}
{_id_trigger("facilities")}
{_id_trigger("images")}
{chr(10).join(contents)}
""" + "".join(MIGRATIONS[v] for v in range(2, SCHEMA_VERSION + 1))


#: version -> SQL applied to a project at version-1 to bring it to version
MIGRATIONS: dict[int, str] = {}

# Version 2: the imagery review queue. ``candidates`` holds what a change detector found
# between two registered images (polygons of new or removed structures, lines of new linear
# features), each with both image ids and its tile window as provenance, until an analyst
# accepts or rejects it. ``detect_tiles`` records which tiles of a detection run are done, so an
# interrupted run resumes without duplicating candidates.
MIGRATIONS[2] = """
CREATE TABLE candidates (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom GEOMETRY,
  id TEXT UNIQUE NOT NULL, run_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind = 'new_structure' OR kind = 'removed_structure'
                            OR kind = 'new_linear' OR kind = 'removed_linear'),
  score REAL, area_m2 REAL, length_m REAL,
  before_image TEXT NOT NULL, after_image TEXT NOT NULL,
  tile_row INTEGER, tile_col INTEGER, window TEXT, detector TEXT,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status = 'pending' OR status = 'accepted' OR status = 'rejected'),
  decided_by TEXT, decided_at DATETIME, feature_id TEXT, note TEXT);
CREATE INDEX candidates_run ON candidates (run_id);
CREATE INDEX candidates_status ON candidates (status);
CREATE TABLE detect_tiles (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, tile_row INTEGER NOT NULL,
  tile_col INTEGER NOT NULL, candidates INTEGER NOT NULL, done_at DATETIME NOT NULL);
CREATE UNIQUE INDEX detect_tiles_unique ON detect_tiles (run_id, tile_row, tile_col);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
  VALUES ('candidates', 'features', 'candidates',
          'Change-detection candidates awaiting analyst review', 4326);
INSERT INTO gpkg_geometry_columns VALUES ('candidates', 'geom', 'GEOMETRY', 4326, 0, 0);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
  VALUES ('detect_tiles', 'attributes', 'detect_tiles', 'Tiles done by each detection run');
"""
