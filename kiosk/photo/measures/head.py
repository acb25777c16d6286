"""The head at one scale: a small crop around the face in which every head measure works.

Headwear, hair over the brows and ears, earrings and necklaces are all judged from colours
near the face, relative to the person's own skin and hair. :func:`head_view` cuts the head
and neck out of the view once, scaled so the face is :data:`FACE_PX` pixels wide (a preview
frame, a 12 MP still and a finished file then give the same numbers, and the measures cost
the same on each: about 180×290 pixels), converts it to CIELAB and finds the skin.

Colour distances here are Euclidean in CIELAB with L* weighted by half (``shade_distance``):
shading across a round head changes L* far more than it changes a*, b*.

The landmark names used by every head measure are kept here, with where they sit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import cast

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kiosk.photo import analysis as A
from kiosk.photo.arrays import RGB, Floats, Mask

#: Face width (cheek to cheek) in the head view, pixels.
FACE_PX = 96
#: Silhouette pixels this close to the backdrop's colour count as backdrop.
BACKDROP_TOL = 8.0
#: Skin-coloured: within SKIN_SPREAD × the cheeks' median distance from their median colour,
#: kept inside SKIN_TOL_RANGE (shade distance units, see :func:`shade_distance`).
SKIN_SPREAD = 3.0
SKIN_TOL_RANGE = (6.0, 15.0)

# FaceMesh landmarks (the person's right / left)
BROW_UPPER = {"right": (70, 63, 105, 66, 107), "left": (336, 296, 334, 293, 300)}
BROW_LOWER = {"right": (46, 53, 52, 65, 55), "left": (285, 295, 282, 283, 276)}
FOREHEAD_INNER = {"right": 103, "left": 332}        # the oval's top, a third in from the side
NOSE_BOTTOM = 2
MOUTH_CORNER = {"right": 61, "left": 291}
JAW = {"right": 172, "left": 397}                   # the oval at the jaw's corner
# Where the ear meets the face: the oval's outermost points from the eye to the mouth
EAR_CONTOUR = {"right": (127, 234, 93, 132), "left": (356, 454, 323, 361)}
NOSTRILS = (98, 97, 2, 326, 327, 294, 278, 344, 440, 275, 4, 45, 220, 115, 48, 64)


def shade_distance2(lab: Floats, ref: Floats) -> Floats:
    """The square of :func:`shade_distance` (no square root: for thresholds and medians).

    Channel by channel, summed in channel order: the same numbers as the dot product over the
    last axis, without its per-pixel loop of three (4–5 × faster on a head view)."""
    r = np.asarray(ref, np.float32)
    d2: Floats = (lab[..., 0] - r[0]) * np.float32(0.5)
    d1 = lab[..., 1] - r[1]
    d_b = lab[..., 2] - r[2]
    d2 *= d2
    d1 *= d1
    d_b *= d_b
    d2 += d1
    d2 += d_b
    return d2


def shade_distance(lab: Floats, ref: Floats) -> Floats:
    """CIELAB distance with L* weighted by half, broadcasting ``lab`` (…×3) against ``ref`` (3,)."""
    return np.sqrt(shade_distance2(lab, ref))


@dataclass
class HeadView:
    """The head and neck, cropped and scaled so the face is :data:`FACE_PX` wide."""

    rgb: RGB                  # H×W×3
    lab: NDArray[np.float32]  # H×W×3, L* 0–100
    person: Mask              # H×W: the person's silhouette (mask ≥ 0.5)
    inside: Mask              # H×W: pixels that were inside the frame
    lm: NDArray[np.float64]   # (478, 2) landmarks in head-view pixels
    backdrop_lab: NDArray[np.float32] | None   # median colour of the surely-backdrop pixels, if known

    @property
    def fw(self) -> float:
        return float(FACE_PX)

    @property
    def shape(self) -> tuple[int, int]:
        h, w = self.rgb.shape[:2]
        return h, w

    def polygon(self, points: ArrayLike, grow: float = 0.0) -> Mask:
        m = np.zeros(self.shape, np.uint8)
        cv2.fillPoly(m, [np.round(np.asarray(points)).astype(np.int32)], (1,))
        if grow > 0:
            k = int(round(grow)) * 2 + 1
            m = np.asarray(cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))))
        return m.astype(bool)

    def rows(self, y0: float, y1: float) -> Mask:
        """Boolean H×W: the rows from y0 to y1 (view pixels)."""
        r = np.arange(self.shape[0])[:, None]
        return np.broadcast_to((r >= y0) & (r < y1), self.shape)

    def cols(self, x0: float, x1: float) -> Mask:
        c = np.arange(self.shape[1])[None, :]
        return np.broadcast_to((c >= x0) & (c < x1), self.shape)

    @cached_property
    def oval(self) -> Mask:
        """The face oval (landmark contour)."""
        return self.polygon(self.lm[list(A.FACE_OVAL)])

    @cached_property
    def skin(self) -> Mask:
        """Face skin: the oval minus eyes (with a spectacle lens's room), brows, nostrils, mouth."""
        holes = np.zeros(self.shape, np.uint8)
        for ring in (A.RIGHT_EYE_RING, A.LEFT_EYE_RING):
            pts = self.lm[list(ring)]
            c = pts.mean(axis=0)
            ew = np.ptp(pts[:, 0])
            cv2.ellipse(holes, (int(c[0]), int(c[1])), (int(ew * 0.8), int(ew * 0.65)), 0, 0, 360, (1,), -1)
        for side in ("right", "left"):
            brow = np.concatenate([self.lm[list(BROW_UPPER[side])], self.lm[list(BROW_LOWER[side])][::-1]])
            cv2.fillPoly(holes, [np.round(brow).astype(np.int32)], (1,))
        mouth = self.lm[[61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91]]
        cv2.fillPoly(holes, [np.round(mouth).astype(np.int32)], (1,))
        nostrils = cv2.convexHull(self.lm[list(NOSTRILS)].astype(np.float32))
        cv2.fillPoly(holes, [np.round(nostrils).astype(np.int32)], (1,))
        grown = cv2.dilate(holes, np.ones((3, 3), np.uint8))
        face_skin: Mask = self.oval & ~grown.astype(bool) & self.inside
        return face_skin

    @cached_property
    def cheeks(self) -> Mask:
        """The skin from just below the eyes to the mouth corners (cheeks and nose): the
        reference skin, away from fringes, caps, brows, beards and spectacle frames."""
        y0 = self.lm[[A.RIGHT_IRIS_CENTER, A.LEFT_IRIS_CENTER], 1].mean() + 0.12 * self.fw
        y1 = self.lm[[61, 291], 1].mean()
        return self.skin & self.rows(y0, y1)

    @cached_property
    def skin_lab(self) -> Floats:
        """The median skin colour (CIELAB) of the cheeks."""
        px = self.lab[self.cheeks]
        if px.shape[0] < 20:
            px = self.lab[self.skin]
        return np.median(px, axis=0) if px.shape[0] else np.array([65.0, 12.0, 15.0], np.float32)

    @cached_property
    def skin_distance2(self) -> Floats:
        """H×W: the square of each pixel's :func:`shade_distance` from the median skin colour."""
        return shade_distance2(self.lab, self.skin_lab)

    @cached_property
    def skin_tolerance(self) -> float:
        """A pixel this close to the skin colour is skin: SKIN_SPREAD × the cheeks' median
        distance from their own median (robust to moles, stubble, a frame's shadow), clipped."""
        d2 = self.skin_distance2[self.cheeks]
        if d2.size < 20:
            return SKIN_TOL_RANGE[1]
        return float(np.clip(SKIN_SPREAD * np.sqrt(np.median(d2)), *SKIN_TOL_RANGE))


def head_view(rgb: RGB, mask: Floats, lm: Floats, face_width: float,
              backdrop_lab: NDArray[np.float32] | None = None) -> HeadView | None:
    """Cut the head and neck out of a view (``rgb``, ``mask`` and ``lm`` in its pixels).

    The crop runs 0.95 face widths either side of the face's middle (the ear zones and lobes
    reach 0.75), from 1.0 above the top of the forehead to 0.8 below the chin; the part
    outside the frame is marked by ``inside``.
    """
    if face_width < 8:
        return None
    lm = np.asarray(lm, np.float64)
    s = FACE_PX / face_width
    cx = float(lm[[A.CHEEK_RIGHT, A.CHEEK_LEFT], 0].mean())
    fw = face_width
    bx0, bx1 = cx - 0.95 * fw, cx + 0.95 * fw
    by0, by1 = float(lm[A.FOREHEAD, 1]) - 1.0 * fw, float(lm[A.CHIN, 1]) + 0.8 * fw
    out_w, out_h = int(round((bx1 - bx0) * s)), int(round((by1 - by0) * s))
    h, w = rgb.shape[:2]
    # integer source box clipped to the frame, resized with area averaging
    ix0, iy0 = int(max(np.floor(bx0), 0)), int(max(np.floor(by0), 0))
    ix1, iy1 = int(min(np.ceil(bx1), w)), int(min(np.ceil(by1), h))
    if ix1 - ix0 < 4 or iy1 - iy0 < 4:
        return None
    m = np.array([[s, 0, (ix0 - bx0) * s], [0, s, (iy0 - by0) * s]], np.float64)
    small_w, small_h = max(1, int(round((ix1 - ix0) * s))), max(1, int(round((iy1 - iy0) * s)))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    part = cv2.resize(np.ascontiguousarray(rgb[iy0:iy1, ix0:ix1]), (small_w, small_h), interpolation=interp)
    mpart = cv2.resize(np.ascontiguousarray(mask[iy0:iy1, ix0:ix1]).astype(np.float32), (small_w, small_h),
                       interpolation=cv2.INTER_LINEAR)
    ox, oy = int(round(m[0, 2])), int(round(m[1, 2]))
    view = np.zeros((out_h, out_w, 3), np.uint8)
    pmask = np.zeros((out_h, out_w), np.float32)
    inside = np.zeros((out_h, out_w), bool)
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + small_w, out_w), min(oy + small_h, out_h)
    if x1 <= x0 or y1 <= y0:
        return None
    view[y0:y1, x0:x1] = part[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    pmask[y0:y1, x0:x1] = mpart[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    inside[y0:y1, x0:x1] = True
    lab = cast(NDArray[np.float32], cv2.cvtColor(view.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab))
    lm_view = (lm - (bx0, by0)) * s
    person = (pmask >= 0.5) & inside
    if backdrop_lab is not None:
        # the silhouette's soft edge (and a head continued above a cut-off photo) is backdrop
        person &= shade_distance2(lab, backdrop_lab) > BACKDROP_TOL ** 2
    return HeadView(view, lab, person, inside, lm_view, backdrop_lab)
