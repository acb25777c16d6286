"""image.sharpness and image.color: focus on the face, and a neutral colour balance."""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np
from numpy.typing import NDArray

from kiosk.message import Message
from kiosk.photo.checks.background import backdrop_median, reference_for
from kiosk.photo.checks.common import judge_max, judge_min, unknown
from kiosk.photo.checks.context import CheckContext
from kiosk.photo.checks.result import CheckResult
from kiosk.photo.measures import background as backdrop_measure

BLURRY = Message("照片不清晰：请保持不动，或请工作人员检查对焦", "The photo is not sharp: hold still, or ask staff to check the focus")
CAST = Message("颜色偏色：请联系工作人员校准白平衡", "The colours have a cast: please ask staff to calibrate the white balance")
NO_BACKDROP = Message("看不到背景，无法判断颜色", "The backdrop is not visible, colour cannot be judged")

NORMALISED_FACE_WIDTH = 200.0


def sharpness_value(ctx: CheckContext) -> float:
    """Variance of the Laplacian inside the face, with the face scaled to 200 px wide."""
    lm = ctx.lm
    x0, y0 = np.floor(lm.min(axis=0)).astype(int)
    x1, y1 = np.ceil(lm.max(axis=0)).astype(int)
    h, w = ctx.luma.shape
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    patch = ctx.luma[y0:y1, x0:x1]
    skin = ctx.face_skin[y0:y1, x0:x1] | ctx.lens_regions["right"][y0:y1, x0:x1] | ctx.lens_regions["left"][y0:y1, x0:x1]
    k = NORMALISED_FACE_WIDTH / max(ctx.face_width, 1.0)
    size = (max(8, round(patch.shape[1] * k)), max(8, round(patch.shape[0] * k)))
    patch = cast(NDArray[np.float32],
                 cv2.resize(patch, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC))
    skin = cv2.resize(skin.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    skin = cv2.erode(skin, np.ones((5, 5), np.uint8)).astype(bool)
    lap = cv2.Laplacian(patch, cv2.CV_32F, ksize=3)
    return float(lap[skin].var()) if skin.sum() > 50 else float(lap.var())


def sharpness(ctx: CheckContext) -> CheckResult:
    limit = f"Laplacian variance ≥ {ctx.t.sharpness_min:g} (face 200 px wide)"
    if ctx.face is None:
        return unknown("image.sharpness", limit)
    return judge_min("image.sharpness", sharpness_value(ctx), ctx.t.sharpness_min, limit, BLURRY)


def color(ctx: CheckContext) -> CheckResult:
    """The backdrop's hue against the standard colour it is judged against (the nearest
    allowed one): a white or grey backdrop must read neutral, a blue one its own blue."""
    med = backdrop_median(ctx)
    if med is None:
        limit = f"backdrop chroma off its reference ≤ {ctx.t.color_max_chroma:g}"
        return unknown("image.color", limit, NO_BACKDROP)
    name = reference_for(ctx)
    assert name is not None                  # a backdrop median always has a nearest colour
    limit = f"backdrop chroma off {name} ≤ {ctx.t.color_max_chroma:g}"
    value = backdrop_measure.chroma_offset(med, name)
    return judge_max("image.color", value, ctx.t.color_max_chroma, limit, CAST)


CHECKS = {"image.sharpness": sharpness, "image.color": color}
