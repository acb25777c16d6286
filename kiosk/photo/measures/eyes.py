"""eyes.open and eyes.gaze: raw values from the FaceMesh eye contour and iris landmarks.

Pure functions of the 478 landmarks (pixels); the decisions are in
:mod:`kiosk.photo.checks.eyes`, against thresholds.py.
"""

from __future__ import annotations

import numpy as np

from kiosk.photo import analysis as A
from kiosk.photo.arrays import Floats

_EYES = (("right", A.RIGHT_EYE, A.RIGHT_IRIS_CENTER), ("left", A.LEFT_EYE, A.LEFT_IRIS_CENTER))


def eye_openness(lm: Floats) -> dict[str, float]:
    """Eyelid gap / eye width for each eye (person's right, left)."""
    out = {}
    for side, eye, _ in _EYES:
        width = float(np.linalg.norm(lm[eye["outer"]] - lm[eye["inner"]]))
        gap = float(np.linalg.norm(lm[eye["top"]] - lm[eye["bottom"]]))
        out[side] = gap / max(width, 1e-6)
    return out


def gaze_offsets(lm: Floats) -> dict[str, float]:
    """Iris centre offset from the middle of the eye opening / eye width, per eye.

    Measured in the eye's own axis (corner to corner), so a tilted head does not count.
    """
    out = {}
    for side, eye, iris in _EYES:
        outer, inner = lm[eye["outer"]], lm[eye["inner"]]
        axis = inner - outer
        width = np.linalg.norm(axis)
        u = axis / max(width, 1e-6)
        v = np.array([-u[1], u[0]])
        mid = (outer + inner) / 2
        lid_mid = (lm[eye["top"]] + lm[eye["bottom"]]) / 2
        d = lm[iris] - mid
        dv = lm[iris] - lid_mid
        out[side] = float(max(abs(d @ u), abs(dv @ v)) / max(width, 1e-6))
    return out
