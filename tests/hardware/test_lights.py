"""The light panels on gpiozero's MockFactory pins, and on a sysfs PWM tree."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from hardware.lights import SysfsPwmChannel, gpio_lights, mock_lights, sysfs_lights
from kiosk.config import DeviceSettings


def replace(settings, **changes):
    """A validated copy of a pydantic settings model with ``changes``."""
    return type(settings).model_validate({**settings.model_dump(), **changes})



@pytest.fixture
def factory():
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


def pins(factory, settings):
    return factory.pin(settings.light_left_pin), factory.pin(settings.light_right_pin)


def test_modes_drive_both_pins_at_the_calibrated_levels(factory):
    settings = DeviceSettings()
    lights = mock_lights(settings, pin_factory=factory)
    left, right = pins(factory, settings)
    assert (left.state, right.state) == (0, 0)
    assert left.frequency == right.frequency == settings.light_pwm_hz == 20000
    for mode, level in (("idle", settings.light_idle_level), ("preview", settings.light_preview_level),
                        ("capture", settings.light_capture_level), ("off", 0.0)):
        lights.set_mode(mode)
        assert lights.mode == mode
        assert left.state == pytest.approx(level) and right.state == pytest.approx(level)
    lights.close()
    assert left.state == 0 and right.state == 0


def test_balance_gains_even_out_the_two_sides(factory):
    settings = replace(DeviceSettings(), light_left_gain=0.8, light_right_gain=1.0,
                       light_preview_level=0.5)
    lights = mock_lights(settings, pin_factory=factory)
    left, right = pins(factory, settings)
    lights.set_mode("preview")
    assert left.state == pytest.approx(0.4) and right.state == pytest.approx(0.5)
    lights.set_gains(1.0, 0.6)                   # the technician moves the balance
    assert left.state == pytest.approx(0.5) and right.state == pytest.approx(0.3)
    lights.set_levels(0.9, 1.7)                  # direct, clamped to the PWM's range
    assert lights.mode == "manual"
    assert left.state == pytest.approx(0.9) and right.state == 1.0
    assert lights.values == (pytest.approx(0.9), 1.0)
    lights.close()


def test_unknown_mode_is_refused(factory):
    lights = mock_lights(DeviceSettings(), pin_factory=factory)
    with pytest.raises(ValueError):
        lights.set_mode("disco")
    lights.close()


def test_pins_on_a_factory_that_cannot_do_the_frequency_fall_back_with_a_warning(factory, caplog):
    class SlowPWMPin(MockPWMPin):               # lgpio's software PWM stops at 10 kHz
        def _set_frequency(self, value):
            if value is not None and value > 10000:
                raise ValueError("bad PWM frequency")
            super()._set_frequency(value)

    slow = MockFactory(pin_class=SlowPWMPin)
    lights = gpio_lights(DeviceSettings(), pin_factory=slow)
    assert slow.pin(12).frequency == 10000
    assert "hardware PWM" in caplog.text or "pwm" in caplog.text
    lights.close()
    slow.reset()


def make_sysfs(root, chip=0):
    chip_dir = root / f"pwmchip{chip}"
    for ch in (0, 1):
        d = chip_dir / f"pwm{ch}"
        d.mkdir(parents=True)
        for name in ("period", "duty_cycle", "enable"):
            (d / name).write_text("0\n")
    (chip_dir / "export").write_text("")
    return chip_dir


def read(path):
    return int(path.read_text())


def test_hardware_pwm_through_sysfs(tmp_path):
    chip = make_sysfs(tmp_path)
    settings = replace(DeviceSettings(), light_capture_level=0.75)
    lights = sysfs_lights(settings, root=tmp_path, published=tmp_path / "no-such-link")
    period = 1_000_000_000 // 20000
    for ch in (0, 1):
        assert read(chip / f"pwm{ch}" / "period") == period == 50000
        assert read(chip / f"pwm{ch}" / "enable") == 1
    lights.set_mode("capture")
    assert read(chip / "pwm0" / "duty_cycle") == 37500
    lights.set_levels(0.2, 1.0)
    assert read(chip / "pwm0" / "duty_cycle") == 10000
    assert read(chip / "pwm1" / "duty_cycle") == 50000
    lights.close()
    assert read(chip / "pwm0" / "duty_cycle") == 0 and read(chip / "pwm0" / "enable") == 0


def test_sysfs_without_the_overlay_says_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="pwm-2chan"):
        SysfsPwmChannel(0, 0, frequency_hz=20000, root=tmp_path)


def test_sysfs_refuses_pins_without_hardware_pwm(tmp_path):
    make_sysfs(tmp_path)
    with pytest.raises(ValueError, match="GPIO22"):
        sysfs_lights(replace(DeviceSettings(), light_left_pin=22), root=tmp_path,
                     published=tmp_path / "no-such-link")


def test_sysfs_follows_the_chip_published_by_kiosk_pwm_service(tmp_path):
    """kiosk-pwm.service links /run/kiosk-pwm/chip to the panels' chip (pwmchip2 on a Pi 5,
    where the fan's chip comes first): the booth follows the link, not light_pwm_chip."""
    sys_pwm = tmp_path / "sys" / "class" / "pwm"
    make_sysfs(sys_pwm, chip=0)                   # another chip (the fan): must stay untouched
    panels = make_sysfs(sys_pwm, chip=2)
    link = tmp_path / "run" / "kiosk-pwm" / "chip"
    link.parent.mkdir(parents=True)
    link.symlink_to(panels)
    settings = DeviceSettings()                   # light_pwm_chip = 0
    lights = sysfs_lights(settings, root=sys_pwm, published=link)
    lights.set_mode("capture")
    assert read(panels / "pwm0" / "duty_cycle") == read(panels / "pwm0" / "period") == 50000
    assert read(panels / "pwm1" / "enable") == 1
    assert read(sys_pwm / "pwmchip0" / "pwm0" / "duty_cycle") == 0
    assert read(sys_pwm / "pwmchip0" / "pwm0" / "enable") == 0
    lights.close()
    # no link (a booth set up by hand): the configured chip
    link.unlink()
    lights = sysfs_lights(replace(settings, light_pwm_chip=2), root=sys_pwm, published=link)
    lights.set_levels(0.5, 0.0)
    assert read(panels / "pwm0" / "duty_cycle") == 25000
    lights.close()


def test_a_dangling_published_link_falls_back_to_the_configured_chip(tmp_path, caplog):
    chip = make_sysfs(tmp_path, chip=1)
    link = tmp_path / "chip"
    link.symlink_to(tmp_path / "pwmchip7")        # kiosk-pwm ran, then the chip went away
    lights = sysfs_lights(replace(DeviceSettings(), light_pwm_chip=1), root=tmp_path, published=link)
    lights.set_mode("preview")
    assert read(chip / "pwm1" / "duty_cycle") == 30000
    assert "pwmchip7" in caplog.text
    lights.close()
