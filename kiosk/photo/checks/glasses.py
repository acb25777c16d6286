"""glasses.glare and glasses.tinted: what the lens areas around the eyes look like."""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.message import Message
from kiosk.photo.arrays import Mask
from kiosk.photo.checks.common import judge_max, judge_min, unknown
from kiosk.photo.checks.context import CheckContext
from kiosk.photo.checks.result import CheckResult

GLARE = Message("眼镜反光：请稍微低一下头或调整眼镜角度", "Reflections on your glasses: tilt them slightly or lower your chin a little")
TINTED = Message("请摘下有色眼镜（墨镜、变色镜）", "Please take off tinted glasses or sunglasses")


def largest_blob_fraction(binary: Mask, region: Mask) -> float:
    """Area of the largest connected blob of ``binary`` inside ``region`` / area of ``region``."""
    area = int(np.count_nonzero(region))
    if area == 0:
        return 0.0
    # every blob lies inside the region: label only the region's bounding box
    x, y, w, h = cv2.boundingRect(region.astype(np.uint8))
    inside = (binary[y:y + h, x:x + w] & region[y:y + h, x:x + w]).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(inside, connectivity=8)
    if n <= 1:
        return 0.0
    return float(stats[1:, cv2.CC_STAT_AREA].max()) / area


def clipped(ctx: CheckContext) -> Mask:
    """Pixels clipped in all three channels (computed once per frame by the context)."""
    return ctx.clipped


def glare(ctx: CheckContext) -> CheckResult:
    limit = f"clipped blob ≤ {ctx.t.glare_max_fraction:.0%} of a lens area"
    if ctx.face is None:
        return unknown("glasses.glare", limit)
    c = clipped(ctx)
    value = max(largest_blob_fraction(c, ctx.lens_regions[s]) for s in ("right", "left"))
    return judge_max("glasses.glare", value, ctx.t.glare_max_fraction, limit, GLARE)


def skin_luma(ctx: CheckContext) -> float:
    px = ctx.luma[ctx.face_skin]
    return float(np.median(px)) if px.size else float(np.median(ctx.luma))


def tinted(ctx: CheckContext) -> CheckResult:
    limit = f"eye contrast ≥ {ctx.t.tint_min_contrast:g} of skin luminance"
    if ctx.face is None:
        return unknown("glasses.tinted", limit)
    skin = max(skin_luma(ctx), 1.0)
    values = []
    for side in ("right", "left"):
        px = ctx.luma[ctx.eye_regions[side]]
        if px.size < 4:
            continue
        values.append(float(np.std(px)) / skin)
    if not values:
        return unknown("glasses.tinted", limit)
    return judge_min("glasses.tinted", min(values), ctx.t.tint_min_contrast, limit, TINTED)


CHECKS = {"glasses.glare": glare, "glasses.tinted": tinted}
