"""The registrar's "remove the USB stick safely": the state machine, the job on a real folder
playing the stick (hardware.usb.FakeUsbStick) and a real spool, the loop from key or touch to the
outcome on screen, and the attract screen's status row at three screen sizes (SDL dummy driver).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pygame
import pytest
from booth_support import LI, ROSTER, SIZES, Directory, jpeg, step_until

import hardware
from hardware.usb import FakeUsbStick
from kiosk.booth.directory import RosterDirectory
from kiosk.booth.jobs import VisitJobs
from kiosk.booth.loop import Booth, EventQueue
from kiosk.booth.main import open_display
from kiosk.booth.session import (
    CONFIRM,
    EJECT,
    EJECT_TIMEOUT_S,
    STICK_OUTCOME_S,
    TECHNICIAN_REQUEST,
    EjectStick,
    Session,
    State,
    StickEjected,
    StickStatus,
)
from kiosk.booth.ui import screens, texts, widgets
from kiosk.booth.ui.layout import hit, make_layout
from kiosk.config import Config, SessionSettings
from kiosk.handoff.roster import parse_roster
from kiosk.handoff.spool import Spool, record_for
from kiosk.photo.checks.result import Status
from kiosk.photo.identity import generate_key, load_key
from kiosk.photo.student import Student
from kiosk.sim.scenes import compose_scene

WANG = Student(student_id="2026010728", id_number="11010519491231002X", name="王芳")


@dataclass
class Photo:
    """The PhotoResult fields the spool and the exporter read (a real JPEG of a real face)."""
    jpeg: bytes
    verdict: Status = Status.PASS
    checks: list = field(default_factory=list)
    quality: int = 85
    ok: bool = True


def spool_with(tmp_path, *students) -> Spool:
    spool = Spool(tmp_path / "state")
    for student in students:
        photo = Photo(jpeg())
        spool.add(student, photo.jpeg, record_for(photo))
    return spool


# --- the state machine -------------------------------------------------------------------------
def test_the_stick_status_is_booth_data_in_every_state_and_is_not_input():
    session = Session(SessionSettings(), Directory(), now=0.0)
    session.handle(CONFIRM, 1.0)                                   # a visit begins
    assert session.state is State.IDENTIFY
    session.handle(StickStatus(True, 2), 50.0)
    assert (session.data.stick.present, session.data.stick.pending) == (True, 2)
    assert session.data.last_input_at == 1.0                    # the stick is not the student
    session.tick(1.0 + SessionSettings().idle_timeout_s)          # timeout: back to attract ...
    assert session.state is State.ATTRACT and session.data.keypad == ""
    assert session.data.stick.present and session.data.stick.pending == 2   # ... stick kept


def test_eject_on_the_attract_screen_starts_one_job_and_shows_its_outcome():
    session = Session(SessionSettings(), Directory(), now=0.0)
    session.handle(StickStatus(True, 3), 1.0)
    assert session.handle(EJECT, 2.0) == [EjectStick()]
    assert session.state is State.ATTRACT and session.data.stick.ejecting
    assert session.handle(EJECT, 2.5) == []                      # one eject at a time
    session.handle(StickEjected(True, texts.STICK_EJECTED, False, 0), 4.0)
    st = session.data.stick
    assert not st.ejecting and st.outcome == texts.STICK_EJECTED and st.outcome_ok
    assert not st.present and st.pending == 0
    session.tick(4.0 + STICK_OUTCOME_S - 1)
    assert st.outcome == texts.STICK_EJECTED                     # the registrar has time to read it
    session.handle(StickStatus(False, 0), 5.0)                   # the mount is gone: still shown
    assert session.data.stick.outcome == texts.STICK_EJECTED
    session.tick(4.0 + STICK_OUTCOME_S)
    assert session.data.stick.outcome is None


def test_eject_without_a_stick_says_so_and_starts_nothing():
    session = Session(SessionSettings(), Directory(), now=0.0)
    session.handle(StickStatus(False, 1), 1.0)
    assert session.handle(EJECT, 2.0) == []
    assert session.data.stick.outcome == texts.STICK_MISSING and not session.data.stick.outcome_ok


def test_eject_is_ignored_during_a_visit_and_in_technician_mode():
    session = Session(SessionSettings(), Directory(), now=0.0)
    session.handle(StickStatus(True, 0), 1.0)
    session.handle(CONFIRM, 2.0)
    assert session.handle(EJECT, 3.0) == [] and not session.data.stick.ejecting
    assert session.state is State.IDENTIFY
    session.handle(TECHNICIAN_REQUEST, 4.0)
    assert session.handle(EJECT, 5.0) == [] and session.state is State.TECHNICIAN


def test_a_failed_eject_shows_the_error_and_the_button_again():
    session = Session(SessionSettings(), Directory(), now=0.0)
    session.handle(StickStatus(True, 1), 1.0)
    session.handle(EJECT, 2.0)
    session.handle(StickEjected(False, texts.STICK_BUSY, True, 1), 3.0)
    st = session.data.stick
    assert st.outcome == texts.STICK_BUSY and not st.outcome_ok and st.present and st.pending == 1
    assert session.handle(EJECT, 4.0) == [EjectStick()]          # try again
    # a new stick plugged in after a removal: the old outcome is not shown for it
    session.handle(StickEjected(True, texts.STICK_EJECTED, False, 0), 5.0)
    session.handle(StickStatus(True, 0), 6.0)
    assert session.data.stick.outcome is None


def test_an_eject_job_that_never_answers_gives_the_button_back():
    session = Session(SessionSettings(), Directory(), now=0.0)
    session.handle(StickStatus(True, 0), 1.0)
    session.handle(EJECT, 2.0)
    session.tick(2.0 + EJECT_TIMEOUT_S - 1)
    assert session.data.stick.ejecting
    session.tick(2.0 + EJECT_TIMEOUT_S)
    assert not session.data.stick.ejecting
    assert session.data.stick.outcome == texts.STICK_EJECT_FAILED


# --- the job, on a real folder and a real spool ---------------------------------------------------
def jobs_for(stick, spool) -> VisitJobs:
    return VisitJobs(Config(), SimpleNamespace(usb=stick), feed=None, key=b"", spool=spool)


def test_eject_job_exports_what_waits_then_flushes_and_unmounts(tmp_path):
    stick = FakeUsbStick(tmp_path / "usb", tmpfs=False)
    spool = spool_with(tmp_path, LI, WANG)
    work = jobs_for(stick, spool)
    assert work.stick_status() == StickStatus(True, 2)
    result = work.eject()
    assert result == StickEjected(True, texts.STICK_EJECTED, False, 0)
    assert stick.pulled                                          # FakeUsbStick.eject was called
    assert spool.pending() == []                                 # exported before the unmount
    names = {p.name for p in (tmp_path / "usb").rglob("*.jpg")}
    assert names == {"110105200303151236.jpg", "11010519491231002X.jpg"}
    assert list((tmp_path / "usb").rglob("manifest.csv"))
    assert work.stick_status() == StickStatus(False, 0)


class BusyStick(FakeUsbStick):
    """A stick the system refuses to unmount (a file open on it)."""

    def eject(self) -> bool:
        return False


class BrokenStick(FakeUsbStick):
    def eject(self) -> bool:
        raise OSError(errno.EIO, "I/O error")


def test_a_busy_stick_that_could_not_take_the_photos_keeps_them_in_the_spool(tmp_path):
    stick = BusyStick(tmp_path / "usb", tmpfs=False)
    stick.make_read_only()                                       # the export fails too
    spool = spool_with(tmp_path, LI)
    [item] = spool.pending()
    result = jobs_for(stick, spool).eject()
    assert result == StickEjected(False, texts.STICK_BUSY, True, 1)
    assert [i.id for i in spool.pending()] == [item.id]     # nothing lost
    assert spool.get(item.id).read_photo() == item.read_photo()
    assert not list((tmp_path / "usb").rglob("*.jpg"))


def test_an_eject_that_fails_says_so_and_loses_nothing(tmp_path):
    stick = BrokenStick(tmp_path / "usb", capacity_bytes=1000, tmpfs=False)   # full, too
    spool = spool_with(tmp_path, LI)
    result = jobs_for(stick, spool).eject()
    assert not result.ok and result.message == texts.STICK_EJECT_FAILED
    assert result.present and result.pending == 1 and len(spool.pending()) == 1


def test_ejected_with_photos_left_behind_says_how_many(tmp_path):
    stick = FakeUsbStick(tmp_path / "usb", capacity_bytes=1000, tmpfs=False)  # too small
    spool = spool_with(tmp_path, LI)
    result = jobs_for(stick, spool).eject()
    assert result.ok and result.pending == 1 and len(spool.pending()) == 1
    assert result.message == texts.stick_ejected(1) and "1 photo not exported" in result.message.en


def test_eject_job_without_a_stick(tmp_path):
    stick = FakeUsbStick(tmp_path / "usb", tmpfs=False)
    stick.pull_out()
    spool = spool_with(tmp_path, LI)
    assert jobs_for(stick, spool).eject() == StickEjected(False, texts.STICK_MISSING, False, 1)
    assert jobs_for(None, spool).stick_status() == StickStatus(False, 1)


# --- through the loop: key or touch, the job, the outcome on screen --------------------------------
@pytest.fixture
def make_booth(tmp_path):
    made = []

    def make(stick, spool):
        config = Config()
        config.session.fps = 50
        config.booth.state_dir = str(tmp_path / "state")
        events = EventQueue()
        devices = hardware.open_devices(config.devices, simulate=True, usb_dir=tmp_path / "sim-usb",
                                        scene=compose_scene("hopper", size=(640, 480)),
                                        on_event=events.post, watch_usb=False)
        devices.usb.close()
        devices.usb = stick
        key_file = tmp_path / "k.key"
        generate_key(key_file)
        surface = open_display(fullscreen=False, size=(800, 480), headless=True)
        booth = Booth(config, devices, events, key=load_key(key_file),
                      directory=RosterDirectory(parse_roster(ROSTER)), spool=spool,
                      surface=surface, analyzer_factory=lambda: None)
        made.append((booth, devices))
        booth.start()
        return booth

    yield make
    for booth, devices in made:
        booth.stop()
        devices.close()


def row_pixels(booth: Booth, color) -> int:
    """Pixels of ``color`` (±30) in the stick row of the attract screen as last drawn."""
    row = screens.stick_row(booth.screen.fonts, booth.layout, booth.screen.model)
    assert row is not None
    sub = pygame.surfarray.array3d(booth.surface.subsurface(row.text))
    return int((np.abs(sub.astype(int) - np.array(color)).sum(axis=2) < 30).sum())


def test_touching_the_button_ejects_and_the_screen_says_remove_it_now(make_booth, tmp_path):
    stick = FakeUsbStick(tmp_path / "usb", tmpfs=False)
    stick.pull_out()                                             # the photo waits in the spool
    spool = spool_with(tmp_path, LI)
    booth = make_booth(stick, spool)
    assert step_until(booth, lambda: booth.session.data.stick.pending == 1)
    stick.plug_in()                                             # the registrar brings a stick
    booth.post(hardware.events.USB_INSERTED)
    assert step_until(booth, lambda: booth.session.data.stick.present and not spool.pending())
    button = next(b for b in screens.buttons(booth.screen.model, booth.layout) if b.event == EJECT)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=button.rect.center))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=button.rect.center))
    assert step_until(booth, lambda: booth.session.data.stick.outcome is not None)
    booth.step()
    assert booth.session.state is State.ATTRACT                 # the touch did not start a visit
    assert booth.session.data.stick.outcome == texts.STICK_EJECTED and stick.pulled
    assert screens.stick_line(booth.screen.model) == (texts.STICK_EJECTED, widgets.GOOD)
    assert row_pixels(booth, widgets.GOOD) > 100                # drawn, in green
    assert EJECT not in {b.event for b in screens.buttons(booth.screen.model, booth.layout)}
    assert list((tmp_path / "usb").rglob("110105200303151236.jpg"))


def test_the_e_key_on_a_busy_stick_shows_the_error_and_keeps_the_photos(make_booth, tmp_path):
    stick = BusyStick(tmp_path / "usb", tmpfs=False)
    stick.make_read_only()
    spool = spool_with(tmp_path, LI)
    booth = make_booth(stick, spool)
    assert step_until(booth, lambda: booth.session.data.stick.present
                      and booth.session.data.stick.pending == 1)
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_e, mod=0, unicode="e"))
    assert step_until(booth, lambda: booth.session.data.stick.outcome is not None)
    booth.step()
    assert booth.session.data.stick.outcome == texts.STICK_BUSY
    assert row_pixels(booth, widgets.BAD) > 100                 # the error, in red
    assert EJECT in {b.event for b in screens.buttons(booth.screen.model, booth.layout)}   # retry
    assert len(spool.pending()) == 1


# --- the attract screen's row ----------------------------------------------------------------------
def attract(events, language="zh"):
    session = Session(SessionSettings(), Directory(), language=language, now=0.0)
    for event in events:
        session.handle(event, 1.0)
    return session


def draw(fonts, session, size, *, warnings=(), without_row=False, monkeypatch=None):
    surface = pygame.Surface(size)
    layout = make_layout(size)
    frame = np.full((480, 640, 3), 128, np.uint8)
    model = screens.ScreenModel(session.data, now=2.0, preview=frame, warnings=warnings)
    if without_row:
        monkeypatch.setattr(screens, "_draw_stick", lambda *a, **k: None)
    screens.draw(surface, fonts, layout, model)
    return surface, layout, model


def drawn(surface, rect) -> int:
    sub = pygame.surfarray.array3d(surface.subsurface(rect))
    return int((np.abs(sub.astype(int) - np.array(widgets.BACKGROUND)).sum(axis=2) > 40).sum())


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: "%dx%d" % s)
def test_attract_screen_with_the_stick_row_overlaps_nothing(fonts, size, language, tmp_path,
                                                             monkeypatch):
    session = attract([StickStatus(True, 3)], language)
    warnings = ("roster: 2 rows rejected (see log)",)
    surface, layout, model = draw(fonts, session, size, warnings=warnings)
    pygame.image.save(surface, str(tmp_path / f"attract_stick_{language}_{size[0]}x{size[1]}.png"))
    row = screens.stick_row(fonts, layout, model)
    targets = screens.buttons(model, layout)
    [eject] = [b for b in targets if b.event == EJECT]
    assert eject.label == texts.STICK_REMOVE and row.button == eject
    # on screen, touchable, above the technician's warning line, clear of the language button
    assert layout.screen.contains(row.rect)
    assert row.rect.bottom <= layout.height - int(max(12, layout.small * 2 // 3) * 1.6)
    assert not row.rect.colliderect(layout.language) and not row.text.colliderect(eject.rect)
    assert eject.rect.height >= 44
    assert hit(targets, eject.rect.center) == EJECT             # before the whole-screen "start"
    # drawn: the button in its colour, the line's text in the row
    assert tuple(surface.get_at((eject.rect.x + 6, eject.rect.centery)))[:3] == widgets.BUTTON
    assert drawn(surface, row.text) > 150
    # nothing else is drawn where the row is: draw the screen without the row's line ...
    bare, _, _ = draw(fonts, session, size, warnings=warnings, without_row=True,
                      monkeypatch=monkeypatch)
    assert drawn(bare, row.text) == 0
    # ... and the steps, the title and the preview end above it
    above = pygame.Rect(0, row.rect.top - layout.pad // 2 + 1, layout.width,
                        row.rect.bottom - (row.rect.top - layout.pad // 2 + 1))
    outside_button = drawn(bare, above) - drawn(bare, eject.rect)
    assert outside_button == 0


@pytest.mark.parametrize("size", SIZES, ids=lambda s: "%dx%d" % s)
def test_each_outcome_fits_the_row(fonts, size, tmp_path):
    cases = {
        "ejecting": [StickStatus(True, 3), EJECT],
        "ejected": [StickStatus(True, 3), EJECT, StickEjected(True, texts.stick_ejected(2), False, 2)],
        "busy": [StickStatus(True, 3), EJECT, StickEjected(False, texts.STICK_BUSY, True, 3)],
        "failed": [StickStatus(True, 3), EJECT, StickEjected(False, texts.STICK_EJECT_FAILED, True, 3)],
        "kept": [StickStatus(False, 4)],
    }
    for name, events in cases.items():
        session = attract(events)
        surface, layout, model = draw(fonts, session, size)
        pygame.image.save(surface, str(tmp_path / f"attract_{name}_{size[0]}x{size[1]}.png"))
        row = screens.stick_row(fonts, layout, model)
        assert layout.screen.contains(row.rect) and drawn(surface, row.text) > 150, name
        has_button = any(b.event == EJECT for b in screens.buttons(model, layout))
        assert has_button == (name in ("busy", "failed")), name


def test_no_stick_and_nothing_waiting_shows_no_row(fonts):
    session = attract([StickStatus(False, 0)])
    surface, layout, model = draw(fonts, session, (1280, 800))
    assert screens.stick_row(fonts, layout, model) is None
    assert EJECT not in {b.event for b in screens.buttons(model, layout)}
