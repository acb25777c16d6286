"""Small helpers shared by the check modules: building results, colour difference."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from kiosk.message import Message
from kiosk.photo.arrays import Floats
from kiosk.photo.checks.result import CheckResult, Status

OK = Message("符合要求", "Looks good")
NO_FACE = Message("没有找到人脸：请面向镜头", "No face found: please face the camera")
ASK_STAFF_BACKDROP = "请联系工作人员检查背景"
ASK_STAFF_LIGHT = "请联系工作人员检查灯光"


def passed(rule: str, value: Any, limit: str, *, advisory: bool = False,
           message: Message = OK) -> CheckResult:
    return CheckResult(rule, Status.PASS, _num(value), limit, message, advisory=advisory)


def failed(rule: str, value: Any, limit: str, message: Message, severity: float, *,
           advisory: bool = False) -> CheckResult:
    """A fail, or a warn for an advisory rule (advisory rules never block the photo)."""
    status = Status.WARN if advisory else Status.FAIL
    return CheckResult(rule, status, _num(value), limit, message, advisory=advisory,
                       severity=float(max(severity, 1e-3)))


def unknown(rule: str, limit: str, message: Message = NO_FACE, *, advisory: bool = False) -> CheckResult:
    status = Status.WARN if advisory else Status.UNKNOWN
    return CheckResult(rule, status, None, limit, message, advisory=advisory, severity=1.0)


def judge_max(rule: str, value: float, limit_value: float, limit: str, message: Message, *,
              advisory: bool = False, scale: float | None = None) -> CheckResult:
    """Pass when ``value`` ≤ ``limit_value``; severity = excess / ``scale`` (default the limit)."""
    if value <= limit_value:
        return passed(rule, value, limit, advisory=advisory)
    return failed(rule, value, limit, message, (value - limit_value) / (scale or abs(limit_value) or 1.0),
                  advisory=advisory)


def judge_min(rule: str, value: float, limit_value: float, limit: str, message: Message, *,
              advisory: bool = False, scale: float | None = None) -> CheckResult:
    """Pass when ``value`` ≥ ``limit_value``; severity = shortfall / ``scale`` (default the limit)."""
    if value >= limit_value:
        return passed(rule, value, limit, advisory=advisory)
    return failed(rule, value, limit, message, (limit_value - value) / (scale or abs(limit_value) or 1.0),
                  advisory=advisory)


def _num(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float):
        return round(value, 3)
    return value


def srgb_to_lab(rgb: ArrayLike) -> Floats:
    """sRGB (0–255, any shape …×3) to CIE L*a*b* under D65 (L 0–100)."""
    c = np.asarray(rgb, np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def delta_e_2000(lab1: ArrayLike, lab2: ArrayLike) -> Floats:
    """CIEDE2000 colour difference (Sharma, Wu, Dalal 2005), broadcasting over …×3 arrays."""
    c1_lab = np.asarray(lab1, np.float64)
    c2_lab = np.asarray(lab2, np.float64)
    L1, a1, b1 = c1_lab[..., 0], c1_lab[..., 1], c1_lab[..., 2]
    L2, a2, b2 = c2_lab[..., 0], c2_lab[..., 1], c2_lab[..., 2]
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    cm = (c1 + c2) / 2
    g = 0.5 * (1 - np.sqrt(cm ** 7 / (cm ** 7 + 25.0 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dL = L2 - L1
    dC = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    Lm = (L1 + L2) / 2
    cpm = (c1p + c2p) / 2
    hsum = h1p + h2p
    hm = np.where(np.abs(h1p - h2p) > 180,
                  np.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2), hsum / 2)
    hm = np.where(c1p * c2p == 0, hsum, hm)
    t = (1 - 0.17 * np.cos(np.radians(hm - 30)) + 0.24 * np.cos(np.radians(2 * hm))
         + 0.32 * np.cos(np.radians(3 * hm + 6)) - 0.20 * np.cos(np.radians(4 * hm - 63)))
    d_theta = 30 * np.exp(-(((hm - 275) / 25) ** 2))
    rc = 2 * np.sqrt(cpm ** 7 / (cpm ** 7 + 25.0 ** 7))
    sl = 1 + 0.015 * (Lm - 50) ** 2 / np.sqrt(20 + (Lm - 50) ** 2)
    sc = 1 + 0.045 * cpm
    sh = 1 + 0.015 * cpm * t
    rt = -np.sin(np.radians(2 * d_theta)) * rc
    de: Floats = np.sqrt((dL / sl) ** 2 + (dC / sc) ** 2 + (dH / sh) ** 2 + rt * (dC / sc) * (dH / sh))
    return de

