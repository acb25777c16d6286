"""Exposure and white balance, calibrated against the empty backdrop.

The HQ camera runs with fixed exposure and white balance (auto exposure would chase every dark
jacket; auto white balance every blue backdrop). This finds the fixed values once, with the
booth empty and the panels at their capture level:

* white balance: the colour gains (red, blue) make the backdrop's red:green:blue ratios, in
  linear light, those of its reference colour — a white or grey backdrop reads neutral, the
  blue one reads the standard's blue;
* exposure: exposure time × analogue gain make the backdrop's brightness that of its reference,
  with headroom: no channel above :data:`HEADROOM` of full scale (the white and blue references
  reach full scale by definition, and a clipped channel cannot be white-balanced).

Like :mod:`.light_balance`, it is a step function (:class:`CameraCalibrator`) driven one frame
at a time; :func:`calibrate_camera` runs it with a capture function.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from kiosk.photo import standard

HEADROOM = 0.92               # brightest channel of the backdrop, linear, after calibration
MAX_EXPOSURE_US = 20000       # longer blurs a moving student; beyond it the gain goes up
MIN_EXPOSURE_US = 100
MAX_ANALOGUE_GAIN = 8.0
GAIN_LIMITS = (0.3, 8.0)      # what the sensor's colour gains can be


def srgb_to_linear(value) -> np.ndarray:
    c = np.asarray(value, np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


@dataclass(frozen=True)
class CameraSettings:
    """The values picamera2 takes as ExposureTime, AnalogueGain and ColourGains."""

    exposure_time_us: int = 10000
    analogue_gain: float = 1.0
    colour_gains: tuple[float, float] = (2.0, 1.6)     # (red, blue)

    @property
    def exposure(self) -> float:
        """Total exposure: time × gain (what the brightness of the image follows)."""
        return self.exposure_time_us * self.analogue_gain


def split_exposure(total: float) -> tuple[int, float]:
    """Exposure time first (less noise), analogue gain only beyond MAX_EXPOSURE_US."""
    time_us = min(max(total, MIN_EXPOSURE_US), MAX_EXPOSURE_US)
    gain = min(max(total / time_us, 1.0), MAX_ANALOGUE_GAIN)
    return int(round(time_us)), float(gain)


def backdrop_median(rgb: np.ndarray, box: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """Median sRGB colour of the backdrop: ``box`` (x0, y0, x1, y1) or the frame minus a 10 % border."""
    h, w = rgb.shape[:2]
    if box is None:
        box = (w * 0.1, h * 0.1, w * 0.9, h * 0.9)
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    patch = rgb[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]
    return np.median(patch.reshape(-1, 3), axis=0)


@dataclass
class CameraCalibrator:
    """Steps exposure and colour gains toward the reference colour of ``backdrop``."""

    backdrop: str
    settings: CameraSettings = field(default_factory=CameraSettings)
    tolerance: float = 0.02          # relative error of luminance and of each colour ratio
    max_steps: int = 12
    steps: int = 0
    done: bool = False
    converged: bool = False
    last_error: float = float("inf")

    def __post_init__(self) -> None:
        ref = srgb_to_linear(standard.BACKGROUND_COLORS[self.backdrop])
        # the target: the reference's colour, scaled down (only) where its brightest channel
        # would leave no headroom: white and blue reach full scale, grey does not
        self.target = ref * min(1.0, HEADROOM / ref.max())

    def step(self, measured_srgb) -> CameraSettings:
        """Take the backdrop's median sRGB colour at the current settings; return the next ones."""
        if self.done:
            return self.settings
        self.steps += 1
        m = srgb_to_linear(measured_srgb)
        s = self.settings
        if np.max(measured_srgb) >= 254:
            # clipped: ratios mean nothing, halve the light and look again
            exposure_time_us, analogue_gain = split_exposure(s.exposure / 2)
            self.settings = replace(s, exposure_time_us=int(exposure_time_us),
                                    analogue_gain=analogue_gain)
            self.last_error = float("inf")
            self._give_up_if_spent()
            return self.settings
        m = np.maximum(m, 1e-4)
        t = self.target
        # colour: make R/G and B/G those of the target (green is the sensor's reference channel)
        red = s.colour_gains[0] * (t[0] / t[1]) / (m[0] / m[1])
        blue = s.colour_gains[1] * (t[2] / t[1]) / (m[2] / m[1])
        red, blue = (float(np.clip(g, *GAIN_LIMITS)) for g in (red, blue))
        # brightness: green (most of luminance, never the clipped channel of the references)
        scale = t[1] / m[1]
        time_us, gain = split_exposure(s.exposure * scale)
        errors = [abs(scale - 1), abs(red / s.colour_gains[0] - 1), abs(blue / s.colour_gains[1] - 1)]
        self.last_error = float(max(errors))
        if self.last_error <= self.tolerance:
            self.done = self.converged = True
            return self.settings
        self.settings = CameraSettings(time_us, gain, (round(red, 4), round(blue, 4)))
        self._give_up_if_spent()
        return self.settings

    def _give_up_if_spent(self) -> None:
        if self.steps >= self.max_steps:
            self.done = True


@dataclass(frozen=True)
class CameraResult:
    settings: CameraSettings
    converged: bool
    steps: int
    error: float


def calibrate_camera(capture: Callable[[CameraSettings], np.ndarray], backdrop: str, *,
                     start: CameraSettings | None = None,
                     box: tuple[float, float, float, float] | None = None) -> CameraResult:
    """``capture(settings)`` returns a frame of the empty booth taken with those settings."""
    c = CameraCalibrator(backdrop, start or CameraSettings())
    while not c.done:
        c.step(backdrop_median(capture(c.settings), box))
    return CameraResult(c.settings, c.converged, c.steps, c.last_error)
