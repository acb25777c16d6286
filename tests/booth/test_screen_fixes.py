"""Screen details a student would notice: the reminders screen's mirror, the retake count in both
languages, the done screen's button under its text, pictures clear of the language button, and
the done screen that says where the photo is once a stick is inserted."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pygame
import pytest
from booth_support import LI, SIZES, Directory

from kiosk.booth.jobs import MSG_KEPT, msg_saved, shown_name
from kiosk.booth.session import CONFIRM, CaptureDone, Digit, LiveUpdate, SaveDone, Session, State, StickExported
from kiosk.booth.ui import screens, texts, widgets
from kiosk.booth.ui.layout import make_layout
from kiosk.config import SessionSettings
from kiosk.message import Message
from kiosk.photo.checks.result import Status


@dataclass
class View:
    ready: bool = True
    all_pass: bool = True


@dataclass
class Photo:
    ok: bool = True
    verdict: Status = Status.PASS
    jpeg: bytes | None = None
    checks: tuple = ()
    student: object = None


def session_in(state: State) -> Session:
    s = Session(SessionSettings(countdown_s=0), Directory(), now=0.0)
    for event in (CONFIRM, Digit("2"), CONFIRM, CONFIRM):
        s.handle(event, 1.0)
    if state is State.REMINDERS:
        return s
    s.handle(CONFIRM, 1.0)
    s.handle(LiveUpdate(View()), 1.0)
    s.tick(2.0)
    s.handle(CaptureDone(Photo(), preview=np.full((640, 480, 3), 90, np.uint8)), 3.0)
    if state is State.REVIEW:
        return s
    s.handle(CONFIRM, 4.0)
    s.handle(SaveDone(False, MSG_KEPT, item_id="00000007"), 5.0)
    assert s.state is State.DONE
    return s


def draw(fonts, size, session, preview=None):
    surface = pygame.Surface(size)
    layout = make_layout(size)
    model = screens.ScreenModel(session.data, now=5.0, preview=preview,
                                retakes_left=session.retakes_left, can_accept=session.can_accept)
    screens.draw(surface, fonts, layout, model)
    return surface, layout, model


MAGENTA = (250, 0, 250)


@pytest.mark.parametrize("size", SIZES)
def test_reminders_show_the_live_mirror(fonts, size):
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:] = MAGENTA
    surface, layout, model = draw(fonts, size, session_in(State.REMINDERS), preview=frame)
    px = pygame.surfarray.array3d(surface)
    magenta = (px[..., 0] > 240) & (px[..., 1] < 10) & (px[..., 2] > 240)
    assert magenta.sum() > 0.08 * size[0] * size[1]          # a big mirror, not a thumbnail
    xs, ys = np.nonzero(magenta)
    mirror = pygame.Rect(xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    for b in screens.buttons(model, layout):                  # never under a button
        assert not mirror.colliderect(b.rect), b.event


def test_retakes_left_is_bilingual_everywhere():
    for n in range(0, 5):
        m = texts.retakes_left(n)
        assert m.zh and m.en and m.zh != m.en
    assert texts.retakes_left(3) == Message("还可重拍 3 次", "3 retakes left")
    assert texts.retakes_left(1).en == "1 retake left"


def test_review_draws_the_english_retake_line(fonts, monkeypatch):
    drawn = []
    real = widgets.text

    def spy(surface, fonts_, s, *a, **kw):
        drawn.append(s)
        return real(surface, fonts_, s, *a, **kw)

    monkeypatch.setattr(screens, "text", spy)
    monkeypatch.setattr(widgets, "text", spy)
    draw(fonts, (1280, 800), session_in(State.REVIEW))
    assert "还可重拍 3 次" in drawn and "3 retakes left" in drawn


@pytest.mark.parametrize("size", SIZES)
def test_pictures_stay_clear_of_the_language_button(fonts, size):
    surface, layout, model = draw(fonts, size, session_in(State.REVIEW))
    px = pygame.surfarray.array3d(surface)
    photo = (px[..., 0] == 90) & (px[..., 1] == 90) & (px[..., 2] == 90)
    assert photo.sum() > 0
    lang = layout.language
    assert not photo[lang.left:lang.right, lang.top:lang.bottom].any()


@pytest.mark.parametrize("size", SIZES)
def test_done_button_is_centred_like_its_text(fonts, size):
    surface, layout, model = draw(fonts, size, session_in(State.DONE))
    [ok] = [b for b in screens.buttons(model, layout) if b.event == "confirm"]
    assert abs(ok.rect.centerx - size[0] // 2) <= 1
    assert screens.screen_layout(layout, State.DONE).screen.contains(ok.rect)


def test_done_screen_follows_a_stick_inserted_while_it_shows():
    s = session_in(State.DONE)
    assert s.data.saved.message == MSG_KEPT
    other = SaveDone(True, msg_saved("x.jpg"), path="a/x.jpg", item_id="00000001")
    s.handle(StickExported((other,)), 6.0)                    # somebody else's photo: no change
    assert s.data.saved.message == MSG_KEPT
    full = Message("U盘已满", "The stick is full")
    s.handle(StickExported((), problem=full), 7.0)
    assert s.data.saved.message == full and not s.data.saved.exported
    mine = SaveDone(True, msg_saved(shown_name("a/110105200303151236.jpg")), path="a/x",
                    item_id="00000007")
    s.handle(StickExported((other, mine)), 8.0)
    assert s.data.saved.exported and s.data.saved.message.en.endswith("1101**********1236.jpg")
    assert s.state is State.DONE
    s.tick(5.0 + s.settings.done_s)                            # a stick is not the student:
    assert s.state is State.ATTRACT                           # the done screen still times out


def test_file_names_on_screen_mask_the_id_number():
    assert shown_name("grad/2026010727_110105200303151236.jpg", LI) == "2026010727_1101**********1236.jpg"
    assert shown_name("grad/李明_2026010727.jpg", LI) == "李明_2026010727.jpg"
    assert "\n" in msg_saved("x.jpg").zh                      # the name on a line of its own
