"""kiosk.service's watchdog contract, end to end: the booth's own loop against a real notify socket.

systemd reads sd_notify datagrams from the AF_UNIX socket named by ``$NOTIFY_SOCKET``; this test
binds such a socket itself and runs the real booth (its UI loop on SDL's dummy driver, hardware's
FakeCamera playing a real face) with ``WATCHDOG_USEC`` set as systemd sets it for
``WatchdogSec=``. What the unit relies on (systemd/kiosk.service):

* READY=1 once, and only after the screen is up and camera frames arrive;
* WATCHDOG=1 at a steady rate while the loop ticks and frames arrive;
* no WATCHDOG=1 once the camera stops delivering frames (a hung camera), so systemd's watchdog
  fires and restarts the booth; pings come back with the frames.
"""

from __future__ import annotations

import os
import socket
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import pytest  # noqa: E402

import hardware  # noqa: E402
from hardware.service import ServiceManager  # noqa: E402
from kiosk.booth.directory import RosterDirectory  # noqa: E402
from kiosk.booth.loop import Booth, EventQueue  # noqa: E402
from kiosk.booth.main import open_display  # noqa: E402
from kiosk.config import Config  # noqa: E402
from kiosk.handoff.roster import parse_roster  # noqa: E402
from kiosk.handoff.spool import Spool  # noqa: E402
from kiosk.photo.identity import generate_key, load_key  # noqa: E402
from kiosk.sim.scenes import compose_scene  # noqa: E402

pytest.importorskip("systemd.daemon")

ROSTER = "学号,姓名,身份证号\n2026010727,李明,110105200303151236\n".encode()
WATCHDOG_S = 1.0          # WatchdogSec=1s: the gate's max age 0.5 s, a pet every 0.25 s


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", str(int(WATCHDOG_S * 1e6)))
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    yield sock
    sock.close()


TICK_S = 0.1              # watchdog time per loop tick
CAP_S = 60.0              # real seconds, against a hang only


class SteppedLoop:
    """The booth's loop, ticked by the test, and what arrived on the socket at each tick.

    The watchdog gate's clock is the test's: each tick is ``TICK_S`` of watchdog time, however
    long the machine takes to run it. The loop, the camera's thread and the socket are real;
    what is asserted depends on ticks and frames, never on the machine's speed.
    """

    def __init__(self, booth: Booth, sock: socket.socket) -> None:
        self.booth, self.sock = booth, sock
        self.now = 0.0
        self.log: list[tuple[float, str]] = []
        booth.timing.watchdog.clock = lambda: self.now

    def tick(self) -> None:
        self.now += TICK_S
        self.booth.step()
        while True:
            try:
                self.log.append((self.now, self.sock.recv(4096).decode()))
            except BlockingIOError:
                return

    def tick_with_a_new_frame(self) -> None:
        """Waits (really) for the camera's next preview frame, then ticks: a healthy booth."""
        feed = self.booth.feed
        seq = feed.latest()[1]
        with feed.new_frame:
            assert feed.new_frame.wait_for(lambda: feed.seq != seq, CAP_S), "no camera frame"
        self.tick()

    def tick_until(self, cond) -> None:
        end = time.monotonic() + CAP_S
        while not cond():
            assert time.monotonic() < end, "never happened"
            self.tick()

    def times(self, message: str, since: float = 0.0) -> list[float]:
        return [t for t, m in self.log if m == message and t >= since]


@pytest.fixture
def booth(tmp_path, notify_socket):
    config = Config()
    config.session.fps = 30
    config.devices.capture_timeout_s = 0.3
    config.booth.state_dir = str(tmp_path / "state")
    events = EventQueue()
    devices = hardware.open_devices(config.devices, simulate=True, usb_dir=tmp_path / "usb",
                                    scene=compose_scene("hopper", size=(640, 480)),
                                    on_event=events.post, watch_usb=False)
    devices.service = ServiceManager()        # systemd-python's daemon.notify, for real
    assert devices.service.enabled and devices.service.watchdog_interval == WATCHDOG_S
    generate_key(tmp_path / "k.key")
    surface = open_display(fullscreen=False, size=(800, 480), headless=True)
    booth = Booth(config, devices, events, key=load_key(tmp_path / "k.key"),
                  directory=RosterDirectory(parse_roster(ROSTER)), spool=Spool(config.booth.state_dir),
                  surface=surface, analyzer_factory=lambda: None)
    try:
        yield booth
    finally:
        booth.stop()
        devices.close()


def test_ready_then_pings_while_healthy_and_none_once_frames_stop(booth, notify_socket):
    from kiosk.booth.session import State

    loop = SteppedLoop(booth, notify_socket)
    # before start: the loop may tick, but no camera frame has arrived: no READY, no pings
    for _ in range(5):
        loop.tick()
    assert loop.times("READY=1") == [] and loop.times("WATCHDOG=1") == []

    booth.start()
    for _ in range(30):                                     # 3 s, a new frame at every tick
        loop.tick_with_a_new_frame()
    assert booth.feed.frames > 0
    [ready_at] = loop.times("READY=1")
    pings = loop.times("WATCHDOG=1")
    assert pings and pings[0] >= ready_at                   # READY first, then the watchdog
    healthy = [t for t in pings if t >= ready_at + 0.5]
    # a pet every WatchdogSec/4: about 4 a second; never a gap near WatchdogSec
    assert len(healthy) >= 6, pings
    assert max(b - a for a, b in zip(healthy, healthy[1:])) < WATCHDOG_S * 0.75

    # the camera hangs: the loop keeps ticking (the failsafe screen is drawn), pings stop
    booth.rig.devices.camera.fault = "hung"
    loop.tick_until(lambda: booth.session.state is State.FAILSAFE)
    noticed_at = loop.now                   # (a frame read before the hang has landed by now)
    for _ in range(25):
        loop.tick()
    late = loop.times("WATCHDOG=1", since=noticed_at + WATCHDOG_S)
    assert late == [], "pings went on without frames: systemd's watchdog would never fire"
    assert len(loop.times("READY=1")) == 1

    # frames come back (a re-plugged USB camera, or the restarted one): pings resume
    booth.rig.devices.camera.fault = None
    back_at = loop.now
    loop.tick_until(lambda: loop.times("WATCHDOG=1", since=back_at) != [])
    assert len(loop.times("READY=1")) == 1                  # READY is sent once per start
