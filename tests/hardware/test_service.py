"""sd_notify against a real AF_UNIX datagram socket, and the watchdog gate."""

from __future__ import annotations

import os
import socket

import pytest

from hardware.service import ServiceManager, WatchdogGate

pytest.importorskip("systemd.daemon")


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.5)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield sock
    sock.close()


def received(sock) -> list[str]:
    out = []
    sock.settimeout(0.2)
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except (socket.timeout, BlockingIOError):
            return out


def test_ready_status_watchdog_stopping_reach_the_socket(notify_socket):
    service = ServiceManager()
    assert service.enabled
    assert service.ready()
    assert service.status("waiting for a student\n(2 photos on the stick)")
    assert service.watchdog()
    assert service.stopping()
    assert received(notify_socket) == ["READY=1", "STATUS=waiting for a student (2 photos on the stick)",
                                       "WATCHDOG=1", "STOPPING=1"]


def test_without_notify_socket_everything_is_a_no_op(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    service = ServiceManager()
    assert not service.enabled
    assert service.ready() is False and service.watchdog() is False
    assert service.watchdog_interval is None


def test_watchdog_interval_from_the_environment(notify_socket, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    assert ServiceManager().watchdog_interval == 20.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))      # meant for another process
    assert ServiceManager().watchdog_interval is None
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert ServiceManager().watchdog_interval == 20.0


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_gate_pets_only_while_loop_ticks_and_frames_arrive(notify_socket, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "4000000")      # WatchdogSec=4: max age 2 s, pet every 1 s
    clock = Clock()
    gate = WatchdogGate(ServiceManager(), clock=clock)
    assert (gate.max_age, gate.pet_every) == (2.0, 1.0)

    def run(seconds, *, frames=True, loop=True, step=0.1):
        pets = 0
        for _ in range(round(seconds / step)):
            clock.now += step
            if frames:
                gate.frame_arrived()
            if loop:
                gate.loop_ticked()
                pets += gate.maybe_pet()
        return pets

    assert run(5) == 5                                  # healthy: about one pet a second
    assert received(notify_socket) == ["WATCHDOG=1"] * 5
    # the camera stops delivering: pets stop once the last frame is older than max_age
    run(1.9, frames=False)
    assert run(5, frames=False) == 0
    assert received(notify_socket) == ["WATCHDOG=1"] * 2  # only while the frames were recent
    # frames come back: pets resume
    assert run(2) >= 1
    received(notify_socket)
    # the loop itself stalls (nobody calls loop_ticked/maybe_pet): nothing is sent
    run(5, loop=False)
    assert received(notify_socket) == []
    gate.loop_ticked()
    assert gate.maybe_pet() is True


def test_gate_without_frames_expected(notify_socket):
    clock = Clock()
    gate = WatchdogGate(ServiceManager(), max_age=2, pet_every=1, clock=clock)
    gate.expect_frames(False)              # attract screen with the camera off on purpose
    for _ in range(30):
        clock.now += 0.1
        gate.loop_ticked()
        gate.maybe_pet()
    assert received(notify_socket) == ["WATCHDOG=1"] * 3
