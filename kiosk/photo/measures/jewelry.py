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

from kiosk.photo.arrays import Floats, Mask
from kiosk.photo.measures import regions as R
from kiosk.photo.measures.head import HeadView, shade_distance2

#: Local contrast: |L* − its 9×9 median| at least this much.
CONTRAST_L = 12.0


@dataclass(frozen=True)
class Jewelry:
    earring_px: int       # the larger of the two lobes' blobs (96 px face)
    necklace_px: int      # thin foreign structures on the neck skin
    neck_skin_px: int     # neck skin pixels (0: the neck does not show)


def _box(mask: Mask, pad: int) -> tuple[slice, slice] | None:
    """The bounding box of ``mask``, padded and clipped, as slices (None: empty)."""
    if not mask.any():
        return None
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    H, W = mask.shape
    return slice(max(y - pad, 0), min(y + h + pad, H)), slice(max(x - pad, 0), min(x + w + pad, W))


def _odd(v: HeadView, hair: R.HairModel | None, box: tuple[slice, slice]) -> Mask:
    """Inside ``box``: person pixels that are neither skin- nor hair- nor backdrop-coloured and
    stand out from their 9×9 neighbourhood by at least :data:`CONTRAST_L` in L*."""
    lab: Floats = v.lab[box]
    out: Mask = v.person[box] & ~R.skin_like(v)[box]
    if hair is not None:
        out &= shade_distance2(lab, hair.lab) > hair.tolerance ** 2
    if v.backdrop_lab is not None:
        out &= shade_distance2(lab, v.backdrop_lab) > 10.0 ** 2
    L: Floats = np.ascontiguousarray(lab[..., 0])
    med = cv2.medianBlur(np.clip(L * 2.55, 0, 255).astype(np.uint8), 9).astype(np.float32) / 2.55
    return out & (np.abs(L - med) >= CONTRAST_L)


def measure(v: HeadView) -> Jewelry:
    hair = R.hair_model(v)
    skin = R.skin_like(v) & v.person
    best = 0
    lobes = R.lobe(v, "right") | R.lobe(v, "left")
    box = _box(lobes, 6)
    if box is not None:
        odd = _odd(v, hair, box) & lobes[box]
        near_skin = cv2.dilate(skin[box].astype(np.uint8), np.ones((5, 5), np.uint8)).ravel()
        n, labels, stats, _ = cv2.connectedComponentsWithStats(odd.astype(np.uint8), connectivity=8)
        if n > 1:
            # components touching skin: any of their pixels within 2 px of a skin pixel
            touching = np.bincount(labels.ravel(), weights=near_skin, minlength=n) > 0
            for i in range(1, n):
                area = int(stats[i, cv2.CC_STAT_AREA])
                w, h = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]
                # specks and long edges (a collar, a strand of hair) are not earrings
                if 3 <= area and max(w, h) <= 0.25 * v.fw and touching[i]:
                    best = max(best, area)
    neck = R.neck(v)
    neck_skin = skin & neck
    chain_px = 0
    box = _box(neck, 6)
    if box is not None:
        # the neck's skin area, closed over thin gaps (a chain crossing it)
        ns = neck_skin[box].astype(np.uint8)
        hull = cv2.morphologyEx(ns, cv2.MORPH_CLOSE,
                                cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))).astype(bool)
        thin = _odd(v, hair, box) & hull & ~ns.astype(bool)
        opened = cv2.morphologyEx(thin.astype(np.uint8), cv2.MORPH_OPEN,
                                  cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))).astype(bool)
        chain_px = int(np.count_nonzero(thin & ~opened))
    return Jewelry(best, chain_px, int(np.count_nonzero(neck_skin)))
