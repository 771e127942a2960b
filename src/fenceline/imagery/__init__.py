"""Imagery: the evidence catalog, tiled change detection and the analyst review queue.

Heavy dependencies (rasterio, scikit-image, dask, onnxruntime) come with the ``imagery``
extra and are imported inside the functions that need them.
"""

from __future__ import annotations

__all__: list[str] = []
