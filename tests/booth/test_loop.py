"""The main loop with the simulator's devices: input mapping, save/export messages, a camera that
hangs, and the watchdog that is petted only while the loop ticks and frames arrive.

The live-analysis thread gets no mediapipe models here (these tests never reach live guidance;
the end-to-end test covers it): ``analyzer_factory=lambda: None``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pygame
import pytest
from booth_support import LI, ROSTER, jpeg, step_until

import hardware
from hardware.service import ServiceManager, WatchdogGate
from hardware.usb import FakeUsbStick
from kiosk.booth.directory import RosterDirectory
from kiosk.booth.jobs import MSG_KEPT
from kiosk.booth.loop import Booth, EventQueue
from kiosk.booth.main import open_display
from kiosk.booth.session import TECHNICIAN_REQUEST, SaveDone, State
from kiosk.config import Config
from kiosk.handoff.export.stick import MSG_MISSING, MSG_READ_ONLY
from kiosk.handoff.roster import parse_roster
from kiosk.handoff.spool import Spool
from kiosk.photo.checks.result import Status
from kiosk.photo.identity import generate_key, load_key
from kiosk.sim.scenes import compose_scene


@dataclass
class Photo:
    """The PhotoResult fields the save job reads (a real JPEG)."""
    jpeg: bytes
    verdict: Status = Status.PASS
    checks: list = field(default_factory=list)
    quality: int = 85
    ok: bool = True


@pytest.fixture
def make_booth(tmp_path):
    made = []

    def make(*, usb=None, service=None, start=False, config=None, clock=time.monotonic,
             analyzer_factory=lambda: None):
        config = config or Config()
        config.session.fps = 50
        config.booth.state_dir = str(tmp_path / "state")
        events = EventQueue()
        devices = hardware.open_devices(config.devices, simulate=True, usb_dir=tmp_path / "usb",
                                        scene=compose_scene("hopper", size=(640, 480)),
                                        on_event=events.post, watch_usb=False)
        if usb is not None:
            devices.usb.close()
            devices.usb = usb
        if service is not None:
            devices.service = service
        key_file = tmp_path / "k.key"
        if not key_file.exists():
            generate_key(key_file)
        surface = open_display(fullscreen=False, size=(800, 480), headless=True)
        booth = Booth(config, devices, events, key=load_key(key_file),
                      directory=RosterDirectory(parse_roster(ROSTER)),
                      spool=Spool(config.booth.state_dir), surface=surface,
                      analyzer_factory=analyzer_factory, clock=clock)
        made.append((booth, devices))
        if start:
            booth.start()
        return booth

    yield make
    for booth, devices in made:
        booth.stop()
        devices.close()


def key(k: int, unicode: str = "", mod: int = 0):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=k, mod=mod, unicode=unicode))


def steps(booth: Booth, n: int = 1) -> None:
    for _ in range(n):
        booth.step()


# --- input ------------------------------------------------------------------------------------
def test_keyboard_drives_the_session(make_booth):
    booth = make_booth()
    key(pygame.K_RETURN, "\r")
    steps(booth, 2)
    assert booth.session.state is State.IDENTIFY
    for d in "2026010727":
        key(getattr(pygame, f"K_{d}"), d)
    key(pygame.K_BACKSPACE)                      # typing: Backspace erases a digit
    steps(booth, 2)
    assert booth.session.data.keypad == "202601072"
    key(pygame.K_7, "7")
    key(pygame.K_l, "l")                         # language toggle
    key(pygame.K_KP_ENTER)
    steps(booth, 2)
    assert booth.session.state is State.CONFIRM and booth.session.data.student == LI
    assert booth.session.data.language == "en"
    key(pygame.K_ESCAPE)                         # "not me"
    steps(booth, 2)
    assert booth.session.state is State.IDENTIFY
    key(pygame.K_F12)
    steps(booth, 2)
    assert booth.session.state is State.TECHNICIAN


def test_touch_is_mouse_up_on_a_drawn_button_and_finger_events_are_ignored(make_booth):
    from kiosk.booth.ui import screens

    booth = make_booth()
    steps(booth)
    pygame.event.post(pygame.event.Event(pygame.FINGERUP, x=0.5, y=0.5, finger_id=0, touch_id=0,
                                         dx=0, dy=0, pressure=1.0))
    steps(booth, 2)
    assert booth.session.state is State.ATTRACT          # a finger event alone does nothing
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(400, 300), button=1))
    steps(booth, 2)
    assert booth.session.state is State.IDENTIFY
    seven = next(b for b in screens.buttons(booth.screen.model, booth.layout) if b.event == "digit:7")
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=seven.rect.center, button=1))
    steps(booth, 2)
    assert booth.session.data.keypad == "7"


def test_hidden_gesture_long_press_in_the_corner_opens_technician_mode(make_booth):
    now = [100.0]
    booth = make_booth(clock=lambda: now[0])
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(3, 3), button=1))
    steps(booth)
    now[0] += 1.0                                        # a short press is just a touch
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(3, 3), button=1))
    steps(booth, 2)
    assert booth.session.state is State.IDENTIFY
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(3, 3), button=1))
    steps(booth)
    now[0] += 3.5
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(3, 3), button=1))
    steps(booth, 2)
    assert booth.session.state is State.TECHNICIAN


def test_both_buttons_held_through_mockfactory_opens_technician_mode(make_booth):
    config = Config()
    config.devices.technician_hold_s = 0.2
    booth = make_booth(config=config)
    pins = booth.rig.devices.pin_factory
    pins.pin(config.devices.confirm_button_pin).drive_low()
    pins.pin(config.devices.retake_button_pin).drive_low()
    assert step_until(booth, lambda: booth.session.state is State.TECHNICIAN, 60)
    pins.pin(config.devices.confirm_button_pin).drive_high()
    pins.pin(config.devices.retake_button_pin).drive_high()


def test_technician_mode_is_made_on_entry_and_drawing_only_reads_it(make_booth):
    booth = make_booth()
    before = list(booth.listeners.frame)
    for _ in range(3):
        booth.draw()                                   # drawing the attract screen makes nothing
    assert booth.technician.mode is None and booth.listeners.frame == before
    booth.post(TECHNICIAN_REQUEST)
    assert step_until(booth, lambda: booth.session.state is State.TECHNICIAN, 60)
    mode = booth.technician.mode
    assert mode is not None and mode.page == "pin" and booth.screen.model.technician is mode
    listeners = list(booth.listeners.frame)
    for _ in range(3):
        booth.draw()
    assert booth.technician.mode is mode and booth.listeners.frame == listeners


# --- save and export: the stick's problems are messages, nothing is lost ----------------------------
def test_save_exports_to_the_stick(make_booth, tmp_path):
    booth = make_booth()
    done = booth.work.save(LI, Photo(jpeg()))
    assert isinstance(done, SaveDone) and done.exported
    assert (tmp_path / "usb" / done.path).is_file()
    assert done.path.endswith("110105200303151236.jpg") and "USB" in done.message.en
    assert booth.work.spool.pending() == []


def test_stick_missing_keeps_the_photo_and_exports_when_it_comes_back(make_booth, tmp_path):
    stick = FakeUsbStick(tmp_path / "stick", tmpfs=False)
    stick.pull_out()
    booth = make_booth(usb=stick, start=True)
    done = booth.work.save(LI, Photo(jpeg()))
    assert not done.exported and done.message in (MSG_MISSING, MSG_KEPT)
    assert len(booth.work.spool.pending()) == 1             # kept in the booth
    stick.plug_in()
    booth.post("usb_inserted")
    assert step_until(booth, lambda: not booth.work.spool.pending(), 60)
    assert list((tmp_path / "stick").rglob("110105200303151236.jpg"))


def test_read_only_stick_says_so(make_booth, tmp_path):
    stick = FakeUsbStick(tmp_path / "ro", tmpfs=False)
    stick.make_read_only()
    booth = make_booth(usb=stick)
    done = booth.work.save(LI, Photo(jpeg()))
    assert not done.exported and done.message == MSG_READ_ONLY
    assert len(booth.work.spool.pending()) == 1


def test_full_stick_says_so(make_booth, tmp_path):
    stick = FakeUsbStick(tmp_path / "full", capacity_bytes=1000, tmpfs=False)
    booth = make_booth(usb=stick)
    done = booth.work.save(LI, Photo(jpeg()))
    assert not done.exported and "full" in done.message.en
    assert len(booth.work.spool.pending()) == 1


# --- failures and the watchdog ------------------------------------------------------------------
def test_a_hung_camera_shows_the_failsafe_screen_and_the_booth_recovers(make_booth):
    config = Config()
    config.devices.capture_timeout_s = 0.3
    config.session.failsafe_s = 1.0
    booth = make_booth(config=config, start=True)
    assert step_until(booth, lambda: booth.feed.latest()[0] is not None, 60)
    booth.rig.devices.camera.fault = "hung"
    assert step_until(booth, lambda: booth.session.state is State.FAILSAFE, 60)
    assert "camera" in booth.session.data.failure.en.lower()
    booth.rig.devices.camera.fault = None
    assert step_until(booth, lambda: booth.session.state is State.ATTRACT, 60)


def test_ready_and_watchdog_only_while_frames_arrive(make_booth, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/test-notify")
    monkeypatch.setenv("WATCHDOG_USEC", "800000")           # max age 0.4 s, pet every 0.2 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    now = [0.0]                                             # the watchdog's clock: 0.1 s a tick
    sent: list[tuple[float, str]] = []
    service = ServiceManager(notify=lambda m: sent.append((now[0], m)) or True)
    config = Config()
    config.devices.capture_timeout_s = 0.3
    booth = make_booth(config=config, service=service, start=True)
    assert isinstance(booth.timing.watchdog, WatchdogGate)
    booth.timing.watchdog.clock = lambda: now[0]

    def tick(*, new_frame: bool) -> None:
        if new_frame:                                       # (the test waits, not the loop)
            seq = booth.feed.latest()[1]
            with booth.feed.new_frame:
                assert booth.feed.new_frame.wait_for(lambda: booth.feed.seq != seq, 60)
        now[0] += 0.1
        booth.step()

    def said(message: str, since: float = 0.0) -> list[float]:
        return [t for t, m in sent if m == message and t >= since]

    while len(said("WATCHDOG=1")) < 3:
        tick(new_frame=True)
    messages = [m for _, m in sent]
    assert "READY=1" in messages and messages.index("READY=1") < messages.index("WATCHDOG=1")
    booth.rig.devices.camera.fault = "hung"
    assert step_until(booth, lambda: any(m.startswith("STATUS=state: failsafe") for _, m in sent), 60)
    stopped = now[0]                        # frames stopped: the newest is older than this
    for _ in range(15):
        tick(new_frame=False)
    assert said("WATCHDOG=1", since=stopped + booth.timing.watchdog.max_age + 0.05) == []
    booth.rig.devices.camera.fault = None


def test_models_that_cannot_load_keep_the_failsafe_screen_up(make_booth):
    def broken():
        raise RuntimeError("model file missing")

    booth = make_booth(start=True, analyzer_factory=broken)
    assert step_until(booth, lambda: booth.session.state is State.FAILSAFE, 60)
    assert "analysis models" in booth.session.data.failure.en
