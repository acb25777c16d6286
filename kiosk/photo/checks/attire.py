"""attire.* , occlusion.hair and makeup: clothes against the backdrop, and advisory reminders.

attire.contrast and attire.pattern are measured; headwear, jewellery, hair over the brows and
make-up cannot be judged reliably from pixels, so they are advisory: they warn (never block)
when a simple cue suggests a problem, and the booth reminds everyone before the capture.
"""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.message import Message
from kiosk.photo import analysis as A
from kiosk.photo.checks.common import delta_e_2000, failed, judge_max, judge_min, passed, unknown
from kiosk.photo.checks.context import CheckContext
from kiosk.photo.checks.glasses import skin_luma
from kiosk.photo.checks.result import CheckResult

CONTRAST = Message("衣服颜色与背景太接近：请换一件颜色不同的上衣", "Your clothes are too close to the backdrop colour: please wear a different colour")
PATTERN = Message("衣服图案太花（条纹/格子）：请换一件素色上衣", "Your clothes have a busy pattern (stripes, checks): please wear plain clothes")
HEADWEAR = Message("请摘下帽子或头饰（宗教或医疗原因除外，且不得遮挡面部）", "Please take off hats or head coverings (religious/medical ones allowed if the face is uncovered)")
JEWELRY = Message("请摘下耳环、项链等饰品", "Please take off earrings, necklaces and other jewellery")
HAIR = Message("头发不要遮住眉毛、眼睛和耳朵", "Keep your hair off your eyebrows, eyes and ears")
MAKEUP = Message("请勿浓妆", "Please avoid heavy make-up")
NO_CLOTHES = Message("看不到衣服：请后退一点，露出肩膀", "Your clothes are not visible: step back a little so your shoulders show")


def _backdrop_lab(ctx: CheckContext) -> np.ndarray | None:
    return None if ctx.backdrop_count < 50 else ctx.backdrop_lab_median


def contrast(ctx: CheckContext) -> CheckResult:
    limit = f"ΔE00 clothing–backdrop ≥ {ctx.t.attire_min_delta_e:g}"
    if ctx.face is None:
        return unknown("attire.contrast", limit)
    cloth = ctx.lab[ctx.clothing]
    bg = _backdrop_lab(ctx)
    if cloth.shape[0] < 50 or bg is None:
        return unknown("attire.contrast", limit, NO_CLOTHES)
    # the share of clothing that looks like the backdrop matters, not only the median colour
    de = delta_e_2000(cloth[:: max(1, cloth.shape[0] // 4000)], bg)
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
        luma = cv2.resize(luma, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        region = cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    region = cv2.erode(region.astype(np.uint8), np.ones((7, 7), np.uint8))
    if cv2.countNonZero(region) < 100:
        return unknown("attire.pattern", limit, NO_CLOTHES)
    # filter only the clothes' bounding box, padded by the wider kernel's radius (12 px for
    # σ = 3): inside it the result is that of filtering the whole view
    x, y, bw, bh = cv2.boundingRect(region)
    hh, ww = luma.shape
    x0, y0, x1, y1 = max(x - 13, 0), max(y - 13, 0), min(x + bw + 13, ww), min(y + bh + 13, hh)
    luma, region = luma[y0:y1, x0:x1], region[y0:y1, x0:x1].astype(bool)
    dog = cv2.GaussianBlur(luma, (0, 0), 1.0) - cv2.GaussianBlur(luma, (0, 0), 3.0)
    value = float(np.mean(np.abs(dog[region])))
    return judge_max("attire.pattern", value, ctx.t.pattern_max_energy, limit, PATTERN)


def headwear(ctx: CheckContext) -> CheckResult:
    """A reminder only: headwear is not measured.

    Tried on the real photos and dropped: the silhouette height above the forehead (the
    astronaut's hair 0.51 face heights, Grace Hopper's officer's cap 0.51) and the colour of
    the top of the forehead (her cap sits above the landmarks; the astronaut's hairline
    differs more) cannot tell a cap from hair. The reminders screen asks before capture and
    the operator may override (religious/medical coverings are allowed).
    """
    return passed("attire.headwear", "not measured", "reminder only (operator checks)",
                  advisory=True, message=HEADWEAR)


def jewelry(ctx: CheckContext) -> CheckResult:
    limit = f"metallic specks at the ear lobes ≤ {ctx.t.jewelry_max_blobs}"
    if ctx.face is None:
        return unknown("attire.jewelry", limit, JEWELRY, advisory=True)
    lm, fw = ctx.lm, ctx.face_width
    h, w = ctx.rgb.shape[:2]
    lobes = np.zeros((h, w), np.uint8)
    for idx in (A.CHEEK_RIGHT, A.CHEEK_LEFT):        # ear lobes: below the cheek contour points
        c = lm[idx] + np.array([0.0, 0.25 * fw])
        cv2.circle(lobes, (int(c[0]), int(c[1])), int(0.15 * fw), (1,), -1)
    # (the neck is left out: white collars, badges and insignia look just like metal there)
    zone = lobes.astype(bool) & ~ctx.face_skin
    if not zone.any():
        return passed("attire.jewelry", 0, limit, advisory=True, message=JEWELRY)
    # a speck, not a white collar: much brighter than its own small neighbourhood
    k = max(5, int(0.05 * fw) | 1)
    # Only the two ear-lobe discs are looked at: work in their bounding box, padded by twice
    # the top-hat kernel (an opening reaches that far), so the top-hat is the full frame's.
    x, y, bw, bh = cv2.boundingRect(zone.astype(np.uint8))
    pad = 2 * k
    x0, y0, x1, y1 = max(x - pad, 0), max(y - pad, 0), min(x + bw + pad, w), min(y + bh + pad, h)
    r, g, b = cv2.split(np.ascontiguousarray(ctx.rgb[y0:y1, x0:x1]))
    lo, hi = cv2.min(cv2.min(r, g), b), cv2.max(cv2.max(r, g), b)
    bright = lo >= ctx.t.clip_level - 10
    grey = (hi - lo) < 25                      # uint8: hi ≥ lo, no wrap-around
    tophat = cv2.morphologyEx(ctx.luma[y0:y1, x0:x1], cv2.MORPH_TOPHAT,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    specks = (bright & grey & zone[y0:y1, x0:x1] & (tophat > 40)).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(specks, connectivity=8)
    small = [a for a in stats[1:, cv2.CC_STAT_AREA] if 2 <= a <= (0.04 * fw) ** 2]
    value = len(small)
    if value <= ctx.t.jewelry_max_blobs:
        return passed("attire.jewelry", value, limit, advisory=True, message=JEWELRY)
    return failed("attire.jewelry", value, limit, JEWELRY, value - ctx.t.jewelry_max_blobs, advisory=True)


def hair(ctx: CheckContext) -> CheckResult:
    limit = f"brow band / skin luminance ≥ {ctx.t.forehead_min_ratio:g}"
    if ctx.face is None:
        return unknown("occlusion.hair", limit, HAIR, advisory=True)
    lm, fw = ctx.lm, ctx.face_width
    # the band from just above the brows up to a fifth of the face width higher
    brows = lm[[70, 63, 105, 66, 107, 336, 296, 334, 293, 300]]
    top = brows.copy()
    top[:, 1] -= 0.12 * fw
    band = ctx.polygon(np.concatenate([brows, top[::-1]]))
    px = ctx.luma[band]
    if px.size < 20:
        return unknown("occlusion.hair", limit, HAIR, advisory=True)
    value = float(np.median(px)) / max(skin_luma(ctx), 1.0)
    return judge_min("occlusion.hair", value, ctx.t.forehead_min_ratio, limit, HAIR, advisory=True)


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
    def chroma(px: np.ndarray) -> float:
        return float(np.median(np.hypot(px[:, 1], px[:, 2])))

    value = chroma(lip) / max(chroma(skin), 1.0)
    return judge_max("makeup", value, ctx.t.lip_chroma_max_ratio, limit, MAKEUP, advisory=True)


CHECKS = {
    "occlusion.hair": hair, "attire.headwear": headwear, "attire.jewelry": jewelry,
    "attire.contrast": contrast, "attire.pattern": pattern, "makeup": makeup,
}
