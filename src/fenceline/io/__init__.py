"""Reading and writing the formats analysts use: GeoJSON, GeoPackage, Shapefile (also zipped),
KML/KMZ as Google Earth Pro writes them, and CSV with lon/lat or WKT columns."""
