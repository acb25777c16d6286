"""background.*: the backdrop's colour (CIEDE2000 against the installed reference), evenness,
shadows next to the person and foreign objects.

Colour differences are CIEDE2000 (ΔE00) in CIELAB under D65, computed from the view's median
backdrop colour. The booth knows which backdrop is installed (``config.booth.backdrop``).
"""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.checks.common import ASK_STAFF_BACKDROP, delta_e_2000, judge_max, srgb_to_lab, unknown
from kiosk.photo.checks.context import CheckContext, channel_median
from kiosk.photo.checks.result import CheckResult

NO_BACKDROP = Message("看不到背景：请后退一点", "The backdrop is not visible: please step back a little")
UNEVEN = Message(ASK_STAFF_BACKDROP + "（背景不均匀）", "The backdrop is unevenly lit: please ask staff to check it")
SHADOW = Message("背景上有影子：请离背景远一点或联系工作人员", "A shadow falls on the backdrop: step away from it a little, or ask staff")
CLUTTER = Message("背景中有其他物体或人：请移开", "Something else is in the background: please remove it")


def reference_lab(ctx: CheckContext) -> np.ndarray:
    name = ctx.backdrop if ctx.backdrop in standard.BACKGROUND_COLORS else "blue"
    return srgb_to_lab(standard.BACKGROUND_COLORS[name])


def backdrop_median(ctx: CheckContext) -> np.ndarray | None:
    """Median CIELAB colour of the surely-backdrop pixels (None if too few); once per context."""
    return None if ctx.backdrop_count < 100 else ctx.backdrop_lab_median


def color(ctx: CheckContext) -> CheckResult:
    name = ctx.backdrop if ctx.backdrop in standard.BACKGROUND_COLORS else "blue"
    limit = f"ΔE00 to {name} {standard.BACKGROUND_COLORS[name]} ≤ {ctx.t.background_max_delta_e:g}"
    med = backdrop_median(ctx)
    if med is None:
        return unknown("background.color", limit, NO_BACKDROP)
    value = float(delta_e_2000(med, reference_lab(ctx)))
    return judge_max("background.color", value, ctx.t.background_max_delta_e, limit,
                     wrong_color(name))


def wrong_color(name: str) -> Message:
    """The backdrop is not the installed reference colour ``name`` (blue, white or grey)."""
    return Message(f"背景颜色不是标准的{standard.BACKGROUND_NAMES_ZH[name]}：请联系工作人员",
                   f"The backdrop is not the standard {name}: please ask staff")


def uniform(ctx: CheckContext) -> CheckResult:
    limit = f"ΔE00 between backdrop areas ≤ {ctx.t.uniform_max_delta_e:g}"
    bgmask = ctx.backdrop_pixels
    med = backdrop_median(ctx)
    if med is None:
        return unknown("background.uniform", limit, NO_BACKDROP)
    h, w = bgmask.shape
    cells = []
    for i in range(4):
        for j in range(4):
            sl = (slice(i * h // 4, (i + 1) * h // 4), slice(j * w // 4, (j + 1) * w // 4))
            m = bgmask[sl]
            if m.sum() >= 0.15 * m.size:
                cells.append(channel_median(ctx.lab[sl], m))
    if len(cells) < 2:
        return unknown("background.uniform", limit, NO_BACKDROP)
    value = float(np.max(delta_e_2000(np.array(cells), med)))
    return judge_max("background.uniform", value, ctx.t.uniform_max_delta_e, limit, UNEVEN)


def shadow(ctx: CheckContext) -> CheckResult:
    """L* drop of the backdrop right next to the outline compared with further out, worse side."""
    limit = f"L* drop next to the outline ≤ {ctx.t.shadow_max_drop:g}"
    if ctx.face is None:
        return unknown("background.shadow", limit)
    fw = max(ctx.face_width, 40.0)
    d = ctx.distance_to_person
    near_band = (d > 0.04 * fw) & (d <= 0.22 * fw)
    far_band = (d > 0.22 * fw) & (d <= 0.55 * fw)
    L = ctx.lightness
    cols = np.arange(L.shape[1])[None, :]
    rows = np.arange(L.shape[0])[:, None]
    cx = ctx.lm[[234, 454], 0].mean()
    # above the shoulders only: below them the frame edge cuts the bands
    above = rows < ctx.lm[152, 1] + 0.6 * fw
    drops = []
    for side in (cols < cx, cols >= cx):
        n = near_band & side & above
        f = far_band & side & above
        if n.sum() < 30 or f.sum() < 30:
            continue
        drops.append(float(np.median(L[f]) - np.percentile(L[n], 25)))
    if not drops:
        return unknown("background.shadow", limit, NO_BACKDROP)
    return judge_max("background.shadow", max(drops), ctx.t.shadow_max_drop, limit, SHADOW)


def clutter(ctx: CheckContext) -> CheckResult:
    limit = f"foreign area ≤ {ctx.t.clutter_max_fraction:.1%} of the backdrop"
    med = backdrop_median(ctx)
    if med is None:
        return unknown("background.clutter", limit, NO_BACKDROP)
    bgmask = ctx.backdrop_pixels
    step = 2          # every second pixel each way: ample for blobs of ≥ 0.1 % of the frame
    bg = bgmask[::step, ::step]
    # the colour difference only where it counts (the backdrop), not on the person
    differs = np.zeros(bg.shape, np.uint8)
    differs[bg] = delta_e_2000(ctx.lab[::step, ::step][bg], med) > ctx.t.clutter_delta_e
    foreign = cv2.morphologyEx(differs, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    value = float(foreign.sum()) / max(int(bg.sum()), 1)
    return judge_max("background.clutter", value, ctx.t.clutter_max_fraction, limit, CLUTTER)


CHECKS = {
    "background.color": color, "background.uniform": uniform,
    "background.shadow": shadow, "background.clutter": clutter,
}
