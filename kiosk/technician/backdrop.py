"""Backdrop check with the booth empty: the right colour, even, no shadow bands.

Run once after setting up the booth (and whenever the lights or the backdrop were moved). It
judges the same three things, with the same calibrated limits, as the photo checks
``background.color``, ``background.uniform`` and ``background.shadow`` — so a backdrop that
passes here does not make every student's photo fail later:

* colour: CIEDE2000 between the backdrop's median colour and the installed reference colour
  (kiosk.photo.standard.BACKGROUND_COLORS);
* uniformity: the largest CIEDE2000 between a 4×4 grid of cells and the whole backdrop
  (a brightness gradient from badly aimed lights shows here);
* shadow bands: a row or column band darker than the straight trend through the others (a
  shadow of the frame, a fold, a panel's edge), in L*.
"""

from __future__ import annotations

import numpy as np

from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.checks.common import delta_e_2000, judge_max, srgb_to_lab
from kiosk.photo.checks.result import CheckResult, Status
from kiosk.photo.checks.thresholds import Thresholds

GRID = 4
BORDER = 0.05            # ignore the outer 5 %: the backdrop's edge and lens vignetting

WRONG_COLOUR = Message("背景颜色与所选标准颜色不符：请检查背景布和灯光",
                       "The backdrop is not the chosen standard colour: check the backdrop and lights")
UNEVEN = Message("背景亮度不均匀：请调整两侧灯光的角度和距离",
                 "The backdrop is unevenly lit: adjust the angle and distance of the lights")
SHADOW = Message("背景上有阴影条纹：请移开遮挡物或拉平背景布",
                 "There is a shadow band on the backdrop: remove what casts it or smooth the backdrop")


def _inner(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    by, bx = int(h * BORDER), int(w * BORDER)
    return rgb[by:h - by, bx:w - bx]


def _small_lab(rgb: np.ndarray, max_side: int = 320) -> np.ndarray:
    """Lab of a reduced copy: the check is about large areas, so 320 px is plenty and fast."""
    h, w = rgb.shape[:2]
    step = max(1, int(np.ceil(max(h, w) / max_side)))
    return srgb_to_lab(rgb[::step, ::step])


def colour_difference(lab: np.ndarray, backdrop: str) -> float:
    reference = srgb_to_lab(np.array(standard.BACKGROUND_COLORS[backdrop], np.float64))
    median = np.median(lab.reshape(-1, 3), axis=0)
    return float(delta_e_2000(median, reference))


def uniformity(lab: np.ndarray) -> float:
    overall = np.median(lab.reshape(-1, 3), axis=0)
    h, w = lab.shape[:2]
    worst = 0.0
    for i in range(GRID):
        for j in range(GRID):
            cell = lab[i * h // GRID:(i + 1) * h // GRID, j * w // GRID:(j + 1) * w // GRID]
            worst = max(worst, float(delta_e_2000(np.median(cell.reshape(-1, 3), axis=0), overall)))
    return worst


def shadow_drop(lab: np.ndarray) -> float:
    """The deepest dip (L*) of the row and column brightness profiles below their straight trend.

    A straight trend is a gradient (judged by :func:`uniformity`); a dip is a band.
    """
    lightness = lab[..., 0]
    worst = 0.0
    for profile in (np.median(lightness, axis=1), np.median(lightness, axis=0)):
        x = np.arange(profile.size, dtype=np.float64)
        trend = np.polyval(np.polyfit(x, profile, 1), x)
        worst = max(worst, float(np.max(trend - profile)))
    return worst


def check_backdrop(rgb: np.ndarray, backdrop: str, thresholds: Thresholds | None = None) -> list[CheckResult]:
    """The three checks of an empty booth's frame (RGB uint8). ``backdrop``: blue|white|grey."""
    if backdrop not in standard.BACKGROUND_COLORS:
        raise ValueError(f"unknown backdrop {backdrop!r}: one of {sorted(standard.BACKGROUND_COLORS)}")
    t = thresholds or Thresholds()
    lab = _small_lab(_inner(rgb))
    name = standard.BACKGROUND_NAMES_ZH[backdrop]
    return [
        judge_max("background.color", colour_difference(lab, backdrop), t.background_max_delta_e,
                  f"ΔE00 to {name} {standard.BACKGROUND_COLORS[backdrop]} ≤ {t.background_max_delta_e:g}",
                  WRONG_COLOUR),
        judge_max("background.uniform", uniformity(lab), t.uniform_max_delta_e,
                  f"ΔE00 of a 4×4 grid ≤ {t.uniform_max_delta_e:g}", UNEVEN),
        judge_max("background.shadow", shadow_drop(lab), t.shadow_max_drop,
                  f"band L* drop ≤ {t.shadow_max_drop:g}", SHADOW),
    ]


def all_passed(results: list[CheckResult]) -> bool:
    return all(r.status is Status.PASS for r in results)
