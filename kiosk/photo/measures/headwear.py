"""attire.headwear: what sits on top of the head, compared with the person's own hair and skin.

A cap, hat, beanie, hood or headband covers the crown (the head above the top of the
forehead) with something that is neither the face's skin nor the hair that still shows at the
temples, and caps carry hard edges (a brim, seams, a badge) where hair and skin are soft:

* ``foreign``: the share of the crown's silhouette pixels that match neither skin nor the
  temples' hair colour (0 = all skin or hair, 1 = all something else);
* ``contrast``: the median local contrast of the crown (std of L* in 5×5 pixels of the
  96 px face), the face's own skin being about 2–5.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.photo.arrays import Floats, Mask
from kiosk.photo.measures import regions as R
from kiosk.photo.measures.head import HeadView


@dataclass(frozen=True)
class Headwear:
    foreign: float        # share of the crown that is neither skin nor temple hair
    skin: float           # share that is skin-coloured (a bald or shaved head)
    hair: float           # share that is hair-coloured
    crown_px: int         # silhouette pixels in the crown (96 px face)
    has_hair_model: bool  # hair showed at the temples (its colour is known)
    contrast: float       # median local std of L* in the crown


def local_contrast(lightness: Floats, region: Mask, k: int = 5) -> float:
    """Median over ``region`` of the standard deviation of L* in k×k windows (its box only)."""
    if not region.any():
        return 0.0
    x, y, w, h = cv2.boundingRect(region.astype(np.uint8))
    p = k // 2
    y0, x0 = max(y - p, 0), max(x - p, 0)
    box: Floats = lightness[y0:y + h + p, x0:x + w + p]
    L = np.ascontiguousarray(box)
    mu = cv2.blur(L, (k, k))
    sd = np.sqrt(np.maximum(cv2.blur(L * L, (k, k)) - mu * mu, 0.0))
    return float(np.median(sd[region[y0:y + h + p, x0:x + w + p]]))


def measure(v: HeadView) -> Headwear:
    hair = R.hair_model(v)
    crown = R.crown(v)
    m = R.mix(v, crown, hair)
    # inside the silhouette, away from its edge (the edge against the backdrop is always sharp)
    core = cv2.erode((crown & v.person).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return Headwear(m.foreign, m.skin, m.hair, m.n, hair is not None,
                    local_contrast(v.lab[..., 0], core))
