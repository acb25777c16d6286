"""Where on the head each head measure looks, and what colour each pixel there is.

Every region is a boolean mask of the :class:`~kiosk.photo.measures.head.HeadView`, built from
landmarks and the silhouette. A pixel of the person is *skin* when it is as close to the
cheeks' median colour as the cheeks are to themselves (:attr:`HeadView.skin_tolerance`),
*hair* when it is close to the median colour of the temples' non-skin pixels (the hair beside
the brows and eyes, which a cap or a headband leaves visible), and *foreign* otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar, cast

import numpy as np

from kiosk.photo import analysis as A
from kiosk.photo.arrays import Floats, Mask
from kiosk.photo.measures.head import (
    BROW_UPPER,
    EAR_CONTOUR,
    FOREHEAD_INNER,
    MOUTH_CORNER,
    NOSE_BOTTOM,
    HeadView,
    shade_distance,
    shade_distance2,
)

T = TypeVar("T")

#: Fewer non-skin temple pixels than this (in a 96 px wide face): no hair model.
MIN_HAIR_PX = 60
#: Hair-coloured: within HAIR_WIDEN × the temple hair's 75th percentile distance from its own
#: median colour, kept inside HAIR_TOL_RANGE (hair lit from above is lighter on the crown).
HAIR_WIDEN = 1.5
HAIR_TOL_RANGE = (10.0, 30.0)


@dataclass(frozen=True)
class Mix:
    """What a region is made of: shares of skin, hair and foreign pixels of the person."""

    n: int            # person pixels in the region
    skin: float
    hair: float
    foreign: float
    area: int         # all pixels of the region (person or not)

    @property
    def person(self) -> float:
        return self.n / self.area if self.area else 0.0


def _memo(v: HeadView, key: str, make: Callable[[], T]) -> T:
    """Compute ``make()`` once per head view (the three head rules share it)."""
    if key not in v.__dict__:
        v.__dict__[key] = make()
    return cast(T, v.__dict__[key])


def grown_oval(v: HeadView, grow: float) -> Mask:
    """The face oval grown by ``grow`` face widths (several regions leave it out: made once)."""
    return _memo(v, f"_oval_{grow}", lambda: v.polygon(v.lm[list(A.FACE_OVAL)], grow=grow * v.fw))


def skin_like(v: HeadView) -> Mask:
    """H×W: skin-coloured pixels (as close to the cheeks' colour as the cheeks are)."""
    return _memo(v, "_skin_like", lambda: v.skin_distance2 <= v.skin_tolerance ** 2)


def temples(v: HeadView, lower: bool = False) -> Mask:
    """Beside the face, outside its oval: from the brows to the eyes (``lower``: from the eyes
    to the mouth), where hair shows that a cap or a band leaves uncovered."""
    lm = v.lm
    out = np.zeros(v.shape, bool)
    grown = grown_oval(v, 0.03)
    for side, sign in (("right", -1), ("left", 1)):
        edge = lm[EAR_CONTOUR[side][0], 0]
        x0, x1 = sorted((edge - sign * 0.02 * v.fw, edge + sign * 0.25 * v.fw))
        if lower:
            y0, y1 = lm[[33, 263], 1].mean(), lm[MOUTH_CORNER[side], 1]
        else:
            y0, y1 = lm[list(BROW_UPPER[side]), 1].mean() - 0.04 * v.fw, lm[[33, 263], 1].mean()
        out |= v.cols(x0, x1) & v.rows(y0, y1)
    return out & ~grown & v.person


@dataclass(frozen=True)
class HairModel:
    """The colour of the hair at the temples: its median and how far its own pixels stray."""

    lab: Floats       # median CIELAB
    tolerance: float      # a pixel within this shade distance is hair-coloured
    n: int                # temple hair pixels it was made from


def hair_model(v: HeadView) -> HairModel | None:
    """The hair colour from the temples (None: too little non-skin there to tell)."""
    return _memo(v, "_hair_model", lambda: _hair_model(v))


def _hair_model(v: HeadView) -> HairModel | None:
    px = v.lab[temples(v) & ~skin_like(v)]
    if px.shape[0] < MIN_HAIR_PX:
        return None
    med = np.median(px, axis=0)
    spread = float(np.percentile(shade_distance(px, med), 75))
    return HairModel(med, float(np.clip(HAIR_WIDEN * spread, *HAIR_TOL_RANGE)), int(px.shape[0]))


def hair_like(v: HeadView, hair: HairModel | None, region: Mask) -> Mask:
    """Boolean over ``region``'s pixels (in mask order): hair-coloured."""
    px = v.lab[region]
    if hair is None or px.shape[0] == 0:
        return np.zeros(px.shape[0], bool)
    return shade_distance2(px, hair.lab) <= hair.tolerance ** 2


def mix(v: HeadView, region: Mask, hair: HairModel | None) -> Mix:
    area = int(np.count_nonzero(region & v.inside))
    region = region & v.person
    n = int(np.count_nonzero(region))
    if n == 0:
        return Mix(0, 0.0, 0.0, 0.0, area)
    skin = skin_like(v)[region]
    haired = hair_like(v, hair, region) & ~skin
    s, hr = float(skin.mean()), float(haired.mean())
    return Mix(n, s, hr, 1.0 - s - hr, area)


def crown(v: HeadView) -> Mask:
    """Above the top of the forehead, across the forehead's middle: where a hat sits."""
    lm = v.lm
    x0, x1 = lm[FOREHEAD_INNER["right"], 0], lm[FOREHEAD_INNER["left"], 0]
    top = lm[A.FOREHEAD, 1]
    return v.cols(x0, x1) & v.rows(top - 0.9 * v.fw, top - 0.04 * v.fw)


def above_brows(v: HeadView, side: str) -> Mask:
    """The band just above one eyebrow (0.02–0.10 face widths above its upper edge)."""
    upper = v.lm[list(BROW_UPPER[side])]
    lo = upper - (0, 0.02 * v.fw)
    hi = upper - (0, 0.10 * v.fw)
    return v.polygon(np.concatenate([lo, hi[::-1]]))


def ear(v: HeadView, side: str) -> Mask:
    """Where one ear must show: just outside the face contour, from the eyes to the nose's foot."""
    lm = v.lm
    sign = -1 if side == "right" else 1
    contour = lm[list(EAR_CONTOUR[side])]
    outer = contour + (sign * 0.16 * v.fw, 0)
    y0 = lm[[33, 263], 1].mean() - 0.02 * v.fw
    y1 = lm[NOSE_BOTTOM, 1]
    band = v.polygon(np.concatenate([contour, outer[::-1]]))
    grown = grown_oval(v, 0.02)
    return band & v.rows(y0, y1) & ~grown


def lobe(v: HeadView, side: str) -> Mask:
    """Below the ear, where an earring hangs: beside the jaw, from the nose's foot down."""
    lm = v.lm
    sign = -1 if side == "right" else 1
    edge = lm[EAR_CONTOUR[side][-1], 0]
    x0, x1 = sorted((edge - sign * 0.04 * v.fw, edge + sign * 0.20 * v.fw))
    y0 = lm[NOSE_BOTTOM, 1]
    y1 = lm[MOUTH_CORNER[side], 1] + 0.30 * v.fw
    grown = grown_oval(v, 0.02)
    return v.cols(x0, x1) & v.rows(y0, y1) & ~grown


def neck(v: HeadView) -> Mask:
    """Below the chin, as wide as the jaw: where a necklace shows (and collars start)."""
    lm = v.lm
    chin = lm[A.CHIN, 1]
    x0, x1 = lm[172, 0], lm[397, 0]
    grown = grown_oval(v, 0.03)
    return v.cols(x0, x1) & v.rows(chin, chin + 0.55 * v.fw) & ~grown & v.person
