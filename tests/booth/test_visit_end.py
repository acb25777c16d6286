"""The end of every visit is recorded once (saved / abandoned / failed) for technician mode's
statistics: first in the state machine, then through the loop into ``sessions.jsonl``."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import pygame
import pytest
from booth_support import LI, ROSTER, jpeg, step_until

import hardware
from kiosk.booth.directory import RosterDirectory
from kiosk.booth.loop import Booth, EventQueue
from kiosk.booth.main import open_display
from kiosk.booth.session import (
    BACK,
    CONFIRM,
    CaptureDone,
    Digit,
    Failure,
    LiveUpdate,
    SaveDone,
    Session,
    SessionEnded,
    State,
)
from kiosk.config import Config, SessionSettings
from kiosk.handoff.roster import parse_roster
from kiosk.handoff.spool import Spool
from kiosk.message import Message
from kiosk.photo.checks.result import CheckResult, Status
from kiosk.photo.identity import generate_key, load_key
from kiosk.sim.scenes import compose_scene
from kiosk.technician.stats import log_path, summarize

CHECKS = [CheckResult("pose.yaw", Status.PASS), CheckResult("eyes.open", Status.WARN)]


class Roster:
    def from_qr(self, data):
        return LI

    def from_number(self, student_id):
        return LI


@dataclass
class View:
    ready: bool = False
    all_pass: bool = False


@dataclass
class Photo:
    jpeg: bytes = b""
    ok: bool = True
    verdict: Status = Status.PASS
    checks: list = field(default_factory=lambda: list(CHECKS))
    quality: int = 85
    student: object = None


SETTINGS = SessionSettings(max_retakes=2, idle_timeout_s=30, countdown_s=3, done_s=10,
                           failsafe_s=8)


def identified(t: float = 100.0) -> Session:
    s = Session(SETTINGS, Roster(), now=0.0)
    s.handle(CONFIRM, t)                     # attract -> identify: the visit starts here
    s.handle(Digit("7"), t + 1)
    s.handle(CONFIRM, t + 2)                 # identify -> confirm
    assert s.state is State.CONFIRM
    return s


def test_a_saved_visit_ends_once_with_the_photos_checks_and_retakes():
    s = identified()
    s.handle(CONFIRM, 103)
    s.handle(CONFIRM, 104)
    s.handle(LiveUpdate(View(ready=True, all_pass=True)), 110)
    s.tick(113)                              # countdown over: the burst
    s.handle(CaptureDone(Photo()), 120)
    s.handle(BACK, 121)                      # one retake
    s.handle(LiveUpdate(View(ready=True, all_pass=True)), 125)
    s.tick(128)
    s.handle(CaptureDone(Photo()), 130)
    s.handle(CONFIRM, 131)                   # accept -> save
    assert s.take_ended() == []
    s.handle(SaveDone(True, Message("好", "ok")), 134)
    assert s.state is State.DONE
    [ended] = s.take_ended()
    assert ended == SessionEnded("saved", 34.0, tuple(CHECKS), 1)
    s.tick(150)                              # DONE -> attract: not a second end
    assert s.state is State.ATTRACT and s.take_ended() == []


def test_timeout_and_back_are_abandoned_failure_is_failed():
    s = identified()
    s.tick(102 + SETTINGS.idle_timeout_s)
    assert s.state is State.ATTRACT
    [ended] = s.take_ended()
    assert (ended.outcome, ended.duration_s, ended.checks) == ("abandoned", 32.0, ())

    s = identified()
    s.handle(BACK, 103)                       # not me -> identify
    s.handle(BACK, 104)                       # erases the typed digit
    s.handle(BACK, 105)                       # -> attract
    assert [e.outcome for e in s.take_ended()] == ["abandoned"]

    s = identified()
    s.handle(Failure(Message("坏了", "broken")), 105)
    assert [e.outcome for e in s.take_ended()] == ["failed"]
    s.tick(200)                               # failsafe -> attract: nothing more
    assert s.take_ended() == []


def test_nobody_identified_is_no_visit():
    s = Session(SETTINGS, Roster(), now=0.0)
    s.handle(CONFIRM, 1)                      # an accidental touch
    s.tick(1 + SETTINGS.idle_timeout_s)
    assert s.state is State.ATTRACT and s.take_ended() == []


# --- through the loop into sessions.jsonl ------------------------------------------------------
@pytest.fixture
def booth(tmp_path):
    config = Config()
    config.session.fps = 50
    config.session.countdown_s = 0
    # the tests leave every screen themselves: no screen's timer may race a busy machine
    config.session.done_s = config.session.idle_timeout_s = 600
    config.booth.state_dir = str(tmp_path / "state")
    events = EventQueue()
    devices = hardware.open_devices(config.devices, simulate=True, usb_dir=tmp_path / "usb",
                                    scene=compose_scene("hopper", size=(640, 480)),
                                    on_event=events.post, watch_usb=False)
    generate_key(tmp_path / "k.key")
    booth = Booth(config, devices, events, key=load_key(tmp_path / "k.key"),
                  directory=RosterDirectory(parse_roster(ROSTER)),
                  spool=Spool(config.booth.state_dir),
                  surface=open_display(fullscreen=False, size=(800, 480), headless=True),
                  analyzer_factory=lambda: None)
    booth.start()
    yield booth
    booth.stop()
    devices.close()


def press(booth, k, unicode="", state=None):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode=unicode))
    if state is not None:
        assert step_until(booth, lambda: booth.session.state is state, 60), booth.session.state


def records(state_dir) -> list[dict]:
    path = log_path(state_dir)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_simulated_visit_through_the_loop_records_one_line(booth):
    photo = Photo(jpeg=jpeg(), student=LI)
    booth.work.burst = lambda student: CaptureDone(photo)        # no models in this test
    started = time.monotonic()
    press(booth, pygame.K_RETURN, "\r", State.IDENTIFY)
    for d in LI.student_id:
        press(booth, getattr(pygame, f"K_{d}"), d)
    press(booth, pygame.K_RETURN, "\r", State.CONFIRM)
    press(booth, pygame.K_RETURN, "\r", State.REMINDERS)
    press(booth, pygame.K_RETURN, "\r", State.GUIDANCE)
    booth.post(LiveUpdate(View(ready=True, all_pass=True)))     # the guide says: capture now
    assert step_until(booth, lambda: booth.session.state is State.REVIEW)
    assert records(booth.config.booth.state_dir) == []          # not over yet
    press(booth, pygame.K_RETURN, "\r", State.DONE)
    assert booth.session.data.saved.exported
    [line] = records(booth.config.booth.state_dir)
    assert line["outcome"] == "saved" and line["retakes"] == 0
    assert line["checks"] == {"pose.yaw": "pass", "eyes.open": "warn"}
    # seconds, of this visit (recorded to 0.01 s)
    assert 0 < line["duration_s"] <= time.monotonic() - started + 0.005
    assert "李明" not in log_path(booth.config.booth.state_dir).read_text()   # nothing personal
    press(booth, pygame.K_RETURN, "\r", State.ATTRACT)          # DONE -> attract: still one line
    assert len(records(booth.config.booth.state_dir)) == 1
    # a second visit, abandoned with Back: a second line; technician mode reads both
    press(booth, pygame.K_RETURN, "\r", State.IDENTIFY)
    for d in LI.student_id:
        press(booth, getattr(pygame, f"K_{d}"), d)
    press(booth, pygame.K_RETURN, "\r", State.CONFIRM)
    press(booth, pygame.K_ESCAPE, "", State.IDENTIFY)             # not me
    for _ in LI.student_id:                                      # Back erases the typed digits ...
        press(booth, pygame.K_ESCAPE)
    press(booth, pygame.K_ESCAPE, "", State.ATTRACT)             # ... then leaves
    assert [r["outcome"] for r in records(booth.config.booth.state_dir)] == ["saved", "abandoned"]
    stats = summarize(booth.config.booth.state_dir)
    assert stats.sessions == 2 and stats.saved == 1


def test_done_screen_says_where_the_photo_is_once_a_stick_is_inserted(booth):
    stick = booth.rig.devices.usb
    stick.pull_out()
    photo = Photo(jpeg=jpeg(), student=LI)
    booth.work.burst = lambda student: CaptureDone(photo)
    press(booth, pygame.K_RETURN, "\r", State.IDENTIFY)
    for d in LI.student_id:
        press(booth, getattr(pygame, f"K_{d}"), d)
    for state in (State.CONFIRM, State.REMINDERS, State.GUIDANCE):
        press(booth, pygame.K_RETURN, "\r", state)
    booth.post(LiveUpdate(View(ready=True, all_pass=True)))
    assert step_until(booth, lambda: booth.session.state is State.REVIEW)
    press(booth, pygame.K_RETURN, "\r", State.DONE)
    assert not booth.session.data.saved.exported            # kept in the booth
    stick.plug_in()
    booth.post("usb_inserted")                                # what the USB watcher posts
    assert step_until(booth, lambda: booth.session.data.saved.exported, 60)
    assert booth.session.state is State.DONE
    assert "1101**********1236" in booth.session.data.saved.message.en
    assert booth.work.spool.pending() == []
