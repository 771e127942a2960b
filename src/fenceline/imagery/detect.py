"""Change detectors and the vectorisation of their change maps into candidates.

A detector turns a co-registered, radiometrically normalised pair of tiles into a signed
*change strength* map: ``|strength| >= 1`` is significant change, positive where something
appears in the after image, negative where something disappears. :func:`vectorise` turns
that map into candidates: compact components become polygons of new or removed structures,
elongated ones become lines (new fences, walls, patrol strips) traced along their skeleton.

Two detectors ship: :class:`ClassicalDetector` (numpy, SciPy, numba; the default) and
:class:`OnnxDetector`, which runs a model file the user supplies with onnxruntime. Nothing is
downloaded at run time. Detectors find structures and linear infrastructure only.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> before = 100 + rng.normal(0, 2, (128, 128)).astype(np.float32)
>>> after = before.copy()
>>> after[60:72, 40:52] = 200                      # a new 6 m x 6 m roof at 0.5 m
>>> found = vectorise(ClassicalDetector().change(before, after), gsd_m=0.5)
>>> [(c["kind"], round(c["area_m2"])) for c in found]
[('new_structure', 36)]
"""

from __future__ import annotations

import abc
import functools
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from fenceline.errors import InputError, MissingDependencyError, ParameterError
from fenceline.imagery.coregister import apply_subpixel_shift
from fenceline.imagery.linear import finish_lines, line_key, line_keys, skeleton_lines
from fenceline.imagery.radiometry import (
    _kernels,
    _median,
    block_means,
    box_mean,
    grid_median,
    robust_sigma,
    upsample,
)

__all__ = [
    "ATTACHED_ASPECT",
    "CANDIDATE_FIELDS",
    "CLASSICAL_REVISION",
    "Candidates",
    "ClassicalDetector",
    "Detector",
    "OnnxDetector",
    "attached_structures",
    "detector_from_spec",
    "vectorise",
    "vectorise_columns",
]


def _ndimage():
    try:
        from scipy import ndimage
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("scipy", "imagery") from None
    return ndimage


class Detector(abc.ABC):
    """Turns a pair of aligned tiles into a signed change-strength map."""

    name: str = "detector"

    @abc.abstractmethod
    def spec(self) -> dict[str, Any]:
        """A JSON-able description; :func:`detector_from_spec` rebuilds the detector from it."""

    @abc.abstractmethod
    def change(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Signed change strength (float32, same shape); ``|value| >= 1`` is significant."""

    def change_aligned(
        self, before: np.ndarray, after: np.ndarray, subpixel: tuple[float, float], gain: float
    ) -> np.ndarray:
        """:meth:`change` of ``before`` and ``after`` shifted by ``subpixel`` (``0 <= dy, dx
        < 1``, :func:`~fenceline.imagery.coregister.apply_subpixel_shift`) times ``gain``:
        what a tile's detection runs. The tiles arrive in the file's pixel type; this
        implementation gives :meth:`change` float32 tiles. A detector may fuse the three
        (the classical one does)."""
        kernels = _kernels()
        if kernels is not None and after.size:
            after = kernels.shift_and_gain(after, *subpixel, gain)
        else:
            after = apply_subpixel_shift(np.asarray(after, np.float32), *subpixel) * gain
        return self.change(np.asarray(before, np.float32), after)

    def change_parts(
        self, before: np.ndarray, after: np.ndarray, subpixel: tuple[float, float], gain: float
    ) -> tuple[np.ndarray, float, np.ndarray | None]:
        """:meth:`change_aligned` as ``(signed, scale, cloud)``: the map is ``signed * scale``
        (float32), 0 in the cells (:data:`_BLOCK` px) the grid ``cloud`` marks (None: none).
        :func:`vectorise` takes the parts as they are, so a detector that scales its map last
        (the classical one) need not make it. This implementation returns the map, 1, None."""
        return self.change_aligned(before, after, subpixel, gain), 1.0, None


#: block side (px) of the classical detector's background grid and cloud cells
_BLOCK = 8


def apply_parts(signed: np.ndarray, scale: float, cloud: np.ndarray | None) -> np.ndarray:
    """The map that :meth:`Detector.change_parts` describes, written into ``signed``: its
    values times ``scale`` (float32), 0 in the cells that ``cloud`` marks.

    >>> import numpy as np
    >>> signed = np.tile(np.array([1, -1], np.float32), (1, 8))  # 1 x 16 px: two cells
    >>> apply_parts(signed, 0.5, np.array([[False, True]]))[0, 6:10]
    array([ 0.5, -0.5,  0. , -0. ], dtype=float32)
    """
    scale = np.float32(scale)
    if cloud is None:
        return signed if scale == 1 else np.multiply(signed, scale, out=signed)
    kernels = _kernels()
    if kernels is not None and signed.ndim == 2:
        return kernels.scale_cloud(signed, scale, cloud, _BLOCK)
    return _zero_cells(np.multiply(signed, scale, out=signed), cloud)


def _zero_cells(strength: np.ndarray, cloud: np.ndarray) -> np.ndarray:
    """``strength`` times 0 in the cells (:data:`_BLOCK` px) that ``cloud`` marks, in place
    (-0.0 stays -0.0, as ``kernels.scale_cloud`` leaves it)."""
    h, w = strength.shape
    if h % _BLOCK == 0 and w % _BLOCK == 0:
        # each block of the map times 0 or 1, through a 4-d view (no full-size mask)
        blocks = strength.reshape(h // _BLOCK, _BLOCK, w // _BLOCK, _BLOCK)
        blocks *= ~cloud[:, None, :, None]
    else:
        strength *= ~np.repeat(np.repeat(cloud, _BLOCK, axis=0), _BLOCK, axis=1)[:h, :w]
    return strength


#: revision of the classical detector's rules, raised whenever a change alters its candidates
#: (2: structures within linear components, :func:`attached_structures`). It is in the
#: detector's spec, so in the run's id (a run never resumes under other rules), in the audit
#: record, and in what each worker is sent: a worker with other rules refuses the tiles.
CLASSICAL_REVISION = 2


class ClassicalDetector(Detector):
    """Difference of local contrast, thresholded against the tile's own noise.

    Parameters
    ----------
    k_sigma : float
        Threshold in robust standard deviations of the difference image.
    cloud_dn : float
        Brightening of the after image's coarse background (digital numbers, above the tile's
        median brightening) taken as cloud or haze; change is not reported there.
    revision : int
        The rules' revision a spec asks for (:data:`CLASSICAL_REVISION`, the only one this
        fenceline has; another is refused, so no run mixes two sets of rules).
    """

    name = "classical"

    def __init__(
        self, k_sigma: float = 6.0, cloud_dn: float = 25.0, revision: int = CLASSICAL_REVISION
    ) -> None:
        if revision != CLASSICAL_REVISION:
            raise ParameterError(
                "--detector",
                f"the run asks for revision {revision} of the classical detector's rules and "
                f"this fenceline has revision {CLASSICAL_REVISION}: install one fenceline "
                "version wherever the tiles run",
            )
        self.k_sigma = float(k_sigma)
        self.cloud_dn = float(cloud_dn)

    def spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "k_sigma": self.k_sigma,
            "cloud_dn": self.cloud_dn,
            "revision": CLASSICAL_REVISION,
        }

    def _cloud(self, grid_before: np.ndarray, grid_after: np.ndarray) -> np.ndarray | None:
        """Cloud and haze: blocks (8 px) whose background brightened well above the tile's
        median brightening, grown by 2 blocks; None when there are none."""
        excess = grid_after - grid_before
        if np.isnan(excess).any():
            return None  # np.median's NaN would compare False everywhere: no cloud
        excess -= _median(excess.ravel())  # np.median's value, by one partition
        cloud = excess > self.cloud_dn
        if not cloud.any():
            return None
        return _dilate(cloud, 2)

    def change_aligned(
        self, before: np.ndarray, after: np.ndarray, subpixel: tuple[float, float], gain: float
    ) -> np.ndarray:
        if _kernels() is None or min(before.shape) < 2:
            return super().change_aligned(before, after, subpixel, gain)
        # |diff| * scale with its sign: the same float32 product, the sign kept
        return apply_parts(*self.change_parts(before, after, subpixel, gain))

    def change_parts(
        self, before: np.ndarray, after: np.ndarray, subpixel: tuple[float, float], gain: float
    ) -> tuple[np.ndarray, float, np.ndarray | None]:
        kernels = _kernels()
        if kernels is None or min(before.shape) < 2:
            return super().change_parts(before, after, subpixel, gain)
        grid_b, grid_a, signed, sample = self._sweeps(kernels, before, after, subpixel, gain)
        sigma = max(robust_sigma(sample), 0.5)  # robust_sigma(diff), from its own sample
        scale = np.float32(1.0 / (self.k_sigma * sigma))
        return signed, scale, self._cloud(grid_b, grid_a)

    @staticmethod
    def _sweeps(
        kernels: Any,
        before: np.ndarray,
        after: np.ndarray,
        subpixel: tuple[float, float],
        gain: float,
    ) -> tuple[np.ndarray, ...]:
        """The compiled sweep before the scale (kernels.change_sweep): the block grids of both
        images, the after image shifted on the fly, and from them the shift, gain,
        high-pass, box means, sign and σ's sample, in one pass of the rows; 8 or 16-bit
        tiles are read as they are (kernels._pixels). Returns both grids, the map before its
        scale (the 3 x 3 mean's magnitude with the sign of the change of contrast) and σ's
        sample."""
        return kernels.change_sweep(before, after, subpixel, gain, _BLOCK)

    def change(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        kernels = _kernels()
        if kernels is not None and min(np.shape(before)) >= 2:
            # the compiled sweep with no shift and unit gain: the same float32 operations
            return self.change_aligned(before, after, (0.0, 0.0), 1.0)
        before = np.asarray(before, np.float32)
        after = np.asarray(after, np.float32)
        # robust backgrounds on the 8 px block grid (1/64 of the pixels), then upsampled
        grid_b = grid_median(block_means(before, _BLOCK))
        grid_a = grid_median(block_means(after, _BLOCK))
        strength = self._change_numpy(before, after, grid_b, grid_a)
        return self._silence_cloud(strength, grid_b, grid_a)

    def _silence_cloud(
        self, strength: np.ndarray, grid_b: np.ndarray, grid_a: np.ndarray
    ) -> np.ndarray:
        """No change where the after image's background brightened as cloud and haze do."""
        cloud = self._cloud(grid_b, grid_a)
        return strength if cloud is None else _zero_cells(strength, cloud)

    def _change_numpy(
        self, before: np.ndarray, after: np.ndarray, grid_b: np.ndarray, grid_a: np.ndarray
    ) -> np.ndarray:
        """The change map before cloud masking, in numpy (the kernels' reference)."""
        shape = before.shape
        hb = np.subtract(before, upsample(grid_b, shape, _BLOCK))
        ha = np.subtract(after, upsample(grid_a, shape, _BLOCK))
        diff = box_mean(ha - hb, 3)
        sigma = max(robust_sigma(diff), 0.5)
        np.abs(ha, out=ha)
        np.abs(hb, out=hb)
        which = box_mean(np.subtract(ha, hb, out=ha), 5)
        strength = np.abs(diff, out=diff)
        strength *= np.float32(1.0 / (self.k_sigma * sigma))
        np.copysign(strength, which, out=strength)  # negative where the contrast faded
        return strength


def _dilate(mask: np.ndarray, iterations: int) -> np.ndarray:
    """SciPy's ``binary_dilation(mask, iterations=...)`` (the 4-neighbour cross, nothing
    beyond the edges) by shifted ORs: a tenth of its cost on a tile's block grid.

    >>> import numpy as np
    >>> dot = np.zeros((5, 5), bool)
    >>> dot[2, 2] = True
    >>> _dilate(dot, 2).sum(axis=1).tolist()
    [1, 3, 5, 3, 1]
    """
    out = np.asarray(mask, bool)
    for _ in range(iterations):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out


_SESSIONS: dict[str, Any] = {}


class OnnxDetector(Detector):
    """Runs an ONNX change model supplied by the user (onnxruntime, CPU).

    The model takes either two inputs (before, after) of shape ``[1, 1, H, W]`` or one input
    ``[1, 2, H, W]``, float32, each tile standardised to zero mean and unit variance. Its first
    output is ``[1, 1, H, W]`` (probability of a new structure or line) or ``[1, 2, H, W]``
    (new, removed). ``threshold`` is the probability taken as significant.
    """

    name = "onnx"

    def __init__(self, model_path: str | os.PathLike[str], threshold: float = 0.5) -> None:
        self.model_path = os.path.abspath(model_path)
        self.threshold = float(threshold)
        if not os.path.isfile(self.model_path):
            raise InputError(self.model_path, "no such model file")
        if not 0 < self.threshold < 1:
            raise ParameterError("--threshold", "must be between 0 and 1 for an ONNX model")
        self._session()  # a file onnxruntime cannot load fails here, before any tile runs

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "model_path": self.model_path, "threshold": self.threshold}

    def _session(self) -> Any:
        try:
            import onnxruntime
        except ImportError:  # pragma: no cover - depends on the environment
            raise MissingDependencyError("onnxruntime", "imagery") from None
        stat = os.stat(self.model_path)
        # keyed on the file's identity too: a model replaced at the same path is reloaded
        key = f"{self.model_path}:{stat.st_size}:{stat.st_mtime_ns}"
        session = _SESSIONS.get(key)
        if session is None:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            try:
                session = onnxruntime.InferenceSession(
                    self.model_path, options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:
                raise InputError(self.model_path, f"not a usable ONNX model ({exc})") from None
            _SESSIONS[key] = session
        return session

    def change(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        session = self._session()

        def standard(x: np.ndarray) -> np.ndarray:
            x = x.astype(np.float32)
            return ((x - x.mean()) / max(float(x.std()), 1e-6))[None, None]

        b, a = standard(before), standard(after)
        inputs = session.get_inputs()
        if len(inputs) >= 2:
            feed = {inputs[0].name: b, inputs[1].name: a}
        else:
            feed = {inputs[0].name: np.concatenate([b, a], axis=1)}
        out = np.asarray(session.run(None, feed)[0], dtype=np.float32)
        out = out.reshape((-1, *before.shape))
        if out.shape[0] >= 2:
            new, removed = out[0], out[1]
            strength = np.where(new >= removed, new, -removed)
        else:
            strength = out[0]
        return (strength / self.threshold).astype(np.float32)


def detector_from_spec(spec: dict[str, Any]) -> Detector:
    """Rebuild a detector from :meth:`Detector.spec` (how workers receive it).

    ``classical`` and ``onnx`` are built in. Any other detector's spec names its class as
    ``"class": "package.module:ClassName"`` (importable where the tiles run); the other keys
    except ``name`` are its constructor's keyword arguments.

    >>> detector_from_spec({"name": "classical", "k_sigma": 5.0}).k_sigma
    5.0
    >>> spec = {"name": "mine", "class": "fenceline.imagery.detect:ClassicalDetector"}
    >>> type(detector_from_spec(spec)).__name__
    'ClassicalDetector'
    """
    import importlib

    spec = dict(spec)
    name = spec.pop("name", "classical")
    target = spec.pop("class", None)
    if target is not None:
        module_name, _, class_name = str(target).partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ParameterError("--detector", f"cannot load detector {target!r} ({exc})") from None
        if not (isinstance(cls, type) and issubclass(cls, Detector)):
            raise ParameterError("--detector", f"{target!r} is not a Detector subclass")
        return cls(**spec)
    if name == "classical":
        return ClassicalDetector(**spec)
    if name == "onnx":
        return OnnxDetector(**spec)
    raise ParameterError("--detector", f"unknown detector {name!r} (classical or onnx)")


def _polygon(component: np.ndarray, x0: float = 0.0, y0: float = 0.0) -> shapely.Geometry:
    """Outline of a component (convex hull of its pixels' corners, in GEOS's normal form), in
    pixel coordinates of the map when ``(x0, y0)`` is the component window's corner.

    Only each row's first and last pixel can be on the hull, so only their corners are used.
    """
    rows, cols = np.nonzero(component)  # row-major: each row's columns ascending
    first = np.flatnonzero(np.diff(rows, prepend=-1))
    last = np.append(first[1:], len(rows)) - 1
    top = rows[first].astype(float) + y0
    left = cols[first].astype(float) + x0
    right = cols[last].astype(float) + (x0 + 1)
    corners = np.column_stack(
        [
            np.concatenate([left, left, right, right]),
            np.concatenate([top, top + 1, top, top + 1]),
        ]
    )
    return shapely.normalize(shapely.convex_hull(shapely.multipoints(corners)))


def _spread(rows: np.ndarray, cols: np.ndarray) -> tuple[float, float]:
    """Standard deviations along the major and minor axes of a pixel set (covariance
    eigenvalues, closed form for 2 x 2)."""
    if len(rows) <= 2:
        return 1.0, 1.0
    r = rows - rows.mean()
    c = cols - cols.mean()
    n = len(rows) - 1
    # elementwise sums, not BLAS dot products (whose threads contend on a busy machine)
    a, d, b = float((r * r).sum()) / n, float((c * c).sum()) / n, float((r * c).sum()) / n
    mid = (a + d) / 2
    radius = math.sqrt(max(0.0, ((a - d) / 2) ** 2 + b * b))
    return math.sqrt(max(mid + radius, 1e-6)), math.sqrt(max(mid - radius, 1e-6))


#: the fields of a candidate, as :func:`vectorise` gives each one and :class:`Candidates` holds
CANDIDATE_FIELDS = ("kind", "geometry", "score", "area_m2", "length_m")


@dataclass(frozen=True, eq=False)
class Candidates:
    """Candidates as columns, one entry per candidate in each (what :func:`vectorise_columns`
    gives and a tile's result carries): ``kind`` (str), ``geometry`` (shapely geometries, or
    their WKB), ``score``, ``area_m2`` and ``length_m`` (float64). Columns spare a dict per
    candidate at each step from the map to the queue. Compare :meth:`records` to compare
    candidates (columns of arrays have no single truth value)."""

    kind: np.ndarray
    geometry: np.ndarray
    score: np.ndarray
    area_m2: np.ndarray
    length_m: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    @classmethod
    def empty(cls) -> Candidates:
        return cls(*(np.empty(0, object) for _ in range(2)), *(np.empty(0) for _ in range(3)))

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> Candidates:
        """Columns of candidates given as dicts (the fields of :data:`CANDIDATE_FIELDS`)."""
        if not records:
            return cls.empty()
        kind = np.array([r["kind"] for r in records], object)
        geometry = np.empty(len(records), object)
        geometry[:] = [r["geometry"] for r in records]
        numbers = (np.array([r[f] for r in records], np.float64) for f in CANDIDATE_FIELDS[2:])
        return cls(kind, geometry, *numbers)

    def records(self) -> list[dict[str, Any]]:
        """One dict per candidate (floats as Python floats), in order."""
        return [
            {"kind": k, "geometry": g, "score": s, "area_m2": a, "length_m": m}
            for k, g, s, a, m in zip(
                self.kind.tolist(),
                self.geometry.tolist(),
                self.score.tolist(),
                self.area_m2.tolist(),
                self.length_m.tolist(),
                strict=True,
            )
        ]

    def take(self, index: np.ndarray) -> Candidates:
        """The candidates at ``index`` (an integer array), in its order."""
        return Candidates(*(getattr(self, f)[index] for f in CANDIDATE_FIELDS))

    @classmethod
    def concat(cls, parts: list[Candidates]) -> Candidates:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in CANDIDATE_FIELDS))


def vectorise(
    strength: np.ndarray,
    *,
    gsd_m: float,
    min_area_m2: float = 5.0,
    max_structure_m: float = 40.0,
    min_line_m: float = 15.0,
    elongation: float = 4.0,
    scale: float = 1.0,
    cloud: np.ndarray | None = None,
    within: tuple[float, float, float, float] | None = None,
) -> list[dict[str, Any]]:
    """Candidates from a change-strength map, geometries in pixel coordinates (x=col, y=row):
    :func:`vectorise_columns`' candidates as one dict each (:data:`CANDIDATE_FIELDS`)."""
    return vectorise_columns(
        strength,
        gsd_m=gsd_m,
        min_area_m2=min_area_m2,
        max_structure_m=max_structure_m,
        min_line_m=min_line_m,
        elongation=elongation,
        scale=scale,
        cloud=cloud,
        within=within,
    ).records()


def vectorise_columns(
    strength: np.ndarray,
    *,
    gsd_m: float,
    min_area_m2: float = 5.0,
    max_structure_m: float = 40.0,
    min_line_m: float = 15.0,
    elongation: float = 4.0,
    scale: float = 1.0,
    cloud: np.ndarray | None = None,
    within: tuple[float, float, float, float] | None = None,
) -> Candidates:
    """Candidates from a change-strength map, geometries in pixel coordinates (x=col, y=row),
    as columns (:class:`Candidates`).

    The map is ``strength``, or with ``scale`` and ``cloud`` the map that
    :meth:`Detector.change_parts` describes (:func:`apply_parts`): the compiled path
    thresholds and measures it from its parts without making it, and ``strength`` is left
    as it is.

    Components are grown from pixels with ``|strength| >= 1`` into neighbours with
    ``|strength| >= 0.5`` (hysteresis). A component longer than ``min_line_m`` and at least
    ``elongation`` times longer than wide is a linear feature; otherwise a component of at
    least ``min_area_m2`` no longer than ``max_structure_m`` is a structure; a larger one is
    traced as lines too (lines that meet at a crossing form such components).

    The map is labelled once; each kept component is then measured, outlined or traced only
    within its bounding window.

    ``within`` (``x0, y0, x1, y1``, in the map's pixel coordinates): only components whose
    bounding box reaches into that window's interior are vectorised. A tile passes its core
    window: a component wholly in the overlap margin can give no candidate that the tile
    keeps (a polygon's centroid lies inside its component's bounding box, a line's vertices
    at its pixels' centres), so it is not outlined or traced at all.
    """
    kernels = _kernels()
    if kernels is not None:
        return _vectorise_kernels(
            kernels,
            strength,
            np.float32(scale),
            cloud,
            gsd_m=gsd_m,
            min_area_m2=min_area_m2,
            max_structure_m=max_structure_m,
            min_line_m=min_line_m,
            elongation=elongation,
            within=within,
        )
    return Candidates.from_records(
        _vectorise_numpy(
            strength,
            gsd_m=gsd_m,
            min_area_m2=min_area_m2,
            max_structure_m=max_structure_m,
            min_line_m=min_line_m,
            elongation=elongation,
            scale=scale,
            cloud=cloud,
            within=within,
        )
    )


def _reaches(left: Any, top: Any, right: Any, bottom: Any, within: tuple[float, ...] | None) -> Any:
    """Which bounding boxes (pixel edges: ``right`` and ``bottom`` one past the last pixel)
    reach into the interior of the window ``within`` (``x0, y0, x1, y1``; None: all)."""
    if within is None:
        return np.ones(np.shape(left), bool)
    x0, y0, x1, y1 = within
    return (right > x0) & (left < x1) & (bottom > y0) & (top < y1)


def _vectorise_numpy(
    strength: np.ndarray,
    *,
    gsd_m: float,
    min_area_m2: float,
    max_structure_m: float,
    min_line_m: float,
    elongation: float,
    scale: float,
    cloud: np.ndarray | None,
    within: tuple[float, float, float, float] | None = None,
) -> list[dict[str, Any]]:
    """:func:`vectorise` in numpy and SciPy, one component after another (the kernels'
    reference)."""
    if scale != 1 or cloud is not None:
        strength = apply_parts(np.array(strength, np.float32), scale, cloud)
    ndimage = _ndimage()
    magnitude = np.abs(strength)
    weak = magnitude >= 0.5
    labels, count = ndimage.label(weak, structure=np.ones((3, 3), bool))
    if count == 0:
        return []
    # per-component statistics from the (few) changed pixels only, not the whole map
    where = np.flatnonzero(weak)
    owner = labels.ravel()[where]
    areas = np.bincount(owner, minlength=count + 1)
    strong = np.zeros(count + 1, bool)
    strong[owner[magnitude.ravel()[where] >= 1]] = True
    px_area = gsd_m * gsd_m
    min_px = max(1, int(min_area_m2 / px_area))
    kept = np.flatnonzero(strong & (areas >= min_px))
    if len(kept) == 0:
        return []
    slices = ndimage.find_objects(labels, max_label=int(kept[-1]))
    boxes = np.array([[sl[1].start, sl[0].start, sl[1].stop, sl[0].stop] for sl in slices])
    kept = kept[_reaches(*boxes[kept - 1].T, within)]
    params = {
        "gsd_m": gsd_m,
        "min_area_m2": min_area_m2,
        "max_structure_m": max_structure_m,
        "min_line_m": min_line_m,
        "elongation": elongation,
    }
    out: list[dict[str, Any]] = []
    for label in kept:
        sl = slices[label - 1]
        component = labels[sl] == label
        rows, cols = np.nonzero(component)
        window = strength[sl]
        values = window[component]
        sign = 1 if values.sum() >= 0 else -1
        peak = float(np.abs(values).max())
        major, minor = _spread(rows, cols)
        _candidate(
            out, strength, component, sl, sign, peak, major, minor, int(areas[label]), **params
        )
    return out


def _traced(length_px: Any, width_px: Any, params: dict[str, Any]) -> Any:
    """Which components (or parts of one) are linear, by their length and width (px, 4
    standard deviations each): at least ``min_line_m`` long and ``elongation`` times longer
    than wide, or longer than a structure (``max_structure_m``)."""
    length_m = length_px * params["gsd_m"]
    return (length_m >= params["min_line_m"]) & (
        (length_px >= params["elongation"] * width_px) | (length_m > params["max_structure_m"])
    )


def _compact(area_px: Any, length_px: Any, width_px: Any, params: dict[str, Any]) -> Any:
    """Which parts of a linear component's strong change are structures too
    (:func:`attached_structures`): at least ``min_area_m2``, not linear, and at most
    :data:`ATTACHED_ASPECT` times longer than wide."""
    min_px = max(1, int(params["min_area_m2"] / params["gsd_m"] ** 2))
    return (
        (area_px >= min_px)
        & ~np.asarray(_traced(length_px, width_px, params))  # a scalar's ~ too
        & (length_px <= ATTACHED_ASPECT * width_px)
    )


def _structures(
    kernels: Any,
    strength: np.ndarray,
    scale: np.float32,
    components: Any,
    indices: np.ndarray,
    owner: np.ndarray,
    new: np.ndarray,
    length_m: np.ndarray,
    min_px: int,
    px_area: float,
) -> tuple[np.ndarray, Candidates] | None:
    """Structure candidates of the components ``indices`` (of ``components``): those whose
    strong part has at least ``min_px`` pixels (``_candidate``'s rule), outlined in one
    compiled call (``kernels.structure_hulls``: the corners' own order, no sort).
    ``owner[i]``, ``new[i]`` and ``length_m[i]`` are component ``indices[i]``'s candidate
    order, kind and length. Returns the owners of the candidates made and the candidates,
    or None."""
    hulls, ok, core = kernels.structure_hulls(strength, components, indices, min_px, scale)
    if not len(hulls):
        return None
    peaks = components.stats[indices[ok], kernels.PEAK].astype(np.float32).astype(np.float64)
    kinds = np.where(new[ok], "new_structure", "removed_structure").astype(object)
    found = Candidates(kinds, hulls, 1 - np.exp(-peaks / 3), core[ok] * px_area, length_m[ok])
    return owner[ok], found


def _vectorise_kernels(
    kernels: Any,
    strength: np.ndarray,
    scale: np.float32,
    cloud: np.ndarray | None,
    within: tuple[float, float, float, float] | None = None,
    **params: float,
) -> Candidates:
    """:func:`vectorise_columns` with compiled kernels and no Python work per component but
    the thinning of linear ones: labelling and statistics in one sweep, every structure's
    outline points in one more (their hulls in one compiled call), each linear component's
    skeleton traced and pruned compiled, and all lines of the map normalised and simplified in
    one call. The candidates are those of the numpy path (``_candidate``), in the same order:
    by component, a component's lines in the order of their vertices."""
    components = kernels.label_runs(strength, scale=scale, cloud=cloud, block=_BLOCK)
    stats = components.stats
    if len(stats) == 0:
        return Candidates.empty()
    gsd_m = params["gsd_m"]
    px_area = gsd_m**2
    min_px = max(1, int(params["min_area_m2"] / px_area))
    kept = np.flatnonzero(
        (stats[:, kernels.STRONG] > 0)
        & (stats[:, kernels.AREA] >= min_px)
        & _reaches(
            stats[:, kernels.LEFT],
            stats[:, kernels.TOP],
            stats[:, kernels.RIGHT],
            stats[:, kernels.BOTTOM],
            within,
        )
    )
    if len(kept) == 0:
        return Candidates.empty()
    rows = stats[kept]
    major, minor = kernels.spread(rows)
    length_px, width_px = 4 * major, 4 * minor
    linear = _traced(length_px, width_px, params)
    positive = rows[:, kernels.SUM] >= 0
    peaks = rows[:, kernels.PEAK].astype(np.float32).astype(np.float64)
    scores = 1 - np.exp(-peaks / 3)
    parts: list[tuple[np.ndarray, Candidates]] = []  # (each candidate's component, candidates)

    # structures: the strong part's outline points, one convex hull each
    where = np.flatnonzero(~linear)
    if len(where):
        made = _structures(
            kernels,
            strength,
            scale,
            components,
            kept[where],
            where,
            positive[where],
            length_px[where] * gsd_m,
            min_px,
            px_area,
        )
        if made is not None:
            parts.append(made)

    # linear components: each thinned, traced and pruned (one compiled call for them all),
    # then all lines normalised and simplified at once, in each component's own window as
    # the numpy path does it
    where = np.flatnonzero(linear)
    xy, owner, which_line = kernels.component_lines(components, kept[where], 8.0)
    if len(which_line):
        lines = finish_lines(shapely.linestrings(xy, indices=owner))
        which_line = where[which_line]
        origin = rows[which_line][:, [kernels.LEFT, kernels.TOP]]
        long_enough = shapely.length(lines) * gsd_m >= params["min_line_m"] / 2
        lines, which_line, origin = lines[long_enough], which_line[long_enough], origin[long_enough]
        # within a component, lines in the order of their vertices (as _candidate orders them)
        counts = shapely.get_num_coordinates(lines)
        keys = line_keys(shapely.get_coordinates(lines), counts)
        order = np.array(sorted(range(len(lines)), key=lambda j: (which_line[j], keys[j])), int)
        lines, which_line, origin = lines[order], which_line[order], origin[order]
        counts = counts[order]
        moved = shapely.set_coordinates(
            lines.copy(), shapely.get_coordinates(lines) + np.repeat(origin, counts, axis=0)
        )
        kinds = np.where(positive[which_line], "new_linear", "removed_linear").astype(object)
        parts.append(
            (
                which_line,
                Candidates(
                    kinds,
                    moved,
                    scores[which_line],
                    rows[which_line, kernels.AREA] * px_area,
                    shapely.length(moved) * gsd_m,
                ),
            )
        )
    # the compact strong parts of linear components, outlined as structures (what the
    # numpy path's attached_structures finds in each one's window)
    where = np.flatnonzero(linear)
    if len(where):
        pieces, label = kernels.strong_parts(strength, components, kept[where] + 1, scale=scale)
        owner = where[np.searchsorted(kept[where] + 1, label)]  # each piece's row of rows
        piece_major, piece_minor = kernels.spread(pieces.stats)
        piece_length = 4 * piece_major
        chosen = np.flatnonzero(
            _compact(pieces.stats[:, kernels.AREA], piece_length, 4 * piece_minor, params)
            & ((pieces.stats[:, kernels.SUM] >= 0) == positive[owner])
        )
        made = _structures(
            kernels,
            strength,
            scale,
            pieces,
            chosen,
            owner[chosen],
            positive[owner[chosen]],
            piece_length[chosen] * gsd_m,
            min_px,
            px_area,
        )
        if made is not None:
            parts.append(made)
    if not parts:
        return Candidates.empty()
    found = Candidates.concat([c for _, c in parts])
    # by component (a component is a structure or lines, never both; its lines stay in order)
    return found.take(np.argsort(np.concatenate([w for w, _ in parts]), kind="stable"))


#: a compact part of a linear component's strong change is a structure too when it is at
#: most this many times longer than wide (:func:`attached_structures`)
ATTACHED_ASPECT = 1.5


def attached_structures(
    window: np.ndarray,
    component: np.ndarray,
    x0: int,
    y0: int,
    sign: int,
    **params: float,
) -> list[dict[str, Any]]:
    """The structures within a linear component: each 8-connected part of its strong change
    (``|value| >= 1``) that is compact (neither linear by the component rule nor more than
    :data:`ATTACHED_ASPECT` times longer than wide) and changed the way the component did
    (``sign``: its values' sum, as the component's, >= 0 for new, < 0 for removed), outlined
    as a structure is.

    The faint change around a guard post (cleared ground, a path) joins it to a fence or
    strip nearby, or makes its component long: the component is then traced as lines, and
    without this the post would be no structure candidate. ``window`` is the map in the
    component's bounding window, ``component`` its pixels there, ``(x0, y0)`` the window's
    corner in the map; ``params`` are :func:`vectorise`'s ``gsd_m``, ``min_area_m2``,
    ``max_structure_m``, ``min_line_m`` and ``elongation``. The compiled path finds the same
    parts from the component's runs (``kernels.strong_parts``).
    """
    ndimage = _ndimage()
    strong = component & (np.abs(window) >= 1.0)
    labels, count = ndimage.label(strong, structure=np.ones((3, 3), bool))
    if count == 0:
        return []
    gsd_m = params["gsd_m"]
    px_area = gsd_m * gsd_m
    min_px = max(1, int(params["min_area_m2"] / px_area))
    out: list[dict[str, Any]] = []
    for k, sl in enumerate(ndimage.find_objects(labels)):
        sub = labels[sl] == k + 1
        rows, cols = np.nonzero(sub)
        major, minor = _spread(rows, cols)
        length_px, width_px = 4 * major, 4 * minor
        if not _compact(len(rows), length_px, width_px, params):
            continue
        values = window[sl][sub]
        if (values.sum() >= 0) != (sign > 0):  # the halo's other side, mostly: not kept
            continue
        peak = float(np.abs(values).max())
        core = sub & (np.abs(window[sl]) >= max(1.0, 0.4 * peak))
        core_px = int(np.count_nonzero(core))
        if core_px < min_px:
            continue
        out.append(
            {
                "kind": "new_structure" if sign > 0 else "removed_structure",
                "geometry": _polygon(core, x0 + sl[1].start, y0 + sl[0].start),
                "score": float(1 - np.exp(-peak / 3)),
                "area_m2": float(core_px * px_area),
                "length_m": float(length_px * gsd_m),
            }
        )
    return out


def _candidate(
    out: list[dict[str, Any]],
    strength: np.ndarray,
    component: np.ndarray,
    sl: tuple[slice, slice],
    sign: int,
    peak: float,
    major: float,
    minor: float,
    area_px: int,
    **params: float,
) -> None:
    """Append the candidates of one component (a structure, or the lines traced along it and
    the structures within it); ``params`` as :func:`attached_structures` takes them."""
    gsd_m, min_line_m = params["gsd_m"], params["min_line_m"]
    px_area = gsd_m * gsd_m
    min_px = max(1, int(params["min_area_m2"] / px_area))
    window = strength[sl]
    score = float(1 - np.exp(-peak / 3))
    length_px = 4 * major
    width_px = 4 * minor
    y0, x0 = sl[0].start, sl[1].start
    # long and thin, or too big for a structure (lines joined at a crossing): trace lines
    if _traced(length_px, width_px, params):
        lines = [
            line for line in skeleton_lines(component) if line.length * gsd_m >= min_line_m / 2
        ]
        lines.sort(key=lambda line: line_key(shapely.get_coordinates(line)))
        offset = np.array([x0, y0], float)
        moved = shapely.transform(np.array(lines, dtype=object), functools.partial(np.add, offset))
        for line in moved:
            out.append(
                {
                    "kind": "new_linear" if sign > 0 else "removed_linear",
                    "geometry": line,
                    "score": score,
                    "area_m2": float(area_px * px_area),
                    "length_m": float(line.length * gsd_m),
                }
            )
        out.extend(attached_structures(window, component, x0, y0, sign, **params))
    else:
        # the outline is the component's strong part, without the faint high-pass halo
        core = component & (np.abs(window) >= max(1.0, 0.4 * peak))
        core_px = int(np.count_nonzero(core))
        if core_px < min_px:
            return
        out.append(
            {
                "kind": "new_structure" if sign > 0 else "removed_structure",
                "geometry": _polygon(core, x0, y0),
                "score": score,
                "area_m2": float(core_px * px_area),
                "length_m": float(length_px * gsd_m),
            }
        )
