"""Technician mode as plain state: which page, what was measured, what a press does.

:class:`TechnicianMode` holds no window and touches devices only through a :class:`Port`
(lights, camera controls, a background job runner, the USB mount point), so every page is
tested without pygame or a Pi. :mod:`kiosk.technician.screens` draws it and turns touches and
keys into :meth:`TechnicianMode.press`.

Per frame the booth calls :meth:`on_frame` with the newest preview frame: the focus page scores
it, the balancing pages take their next step when the frame shows the last change (the camera
needs a few frames to show a new light level or exposure). Model runs (finding the face) go to
the port's background runner; the UI loop never waits for them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.checks.result import CheckResult
from kiosk.technician import calibration as cal
from kiosk.technician import logs, power, stats
from kiosk.technician.backdrop import check_backdrop
from kiosk.technician.camera_calibration import CameraCalibrator, CameraSettings, backdrop_median
from kiosk.technician.focus import FocusAssist, FocusReading
from kiosk.technician.light_balance import LightBalancer, card_halves, face_halves, side_luminance
from kiosk.technician.pin import pin_matches

log = logging.getLogger(__name__)

PAGES = ("pin", "menu", "focus", "backdrop", "lights", "camera", "stats", "confirm_reboot",
         "confirm_shutdown")
SETTLE_FRAMES = 4            # frames to wait after changing lights or exposure
PIN_ATTEMPTS = 5             # wrong PINs before a lock-out
PIN_LOCK_S = 60.0

SAVED = Message("已保存", "Saved")
WRONG_PIN = Message("密码错误", "Wrong PIN")
LOCKED = Message("错误次数过多，请一分钟后再试", "Too many wrong PINs: try again in a minute")
BACKDROP_NOT_SET = Message("请先在配置文件中设置 [booth] backdrop（blue、white 或 grey）",
                           "Set [booth] backdrop (blue, white or grey) in the config file first")
NO_CAMERA_CONTROL = Message("此相机不支持手动曝光", "This camera has no manual exposure")
NO_FRAME = Message("没有相机画面", "No camera picture")
LOGS_DONE = Message("日志已写入U盘", "Logs written to the USB stick")
NOT_CONVERGED = Message("无法调平：请检查灯的位置和距离", "Could not balance: check the lights' position and distance")


@dataclass
class Port:
    """What technician mode may touch. Every field is optional: a missing one disables its page."""

    set_light_levels: Callable[[float, float], None] | None = None
    set_light_gains: Callable[[float, float], None] | None = None
    set_camera_controls: Callable[[CameraSettings], None] | None = None
    submit: Callable[[Callable[[], Any]], None] = lambda job: job()     # background runner
    analyze: Callable[[np.ndarray], Any] | None = None                  # frame -> Analysis
    usb_mount_point: Callable[[], str | None] = lambda: None
    run: Callable = power._run                                          # command runner


@dataclass
class TechnicianMode:
    config: Any
    port: Port = field(default_factory=Port)
    clock: Callable[[], float] = time.monotonic
    page: str = "pin"
    pin_entry: str = ""
    pin_failures: int = 0
    locked_until: float = 0.0
    notice: Message | None = None
    calibration: cal.Calibration = field(default_factory=cal.Calibration)   # the saved one: __post_init__
    warnings: list[str] = field(default_factory=list)
    # page state
    focus: FocusAssist = field(default_factory=FocusAssist)
    focus_reading: FocusReading | None = None
    backdrop_results: list[CheckResult] = field(default_factory=list)
    balancer: LightBalancer | None = None
    camera: CameraCalibrator | None = None
    stats: stats.Stats | None = None
    _wait_until_seq: int = -1
    _last_seq: int = -1
    _busy: bool = False
    _face: Any = None
    entered_at: Any = None           # the session's entry time this mode was reset for

    def __post_init__(self) -> None:
        fallback = cal.Calibration.from_devices(self.config.devices)
        self.calibration, self.warnings = cal.load_calibration(self.config.booth.state_dir, fallback)

    @property
    def unlocked(self) -> bool:
        return self.page != "pin"

    # --- presses (touch buttons, keys) ------------------------------------------------------
    def press(self, name: str) -> bool:
        """Handle a button; True means: leave technician mode."""
        self.notice = None
        if self.page == "pin":
            return self._press_pin(name)
        if name == "exit":
            self._restore()
            return True
        if name == "back":
            self._restore()
            self.page = "menu"
            return False
        if self.page == "menu" and name in ("focus", "backdrop", "lights", "camera", "stats"):
            self._open(name)
        elif self.page == "menu" and name in ("reboot", "shutdown"):
            self.page = f"confirm_{name}"
        elif self.page == "menu" and name == "logs":
            self._export_logs()
        elif name == "reset":
            self.focus.reset()
        elif name == "run" and self.page == "backdrop":
            self._wait_until_seq = self._last_seq + 1          # the next fresh frame is judged
        elif name == "start" and self.page == "lights":
            self._start_lights()
        elif name == "start" and self.page == "camera":
            self._start_camera()
        elif name == "save":
            self._save()
        elif name == "yes" and self.page.startswith("confirm_"):
            action = power.reboot if self.page == "confirm_reboot" else power.shutdown
            self.notice = action(self.port.run)
        return False

    def _press_pin(self, name: str) -> bool:
        now = self.clock()
        if name == "exit":
            return True
        if now < self.locked_until:
            self.notice = LOCKED
            return False
        if name.startswith("digit:") and len(self.pin_entry) < 12:
            self.pin_entry += name.split(":", 1)[1]
        elif name == "erase":
            self.pin_entry = self.pin_entry[:-1]
        elif name == "ok":
            if pin_matches(self.pin_entry, self.config.technician.pin):
                self.page, self.pin_failures = "menu", 0
                log.warning("technician mode unlocked")
            else:
                self.pin_failures += 1
                self.notice = WRONG_PIN
                if self.pin_failures >= PIN_ATTEMPTS:
                    self.locked_until, self.pin_failures = now + PIN_LOCK_S, 0
                    self.notice = LOCKED
                log.warning("technician mode: wrong PIN")
            self.pin_entry = ""
        return False

    def _open(self, page: str) -> None:
        self.page = page
        if page == "focus":
            self.focus.reset()
            self.focus_reading = None
        elif page == "backdrop":
            self.backdrop_results = []
        elif page == "stats":
            self.stats = stats.summarize(self.config.booth.state_dir)

    # --- per frame ----------------------------------------------------------------------------
    def on_frame(self, frame: np.ndarray | None, seq: int) -> None:
        """The newest preview frame (RGB) and its sequence number; cheap unless a step is due."""
        if frame is None or seq == self._last_seq:
            return
        self._last_seq = seq
        if self.page == "focus":
            self.focus_reading = self.focus.update(frame, self._face)
            analyze = self.port.analyze
            if analyze is not None and not self._busy and seq % 15 == 0:
                self._in_background(lambda: setattr(self, "_face", analyze(frame)))
        if seq < self._wait_until_seq or self._busy:
            return
        if self.page == "backdrop" and self._wait_until_seq >= 0:
            self._wait_until_seq = -1
            self.backdrop_results = check_backdrop(frame, self.config.booth.backdrop,
                                                   self.config.thresholds)
        elif self.page == "lights" and self.balancer is not None and not self.balancer.done:
            self._in_background(lambda: self._lights_step(frame, seq))
        elif self.page == "camera" and self.camera is not None and not self.camera.done:
            self._camera_step(frame, seq)

    def _in_background(self, job: Callable[[], None]) -> None:
        self._busy = True

        def run() -> None:
            try:
                job()
            except Exception:                  # a measurement must never take the booth down
                log.exception("technician job failed")
            finally:
                self._busy = False

        self.port.submit(run)

    # --- lights ---------------------------------------------------------------------------------
    def _start_lights(self) -> None:
        if self.port.set_light_levels is None:
            self.notice = Message("没有灯光控制", "No light control")
            return
        self.balancer = LightBalancer()
        self.port.set_light_levels(self.balancer.left, self.balancer.right)
        self._wait_until_seq = self._last_seq + SETTLE_FRAMES

    def _lights_step(self, frame: np.ndarray, seq: int) -> None:
        balancer, set_levels = self.balancer, self.port.set_light_levels
        if balancer is None or set_levels is None:        # left the page meanwhile
            return
        analysis = self.port.analyze(frame) if self.port.analyze else None
        halves = face_halves(analysis) if analysis is not None else None
        left, right = balancer.step(*side_luminance(frame, halves or card_halves(frame.shape)))
        if balancer.done:
            if not balancer.converged:
                self.notice = NOT_CONVERGED
            return
        set_levels(left, right)
        self._wait_until_seq = seq + SETTLE_FRAMES

    # --- camera ---------------------------------------------------------------------------------
    def _start_camera(self) -> None:
        if self.port.set_camera_controls is None:
            self.notice = NO_CAMERA_CONTROL
            return
        if self.config.booth.backdrop not in standard.BACKGROUND_COLORS:
            # white and grey differ only in brightness, which is what this step sets: it must
            # be told which one hangs there
            self.notice = BACKDROP_NOT_SET
            return
        c = self.calibration
        start = CameraSettings(c.exposure_time_us, c.analogue_gain, (c.colour_gain_red, c.colour_gain_blue))
        self.camera = CameraCalibrator(self.config.booth.backdrop, start)
        self.port.set_camera_controls(start)
        self._wait_until_seq = self._last_seq + SETTLE_FRAMES

    def _camera_step(self, frame: np.ndarray, seq: int) -> None:
        camera, set_controls = self.camera, self.port.set_camera_controls
        if camera is None or set_controls is None:
            return
        settings = camera.step(backdrop_median(frame))
        if not camera.done:
            set_controls(settings)
            self._wait_until_seq = seq + SETTLE_FRAMES

    # --- save, restore, logs ----------------------------------------------------------------------
    def _save(self) -> None:
        c = self.calibration
        if self.page == "lights" and self.balancer is not None and self.balancer.converged:
            c = replace(c, light_left_gain=self.balancer.left, light_right_gain=self.balancer.right)
        elif self.page == "camera" and self.camera is not None and self.camera.converged:
            s = self.camera.settings
            c = replace(c, exposure_time_us=s.exposure_time_us, analogue_gain=s.analogue_gain,
                        colour_gain_red=s.colour_gains[0], colour_gain_blue=s.colour_gains[1])
        elif self.page == "focus" and self.focus_reading is not None:
            c = replace(c, focus_peak=self.focus_reading.peak)
        else:
            return
        try:
            self.calibration = cal.save_calibration(self.config.booth.state_dir, c)
        except OSError as exc:
            log.error("calibration not saved: %s", exc)
            self.notice = Message("保存失败", f"Not saved: {exc}")
            return
        self.calibration.apply_to(self.config.devices)
        self.warnings = []
        self.notice = SAVED
        if self.page == "lights":
            self.balancer = None             # saved: leaving the page must not restore the old
            if self.port.set_light_gains:
                self.port.set_light_gains(self.calibration.light_left_gain, self.calibration.light_right_gain)
        if self.page == "camera":
            self.camera = None

    def _restore(self) -> None:
        """Leaving a page without saving puts the saved values back on the devices."""
        c = self.calibration
        if self.balancer is not None and self.port.set_light_gains:
            self.port.set_light_gains(c.light_left_gain, c.light_right_gain)
        if self.camera is not None and self.port.set_camera_controls:
            self.port.set_camera_controls(CameraSettings(c.exposure_time_us, c.analogue_gain,
                                                         (c.colour_gain_red, c.colour_gain_blue)))
        self.balancer = self.camera = None
        self._wait_until_seq = -1

    def _export_logs(self) -> None:
        out = logs.export_logs(self.port.usb_mount_point(), state_dir=self.config.booth.state_dir,
                               booth_id=self.config.booth.booth_id,
                               warnings=list(self.config.warnings) + self.warnings)
        self.notice = LOGS_DONE if out.ok else out.problem
