"""eyes.open, eyes.gaze, eyes.red_eye: measured from the FaceMesh eye contour and iris landmarks."""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.message import Message
from kiosk.photo import analysis as A
from kiosk.photo.checks.common import judge_max, judge_min, unknown
from kiosk.photo.checks.context import CheckContext
from kiosk.photo.checks.result import CheckResult
from kiosk.photo.measures.eyes import eye_openness, gaze_offsets  # noqa: F401  (the measures)

OPEN_EYES = Message("请自然睁开双眼", "Open your eyes naturally")
LOOK_AT_CAMERA = Message("请直视镜头", "Look straight into the camera lens")
RED_EYE = Message("检测到红眼：请看向灯光以外再看回镜头，重拍", "Red eyes detected: look away from the lights for a moment, then retake")

_EYES = (("right", A.RIGHT_EYE, A.RIGHT_IRIS_CENTER, A.RIGHT_IRIS_RING),
         ("left", A.LEFT_EYE, A.LEFT_IRIS_CENTER, A.LEFT_IRIS_RING))   # (red eye's pupils)


def eyes_open(ctx: CheckContext) -> CheckResult:
    limit = f"eyelid gap / eye width ≥ {ctx.t.eye_open_min:g}"
    if ctx.face is None:
        return unknown("eyes.open", limit)
    value = min(eye_openness(ctx.face.landmarks).values())
    return judge_min("eyes.open", value, ctx.t.eye_open_min, limit, OPEN_EYES)


def eyes_gaze(ctx: CheckContext) -> CheckResult:
    limit = f"iris offset ≤ {ctx.t.gaze_max_offset:g} eye width"
    if ctx.face is None:
        return unknown("eyes.gaze", limit)
    if min(eye_openness(ctx.face.landmarks).values()) < ctx.t.eye_open_min:
        return unknown("eyes.gaze", limit, OPEN_EYES)
    value = max(gaze_offsets(ctx.face.landmarks).values())
    return judge_max("eyes.gaze", value, ctx.t.gaze_max_offset, limit, LOOK_AT_CAMERA)


def red_eye(ctx: CheckContext) -> CheckResult:
    limit = f"red pupil share ≤ {ctx.t.red_eye_max_fraction:.0%}"
    if ctx.face is None:
        return unknown("eyes.red_eye", limit)
    lm = ctx.lm
    rgb = ctx.rgb
    h, w = rgb.shape[:2]
    worst = 0.0
    for _, _, iris, ring in _EYES:
        r = float(np.mean(np.linalg.norm(lm[list(ring)] - lm[iris], axis=1))) * 0.55
        c = lm[iris]
        cx, cy, ri = int(round(c[0])), int(round(c[1])), max(int(round(r)), 1)
        # the pupil disc, drawn in its own small box (offset shifts the centre into it)
        x0, y0 = min(max(cx - ri - 1, 0), w), min(max(cy - ri - 1, 0), h)
        x1, y1 = min(max(cx + ri + 2, 0), w), min(max(cy + ri + 2, 0), h)
        disc = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.circle(disc, (cx - x0, cy - y0), ri, (1,), -1)
        px = rgb[y0:y1, x0:x1][disc.astype(bool)].astype(np.float32)
        if px.size == 0:
            continue
        red = (px[:, 0] > 90) & (px[:, 0] > 1.8 * np.maximum(px[:, 1], px[:, 2]))
        worst = max(worst, float(red.mean()))
    return judge_max("eyes.red_eye", worst, ctx.t.red_eye_max_fraction, limit, RED_EYE)


CHECKS = {"eyes.open": eyes_open, "eyes.gaze": eyes_gaze, "eyes.red_eye": red_eye}
