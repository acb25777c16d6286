"""Where calibration lives: ``calibration.json`` in the booth's state directory.

Calibration is measured, not configured, so it is kept apart from ``/etc/kiosk/kiosk.toml``
(written by a person) and from the app's install (replaced by every update): the state
directory (``/var/lib/kiosk``, systemd's StateDirectory) survives reboots and updates.

Written atomically (a temporary file in the same directory, fsync, rename, fsync of the
directory), so a power cut leaves either the old or the new file, never half of one. A missing
file means "not calibrated yet": the config's values are used with a warning on screen. A broken
file (bad JSON, a value out of range) is never fatal: what is wrong falls back to the config's
value and says so.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

FILENAME = "calibration.json"
VERSION = 1

#: Each value's allowed range: anything outside is a broken file, not a calibration.
LIMITS: dict[str, tuple[float, float]] = {
    "light_left_gain": (0.05, 1.0),
    "light_right_gain": (0.05, 1.0),
    "exposure_time_us": (100, 200000),
    "analogue_gain": (1.0, 16.0),
    "colour_gain_red": (0.3, 8.0),
    "colour_gain_blue": (0.3, 8.0),
}


@dataclass(frozen=True)
class Calibration:
    """The measured values; defaults are taken from the config (``config.devices``)."""

    light_left_gain: float = 1.0
    light_right_gain: float = 1.0
    exposure_time_us: int = 10000
    analogue_gain: float = 1.0
    colour_gain_red: float = 2.0
    colour_gain_blue: float = 1.6
    focus_peak: float = 0.0          # for the record: the best sharpness score at focusing
    saved_at: str = ""               # ISO time of the last save ("" = never calibrated)

    @classmethod
    def from_devices(cls, devices) -> "Calibration":
        """The config's values (``DeviceSettings``) as a calibration: the fallback."""
        red, blue = devices.colour_gains
        return cls(devices.light_left_gain, devices.light_right_gain, devices.exposure_time_us,
                   devices.analogue_gain, red, blue)

    def apply_to(self, devices) -> None:
        """Write the values into ``config.devices``, where the hardware drivers read them."""
        devices.light_left_gain = self.light_left_gain
        devices.light_right_gain = self.light_right_gain
        devices.exposure_time_us = int(self.exposure_time_us)
        devices.analogue_gain = self.analogue_gain
        devices.colour_gains = (self.colour_gain_red, self.colour_gain_blue)


def path_in(state_dir: str | os.PathLike) -> Path:
    return Path(state_dir) / FILENAME


def load_calibration(state_dir: str | os.PathLike, fallback: Calibration | None = None
                     ) -> tuple[Calibration, list[str]]:
    """The saved calibration and the warnings about it (empty when all is well).

    Never raises for a bad file: each broken or missing value is taken from ``fallback``.
    """
    fallback = fallback or Calibration()
    path = path_in(state_dir)
    if not path.exists():
        return fallback, [f"not calibrated yet ({path} missing): using the configured defaults"]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return fallback, [f"calibration {path} unreadable ({exc}): using the configured defaults"]
    warnings = []
    values = {}
    for f in dataclasses.fields(Calibration):
        if f.name not in data:
            if f.name in LIMITS:
                warnings.append(f"calibration: {f.name} missing, default used")
            continue
        value = data[f.name]
        if f.name in LIMITS:
            lo, hi = LIMITS[f.name]
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or not lo <= value <= hi):
                warnings.append(f"calibration: {f.name} = {value!r} outside {lo:g}–{hi:g}, default used")
                continue
            value = int(value) if f.type in (int, "int") else float(value)
        elif f.name == "focus_peak":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            value = float(value)
        elif not isinstance(value, str):
            continue
        values[f.name] = value
    return dataclasses.replace(fallback, **values), warnings


def save_calibration(state_dir: str | os.PathLike, calibration: Calibration) -> Calibration:
    """Write atomically; returns the calibration with its ``saved_at`` time."""
    calibration = dataclasses.replace(calibration, saved_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    directory = Path(state_dir)
    directory.mkdir(parents=True, exist_ok=True)
    payload = dict(dataclasses.asdict(calibration), version=VERSION)
    fd, tmp = tempfile.mkstemp(prefix=".calibration-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path_in(directory))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    log.info("calibration saved to %s", path_in(directory))
    return calibration


def apply_saved_calibration(config) -> list[str]:
    """At start: overlay the saved calibration on ``config.devices``; warnings go to
    ``config.warnings`` (shown on screen and logged) and are returned."""
    calibration, warnings = load_calibration(config.booth.state_dir,
                                             Calibration.from_devices(config.devices))
    calibration.apply_to(config.devices)
    for w in warnings:
        log.warning(w)
    config.warnings.extend(warnings)
    return warnings
