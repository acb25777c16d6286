"""Choosing devices: the simulator's set, environment overrides, and import hygiene."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
from skimage import data

from hardware import events, open_devices
from hardware.fake_camera import FakeCamera
from hardware.usb import FakeUsbStick
from kiosk.config import DeviceSettings


def replace(settings, **changes):
    """A validated copy of a pydantic settings model with ``changes``."""
    return type(settings).model_validate({**settings.model_dump(), **changes})


FAST = replace(DeviceSettings(), usb_poll_s=0.05, technician_hold_s=0.3)


def drain(q, *until, timeout=60.0):
    """Events from the queue until all of ``until`` have arrived (or the time is up)."""
    got, end = [], time.monotonic() + timeout
    while not set(until) <= set(got) and time.monotonic() < end:
        while not q.empty():
            got.append(q.get_nowait())
        time.sleep(0.02)
    return got


def test_simulated_booth_devices_work_together(tmp_path, monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    devices = open_devices(FAST, simulate=True, usb_dir=tmp_path / "usb", scene=data.astronaut())
    try:
        assert devices.drivers == {"camera": "fake", "lights": "mock", "buttons": "mock",
                                   "usb": "FakeUsbStick"}
        assert isinstance(devices.camera, FakeCamera)
        devices.camera.start()
        assert devices.camera.preview_frame().shape == (480, 640, 3)
        devices.lights.set_mode("capture")
        assert devices.pin_factory.pin(12).state == pytest.approx(FAST.light_capture_level)
        assert devices.pin_factory.pin(13).frequency == FAST.light_pwm_hz
        devices.pin_factory.pin(FAST.confirm_button_pin).drive_low()
        devices.pin_factory.pin(FAST.confirm_button_pin).drive_high()
        got = drain(devices.events, events.CONFIRM, events.USB_INSERTED)
        assert events.USB_INSERTED in got and events.CONFIRM in got
        assert devices.usb.status().mount_point == str(tmp_path / "usb")
        assert devices.service.enabled is False and devices.service.ready() is False
    finally:
        devices.close()
    assert devices.pin_factory.pin(12).state == 0          # lights off when the booth closes


def test_on_event_receives_instead_of_the_queue(tmp_path):
    seen = []
    devices = open_devices(FAST, simulate=True, usb_dir=tmp_path / "usb", scene=data.astronaut(),
                           on_event=seen.append, watch_usb=False)
    try:
        devices.pin_factory.pin(FAST.retake_button_pin).drive_low()
        devices.pin_factory.pin(FAST.retake_button_pin).drive_high()
        assert seen == [events.RETAKE] and devices.events.empty()
    finally:
        devices.close()


def test_environment_overrides_the_config(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_CAMERA", "fake")
    monkeypatch.setenv("KIOSK_LIGHTS", "mock")
    monkeypatch.setenv("KIOSK_BUTTONS", "mock")
    monkeypatch.setenv("KIOSK_USB_DIR", str(tmp_path / "usb"))
    settings = replace(FAST, camera="picamera", lights="gpio", buttons="gpio")
    devices = open_devices(settings, simulate=False, scene=data.astronaut(), watch_usb=False)
    try:
        assert devices.drivers["camera"] == "fake" and devices.drivers["lights"] == "mock"
        assert isinstance(devices.usb, FakeUsbStick)
    finally:
        devices.close()


def test_a_bad_override_falls_back_to_auto(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_CAMERA", "polaroid")
    devices = open_devices(FAST, simulate=False, usb_dir=tmp_path, scene=data.astronaut(),
                           watch_usb=False)
    try:
        assert devices.drivers["camera"] in ("webcam", "fake", "picamera")
    finally:
        devices.close()


def test_fake_source_from_config(tmp_path):
    from PIL import Image

    Image.fromarray(data.astronaut()).save(tmp_path / "a.png")
    devices = open_devices(replace(FAST, fake_source=str(tmp_path / "a.png")), simulate=True,
                           usb_dir=tmp_path / "usb", watch_usb=False)
    try:
        devices.camera.start()
        assert devices.camera.still_size == (512, 384)
    finally:
        devices.close()


def test_import_touches_no_driver():
    """``import hardware`` and the simulator's devices load neither picamera2 nor real pin libs."""
    code = textwrap.dedent("""
        import sys, tempfile
        import hardware, hardware.camera, hardware.lights, hardware.buttons, hardware.usb
        import hardware.service, hardware.events
        assert "picamera2" not in sys.modules, "picamera2 imported by the package"
        assert not any(m.startswith("gpiozero") for m in sys.modules), "gpiozero imported early"
        from kiosk.config import DeviceSettings
        import numpy as np
        d = hardware.open_devices(DeviceSettings(), simulate=True, usb_dir=tempfile.mkdtemp(),
                                  scene=np.zeros((480, 640, 3), np.uint8), watch_usb=False)
        d.camera.start(); d.camera.preview_frame(); d.lights.set_mode("idle"); d.close()
        real = [m for m in sys.modules if m in ("picamera2", "libcamera", "lgpio", "RPi", "pigpio")
                or m.startswith(("gpiozero.pins.lgpio", "gpiozero.pins.rpigpio",
                                 "gpiozero.pins.pigpio", "gpiozero.pins.native"))]
        assert not real, real
        print("clean")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("clean")


def test_raspberry_pi_is_recognised_by_its_device_tree(tmp_path):
    from hardware.factory import is_raspberry_pi

    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    assert is_raspberry_pi(str(model))
    model.write_bytes(b"QEMU Virtual Machine\x00")
    assert not is_raspberry_pi(str(model))
    assert not is_raspberry_pi(str(tmp_path / "missing"))


def test_only_usb_video_devices_count_as_webcams(tmp_path):
    from hardware.factory import _usb_webcam_present

    sysfs = tmp_path / "video4linux"
    sysfs.mkdir()
    codec = tmp_path / "devices/platform/soc/bcm2835-codec/video10"
    codec.mkdir(parents=True)
    (sysfs / "video10").mkdir()
    (sysfs / "video10" / "device").symlink_to(codec)
    assert not _usb_webcam_present(str(sysfs))          # the Pi's codec is not a camera
    usb = tmp_path / "devices/pci0000:00/usb1/1-1/1-1:1.0"
    usb.mkdir(parents=True)
    (sysfs / "video0").mkdir()
    (sysfs / "video0" / "device").symlink_to(usb)
    assert _usb_webcam_present(str(sysfs))


def test_auto_on_a_pi_never_falls_back_to_the_fake(monkeypatch):
    import hardware.factory as factory

    monkeypatch.delenv("KIOSK_CAMERA", raising=False)
    monkeypatch.setattr(factory, "is_raspberry_pi", lambda *a: True)
    assert factory.choose_camera(DeviceSettings()) == "picamera"
    monkeypatch.setattr(factory, "is_raspberry_pi", lambda *a: False)
    monkeypatch.setattr(factory, "_usb_webcam_present", lambda *a: False)
    assert factory.choose_camera(DeviceSettings()) == "fake"
