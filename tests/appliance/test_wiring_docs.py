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


def test_the_readmes_technician_section_names_what_exists():
    """Paths, commands and numbers the README gives the technician are the ones the code uses."""
    from kiosk.booth.inputs import TECHNICIAN_HOLD_S
    from kiosk.config import Config
    from kiosk.technician import calibration
    from kiosk.technician.mode import PIN_ATTEMPTS, PIN_LOCK_S

    readme = (REPO / "README.md").read_text()
    section = " ".join(readme[readme.index("## The appliance"):readme.index("## Measured")].split())
    config = Config()
    unit = (REPO / "systemd/kiosk.service").read_text()
    assert "Environment=KIOSK_CONFIG=/etc/kiosk/kiosk.toml" in unit and "/etc/kiosk/kiosk.toml" in section
    assert config.booth.key_file in section and config.booth.roster_file in section
    assert str(calibration.path_in(config.booth.state_dir)) in section
    scripts = set(re.findall(r"image-build/[\w.-]+", section)) - {"image-build/work"}  # build output
    assert {"image-build/build-image", "image-build/install.sh"} <= scripts
    for script in scripts:
        assert (REPO / script).is_file(), script
    assert f"hold both big buttons for {DeviceSettings().technician_hold_s:g} s" in section
    assert f"top-left corner of the touchscreen for {TECHNICIAN_HOLD_S:g} s" in section
    assert (PIN_ATTEMPTS, PIN_LOCK_S) == (5, 60.0) and "five wrong PINs lock it for a minute" in section
    # the journal tags the troubleshooting points at are the ones the programs log under
    usb_mount = (REPO / "systemd/libexec/usb-mount").read_text()
    assert "journalctl -t kiosk-usb" in section and "logger -t kiosk-usb" in usb_mount
    assert "journalctl -u kiosk" in section and "SyslogIdentifier=kiosk" in unit
