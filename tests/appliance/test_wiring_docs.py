"""The wiring a technician follows (hardware/README.md), the software's defaults
(kiosk/config.py) and the SD image's boot configuration (image-build/install.sh) must agree:
a booth built from the README must run without changing a setting."""

from __future__ import annotations

import re
from pathlib import Path

from hardware.lights import PWM_CHANNEL_OF_GPIO
from kiosk.config import DeviceSettings

REPO = Path(__file__).resolve().parents[2]
HW_README = (REPO / "hardware/README.md").read_text()
INSTALL = (REPO / "image-build/install.sh").read_text()

#: BCM GPIO -> physical header pin (40-pin header, every Pi since the B+)
HEADER_PIN = {5: 29, 6: 31, 12: 32, 13: 33}
GROUND_PINS = {6, 9, 14, 20, 25, 30, 34, 39}


def wiring_rows() -> dict[str, str]:
    """Config setting -> its wiring table row."""
    rows = {}
    for line in HW_README.splitlines():
        m = re.search(r"`devices\.(\w+) = (\d+)`", line)
        if m:
            rows[m.group(1)] = line
    return rows


def test_every_pin_in_the_wiring_table_is_the_configs_default():
    defaults = DeviceSettings()
    rows = wiring_rows()
    assert set(rows) == {"light_left_pin", "light_right_pin", "confirm_button_pin",
                         "retake_button_pin"}
    for setting, row in rows.items():
        gpio = getattr(defaults, setting)
        assert f"`devices.{setting} = {gpio}`" in row
        assert f"GPIO{gpio} (pin {HEADER_PIN[gpio]})" in row, row     # BCM and header agree
    grounds = re.findall(r"GND \(pin (\d+)\)", HW_README)
    assert len(grounds) >= 3                       # the lights' signal ground, both buttons
    for pin in grounds:
        assert int(pin) in GROUND_PINS, f"header pin {pin} is not a ground pin"


def test_the_lights_pins_are_the_image_overlays_pwm_channels():
    d = DeviceSettings()
    overlay = re.search(r"^dtoverlay=pwm-2chan,pin=(\d+),func=4,pin2=(\d+),func2=4$", INSTALL, re.M)
    assert overlay, "install.sh writes no pwm-2chan overlay"
    assert (int(overlay.group(1)), int(overlay.group(2))) == (d.light_left_pin, d.light_right_pin)
    # the booth opens channels 0 and 1: the two kiosk-pwm.service exports
    assert (PWM_CHANNEL_OF_GPIO[d.light_left_pin], PWM_CHANNEL_OF_GPIO[d.light_right_pin]) == (0, 1)
    assert overlay.group(0) in HW_README
    assert f"{d.light_pwm_hz // 1000} kHz" in HW_README
    assert re.search(r"^dtoverlay=imx477$", INSTALL, re.M) and "dtoverlay=imx477" in HW_README


def test_the_technician_hold_time_in_the_readme_is_the_configs():
    hold = DeviceSettings().technician_hold_s
    assert f"Holding **both** buttons for {hold:g} s opens technician mode" in HW_README
