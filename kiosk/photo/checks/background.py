"""background.*: the backdrop's colour (the nearest allowed standard colour), evenness,
shadows next to the person and foreign objects.

The raw values come from :mod:`kiosk.photo.measures.background`; this module only decides,
against the thresholds. Technician mode's empty-booth check (kiosk.technician.backdrop) calls
the same decisions on the same measures, so "backdrop OK" there and the verdict here agree.

``background.color`` accepts any of the standard's three colours unless the booth's config
(``booth.backdrop``) or ``--backdrop`` names the installed one: the backdrop is judged against
the nearest allowed reference, and the result names it (``found``, and the limit's text).
"""

from __future__ import annotations

from dataclasses import replace

from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.arrays import Floats
from kiosk.photo.checks.common import ASK_STAFF_BACKDROP, judge_max, unknown
from kiosk.photo.checks.context import CheckContext
from kiosk.photo.checks.result import CheckResult, Status
from kiosk.photo.checks.thresholds import Thresholds
from kiosk.photo.measures import background as measure

NO_BACKDROP = Message("看不到背景：请后退一点", "The backdrop is not visible: please step back a little")
UNEVEN = Message(ASK_STAFF_BACKDROP + "（背景不均匀）", "The backdrop is unevenly lit: please ask staff to check it")
SHADOW = Message("背景上有影子：请离背景远一点或联系工作人员", "A shadow falls on the backdrop: step away from it a little, or ask staff")
NOT_STANDARD = Message("背景颜色不是标准的浅蓝色、白色或浅灰色：请联系工作人员",
                       "The backdrop is not the standard light blue, white or light grey: please ask staff")
CLUTTER = Message("背景中有其他物体或人：请移开", "Something else is in the background: please remove it")


def backdrop_median(ctx: CheckContext) -> Floats | None:
    """Median CIELAB colour of the surely-backdrop pixels (None if too few); once per context."""
    return None if ctx.backdrop_count < measure.MIN_PIXELS else ctx.backdrop_lab_median


def reference_for(ctx: CheckContext) -> str | None:
    """The allowed standard colour this photo's backdrop is judged against (None: no backdrop)."""
    med = backdrop_median(ctx)
    if med is None:
        return None
    return measure.nearest_reference(measure.reference_distances(med),
                                     measure.allowed_backdrops(ctx.backdrop))


def wrong_color(name: str) -> Message:
    """The backdrop is not the installed reference colour ``name`` (blue, white or grey)."""
    return Message(f"背景颜色不是标准的{standard.BACKGROUND_NAMES_ZH[name]}：请联系工作人员",
                   f"The backdrop is not the standard {name}: please ask staff")


# --- decisions, shared with technician mode ---------------------------------------------------

def color_limit(allowed: tuple[str, ...], t: Thresholds, name: str | None = None) -> str:
    which = (f"{measure.describe(name)}, the nearest of {'|'.join(allowed)}" if name and len(allowed) > 1
             else measure.describe(name or allowed[0]))
    return f"ΔE00 to {which} ≤ {t.background_max_delta_e:g}"


def decide_color(median: Floats | None, allowed: tuple[str, ...], t: Thresholds,
                 unseen: Message = NO_BACKDROP, wrong: Message | None = None) -> CheckResult:
    """``background.color`` from the backdrop's median: ΔE00 to the nearest allowed reference.
    ``wrong``: the message for a wrong colour (default: the student's "please ask staff")."""
    if median is None:
        return unknown("background.color", color_limit(allowed, t), unseen)
    distances = measure.reference_distances(median)
    name = measure.nearest_reference(distances, allowed)
    msg = wrong or (NOT_STANDARD if len(allowed) > 1 else wrong_color(name))
    result = judge_max("background.color", distances[name], t.background_max_delta_e,
                       color_limit(allowed, t, name), msg)
    # which backdrop was found is recorded (manifest, contact sheet) only when it is one
    return result if result.status is Status.FAIL else replace(result, found=name)


def decide_uniform(spread: float | None, t: Thresholds, message: Message = UNEVEN,
                   unseen: Message = NO_BACKDROP) -> CheckResult:
    limit = f"ΔE00 between backdrop areas ≤ {t.uniform_max_delta_e:g}"
    if spread is None:
        return unknown("background.uniform", limit, unseen)
    return judge_max("background.uniform", spread, t.uniform_max_delta_e, limit, message)


# --- the checks -------------------------------------------------------------------------------

def color(ctx: CheckContext) -> CheckResult:
    return decide_color(backdrop_median(ctx), measure.allowed_backdrops(ctx.backdrop), ctx.t)


def uniform(ctx: CheckContext) -> CheckResult:
    med = backdrop_median(ctx)
    spread = None if med is None else measure.grid_spread(ctx.lab, ctx.backdrop_pixels, med)
    return decide_uniform(spread, ctx.t)


def shadow(ctx: CheckContext) -> CheckResult:
    limit = f"L* drop next to the outline ≤ {ctx.t.shadow_max_drop:g}"
    if ctx.face is None:
        return unknown("background.shadow", limit)
    drop = measure.outline_shadow_drop(ctx.lightness, ctx.distance_to_person, ctx.face_width,
                                       float(ctx.lm[[234, 454], 0].mean()), float(ctx.lm[152, 1]))
    if drop is None:
        return unknown("background.shadow", limit, NO_BACKDROP)
    return judge_max("background.shadow", drop, ctx.t.shadow_max_drop, limit, SHADOW)


def clutter(ctx: CheckContext) -> CheckResult:
    limit = f"foreign area ≤ {ctx.t.clutter_max_fraction:.1%} of the backdrop"
    med = backdrop_median(ctx)
    if med is None:
        return unknown("background.clutter", limit, NO_BACKDROP)
    value = measure.clutter_fraction(ctx.lab, ctx.backdrop_pixels, med, ctx.t.clutter_delta_e)
    return judge_max("background.clutter", value, ctx.t.clutter_max_fraction, limit, CLUTTER)


CHECKS = {
    "background.color": color, "background.uniform": uniform,
    "background.shadow": shadow, "background.clutter": clutter,
}
