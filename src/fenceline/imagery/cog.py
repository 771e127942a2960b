"""Cloud-Optimised GeoTIFF working copies.

The original image file is evidence and is never modified. When it is not already a COG
(internally tiled, with overviews), a working COG copy is made for windowed reads.

>>> import tempfile, numpy as np, rasterio
>>> from fenceline.imagery.synthetic import write_geotiff
>>> tif = write_geotiff(tempfile.mktemp(suffix=".tif"), np.zeros((64, 64), "uint8"),
...                     transform=rasterio.Affine(0.5, 0, 433000, 0, -0.5, 4584000), cog=False)
>>> is_cog(tif)
False
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fenceline.errors import MissingDependencyError

__all__ = ["is_cog", "make_cog", "rasterio_env"]


def _rasterio():
    try:
        import rasterio
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("rasterio", "imagery") from None
    return rasterio


#: GDAL's block cache outside tile reads (bytes); a tile's reads size it to the tile
CACHE_BYTES = 64 * 2**20


def rasterio_env(cache_bytes: int = CACHE_BYTES, **options: Any) -> Any:
    """A ``rasterio.Env`` with a bounded GDAL block cache of ``cache_bytes``.

    rasterio hands an integer ``GDAL_CACHEMAX`` to ``GDALSetCacheMax64``, which counts
    bytes (GDAL's own reading of the variable takes small numbers as megabytes): 64 here
    was a 64-byte cache, so no block was ever reused.
    """
    rasterio = _rasterio()
    settings: dict[str, Any] = {
        "GDAL_CACHEMAX": int(cache_bytes),
        "GDAL_NUM_THREADS": "1",
        "GDAL_DISABLE_READDIR_ON_OPEN": "TRUE",
    }
    settings.update(options)
    return rasterio.Env(**settings)


def is_cog(path: str | os.PathLike[str]) -> bool:
    """True when the file is a GeoTIFF laid out as a COG (GDAL reports ``LAYOUT=COG``)."""
    rasterio = _rasterio()
    with rasterio_env(), rasterio.open(path) as ds:
        if ds.driver != "GTiff":
            return False
        return ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT", "").upper() == "COG"


def make_cog(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Copy ``source`` to a DEFLATE-compressed COG at ``target`` (written then renamed)."""
    rasterio = _rasterio()
    from rasterio.shutil import copy as rio_copy

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with rasterio_env(), rasterio.open(source) as src:
        rio_copy(
            src,
            partial,
            driver="COG",
            compress="DEFLATE",
            blocksize=512,
            overview_resampling="average",
        )
    os.replace(partial, target)
    return target
