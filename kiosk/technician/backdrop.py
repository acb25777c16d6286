"""Backdrop check with the booth empty: the right colour, even, no shadow bands.

Run once after setting up the booth (and whenever the lights or the backdrop were moved). It
uses the validator's own measures (:mod:`kiosk.photo.measures.background`) and decisions
(:mod:`kiosk.photo.checks.background`) with the same thresholds, on the whole frame inside a
small border (the booth is empty, so all of it is backdrop) — so a backdrop that passes here
cannot make every student's photo fail ``background.color`` or ``background.uniform`` later:

* colour: CIEDE2000 between the backdrop's median colour and the nearest allowed standard
  colour (``booth.backdrop``, or any of the three), naming the one found;
* uniformity: the largest CIEDE2000 between a 4×4 grid of cells and the whole backdrop
  (a brightness gradient from badly aimed lights shows here);
* shadow bands: a row or column band darker than the straight trend through the others (a
  shadow of the frame, a fold, a panel's edge), in L*, against ``background.shadow``'s limit.
  (A photo's ``background.shadow`` looks for the person's own shadow next to their outline,
  which an empty booth cannot show.)
"""

from __future__ import annotations

import numpy as np

from kiosk.message import Message
from kiosk.photo.checks.background import decide_color, decide_uniform
from kiosk.photo.checks.common import judge_max, srgb_to_lab
from kiosk.photo.checks.result import CheckResult, Status
from kiosk.photo.checks.thresholds import Thresholds
from kiosk.photo.measures import background as measure

BORDER = 0.05            # ignore the outer 5 %: the backdrop's edge and lens vignetting

WRONG_COLOUR = Message("背景颜色不是所选的标准颜色：请检查背景布、灯光和配置中的 backdrop",
                       "The backdrop is not the chosen standard colour: check the backdrop, the lights "
                       "and the backdrop setting")
UNEVEN = Message("背景亮度不均匀：请调整两侧灯光的角度和距离",
                 "The backdrop is unevenly lit: adjust the angle and distance of the lights")
SHADOW = Message("背景上有阴影条纹：请移开遮挡物或拉平背景布",
                 "There is a shadow band on the backdrop: remove what casts it or smooth the backdrop")
UNSEEN = Message("看不到背景", "The backdrop is not visible")


def _inner(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    by, bx = int(h * BORDER), int(w * BORDER)
    return rgb[by:h - by, bx:w - bx]


def _small_lab(rgb: np.ndarray, max_side: int = 320) -> np.ndarray:
    """Lab of a reduced copy: the check is about large areas, so 320 px is plenty and fast."""
    h, w = rgb.shape[:2]
    step = max(1, int(np.ceil(max(h, w) / max_side)))
    return srgb_to_lab(rgb[::step, ::step])


def check_backdrop(rgb: np.ndarray, backdrop: str = measure.ANY,
                   thresholds: Thresholds | None = None) -> list[CheckResult]:
    """The three checks of an empty booth's frame (RGB uint8). ``backdrop``: blue|white|grey
    (the installed one) or ``any`` (the nearest of the three; the result names it)."""
    if backdrop != measure.ANY and backdrop not in measure.REFERENCE_LAB:
        raise ValueError(f"unknown backdrop {backdrop!r}: one of {sorted(measure.REFERENCE_LAB)} or 'any'")
    t = thresholds or Thresholds()
    lab = _small_lab(_inner(rgb))
    everywhere = np.ones(lab.shape[:2], bool)
    median = measure.median_lab(lab, everywhere)
    spread = None if median is None else measure.grid_spread(lab, everywhere, median)
    return [
        decide_color(median, measure.allowed_backdrops(backdrop), t, unseen=UNSEEN,
                     wrong=WRONG_COLOUR),
        decide_uniform(spread, t, message=UNEVEN, unseen=UNSEEN),
        judge_max("background.shadow", measure.band_dip(lab[..., 0]), t.shadow_max_drop,
                  f"band L* drop ≤ {t.shadow_max_drop:g}", SHADOW),
    ]


def found_backdrop(results: list[CheckResult]) -> str | None:
    """The standard backdrop the colour check found (None: not a standard colour)."""
    return next((r.found for r in results if r.id == "background.color"), None)


def all_passed(results: list[CheckResult]) -> bool:
    return all(r.status is Status.PASS for r in results)
