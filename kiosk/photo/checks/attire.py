"""attire.*, occlusion.hair and makeup: what the person wears, and hair over the face.

attire.contrast and attire.pattern are measured on the clothes. attire.headwear,
attire.jewelry and occlusion.hair are hard rules, measured on the head view
(:mod:`kiosk.photo.measures`): each fails when its measure is sure of a problem, passes when
it is sure there is none, and is ``unknown`` in between (the booth then asks the student to
confirm). The bands come from the table of ``bench/calibrate_checks.py`` over the labelled
real faces (thresholds.py). makeup stays advisory.
"""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np
from numpy.typing import NDArray

from kiosk.message import Message
from kiosk.photo.arrays import Floats
from kiosk.photo.checks.common import NO_FACE, delta_e_2000, failed, judge_max, judge_min, passed, unknown
from kiosk.photo.checks.context import CheckContext
from kiosk.photo.checks.result import CheckResult, Status
from kiosk.photo.measures import hair as hair_measure
from kiosk.photo.measures import headwear as headwear_measure
from kiosk.photo.measures import jewelry as jewelry_measure
from kiosk.photo.measures.head import HeadView

CONTRAST = Message("衣服颜色与背景太接近：请换一件颜色不同的上衣", "Your clothes are too close to the backdrop colour: please wear a different colour")
PATTERN = Message("衣服图案太花（条纹/格子）：请换一件素色上衣", "Your clothes have a busy pattern (stripes, checks): please wear plain clothes")
HEADWEAR = Message("请摘下帽子或头饰（因宗教或医疗原因不能摘下的，请联系工作人员）", "Please take off your hat or head covering (if you cannot for religious or medical reasons, please ask staff)")
JEWELRY = Message("请摘下耳环、项链等饰品", "Please take off earrings, necklaces and other jewellery")
HAIR = Message("头发不要遮住眉毛、眼睛和耳朵", "Keep your hair off your eyebrows, eyes and ears")
MAKEUP = Message("请勿浓妆", "Please avoid heavy make-up")
NO_CLOTHES = Message("看不到衣服：请后退一点，露出肩膀", "Your clothes are not visible: step back a little so your shoulders show")


def _backdrop_lab(ctx: CheckContext) -> Floats | None:
    return None if ctx.backdrop_count < 50 else ctx.backdrop_lab_median


def contrast(ctx: CheckContext) -> CheckResult:
    limit = f"ΔE00 clothing–backdrop ≥ {ctx.t.attire_min_delta_e:g}"
    if ctx.face is None:
        return unknown("attire.contrast", limit)
    cloth = np.flatnonzero(ctx.clothing)
    bg = _backdrop_lab(ctx)
    if cloth.size < 50 or bg is None:
        return unknown("attire.contrast", limit, NO_CLOTHES)
    # the share of clothing that looks like the backdrop matters, not only the median colour;
    # a few thousand of its pixels tell it (only those are fetched)
    sample = ctx.lab.reshape(-1, 3)[cloth[:: max(1, cloth.size // 4000)]]
    de = delta_e_2000(sample, bg)
    value = float(np.percentile(de, 25))
    return judge_min("attire.contrast", value, ctx.t.attire_min_delta_e, limit, CONTRAST)


def pattern(ctx: CheckContext) -> CheckResult:
    limit = f"band-pass energy ≤ {ctx.t.pattern_max_energy:g}"
    if ctx.face is None:
        return unknown("attire.pattern", limit)
    region = ctx.clothing
    if region.sum() < 200:
        return unknown("attire.pattern", limit, NO_CLOTHES)
    k = 200.0 / max(ctx.face_width, 1.0)           # judge at a 200 px face width
    luma = ctx.luma
    if abs(k - 1) > 0.05:
        size = (max(1, round(luma.shape[1] * k)), max(1, round(luma.shape[0] * k)))
        luma = cast(NDArray[np.float32],
                    cv2.resize(luma, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR))
        region = cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    core = cv2.erode(region.astype(np.uint8), np.ones((7, 7), np.uint8))
    if cv2.countNonZero(core) < 100:
        return unknown("attire.pattern", limit, NO_CLOTHES)
    # filter only the clothes' bounding box, padded by the wider kernel's radius (12 px for
    # σ = 3): inside it the result is that of filtering the whole view
    x, y, bw, bh = cv2.boundingRect(core)
    hh, ww = luma.shape
    x0, y0, x1, y1 = max(x - 13, 0), max(y - 13, 0), min(x + bw + 13, ww), min(y + bh + 13, hh)
    luma, region = luma[y0:y1, x0:x1], core[y0:y1, x0:x1].astype(bool)
    dog = cv2.GaussianBlur(luma, (0, 0), 1.0) - cv2.GaussianBlur(luma, (0, 0), 3.0)
    value = float(np.mean(np.abs(dog[region])))
    return judge_max("attire.pattern", value, ctx.t.pattern_max_energy, limit, PATTERN)


def _unsure(rule: str, value: float | str, limit: str, message: Message) -> CheckResult:
    """The measure cannot decide: ``unknown`` with what it measured. These rules are
    ``CONFIRMABLE_IDS``: the booth asks the student to confirm, and flags the photo for a look."""
    shown = round(value, 3) if isinstance(value, float) else value
    return CheckResult(rule, Status.UNKNOWN, shown, limit, message, severity=0.5)


def _head(ctx: CheckContext, rule: str, limit: str, message: Message, *,
          no_face: Message = NO_FACE) -> HeadView | CheckResult:
    """The head view the head measures work in, or the rule's verdict when they cannot be
    trusted on this frame: ``unknown`` without a face, unsure when the head is turned or tilted.

    Their regions are placed for a head facing the camera; a turned or tilted head moves the
    crown, ears and lobes out of them (the booth corrects the pose first)."""
    if ctx.face is None or ctx.head is None:
        return unknown(rule, limit, no_face)
    f, t = ctx.face, ctx.t
    if abs(f.yaw) > t.head_measure_max_yaw or abs(f.roll) > t.head_measure_max_roll:
        return _unsure(rule, "head turned or tilted", limit, message)
    return ctx.head


def headwear(ctx: CheckContext) -> CheckResult:
    """Fails on a cap, hat or band: hard edges (brim, seams, badge) on the crown; passes a crown
    as soft as hair and skin whose colours are the skin's or the temples' hair."""
    t = ctx.t
    limit = (f"crown contrast ≥ {t.headwear_fail_contrast:g} fail; ≤ {t.headwear_pass_contrast:g} "
             f"with ≤ {t.headwear_pass_foreign:g} of it neither skin nor hair pass")
    head = _head(ctx, "attire.headwear", limit, HEADWEAR)
    if isinstance(head, CheckResult):
        return head
    m = headwear_measure.measure(head)
    if m.crown_px < t.headwear_min_crown_px:
        return _unsure("attire.headwear", "top of the head not in view", limit, HEADWEAR)
    if m.contrast >= t.headwear_fail_contrast:
        return failed("attire.headwear", m.contrast, limit, HEADWEAR,
                      (m.contrast - t.headwear_fail_contrast) / t.headwear_fail_contrast + 0.1)
    soft = m.contrast <= t.headwear_pass_contrast
    # with no hair at the temples to compare with, only a skin-coloured crown is sure (a bald
    # or shaved head); a dark crown there may be hair combed back or a plain hat
    coloured_like_head = (m.foreign <= t.headwear_pass_foreign if m.has_hair_model
                          else m.skin >= t.headwear_bare_skin_min)
    if soft and coloured_like_head:
        return passed("attire.headwear", m.contrast, limit)
    return _unsure("attire.headwear", m.contrast, limit, HEADWEAR)


def jewelry(ctx: CheckContext) -> CheckResult:
    """Fails on a large sharp blob at a lobe or a long chain on the neck; never passes on its own:
    small studs, pearls and fine chains read like skin texture at this scale (see thresholds.py),
    so without a clear find the student confirms."""
    t = ctx.t
    limit = f"earring blob ≥ {t.earring_fail_px} px or chain ≥ {t.necklace_fail_px} px (96 px face) fail"
    head = _head(ctx, "attire.jewelry", limit, JEWELRY)
    if isinstance(head, CheckResult):
        return head
    m = jewelry_measure.measure(head)
    value = f"earring {m.earring_px} px, chain {m.necklace_px} px"
    if m.earring_px >= t.earring_fail_px or m.necklace_px >= t.necklace_fail_px:
        worst = max(m.earring_px / t.earring_fail_px, m.necklace_px / t.necklace_fail_px)
        return failed("attire.jewelry", value, limit, JEWELRY, worst)
    return _unsure("attire.jewelry", value, limit, JEWELRY)


def hair(ctx: CheckContext) -> CheckResult:
    """Fails when hair covers an ear or a brow; passes only when both brows and ears show skin."""
    t = ctx.t
    limit = (f"an ear ≥ {t.ear_cover_fail:g} covered or brow skin < {t.brow_skin_fail:g} fail; "
             f"brow skin ≥ {t.brow_skin_pass:g} and ear skin ≥ {t.ear_skin_pass:g} pass")
    head = _head(ctx, "occlusion.hair", limit, HAIR, no_face=HAIR)
    if isinstance(head, CheckResult):
        return head
    m = hair_measure.measure(head)
    value = (f"brow skin {m.brow_skin:.2f}; ear skin {m.ears[0].skin:.2f}/{m.ears[1].skin:.2f}, "
             f"covered {m.ears[0].hair:.2f}/{m.ears[1].hair:.2f}")
    brows_seen = m.brow_skin == m.brow_skin            # not NaN
    if m.ear_cover >= t.ear_cover_fail or (brows_seen and m.brow_skin < t.brow_skin_fail):
        sev = max((m.ear_cover - t.ear_cover_fail) / t.ear_cover_fail,
                  (t.brow_skin_fail - m.brow_skin) / t.brow_skin_fail if brows_seen else 0.0, 0.0)
        return failed("occlusion.hair", value, limit, HAIR, sev + 0.1)
    if brows_seen and m.brow_skin >= t.brow_skin_pass and m.ear_skin >= t.ear_skin_pass:
        return passed("occlusion.hair", value, limit)
    return _unsure("occlusion.hair", value, limit, HAIR)


def makeup(ctx: CheckContext) -> CheckResult:
    limit = f"lip chroma ≤ {ctx.t.lip_chroma_max_ratio:g} × skin chroma"
    if ctx.face is None:
        return unknown("makeup", limit, MAKEUP, advisory=True)
    lips = ctx.polygon(ctx.lm[[61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91]])
    inner = ctx.polygon(ctx.lm[[78, 81, 13, 311, 308, 402, 14, 178]])
    lips &= ~inner
    lab = ctx.lab
    lip = lab[lips]
    skin = lab[ctx.face_skin]
    if lip.shape[0] < 10 or skin.shape[0] < 50:
        return unknown("makeup", limit, MAKEUP, advisory=True)
    def chroma(px: Floats) -> float:
        return float(np.median(np.hypot(px[:, 1], px[:, 2])))

    value = chroma(lip) / max(chroma(skin), 1.0)
    return judge_max("makeup", value, ctx.t.lip_chroma_max_ratio, limit, MAKEUP, advisory=True)


CHECKS = {
    "occlusion.hair": hair, "attire.headwear": headwear, "attire.jewelry": jewelry,
    "attire.contrast": contrast, "attire.pattern": pattern, "makeup": makeup,
}
