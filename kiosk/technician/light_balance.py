"""Light balance: set the two panel levels so a face (or a grey card) is lit evenly.

The standard lights the person from both sides at 45° with equal light. Real panels differ (age,
distance, a diffuser a little off), so the technician sits someone — or holds a grey card — at
the seat and lets the booth even the two halves out:

1. measure the mean linear luminance of the left and the right half of the face (the image's
   left and right: the LEFT panel, on the left as seen from behind the camera, lights the
   image's left half);
2. the ratio left/right should be 1; a controller in the log domain moves the two levels apart
   to correct it, keeping the stronger panel at full level so the booth stays as bright as it
   can (only one panel is ever dimmed);
3. repeat with a fresh frame until the ratio is within ``tolerance``; save the two levels as
   ``light_left_gain`` / ``light_right_gain``.

Each half is lit by both panels (light spills across the face), so a change of the panels
changes the face less than one for one; the controller measures that response as it goes (see
:class:`LightBalancer`) and converges in a few steps.
:class:`LightBalancer` is the loop as a step function, driven one frame at a time by the UI;
:func:`balance_lights` drives it with a capture function (scripts, tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from kiosk.technician.focus import Box, centre_box

Halves = tuple[Box, Box]


def _linear(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.float32) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def mean_luminance(rgb: np.ndarray, box: Box) -> float:
    """Median linear luminance (Rec. 709 weights) inside ``box``; clipped pixels are left out."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    patch = rgb[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]
    if patch.size == 0:
        return 0.0
    lin = _linear(patch)
    y = lin @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    unclipped = patch.max(axis=-1) < 250
    values = y[unclipped] if unclipped.any() else y.ravel()
    return float(np.median(values))


def face_halves(analysis) -> Halves | None:
    """Left and right cheek areas of the face (image coordinates), between the eyes and the mouth.

    Forehead (hair, glare) and chin (beard, collar) are left out: the cheeks are the skin that
    each panel lights most directly.
    """
    face = getattr(analysis, "face", None)
    if face is None:
        return None
    x0, y0, x1, y1 = face.box
    cx = face.face_center_x
    top = face.eye_line_y + 0.08 * (y1 - y0)
    bottom = face.eye_line_y + 0.45 * (y1 - y0)
    inset = 0.12 * (x1 - x0)          # keep off the face's outline and the backdrop behind it
    gap = 0.08 * (x1 - x0)            # and off the nose ridge
    return (x0 + inset, top, cx - gap, bottom), (cx + gap, top, x1 - inset, bottom)


def card_halves(shape: tuple[int, ...]) -> Halves:
    """Without a face: the two halves of the centre of the frame (a grey card held at the seat)."""
    x0, y0, x1, y1 = centre_box(shape, 0.25)
    cx = (x0 + x1) / 2
    return (x0, y0, cx, y1), (cx, y0, x1, y1)


def side_luminance(rgb: np.ndarray, halves: Halves) -> tuple[float, float]:
    return mean_luminance(rgb, halves[0]), mean_luminance(rgb, halves[1])


@dataclass
class LightBalancer:
    """Drives the two panel levels toward an even left/right luminance.

    Works on ``u = log(left/right)`` (the balance of the panels) and ``e = log(ratio)`` (the
    balance of the face). The first step is proportional (``gain`` × the error); after that the
    slope de/du is measured from the last two steps (how much this booth's face responds: light
    spilling across the face makes it less than 1) and the next step aims at e = 0 along it
    (a damped secant step). The stronger panel stays at full level: only the weaker side's
    partner is dimmed, so the booth stays as bright as it can.

    :param left, right: the levels to start from (0..1), e.g. the saved calibration.
    :param tolerance: done when |left/right luminance - 1| ≤ this.
    :param min_level: a panel is never dimmed below this; pinned there, the panels are too
        unequal to balance by dimming (move or repair one) and the balancer gives up.
    """

    left: float = 1.0
    right: float = 1.0
    tolerance: float = 0.03
    gain: float = 0.8
    min_level: float = 0.2
    max_steps: int = 12
    max_move: float = 1.0            # largest change of u in one step
    history: list[tuple[float, float, float]] = field(default_factory=list)  # (left, right, ratio)
    done: bool = False
    converged: bool = False

    def step(self, left_luminance: float, right_luminance: float) -> tuple[float, float]:
        """Take the luminances measured at the current levels; return the levels to set next."""
        if self.done:
            return self.left, self.right
        if left_luminance <= 0 or right_luminance <= 0:
            raise ValueError("a side measured no light: are both panels on and the face in view?")
        ratio = left_luminance / right_luminance
        self.history.append((self.left, self.right, ratio))
        if abs(ratio - 1) <= self.tolerance:
            self.done = self.converged = True
            return self.left, self.right
        if len(self.history) >= self.max_steps:
            self.done = True
            return self.left, self.right
        error = math.log(ratio)                      # > 0: the left side is brighter
        u = math.log(self.left / self.right)
        slope = 1.0 / self.gain                      # first step: proportional
        if len(self.history) >= 2:
            l0, r0, ratio0 = self.history[-2]
            du = u - math.log(l0 / r0)
            if abs(du) > 1e-3:
                measured = (error - math.log(ratio0)) / du
                if measured > 0.05:                  # noise or a moving person: keep the last
                    slope = measured / self.gain
        move = max(-self.max_move, min(self.max_move, -error / slope))
        top = max(self.left, self.right)
        u_next = u + move
        left, right = (top, top * math.exp(-u_next)) if u_next >= 0 else (top * math.exp(u_next), top)
        left, right = max(left, self.min_level), max(right, self.min_level)
        if abs(left - self.left) < 1e-4 and abs(right - self.right) < 1e-4:
            self.done = True                         # pinned at the limit: dimming cannot help
        self.left, self.right = left, right
        return left, right

    @property
    def ratio(self) -> float | None:
        return self.history[-1][2] if self.history else None


@dataclass(frozen=True)
class BalanceResult:
    left: float
    right: float
    ratio: float
    converged: bool
    steps: int
    history: list[tuple[float, float, float]]


def balance_lights(capture: Callable[[float, float], np.ndarray],
                   halves: Callable[[np.ndarray], Halves], *,
                   balancer: LightBalancer | None = None) -> BalanceResult:
    """Run the balancing loop: ``capture(left, right)`` sets the panels and returns a frame taken
    at those levels; ``halves(frame)`` says where the two sides are (see :func:`face_halves`)."""
    b = balancer or LightBalancer()
    while not b.done:
        frame = capture(b.left, b.right)
        b.step(*side_luminance(frame, halves(frame)))
    return BalanceResult(b.left, b.right, b.ratio or 0.0, b.converged, len(b.history), list(b.history))
