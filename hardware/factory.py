"""Choosing and opening the booth's devices: the real ones on the Pi, fakes in the simulator.

::

    devices = open_devices(config.devices, simulate=False, usb_mount_root=config.export.usb_mount_root)
    devices.camera.start()            # only the chosen camera driver is ever imported or opened
    devices.lights.set_mode("idle")
    event = devices.events.get_nowait()   # buttons and USB post here (unless on_event is given)

Each device is picked by its setting in ``[devices]`` (``camera``, ``lights``, ``buttons``), which
an environment variable overrides — handy on a laptop or over SSH:

==================  ==================================  ==========================================
variable            values                              meaning
==================  ==================================  ==========================================
KIOSK_CAMERA        auto, picamera, webcam, fake        which camera driver
KIOSK_LIGHTS        auto, pwm, gpio, mock               which light driver
KIOSK_BUTTONS       auto, gpio, mock                    which button driver
KIOSK_FAKE_SOURCE   folder, video file or photo         what the fake camera films
KIOSK_USB_DIR       a folder                            use it as a fake USB stick
==================  ==================================  ==========================================

``auto`` means: on a Raspberry Pi, the real device (the Pi camera, gpiozero lights and buttons)
— never a fake, so a booth with a broken camera says so instead of photographing a test scene;
elsewhere a USB webcam if there is one, else the fake camera, with gpiozero's ``MockFactory``
for lights and buttons. Hardware PWM (``lights = "pwm"``, needs ``dtoverlay=pwm-2chan``) is
chosen explicitly in the booth's config, never guessed.
gpiozero's own ``GPIOZERO_PIN_FACTORY`` still chooses the pin library for ``gpio``.
"""

from __future__ import annotations

import logging
import os
import queue
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware import events
from hardware.camera import Camera
from hardware.service import ServiceManager

log = logging.getLogger(__name__)

CAMERA_DRIVERS = ("auto", "picamera", "webcam", "fake")
LIGHT_DRIVERS = ("auto", "pwm", "gpio", "mock")
BUTTON_DRIVERS = ("auto", "gpio", "mock")


@dataclass
class Devices:
    """Everything the booth drives. ``close()`` releases it all (lights off first)."""

    camera: Camera
    lights: Any                      # hardware.lights.Lights
    buttons: Any                     # hardware.buttons.Buttons
    usb: Any                         # hardware.usb.UsbStick
    service: ServiceManager
    events: "queue.SimpleQueue[str]" = field(default_factory=queue.SimpleQueue)
    #: gpiozero's MockFactory when lights/buttons are mocked: ``pin_factory.pin(5).drive_low()``
    #: presses confirm in the simulator and in tests.
    pin_factory: Any = None
    drivers: dict[str, str] = field(default_factory=dict)   # which driver each device got
    #: devices that failed to open with ``open_devices(..., tolerate=True)``: name -> why
    problems: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        for name in ("lights", "buttons", "usb", "camera"):
            device = getattr(self, name)
            if device is None:
                continue
            try:
                device.close()
            except Exception:
                log.exception("closing %s failed", name)


def is_raspberry_pi(model_file: str = "/proc/device-tree/model") -> bool:
    try:
        return "Raspberry Pi" in Path(model_file).read_text(errors="replace")
    except OSError:
        return False


def _usb_webcam_present(sysfs: str = "/sys/class/video4linux") -> bool:
    """A V4L2 capture device on USB (the Pi's own ISP/codec nodes are not webcams)."""
    root = Path(sysfs)
    if not root.is_dir():
        return os.name != "posix" or not Path("/proc").is_dir()   # no sysfs: not Linux, try it
    return any("/usb" in os.path.realpath(p / "device") for p in root.glob("video*"))


def _choice(setting: str, env: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(env, setting) or "auto"
    if value not in allowed:
        log.warning("%s = %r is not one of %s: using auto", env, value, allowed)
        return "auto"
    return value


def choose_camera(settings) -> str:
    choice = _choice(settings.camera, "KIOSK_CAMERA", CAMERA_DRIVERS)
    if choice != "auto":
        return choice
    if is_raspberry_pi():
        return "picamera"
    if _usb_webcam_present():
        return "webcam"
    log.warning("no camera found on this machine: the fake camera is used")
    return "fake"


def make_camera(settings, driver: str, *, scene: Any = None) -> Camera:
    """Construct (not start) the camera driver; only that driver's module is imported."""
    timeout = settings.capture_timeout_s
    if driver == "picamera":
        from hardware.picamera_camera import PiCamera

        return PiCamera(timeout=timeout, exposure_time_us=settings.exposure_time_us,
                        analogue_gain=settings.analogue_gain, colour_gains=tuple(settings.colour_gains))
    if driver == "webcam":
        from hardware.webcam_camera import WebcamCamera

        return WebcamCamera(settings.webcam_index, timeout=timeout)
    from hardware.fake_camera import FakeCamera

    source = scene if scene is not None else (os.environ.get("KIOSK_FAKE_SOURCE") or settings.fake_source)
    return FakeCamera(source, timeout=timeout)


def make_lights(settings, driver: str, *, pin_factory=None):
    from hardware import lights

    if driver == "auto":
        # "pwm" is never guessed: on a Pi 5 a pwmchip can exist for the fan, and writing to the
        # wrong chip is worse than software PWM. The booth's kiosk.toml says lights = "pwm".
        driver = "gpio" if is_raspberry_pi() else "mock"
    if driver == "pwm":
        return lights.sysfs_lights(settings), driver
    if driver == "gpio":
        return lights.gpio_lights(settings), driver
    return lights.mock_lights(settings, pin_factory=pin_factory), driver


def make_buttons(settings, driver: str, on_event: events.EventSink, *, pin_factory=None):
    from hardware.buttons import Buttons

    if driver == "auto":
        driver = "gpio" if is_raspberry_pi() else "mock"
    return Buttons(on_event, confirm_pin=settings.confirm_button_pin,
                   retake_pin=settings.retake_button_pin, bounce_s=settings.button_bounce_s,
                   hold_s=settings.technician_hold_s,
                   pin_factory=None if driver == "gpio" else pin_factory), driver


def open_devices(settings, *, simulate: bool, usb_dir: str | os.PathLike | None = None,
                 scene: Any = None, on_event: events.EventSink | None = None,
                 usb_mount_root: str | os.PathLike = "/media/kiosk", watch_usb: bool = True,
                 tolerate: bool = False) -> Devices:
    """Open the booth's devices as ``settings`` (``config.devices``) and the environment say.

    :param simulate: fake camera, gpiozero ``MockFactory`` lights and buttons, and ``usb_dir``
        (a temporary folder if ``None``) as the USB stick — the simulator and the tests.
    :param scene: what the fake camera films (see :func:`hardware.frame_sources.open_source`).
    :param on_event: where buttons and the USB watcher post; default ``Devices.events``.
    :param usb_mount_root: where the system mounts sticks (``config.export.usb_mount_root``).

    The camera is constructed, not started: call ``devices.camera.start()`` (it raises
    :class:`~hardware.camera.CameraError` if the camera is missing).

    :param tolerate: lights or buttons that fail to open are ``None`` instead of an error, and
        ``Devices.problems`` says why (``kiosk run``: the booth still works with the touchscreen
        and the room's light, and says what is broken).
    """
    from hardware.buttons import mock_pin_factory
    from hardware.usb import FakeUsbStick, MountedUsbStick, UsbStick

    queue_: queue.SimpleQueue[str] = queue.SimpleQueue()
    sink = on_event if on_event is not None else queue_.put
    usb_dir = usb_dir if usb_dir is not None else os.environ.get("KIOSK_USB_DIR") or None

    if simulate:
        camera_driver = "fake" if "KIOSK_CAMERA" not in os.environ else choose_camera(settings)
        light_driver = button_driver = "mock"
    else:
        camera_driver = choose_camera(settings)
        light_driver = _choice(settings.lights, "KIOSK_LIGHTS", LIGHT_DRIVERS)
        button_driver = _choice(settings.buttons, "KIOSK_BUTTONS", BUTTON_DRIVERS)

    pin_factory = mock_pin_factory()
    opened: list[Any] = []
    try:
        camera = make_camera(settings, camera_driver, scene=scene)
        opened.append(camera)
        problems: dict[str, str] = {}

        def optional(name: str, make):
            try:
                return make()
            except Exception as exc:
                if not tolerate:
                    raise
                log.error("%s cannot be opened: %s", name, exc)
                problems[name] = f"{type(exc).__name__}: {exc}"
                return None, "none"

        lights, light_driver = optional(
            "lights", lambda: make_lights(settings, light_driver, pin_factory=pin_factory))
        if lights is not None:
            opened.append(lights)
        buttons, button_driver = optional(
            "buttons", lambda: make_buttons(settings, button_driver, sink, pin_factory=pin_factory))
        if buttons is not None:
            opened.append(buttons)
        usb: UsbStick
        if simulate or usb_dir is not None:
            usb = FakeUsbStick(usb_dir if usb_dir is not None else tempfile.mkdtemp(prefix="kiosk-usb-"))
        else:
            usb = MountedUsbStick(usb_mount_root)
        if watch_usb:
            usb.watch(sink, interval=settings.usb_poll_s)
    except Exception:
        for device in reversed(opened):
            try:
                device.close()
            except Exception:
                log.exception("closing %r after a failed start", device)
        raise
    mocked = light_driver == "mock" or button_driver == "mock"
    drivers = {"camera": camera_driver, "lights": light_driver, "buttons": button_driver,
               "usb": type(usb).__name__}
    log.info("devices: %s", drivers)
    return Devices(camera=camera, lights=lights, buttons=buttons, usb=usb, service=ServiceManager(),
                   events=queue_, pin_factory=pin_factory if mocked else None, drivers=drivers,
                   problems=problems)
