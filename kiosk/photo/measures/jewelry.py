"""attire.jewelry: earrings at the ear lobes and a necklace at the neck.

Both look for small things that are neither skin nor hair nor backdrop, with a sharp local
contrast (metal, stones and pearls catch the light; a bead or a chain differs from the skin
under it):

* :func:`earring_px`: beside each jaw below the ear, the largest compact blob of such pixels
  that touches skin (an earring hangs from the lobe), in pixels of the 96 px wide face;
* :func:`necklace_px`: on the neck's skin below the chin, the thin structures of such pixels
  (what an opening with a 5 px disc removes: chains, cords), in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.photo.measures import regions as R
from kiosk.photo.measures.head import HeadView, shade_distance

#: Local contrast: |L* − its 9×9 median| at least this much.
CONTRAST_L = 12.0


@dataclass(frozen=True)
class Jewelry:
    earring_px: int       # the larger of the two lobes' blobs (96 px face)
    necklace_px: int      # thin foreign structures on the neck skin
    neck_skin_px: int     # neck skin pixels (0: the neck does not show)


def _foreign(v: HeadView, hair: R.HairModel | None) -> np.ndarray:
    """Person pixels that are neither skin- nor hair-coloured, nor the backdrop's colour."""
    out = v.person & ~R.skin_like(v)
    if hair is not None:
        out &= shade_distance(v.lab, hair.lab) > hair.tolerance
    if v.backdrop_lab is not None:
        out &= shade_distance(v.lab, v.backdrop_lab) > 10.0
    return out


def _contrast(v: HeadView) -> np.ndarray:
    L = np.ascontiguousarray(v.lab[..., 0])
    med = cv2.medianBlur(np.clip(L * 2.55, 0, 255).astype(np.uint8), 9).astype(np.float32) / 2.55
    return np.abs(L - med) >= CONTRAST_L


def measure(v: HeadView) -> Jewelry:
    hair = R.hair_model(v)
    odd = _foreign(v, hair) & _contrast(v)
    skin = R.skin_like(v) & v.person
    near_skin = cv2.dilate(skin.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    best = 0
    for side in ("right", "left"):
        zone = R.lobe(v, side)
        blobs = (odd & zone).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(blobs, connectivity=8)
        for i in range(1, n):
            area = int(stats[i, cv2.CC_STAT_AREA])
            w, h = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]
            if area < 3 or max(w, h) > 0.25 * v.fw:      # specks and long edges are not earrings
                continue
            if not near_skin[labels == i].any():
                continue
            best = max(best, area)
    neck = R.neck(v)
    neck_skin = skin & neck
    # the neck's skin area, closed over thin gaps (a chain crossing it)
    hull = cv2.morphologyEx(neck_skin.astype(np.uint8), cv2.MORPH_CLOSE,
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))).astype(bool)
    thin = odd & hull & ~neck_skin
    opened = cv2.morphologyEx(thin.astype(np.uint8), cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))).astype(bool)
    chain = thin & ~opened
    return Jewelry(best, int(np.count_nonzero(chain)), int(np.count_nonzero(neck_skin)))
