"""mouth.closed and expression.natural (advisory): from the lip and brow landmarks."""

from __future__ import annotations

import numpy as np

from kiosk.message import Message
from kiosk.photo import analysis as A
from kiosk.photo.arrays import Floats
from kiosk.photo.checks.common import failed, judge_max, passed, unknown
from kiosk.photo.checks.context import CheckContext
from kiosk.photo.checks.result import CheckResult

CLOSE_LIPS = Message("请自然闭合双唇", "Close your lips naturally")
NATURAL = Message("请保持自然表情：不要大笑，眉毛放松", "Keep a natural expression: no broad smile, relax your eyebrows")


def lip_gap(lm: Floats, face_width: float) -> float:
    """Inner-lip gap (13–14) / face width."""
    return float(np.linalg.norm(lm[A.MOUTH["top_inner"]] - lm[A.MOUTH["bottom_inner"]]) / max(face_width, 1e-6))


def mouth_closed(ctx: CheckContext) -> CheckResult:
    limit = f"lip gap / face width ≤ {ctx.t.mouth_gap_max:g}"
    if ctx.face is None:
        return unknown("mouth.closed", limit)
    value = lip_gap(ctx.face.landmarks, ctx.face.face_width)
    return judge_max("mouth.closed", value, ctx.t.mouth_gap_max, limit, CLOSE_LIPS)


def expression_measures(lm: Floats, face_width: float) -> tuple[float, float]:
    """(mouth width / face width, brow height above the upper eyelids / face width)."""
    smile = np.linalg.norm(lm[A.MOUTH["right"]] - lm[A.MOUTH["left"]]) / face_width
    brow = ((lm[A.RIGHT_EYE["top"], 1] - lm[A.RIGHT_BROW_MID, 1])
            + (lm[A.LEFT_EYE["top"], 1] - lm[A.LEFT_BROW_MID, 1])) / 2 / face_width
    return float(smile), float(brow)


def expression_natural(ctx: CheckContext) -> CheckResult:
    t = ctx.t
    limit = f"mouth width ≤ {t.smile_width_max:g}, brow raise ≤ {t.brow_raise_max:g} face width"
    if ctx.face is None:
        return unknown("expression.natural", limit, advisory=True)
    smile, brow = expression_measures(ctx.face.landmarks, ctx.face.face_width)
    excess = max((smile - t.smile_width_max) / t.smile_width_max, (brow - t.brow_raise_max) / t.brow_raise_max)
    value = f"mouth {smile:.2f}, brows {brow:.2f}"
    if excess <= 0:
        return passed("expression.natural", value, limit, advisory=True)
    return failed("expression.natural", value, limit, NATURAL, excess, advisory=True)


CHECKS = {"mouth.closed": mouth_closed, "expression.natural": expression_natural}
