"""Calibrated thresholds for the checks whose limits the standard does not give in numbers.

Each value says how it was chosen. They can be overridden in the [thresholds] table of the
config file; the standard's own numbers are in kiosk/standard.py and are not configurable here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    pass
