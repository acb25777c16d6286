"""What every check looks at: the analysis, seen through the crop, with shared pixel measures.

A check is judged where the photo will be. On a camera frame with a crop plan, the "view" is
the 480×640 crop itself (landmarks and mask projected into it), or the same crop at a fraction
of that size (``view_scale``: live guidance judges a preview at its own resolution); on a
finished file (no crop) it is the image, scaled down to at most :data:`VIEW_LONG_SIDE` if it is
large. The view's pixels, and every measure derived from them (Lab image, backdrop pixels,
face skin), are computed once, on first use, and shared: a check of geometry alone (layout,
pose, eyes open, mouth) never makes them.
"""

from __future__ import annotations

import atexit
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any, Sequence, TypeVar, cast

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kiosk.photo import analysis as A
from kiosk.photo import standard
from kiosk.photo.analysis import Analysis
from kiosk.photo.arrays import RGB, Mask
from kiosk.photo.checks.thresholds import Thresholds

if TYPE_CHECKING:
    from kiosk.config import Config
    from kiosk.photo.crop import CropPlan
    from kiosk.photo.measures.head import HeadView

VIEW_LONG_SIDE = 1280
OUT_W, OUT_H = standard.FRAME_WIDTH, standard.FRAME_HEIGHT
ScalarT = TypeVar("ScalarT", bound=np.integer[Any] | np.floating[Any])


def channel_median(image: NDArray[ScalarT], mask: Mask) -> NDArray[ScalarT]:
    """Median of each channel of ``image`` (H×W×C) over ``mask``; equal to
    ``np.median(image[mask], axis=0)``, a third faster (contiguous 1-D selections)."""
    return np.array([np.median(image[..., c][mask]) for c in range(image.shape[2])],
                    dtype=image.dtype)


_lab_tables = threading.Event()
_lab_tables.set()                 # nothing to wait for unless a preparation was started
_lab_lock = threading.Lock()
_lab_started = False


def prepare_colour_tables() -> None:
    """Build OpenCV's CIELAB tables in the background, now (idempotent).

    OpenCV builds them on its first RGB→Lab conversion: about a third of a second, a third of
    a ``kiosk check``. Started at once, it overlaps with loading the models. OpenCV's
    initialisation is not guarded against concurrent first calls, so :attr:`CheckContext.lab`
    waits for this one to finish before converting anything itself.
    """
    global _lab_started
    with _lab_lock:
        if _lab_started:
            return
        _lab_started = True
        _lab_tables.clear()

    def build() -> None:
        try:
            cv2.cvtColor(np.zeros((1, 1, 3), np.float32), cv2.COLOR_RGB2Lab)
        finally:
            _lab_tables.set()

    threading.Thread(target=build, name="lab-tables", daemon=True).start()
    # a program that ends meanwhile waits for it: a thread still inside OpenCV while the
    # process tears down aborts it ("terminate called without an active exception")
    atexit.register(_lab_tables.wait, 10.0)


def _crop_at(rgb: RGB, box: Sequence[float], size: tuple[int, int]) -> RGB:
    """The integer source box ``(x0, y0, x1, y1)`` of ``rgb`` resized to ``size`` (w, h)."""
    x0, y0, x1, y1 = (int(v) for v in box)
    part = rgb[y0:y1, x0:x1]
    interp = cv2.INTER_AREA if part.shape[1] > size[0] else cv2.INTER_LINEAR
    return cast(RGB, cv2.resize(part, size, interpolation=interp))


class CheckContext:
    """The analysis plus everything the checks compute from pixels, computed at most once."""

    def __init__(self, analysis: Analysis, config: Config | None = None, crop: CropPlan | None = None, *,
                 view_scale: float | None = None) -> None:
        self.analysis = analysis
        self.config = config
        self.crop = crop
        self.t: Thresholds = getattr(config, "thresholds", None) or Thresholds()
        booth = getattr(config, "booth", None)
        # the installed backdrop ("blue", "white", "grey"), or "any" of the three
        self.backdrop: str = getattr(booth, "backdrop", "any")
        if crop is not None and crop.box is not None:
            v = 1.0 if view_scale is None else min(1.0, view_scale)
            self._offset = np.array(crop.box[:2], np.float64)
            self._view_size = (round(OUT_W * v), round(OUT_H * v))
            self._scale = crop.frame_scale * self._view_size[0] / OUT_W
        else:
            h, w = analysis.image.shape[:2]
            s = min(1.0, VIEW_LONG_SIDE / max(h, w))
            self._offset = np.zeros(2)
            self._view_size = (w, h) if s == 1.0 else (round(w * s), round(h * s))
            self._scale = s

    # --- the view's pixels: made on first use (geometry-only checks never need them) --------
    @cached_property
    def rgb(self) -> RGB:
        """The view: the crop (480×640, or smaller with ``view_scale``) or the scaled image."""
        a, crop = self.analysis, self.crop
        if crop is not None and crop.box is not None:
            if self._view_size[0] >= OUT_W:
                from kiosk.photo.crop import apply_crop
                return apply_crop(a.image, crop)
            # the crop at a fraction of 480×640 (a preview's own resolution: nothing is
            # invented by upsampling); every measure of the checks is relative to the face
            return _crop_at(a.image, crop.box, self._view_size)
        if self._view_size == (a.image.shape[1], a.image.shape[0]):
            return a.image
        return cast(RGB, cv2.resize(a.image, self._view_size, interpolation=cv2.INTER_AREA))

    @cached_property
    def mask(self) -> NDArray[np.float32]:
        """The person mask in the view, float32 in [0, 1]."""
        a, crop = self.analysis, self.crop
        box = crop.box if crop is not None and crop.box is not None else (0, 0, *a.size)
        return a.mask_in(box, self._view_size)

    # --- geometry in view pixels ------------------------------------------------------------
    def to_view(self, points: ArrayLike) -> NDArray[np.float64]:
        view: NDArray[np.float64] = (np.asarray(points, np.float64) - self._offset) * self._scale
        return view

    @property
    def face(self) -> A.FaceGeometry | None:
        return self.analysis.face

    @cached_property
    def lm(self) -> NDArray[np.float64]:
        """The main face's landmarks in view pixels. Only for a measure of the face: a check
        looks at ``face`` first (``unknown`` without one), so asking without a face is a bug."""
        if self.face is None:
            raise LookupError("no face in this analysis: check ctx.face first")
        return self.to_view(self.face.landmarks)

    @cached_property
    def face_width(self) -> float:
        return 0.0 if self.face is None else self.face.face_width * self._scale

    @property
    def size(self) -> tuple[int, int]:
        return self._view_size

    # --- pixel measures ----------------------------------------------------------------------
    @cached_property
    def lab(self) -> NDArray[np.float32]:
        """CIE L*a*b* (D65) of the view, float32: L 0–100."""
        _lab_tables.wait()
        return cast(NDArray[np.float32], cv2.cvtColor(self.rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab))

    @cached_property
    def lightness(self) -> NDArray[np.float32]:
        """L* of the view (a contiguous copy of ``lab[..., 0]``: fast to select from)."""
        return np.ascontiguousarray(self.lab[..., 0])

    @cached_property
    def luma(self) -> NDArray[np.float32]:
        return cv2.cvtColor(self.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)

    @cached_property
    def clipped(self) -> Mask:
        """Pixels clipped in all three channels (≥ ``clip_level``): glare, hot spots, exposure."""
        level = self.t.clip_level
        bounds = np.array([level] * 3, np.uint8), np.array([255] * 3, np.uint8)
        clipped: Mask = cv2.inRange(self.rgb, *bounds).astype(bool)
        return clipped

    def polygon(self, points: ArrayLike, grow: float = 0.0) -> Mask:
        """Boolean mask of a polygon given in view pixels (optionally grown by ``grow`` px)."""
        m = np.zeros(self.rgb.shape[:2], np.uint8)
        cv2.fillPoly(m, [np.round(np.asarray(points)).astype(np.int32)], (1,))
        if grow > 0:
            k = int(round(grow)) * 2 + 1
            return cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))).astype(bool)
        return m.astype(bool)

    @cached_property
    def person(self) -> Mask:
        return self.mask >= 0.5

    @cached_property
    def distance_to_person(self) -> NDArray[np.float32]:
        """Distance (view px) of every pixel from the person's silhouette (mask ≥ 0.1)."""
        outside = (self.mask < 0.1).astype(np.uint8)
        return cast(NDArray[np.float32], cv2.distanceTransform(outside, cv2.DIST_L2, 3))

    @cached_property
    def backdrop_pixels(self) -> Mask:
        """Pixels that are surely backdrop: far enough from the person's soft outline."""
        grow = max(3.0, 0.04 * max(self.face_width, 50.0))
        return self.distance_to_person > grow

    @cached_property
    def backdrop_count(self) -> int:
        """How many view pixels are surely backdrop."""
        return int(np.count_nonzero(self.backdrop_pixels))

    @cached_property
    def backdrop_lab_median(self) -> NDArray[np.float32] | None:
        """Median CIELAB colour of the surely-backdrop pixels (None if there are none).

        Shared by background.*, image.color and attire.contrast, which each decide for
        themselves how many pixels they need (:attr:`backdrop_count`).
        """
        if self.backdrop_count == 0:
            return None
        return channel_median(self.lab, self.backdrop_pixels)

    @cached_property
    def eye_regions(self) -> dict[str, Mask]:
        """The opening of each eye (landmark contour), person's "right"/"left"."""
        return {side: self.polygon(self.lm[list(ring)])
                for side, ring in (("right", A.RIGHT_EYE_RING), ("left", A.LEFT_EYE_RING))}

    @cached_property
    def lens_regions(self) -> dict[str, Mask]:
        """Where a spectacle lens over each eye would be: an ellipse around the eye."""
        out = {}
        for side, ring in (("right", A.RIGHT_EYE_RING), ("left", A.LEFT_EYE_RING)):
            pts = self.lm[list(ring)]
            c = pts.mean(axis=0)
            ew = np.ptp(pts[:, 0])
            m = np.zeros(self.rgb.shape[:2], np.uint8)
            cv2.ellipse(m, (int(c[0]), int(c[1])), (int(ew * 0.8), int(ew * 0.6)), 0, 0, 360, (1,), -1)
            out[side] = m.astype(bool)
        return out

    @cached_property
    def face_skin(self) -> Mask:
        """Face oval minus eyes (with their lens area), brows and mouth: the lit skin."""
        oval = self.polygon(self.lm[list(A.FACE_OVAL)])
        holes = self.lens_regions["right"] | self.lens_regions["left"]
        mouth = self.polygon(self.lm[[61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91]],
                             grow=0.03 * self.face_width)
        skin: Mask = oval & ~holes & ~mouth
        return skin

    @cached_property
    def skin_halves(self) -> tuple[Mask, Mask]:
        """(image-left, image-right) halves of the face skin, split at the nose bridge."""
        skin = self.face_skin
        x = self.lm[[168, 1, 152], 0].mean()
        cols = np.arange(skin.shape[1])[None, :]
        return skin & (cols < x), skin & (cols >= x)

    @cached_property
    def clothing(self) -> Mask:
        """The person's pixels well below the chin: the clothes."""
        chin = self.lm[A.CHIN, 1]
        rows = np.arange(self.rgb.shape[0])[:, None]
        core = cv2.erode(self.person.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
        clothes: Mask = core & (rows > chin + 0.45 * self.face_width)
        return clothes

    @cached_property
    def head(self) -> HeadView | None:
        """The head and neck at a 96 px face width (:mod:`kiosk.photo.measures.head`), or None."""
        if self.face is None:
            return None
        from kiosk.photo.measures.head import head_view
        bg = self.backdrop_lab_median if self.backdrop_count >= 50 else None
        return head_view(self.rgb, self.mask, self.lm, self.face_width, bg)
