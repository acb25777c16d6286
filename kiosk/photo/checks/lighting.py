"""lighting.*: the face's left/right balance, exposure and clipped hot spots."""

from __future__ import annotations

import numpy as np

from kiosk.message import Message
from kiosk.photo.checks.common import ASK_STAFF_LIGHT, failed, judge_max, judge_min, passed, unknown
from kiosk.photo.checks.context import CheckContext
from kiosk.photo.checks.glasses import largest_blob_fraction
from kiosk.photo.checks.result import CheckResult

UNEVEN = Message(ASK_STAFF_LIGHT + "（脸部两侧亮度不均）", "One side of your face is darker: please face the camera squarely, or ask staff to check the lights")
TOO_DARK = Message(ASK_STAFF_LIGHT + "（脸部太暗）", "Your face is too dark: please ask staff to check the lights")
TOO_BRIGHT = Message(ASK_STAFF_LIGHT + "（脸部过亮）", "Your face is too bright: please ask staff to check the lights")
HOT_SPOT = Message("脸上有反光亮斑：请擦去油光或联系工作人员调整灯光", "A shiny hot spot on your face: blot your skin, or ask staff to adjust the lights")


def symmetry(ctx: CheckContext) -> CheckResult:
    limit = f"darker/brighter face half ≥ {ctx.t.symmetry_min_ratio:g}"
    if ctx.face is None:
        return unknown("lighting.symmetry", limit)
    left, right = ctx.skin_halves
    if left.sum() < 30 or right.sum() < 30:
        return unknown("lighting.symmetry", limit)
    a, b = float(np.median(ctx.luma[left])), float(np.median(ctx.luma[right]))
    value = min(a, b) / max(a, b, 1.0)
    return judge_min("lighting.symmetry", value, ctx.t.symmetry_min_ratio, limit, UNEVEN)


def exposure(ctx: CheckContext) -> CheckResult:
    t = ctx.t
    limit = f"face L* {t.exposure_min_l:g}–{t.exposure_max_l:g}, clipped ≤ {t.exposure_max_clipped:.0%}"
    if ctx.face is None:
        return unknown("lighting.exposure", limit)
    skin = ctx.face_skin
    if skin.sum() < 50:
        return unknown("lighting.exposure", limit)
    value = float(np.median(ctx.lightness[skin]))
    clipped = float(ctx.clipped[skin].mean())
    if value < t.exposure_min_l:
        return failed("lighting.exposure", value, limit, TOO_DARK, (t.exposure_min_l - value) / 10)
    if value > t.exposure_max_l or clipped > t.exposure_max_clipped:
        sev = max((value - t.exposure_max_l) / 10, (clipped - t.exposure_max_clipped) / t.exposure_max_clipped)
        return failed("lighting.exposure", value, limit, TOO_BRIGHT, sev)
    return passed("lighting.exposure", value, limit)


def highlights(ctx: CheckContext) -> CheckResult:
    limit = f"clipped blob ≤ {ctx.t.highlight_max_fraction:.1%} of the face skin"
    if ctx.face is None:
        return unknown("lighting.highlights", limit)
    value = largest_blob_fraction(ctx.clipped, ctx.face_skin)
    return judge_max("lighting.highlights", value, ctx.t.highlight_max_fraction, limit, HOT_SPOT)


CHECKS = {"lighting.symmetry": symmetry, "lighting.exposure": exposure, "lighting.highlights": highlights}
