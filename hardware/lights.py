"""The two 5500 K LED panels, left and right of the camera, dimmed by PWM.

:class:`Lights` knows the booth's light *modes* and the calibration; the panels themselves are
two *channels*, anything with a ``value`` between 0 and 1 and a ``close()``:

* a gpiozero :class:`~gpiozero.PWMLED` (``lights = "gpio"``) — on the Pi with gpiozero's
  default pin factory (lgpio on a Pi 5), or on gpiozero's ``MockFactory`` in tests and in the
  simulator (``lights = "mock"``), where the pins' real states can be read back;
* :class:`SysfsPwmChannel` (``lights = "pwm"``) — the SoC's hardware PWM through the kernel
  (``dtoverlay=pwm-2chan``: GPIO12 is channel 0, GPIO13 channel 1). This is the one to use with
  the camera: lgpio's PWM is timed in software and limited to 10 kHz, hardware PWM runs at
  ``light_pwm_hz`` (20 kHz) with no jitter, far from any rolling-shutter banding.

Each panel's level in a mode is ``mode level × panel gain``: the gains (``light_left_gain``,
``light_right_gain``) are how the technician evens out the two sides of a face.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

MODES = ("off", "idle", "preview", "capture")

#: lgpio's software PWM cannot go faster than this (lgpio ``tx_pwm``: 0.1–10000 Hz).
LGPIO_MAX_PWM_HZ = 10000


class Channel(Protocol):
    """One dimmable panel: ``value`` is its duty cycle, 0 (off) … 1 (full)."""

    value: float

    def close(self) -> None: ...


class Lights:
    """Two panels with a mode (``off``/``idle``/``preview``/``capture``) and a balance.

    >>> lights = Lights(left, right, levels={"idle": 0.15, "preview": 0.6, "capture": 1.0})
    >>> lights.set_mode("capture")            # both panels to their capture level × gain
    >>> lights.set_levels(0.8, 1.0)           # technician: set each panel directly
    """

    def __init__(self, left: Channel, right: Channel, *, levels: dict[str, float],
                 left_gain: float = 1.0, right_gain: float = 1.0) -> None:
        self.left = left
        self.right = right
        self.levels = {"off": 0.0, **levels}
        missing = set(MODES) - set(self.levels)
        if missing:
            raise ValueError(f"light levels missing for modes {sorted(missing)}")
        self.left_gain = left_gain
        self.right_gain = right_gain
        self.mode = "off"
        self._apply(0.0, 0.0)

    def set_mode(self, mode: str) -> None:
        """Light the booth for ``mode``; an unknown mode is a programming error (ValueError)."""
        if mode not in MODES:
            raise ValueError(f"light mode must be one of {MODES}, not {mode!r}")
        level = self.levels[mode]
        self.mode = mode
        self._apply(level * self.left_gain, level * self.right_gain)

    def set_levels(self, left: float, right: float) -> None:
        """Set each panel directly (gains not applied): the technician's balance screen."""
        self.mode = "manual"
        self._apply(left, right)

    def set_gains(self, left_gain: float, right_gain: float) -> None:
        """New balance; the current mode is re-applied with it."""
        self.left_gain, self.right_gain = left_gain, right_gain
        if self.mode in MODES:
            self.set_mode(self.mode)

    @property
    def values(self) -> tuple[float, float]:
        """The panels' duty cycles now (left, right)."""
        return (self.left.value, self.right.value)

    def _apply(self, left: float, right: float) -> None:
        self.left.value = _clamp(left)
        self.right.value = _clamp(right)
        log.debug("lights %s: left %.2f right %.2f", self.mode, self.left.value, self.right.value)

    def close(self) -> None:
        """Panels off, pins released."""
        try:
            self._apply(0.0, 0.0)
        finally:
            self.left.close()
            self.right.close()


def _clamp(v: float) -> float:
    return min(1.0, max(0.0, float(v)))


def _levels(settings) -> dict[str, float]:
    return {"idle": settings.light_idle_level, "preview": settings.light_preview_level,
            "capture": settings.light_capture_level}


def gpio_lights(settings, *, pin_factory=None) -> Lights:
    """Lights on two gpiozero ``PWMLED``\\ s (pins ``light_left_pin``/``light_right_pin``).

    ``pin_factory`` is gpiozero's: ``None`` for the default (lgpio on a Pi 5), or a
    ``MockFactory(pin_class=MockPWMPin)`` for tests and the simulator. If the factory cannot
    run at ``light_pwm_hz`` (lgpio's software PWM stops at 10 kHz) the fastest it can is used,
    with a warning: prefer ``lights = "pwm"`` on the booth.
    """
    from gpiozero import PWMLED

    def panel(pin: int):
        try:
            return PWMLED(pin, frequency=settings.light_pwm_hz, pin_factory=pin_factory)
        except Exception as exc:  # lgpio: "bad PWM frequency"; gpiozero: PinInvalidFrequency
            if settings.light_pwm_hz <= LGPIO_MAX_PWM_HZ:
                raise
            log.warning("GPIO%d cannot do %d Hz PWM (%s); using %d Hz — use lights = \"pwm\" for "
                        "hardware PWM", pin, settings.light_pwm_hz, exc, LGPIO_MAX_PWM_HZ)
            return PWMLED(pin, frequency=LGPIO_MAX_PWM_HZ, pin_factory=pin_factory)

    left = panel(settings.light_left_pin)
    try:
        right = panel(settings.light_right_pin)
    except Exception:
        left.close()
        raise
    return Lights(left, right, levels=_levels(settings),
                  left_gain=settings.light_left_gain, right_gain=settings.light_right_gain)


def mock_lights(settings, *, pin_factory=None) -> Lights:
    """Lights on gpiozero's ``MockFactory`` (PWM-capable mock pins): the simulator's panels.

    Read the pins back with ``lights.left.pin.state`` (the duty cycle) and
    ``lights.left.pin.frequency``.
    """
    if pin_factory is None:
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        pin_factory = MockFactory(pin_class=MockPWMPin)
    return gpio_lights(settings, pin_factory=pin_factory)


class SysfsPwmChannel:
    """One hardware PWM channel through the kernel's sysfs interface (``/sys/class/pwm``).

    Needs ``dtoverlay=pwm-2chan`` in ``config.txt`` (the image build sets it) and write access
    to the channel: exporting needs root, so ``kiosk-pwm.service`` (``systemd/libexec/pwm-export``)
    exports both channels at boot and gives their files to the ``gpio`` group. The period is
    set once from ``frequency_hz``; ``value`` writes the duty cycle in nanoseconds.
    """

    def __init__(self, chip: int | str | os.PathLike, channel: int, *, frequency_hz: int,
                 root: str | os.PathLike = "/sys/class/pwm") -> None:
        # chip: its number under ``root``, or the chip's directory itself (see find_pwm_chip)
        self.chip_dir = Path(root) / f"pwmchip{chip}" if isinstance(chip, int) else Path(chip)
        if not self.chip_dir.is_dir():
            raise FileNotFoundError(f"{self.chip_dir} missing: is dtoverlay=pwm-2chan set?")
        self.dir = self.chip_dir / f"pwm{channel}"
        if not self.dir.is_dir():
            (self.chip_dir / "export").write_text(f"{channel}\n")
        self.channel = channel
        self.period_ns = round(1e9 / frequency_hz)
        self._value = 0.0
        # duty must never exceed the period: zero it before changing the period
        self._write("duty_cycle", 0)
        self._write("period", self.period_ns)
        self._write("enable", 1)

    def _write(self, name: str, value: int) -> None:
        (self.dir / name).write_text(f"{value}\n")

    @property
    def value(self) -> float:
        return self._value

    @value.setter
    def value(self, v: float) -> None:
        self._value = _clamp(v)
        self._write("duty_cycle", round(self.period_ns * self._value))

    def close(self) -> None:
        try:
            self._write("duty_cycle", 0)
            self._write("enable", 0)
        except OSError:
            log.warning("could not switch off %s", self.dir)


#: Which hardware PWM channel drives a GPIO (BCM numbers; the pwm-2chan overlay's pins).
#: GPIO12/13 are channels 0/1 on every Pi (the booth's wiring, and the only two channels
#: kiosk-pwm.service exports). GPIO18/19 are channels 0/1 on a Pi 4 only: on a Pi 5 they are
#: channels 2/3 of the RP1's PWM0, which this table and pwm-export do not cover.
PWM_CHANNEL_OF_GPIO = {12: 0, 18: 0, 13: 1, 19: 1}


#: kiosk-pwm.service (systemd/libexec/pwm-export) finds the panels' PWM chip by its address and
#: publishes it here, a symlink to ``/sys/class/pwm/pwmchipN``: the number differs between a
#: Pi 4 and a Pi 5 (where other chips, the fan's, come first), so the booth never guesses it.
PUBLISHED_CHIP = "/run/kiosk-pwm/chip"


def find_pwm_chip(settings, *, root: str | os.PathLike = "/sys/class/pwm",
                  published: str | os.PathLike = PUBLISHED_CHIP) -> Path:
    """The lights' PWM chip directory: the one kiosk-pwm.service published when it is there,
    else ``light_pwm_chip`` under ``root`` (a booth set up by hand, or a laptop)."""
    link = Path(published)
    if link.exists():                          # exists() follows the link: a dangling one is False
        chip = link.resolve()
        log.info("lights: PWM chip %s (published by kiosk-pwm.service at %s)", chip, link)
        return chip
    if link.is_symlink():
        log.warning("%s points to %s, which is missing: using light_pwm_chip = %d", link,
                    os.readlink(link), settings.light_pwm_chip)
    return Path(root) / f"pwmchip{settings.light_pwm_chip}"


def sysfs_lights(settings, *, root: str | os.PathLike = "/sys/class/pwm",
                 published: str | os.PathLike = PUBLISHED_CHIP) -> Lights:
    """Lights on hardware PWM: the channels behind ``light_left_pin`` and ``light_right_pin``,
    on the chip :func:`find_pwm_chip` names."""
    channels = []
    for pin in (settings.light_left_pin, settings.light_right_pin):
        if pin not in PWM_CHANNEL_OF_GPIO:
            raise ValueError(f"GPIO{pin} has no hardware PWM; use GPIO12/13 (or 18/19 on a Pi 4)")
        channels.append(PWM_CHANNEL_OF_GPIO[pin])
    chip = find_pwm_chip(settings, root=root, published=published)
    left = SysfsPwmChannel(chip, channels[0], frequency_hz=settings.light_pwm_hz)
    try:
        right = SysfsPwmChannel(chip, channels[1], frequency_hz=settings.light_pwm_hz)
    except Exception:
        left.close()
        raise
    return Lights(left, right, levels=_levels(settings),
                  left_gain=settings.light_left_gain, right_gain=settings.light_right_gain)
