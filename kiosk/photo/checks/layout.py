"""layout.*: where head top, eye line, face width and face centre land in the 480×640 frame.

With a crop plan, the positions are where the crop will put them; without one (a finished
file) they are measured in the image itself, which must then be 480×640. Directions are in the
person's own frame ("your left"), right for a mirrored preview too.
"""

from __future__ import annotations

from typing import Callable

from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.checks.common import NO_FACE, failed, passed, unknown
from kiosk.photo.checks.context import CheckContext
from kiosk.photo.checks.result import CheckResult

NO_HEAD_TOP = Message("看不到头顶：请把身体放低一点或离远一点",
                      "The top of your head is not visible: move lower or step back")


def _positions(ctx: CheckContext) -> dict[str, float] | None:
    a = ctx.analysis
    if a.face is None:
        return None
    crop = ctx.crop
    if crop is not None and crop.box is not None:
        return dict(crop.predicted)
    if crop is not None:
        return None
    # a finished file: measured in the image (scaled to 640 px high if it is not 480×640)
    k = standard.FRAME_HEIGHT / a.image.shape[0]
    out = {"eyes": a.face.eye_line_y * k, "face_width": a.face.face_width * k,
           "centered": a.face.face_center_x * k}
    if a.head_top_y is not None and not a.head_top_clipped:
        out["head_top"] = a.head_top_y * k
    return out


def _band_check(rule: str, key: str, band: standard.Band, low: str, high: str
                ) -> Callable[[CheckContext], CheckResult]:
    """A band check; ``low``/``high`` name the kiosk.photo.crop instruction for each side."""
    def check(ctx: CheckContext) -> CheckResult:
        from kiosk.photo import crop as moves  # kiosk.photo.crop imports kiosk.photo.checks.result: import late
        low_msg, high_msg = getattr(moves, low), getattr(moves, high)
        limit = f"{band} px"
        pos = _positions(ctx)
        if pos is None:
            problem = getattr(ctx.crop, "problem", None)
            return unknown(rule, limit, problem or NO_FACE)
        if key not in pos:
            return unknown(rule, limit, NO_HEAD_TOP)
        value = pos[key]
        if band.contains(value):
            return passed(rule, value, limit)
        half = (band.hi - band.lo) / 2
        # When no crop meets every band, the planner's diagnosis is the one thing to do: a face
        # too big fails head top ("lower") and eyes ("higher") at once, yet the fix is to step
        # back. Status, value and severity stay this band's own.
        diagnosis = getattr(ctx.crop, "problem", None) if not getattr(ctx.crop, "ok", True) \
            else None
        if value < band.lo:
            return failed(rule, value, limit, diagnosis or low_msg, (band.lo - value) / half)
        return failed(rule, value, limit, diagnosis or high_msg, (value - band.hi) / half)
    check.__name__ = rule.replace(".", "_")
    check.__doc__ = f"{rule}: {key} within {band} px of the 480×640 frame."
    return check


# Face left of centre in the image = on the person's right: they move to their left.
# Head top too close to the top edge: the person sits too high -> lower.
CHECKS = {
    "layout.centered": _band_check("layout.centered", "centered", standard.FACE_CENTER_X,
                                   "MOVE_LEFT", "MOVE_RIGHT"),
    "layout.head_top": _band_check("layout.head_top", "head_top", standard.HEAD_TOP,
                                   "MOVE_LOWER", "MOVE_HIGHER"),
    "layout.eyes": _band_check("layout.eyes", "eyes", standard.EYE_LINE, "MOVE_LOWER", "MOVE_HIGHER"),
    "layout.face_width": _band_check("layout.face_width", "face_width", standard.FACE_WIDTH,
                                     "MOVE_CLOSER", "STEP_BACK"),
}
