"""Backdrop measures: raw values from the backdrop's pixels, no decisions (see the checks).

All colours are CIE L*a*b* under D65 and colour differences CIEDE2000 (ΔE00). Every function
takes the Lab image (or its L* plane) and a boolean mask of the pixels that are surely backdrop:
in a photo, the pixels away from the person's outline; in technician mode's empty booth, the
whole frame inside a small border. The same functions serve both, so the technician's
"backdrop OK" and the validator's verdict come from one measurement.

* :func:`reference_distances` — ΔE00 from the backdrop's median to each standard colour;
* :func:`nearest_reference` — which of the allowed standard colours the backdrop is;
* :func:`chroma_offset` — how far the backdrop's hue is off that reference (a colour cast);
* :func:`grid_spread` — the largest ΔE00 between a cell of a 4×4 grid and the whole (evenness);
* :func:`outline_shadow_drop` — L* drop of the backdrop right next to the person (a shadow);
* :func:`band_dip` — the deepest dark band across an empty backdrop (a fold, a frame's shadow);
* :func:`clutter_fraction` — share of the backdrop far from its median colour (foreign things).
"""

from __future__ import annotations

from typing import Iterable

import cv2
import numpy as np

from kiosk.photo import standard
from kiosk.photo.arrays import Floats, Mask
from kiosk.photo.checks.common import delta_e_2000, srgb_to_lab

#: The standard's three backdrop colours in CIELAB, in the standard's order.
REFERENCE_LAB: dict[str, Floats] = {name: srgb_to_lab(rgb)
                                        for name, rgb in standard.BACKGROUND_COLORS.items()}

#: ``booth.backdrop`` / ``--backdrop`` value meaning "any of the standard's three colours".
ANY = "any"

#: Below this many backdrop pixels the median colour means nothing (measures answer None).
MIN_PIXELS = 100


def allowed_backdrops(setting: str | None) -> tuple[str, ...]:
    """The reference colours a setting allows: one name, or all three for ``any``/unset."""
    if setting in standard.BACKGROUND_COLORS:
        return (setting,)
    return tuple(standard.BACKGROUND_COLORS)


def median_lab(lab: Floats, mask: Mask | None = None) -> Floats | None:
    """Median L*a*b* of the masked pixels (all pixels without a mask); None if too few."""
    if mask is None:
        return np.asarray(np.median(lab.reshape(-1, 3), axis=0))
    if int(np.count_nonzero(mask)) < MIN_PIXELS:
        return None
    return np.array([np.median(lab[..., c][mask]) for c in range(3)])


def reference_distances(median: Floats) -> dict[str, float]:
    """ΔE00 from the backdrop's median colour to each of the standard's three colours."""
    return {name: float(delta_e_2000(median, ref)) for name, ref in REFERENCE_LAB.items()}


def nearest_reference(distances: dict[str, float], allowed: Iterable[str]) -> str:
    """The allowed reference the backdrop is closest to (the one it is judged against)."""
    return min(allowed, key=lambda name: distances[name])


def chroma_offset(median: Floats, reference: str) -> float:
    """√(Δa*² + Δb*²) of the backdrop median from ``reference``: hue off, brightness ignored."""
    ref = REFERENCE_LAB[reference]
    return float(np.hypot(median[1] - ref[1], median[2] - ref[2]))


def grid_spread(lab: Floats, mask: Mask, median: Floats, *, grid: int = 4,
                min_share: float = 0.15) -> float | None:
    """Largest ΔE00 between the median of a grid cell and the backdrop's ``median``.

    Only cells at least ``min_share`` backdrop count (the person covers the middle of a
    photo). None when fewer than two cells do.
    """
    h, w = mask.shape
    cells = []
    for i in range(grid):
        for j in range(grid):
            sl = (slice(i * h // grid, (i + 1) * h // grid), slice(j * w // grid, (j + 1) * w // grid))
            m = mask[sl]
            if m.sum() >= min_share * m.size:
                cells.append([np.median(lab[sl][..., c][m]) for c in range(3)])
    if len(cells) < 2:
        return None
    return float(np.max(delta_e_2000(np.array(cells), median)))


def outline_shadow_drop(lightness: Floats, distance_to_person: Floats, face_width: float,
                        face_center_x: float, chin_y: float) -> float | None:
    """L* drop of the backdrop right next to the person's outline, the worse side.

    The backdrop's L* median further out (0.22–0.55 face widths from the outline) minus the
    25th percentile close to it (0.04–0.22), above the shoulders (below them the frame edge
    cuts the bands). None when neither side has enough backdrop in both bands.
    """
    fw = max(face_width, 40.0)
    d = distance_to_person
    near_band = (d > 0.04 * fw) & (d <= 0.22 * fw)
    far_band = (d > 0.22 * fw) & (d <= 0.55 * fw)
    cols = np.arange(lightness.shape[1])[None, :]
    rows = np.arange(lightness.shape[0])[:, None]
    above = rows < chin_y + 0.6 * fw
    drops = []
    for side in (cols < face_center_x, cols >= face_center_x):
        n = near_band & side & above
        f = far_band & side & above
        if n.sum() < 30 or f.sum() < 30:
            continue
        drops.append(float(np.median(lightness[f]) - np.percentile(lightness[n], 25)))
    return max(drops) if drops else None


def band_dip(lightness: Floats) -> float:
    """The deepest dip (L*) of the row and column brightness profiles below their straight trend.

    For an empty backdrop: a straight trend is a gradient (judged by :func:`grid_spread`); a dip
    is a band (the shadow of the booth's frame, a fold in the cloth, a panel's edge).
    """
    worst = 0.0
    for profile in (np.median(lightness, axis=1), np.median(lightness, axis=0)):
        x = np.arange(profile.size, dtype=np.float64)
        trend = np.polyval(np.polyfit(x, profile, 1), x)
        worst = max(worst, float(np.max(trend - profile)))
    return worst


def clutter_fraction(lab: Floats, mask: Mask, median: Floats, delta_e: float, *,
                     step: int = 2) -> float:
    """Share of the backdrop whose colour differs from ``median`` by more than ``delta_e``,
    in blobs (a 3×3 opening drops single noisy pixels). Every ``step``-th pixel each way:
    ample for blobs of ≥ 0.1 % of the frame."""
    bg = mask[::step, ::step]
    foreign = np.zeros(bg.shape, np.uint8)
    # the colour difference only where it counts (the backdrop), not on the person
    foreign[bg] = delta_e_2000(lab[::step, ::step][bg], median) > delta_e
    blobs = cv2.morphologyEx(foreign, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return float(blobs.sum()) / max(int(bg.sum()), 1)


def describe(name: str) -> str:
    """"white RGB(255, 255, 255)": a reference colour as the limits name it."""
    r, g, b = standard.BACKGROUND_COLORS[name]
    return f"{name} RGB({r}, {g}, {b})"
