"""pose.*: head yaw, pitch, roll (degrees, solvePnP) and shoulder tilt.

Sign conventions are those of kiosk.photo.analysis (the person's own frame): yaw > 0 = turned to
their left, pitch > 0 = chin up, roll > 0 = leaning toward their left shoulder. Each
instruction names the direction in the person's frame, so it is right whether or not the
preview is mirrored.
"""

from __future__ import annotations

import math
from typing import Callable

from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.checks.common import NO_FACE, failed, passed, unknown
from kiosk.photo.checks.context import CheckContext
from kiosk.photo.checks.result import CheckResult

TURN_RIGHT = Message("请把头向您的右边转一点，正对镜头", "Turn your head a little to your right, face the camera")
TURN_LEFT = Message("请把头向您的左边转一点，正对镜头", "Turn your head a little to your left, face the camera")
CHIN_DOWN = Message("请稍微放低下巴", "Lower your chin a little")
CHIN_UP = Message("请稍微抬高下巴", "Raise your chin a little")
TILT_TO_RIGHT = Message("请把头摆正：稍向右肩方向回正", "Hold your head upright: tilt it a little toward your right shoulder")
TILT_TO_LEFT = Message("请把头摆正：稍向左肩方向回正", "Hold your head upright: tilt it a little toward your left shoulder")
RAISE_LEFT = Message("请保持双肩水平：左肩稍抬高一点", "Keep your shoulders level: raise your left shoulder a little")
RAISE_RIGHT = Message("请保持双肩水平：右肩稍抬高一点", "Keep your shoulders level: raise your right shoulder a little")
NO_SHOULDERS = Message("看不到双肩：请站正，露出双肩", "Both shoulders must be visible: stand straight facing the camera")


def _angle(rule: str, attr: str, limit_deg: float, positive_fix: Message, negative_fix: Message
           ) -> Callable[[CheckContext], CheckResult]:
    def check(ctx: CheckContext) -> CheckResult:
        limit = f"|{attr}| ≤ {limit_deg:g}°"
        if ctx.face is None:
            return unknown(rule, limit, NO_FACE)
        v = getattr(ctx.face, attr)
        if not math.isfinite(v):
            return unknown(rule, limit, NO_FACE)
        if abs(v) <= limit_deg:
            return passed(rule, v, limit)
        return failed(rule, v, limit, positive_fix if v > 0 else negative_fix,
                      (abs(v) - limit_deg) / limit_deg)
    check.__name__ = rule.replace(".", "_")
    return check


def shoulder_tilt(ctx: CheckContext) -> CheckResult:
    """Angle of the line between the shoulders; > 0 when the person's left shoulder is lower."""
    limit = f"tilt ≤ {standard.MAX_SHOULDER_TILT_DEG:g}°"
    sh = ctx.analysis.shoulders
    if sh is None:
        return unknown("pose.shoulders", limit, NO_SHOULDERS)
    (lx, ly), (rx, ry) = sh          # person's left (image right), person's right
    tilt = math.degrees(math.atan2(ly - ry, lx - rx))
    if abs(tilt) <= standard.MAX_SHOULDER_TILT_DEG:
        return passed("pose.shoulders", tilt, limit)
    return failed("pose.shoulders", tilt, limit, RAISE_LEFT if tilt > 0 else RAISE_RIGHT,
                  (abs(tilt) - standard.MAX_SHOULDER_TILT_DEG) / standard.MAX_SHOULDER_TILT_DEG)


CHECKS = {
    "pose.yaw": _angle("pose.yaw", "yaw", standard.MAX_YAW_DEG, TURN_RIGHT, TURN_LEFT),
    "pose.pitch": _angle("pose.pitch", "pitch", standard.MAX_PITCH_DEG, CHIN_DOWN, CHIN_UP),
    "pose.roll": _angle("pose.roll", "roll", standard.MAX_ROLL_DEG, TILT_TO_RIGHT, TILT_TO_LEFT),
    "pose.shoulders": shoulder_tilt,
}
