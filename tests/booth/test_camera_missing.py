"""A camera missing at start: the booth does not exit. The failsafe screen says so in both
languages, the camera is retried, and systemd hears READY only once frames arrive (a real
AF_UNIX notify socket, SDL's dummy video driver, hardware's FakeCamera with fault="missing")."""

from __future__ import annotations

import socket
import time

import pygame
import pytest

import hardware
from hardware.service import ServiceManager
from kiosk.booth.directory import RosterDirectory
from kiosk.booth.loop import MSG_CAMERA_MISSING, Booth, EventQueue
from kiosk.booth.main import open_display
from kiosk.booth.session import State
from kiosk.config import Config
from kiosk.handoff.roster import parse_roster
from kiosk.handoff.spool import Spool
from kiosk.photo.identity import generate_key, load_key
from kiosk.sim.scenes import compose_scene

pytest.importorskip("systemd.daemon")

ROSTER = "学号,姓名,身份证号\n2026010727,李明,110105200303151236\n".encode()


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "4000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield sock
    sock.close()


def received(sock) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def run_for(booth: Booth, seconds: float, until=None) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        booth.step()
        if until is not None and until():
            return True
    return False


def test_missing_camera_keeps_the_failsafe_up_and_ready_waits_for_frames(tmp_path, notify_socket,
                                                                         caplog):
    config = Config()
    config.session.fps = 50
    config.session.failsafe_s = 0.5          # would leave the failsafe screen, were it not held
    config.booth.state_dir = str(tmp_path / "state")
    events = EventQueue()
    devices = hardware.open_devices(config.devices, simulate=True, usb_dir=tmp_path / "usb",
                                    scene=compose_scene("hopper", size=(640, 480)),
                                    on_event=events.post, watch_usb=False)
    devices.camera.fault = "missing"         # FakeCamera: start() raises CameraError
    devices.service = ServiceManager()
    assert devices.service.enabled
    generate_key(tmp_path / "k.key")
    surface = open_display(fullscreen=False, size=(800, 480), headless=True)
    booth = Booth(config, devices, events, key=load_key(tmp_path / "k.key"),
                  directory=RosterDirectory(parse_roster(ROSTER)), spool=Spool(config.booth.state_dir),
                  surface=surface, analyzer_factory=lambda: None)
    booth.camera_retry_s = 0.2
    try:
        booth.start()                        # no exception: the booth comes up
        assert "camera cannot start" in caplog.text and "fake camera set to 'missing'" in caplog.text
        t0 = time.monotonic()                # four times failsafe_s, five retries, 20 frames;
        assert run_for(booth, 120.0, until=lambda: time.monotonic() - t0 >= 2.0 and   # however
                       booth.rig.starter.tries >= 5 and booth.timing.stats.frames > 20)     # slow the machine
        assert booth.session.state is State.FAILSAFE
        assert booth.session.data.failure == MSG_CAMERA_MISSING
        assert MSG_CAMERA_MISSING.zh == "相机未连接，请联系工作人员"
        assert booth.rig.starter.tries >= 5 and booth.timing.stats.frames > 20
        sent = received(notify_socket)
        assert "READY=1" not in sent and "WATCHDOG=1" not in sent
        assert "STATUS=state: failsafe" in sent
        # the screen is drawn: the failsafe screen's red heading is on it
        pixels = pygame.surfarray.array3d(surface)
        assert ((pixels[..., 0] > 200) & (pixels[..., 1] < 110)).sum() > 200

        devices.camera.fault = None          # the camera is connected
        assert run_for(booth, 60.0, until=lambda: booth.feed.frames > 0)
        assert run_for(booth, 60.0, until=lambda: booth.timing.heartbeat.ready_sent)
        sent = received(notify_socket)
        assert sent.count("READY=1") == 1
        assert run_for(booth, 60.0, until=lambda: booth.session.state is State.ATTRACT)
        assert not booth.rig.starter.is_alive()
    finally:
        booth.stop()
        devices.close()


def test_lights_that_fail_are_left_out_and_named(tmp_path, monkeypatch):
    """kiosk run opens the devices with tolerate=True: the booth still runs (touchscreen, room
    light) and the attract screen names the problem for the technician."""
    config = Config()
    monkeypatch.setenv("KIOSK_LIGHTS", "pwm")
    monkeypatch.setenv("KIOSK_CAMERA", "fake")
    config.devices.light_pwm_chip = 97                                    # no such PWM chip
    devices = hardware.open_devices(config.devices, simulate=False, usb_dir=tmp_path / "usb",
                                    scene=compose_scene("hopper", size=(640, 480)),
                                    watch_usb=False, tolerate=True)
    try:
        assert devices.lights is None and "lights" in devices.problems
        assert devices.buttons is not None
    finally:
        devices.close()                      # None devices are skipped
    with pytest.raises(OSError):               # no /sys/class/pwm/pwmchip97
        hardware.open_devices(config.devices, simulate=False, usb_dir=tmp_path / "usb",
                              scene=compose_scene("hopper", size=(640, 480)), watch_usb=False)
