"""The state machine: every transition, timeout, retake and failure, with nothing but a clock."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kiosk.booth.session import (
    ANALYSIS,
    BACK,
    CONFIRM,
    ERASE,
    LANGUAGE,
    LIGHTS,
    TECHNICIAN_EXIT,
    TECHNICIAN_REQUEST,
    CaptureDone,
    CaptureFailed,
    Digit,
    Failure,
    LiveUpdate,
    LookupFailed,
    QrScanned,
    SaveDone,
    SaveFailed,
    SavePhoto,
    Session,
    State,
    TakeBurst,
)
from kiosk.config import SessionSettings
from kiosk.message import Message
from kiosk.photo.student import Student

LI = Student(student_id="2026010727", id_number="110105200303151236", name="李明")
NOT_FOUND = Message("名单中没有这个学号", "Not on the roster")


class Roster:
    """The Directory contract: a Student, or LookupFailed with a bilingual message."""

    def from_qr(self, data: bytes):
        if data == b"sid=2026010727":
            return LI
        raise LookupFailed(Message("无法识别的二维码", "Unknown QR code"))

    def from_number(self, student_id: str):
        if student_id == LI.student_id:
            return LI
        raise LookupFailed(NOT_FOUND)


@dataclass
class View:          # the GuidanceView fields the session reads
    ready: bool = False
    all_pass: bool = False


@dataclass
class Photo:         # the PhotoResult fields the session reads
    ok: bool = True
    checks: tuple = ()
    student: object = None


SETTINGS = SessionSettings(max_retakes=2, idle_timeout_s=30, guidance_timeout_s=90, countdown_s=3,
                           capture_timeout_s=20, save_timeout_s=15, done_s=10, failsafe_s=8,
                           technician_timeout_s=600)


def new(now: float = 0.0) -> Session:
    return Session(SETTINGS, Roster(), now=now)


def to_state(target: State) -> tuple[Session, float]:
    """Walk a session to ``target`` the normal way; returns it and the time reached."""
    s, t = new(), 0.0
    path = [
        (State.IDENTIFY, CONFIRM),
        (State.CONFIRM, QrScanned(b"sid=2026010727")),
        (State.REMINDERS, CONFIRM),
        (State.GUIDANCE, CONFIRM),
        (State.CAPTURE, LiveUpdate(View(ready=True, all_pass=True))),
    ]
    for state, event in path:
        if s.state is target:
            return s, t
        t += 1
        s.handle(event, t)
        assert s.state is state
    if target is State.CAPTURE:
        return s, t
    t += SETTINGS.countdown_s
    assert s.tick(t) == [TakeBurst(LI)]
    t += 1
    s.handle(CaptureDone(Photo(ok=True)), t)
    assert s.state is State.REVIEW
    if target is State.REVIEW:
        return s, t
    t += 1
    effects = s.handle(CONFIRM, t)
    assert s.state is State.SAVE and isinstance(effects[0], SavePhoto)
    if target is State.SAVE:
        return s, t
    t += 1
    s.handle(SaveDone(True, Message("已保存", "Saved"), path="x.jpg"), t)
    assert s.state is State.DONE
    return s, t


def test_the_whole_visit_in_order():
    s, _ = to_state(State.DONE)
    assert s.data.history == [State.ATTRACT, State.IDENTIFY, State.CONFIRM, State.REMINDERS,
                              State.GUIDANCE, State.CAPTURE, State.REVIEW, State.SAVE, State.DONE]
    assert s.data.saved.exported


def test_qr_code_in_attract_identifies_directly():
    s = new()
    s.handle(QrScanned(b"sid=2026010727"), 1)
    assert s.state is State.CONFIRM and s.data.student == LI


def test_a_digit_in_attract_starts_typing():
    s = new()
    s.handle(Digit("2"), 1)
    assert s.state is State.IDENTIFY and s.data.keypad == "2"


def test_keypad_types_erases_and_looks_up():
    s, t = to_state(State.IDENTIFY)
    for d in "2026010727x":          # a non-digit is ignored
        s.handle(Digit(d), t)
    assert s.data.keypad == "2026010727"
    s.handle(ERASE, t)
    assert s.data.keypad == "202601072"
    s.handle(Digit("7"), t)
    s.handle(CONFIRM, t)
    assert s.state is State.CONFIRM and s.data.student == LI


def test_keypad_limits_length_and_back_erases_then_leaves():
    s, t = to_state(State.IDENTIFY)
    for _ in range(40):
        s.handle(Digit("1"), t)
    assert len(s.data.keypad) == 20
    for _ in range(20):
        s.handle(BACK, t)
    assert s.state is State.IDENTIFY and s.data.keypad == ""
    s.handle(BACK, t)
    assert s.state is State.ATTRACT


def test_unknown_number_shows_the_roster_message_and_clears():
    s, t = to_state(State.IDENTIFY)
    for d in "999":
        s.handle(Digit(d), t)
    s.handle(CONFIRM, t)
    assert s.state is State.IDENTIFY and s.data.notice == NOT_FOUND and s.data.keypad == ""
    s.handle(CONFIRM, t)             # nothing typed: asks for the number
    assert s.data.notice.en.startswith("Please type")


def test_strange_qr_code_is_a_message_not_a_crash():
    s, t = to_state(State.IDENTIFY)
    s.handle(QrScanned(b"\x00\xff garbage"), t)
    assert s.state is State.IDENTIFY and s.data.notice.en == "Unknown QR code"


def test_not_me_forgets_the_student():
    s, t = to_state(State.CONFIRM)
    s.handle(BACK, t)
    assert s.state is State.IDENTIFY and s.data.student is None


def test_back_from_reminders_and_guidance():
    s, t = to_state(State.GUIDANCE)
    s.handle(BACK, t)
    assert s.state is State.REMINDERS
    s.handle(BACK, t)
    assert s.state is State.CONFIRM and s.data.student == LI


def test_guidance_captures_only_when_ready_or_all_pass():
    s, t = to_state(State.GUIDANCE)
    s.handle(LiveUpdate(View(ready=False, all_pass=False)), t)
    s.handle(CONFIRM, t)                       # not everything passes: the button does nothing
    assert s.state is State.GUIDANCE
    s.handle(LiveUpdate(View(ready=False, all_pass=True)), t)
    s.handle(CONFIRM, t)                       # all pass: the student may not wait
    assert s.state is State.CAPTURE


def test_countdown_then_one_burst():
    s, t = to_state(State.CAPTURE)
    assert s.tick(t + SETTINGS.countdown_s - 0.1) == []
    assert s.tick(t + SETTINGS.countdown_s) == [TakeBurst(LI)]
    assert s.tick(t + SETTINGS.countdown_s + 0.5) == []       # only one burst


def test_back_during_countdown_returns_to_guidance_but_not_during_burst():
    s, t = to_state(State.CAPTURE)
    s.handle(BACK, t + 1)
    assert s.state is State.GUIDANCE
    s.handle(LiveUpdate(View(ready=True, all_pass=True)), t + 2)
    s.tick(t + 2 + SETTINGS.countdown_s)
    s.handle(BACK, t + 6)
    assert s.state is State.CAPTURE


def test_a_late_photo_of_another_visit_is_never_shown():
    s, t = to_state(State.CAPTURE)
    s.handle(CaptureDone(Photo(ok=True)), t + 0.5)           # before this visit's burst
    assert s.state is State.CAPTURE
    s.tick(t + SETTINGS.countdown_s)

    @dataclass
    class Theirs:
        ok: bool = True
        student: Student = Student(student_id="2026010001", id_number="110105200201011233", name="王芳")

    s.handle(CaptureDone(Theirs()), t + 4)
    assert s.state is State.CAPTURE
    s.handle(CaptureDone(Photo(ok=True)), t + 5)
    assert s.state is State.REVIEW


def test_capture_failed_goes_back_to_guidance_without_using_a_retake():
    s, t = to_state(State.CAPTURE)
    s.tick(t + SETTINGS.countdown_s)
    s.handle(CaptureFailed(Message("请保持不动", "Hold still")), t + 5)
    assert s.state is State.GUIDANCE and s.data.retakes == 0 and s.data.notice.en == "Hold still"


def test_capture_timeout_goes_to_failsafe():
    s, t = to_state(State.CAPTURE)
    t += SETTINGS.countdown_s
    s.tick(t)
    s.tick(t + SETTINGS.capture_timeout_s)
    assert s.state is State.FAILSAFE and s.data.failure is not None


def test_retakes_are_limited():
    s, t = to_state(State.REVIEW)
    for used in range(1, SETTINGS.max_retakes + 1):
        s.handle(BACK, t)
        assert s.state is State.GUIDANCE and s.data.retakes == used
        s.handle(LiveUpdate(View(ready=True, all_pass=True)), t)
        s.tick(t + SETTINGS.countdown_s)
        s.handle(CaptureDone(Photo(ok=True)), t + 4)
        assert s.state is State.REVIEW
    assert s.retakes_left == 0
    s.handle(BACK, t + 5)
    assert s.state is State.REVIEW and s.data.notice.en.startswith("No retakes left")


def test_a_failing_photo_cannot_be_accepted():
    s, t = to_state(State.CAPTURE)
    s.tick(t + SETTINGS.countdown_s)
    s.handle(CaptureDone(Photo(ok=False)), t + 4)
    assert s.state is State.REVIEW and not s.can_accept and s.data.notice is not None
    assert s.handle(CONFIRM, t + 5) == []
    assert s.state is State.REVIEW
    s.handle(BACK, t + 6)
    assert s.state is State.GUIDANCE


def test_save_failure_goes_to_failsafe_and_recovers_by_itself():
    s, t = to_state(State.SAVE)
    s.handle(SaveFailed(Message("存储失败", "Storage failed")), t)
    assert s.state is State.FAILSAFE and s.data.failure.en == "Storage failed"
    s.handle(CONFIRM, t + 1)                   # buttons do not cut the recovery short
    assert s.state is State.FAILSAFE
    s.tick(t + SETTINGS.failsafe_s)
    assert s.state is State.ATTRACT and s.data.student is None


def test_save_timeout_goes_to_failsafe():
    s, t = to_state(State.SAVE)
    s.tick(t + SETTINGS.save_timeout_s)
    assert s.state is State.FAILSAFE


@pytest.mark.parametrize("state", [State.IDENTIFY, State.CONFIRM, State.REMINDERS, State.REVIEW])
def test_idle_timeout_returns_to_attract_and_forgets(state):
    s, t = to_state(state)
    s.tick(t + SETTINGS.idle_timeout_s - 0.5)
    assert s.state is state
    s.tick(t + SETTINGS.idle_timeout_s)
    assert s.state is State.ATTRACT
    assert s.data.student is None and s.data.keypad == "" and s.data.photo is None


def test_input_resets_the_idle_timer():
    s, t = to_state(State.IDENTIFY)
    s.handle(Digit("1"), t + 20)
    s.tick(t + 40)
    assert s.state is State.IDENTIFY
    s.tick(t + 50)
    assert s.state is State.ATTRACT


def test_guidance_times_out_even_with_live_updates():
    s, t = to_state(State.GUIDANCE)
    for k in range(1, 90):
        s.handle(LiveUpdate(View()), t + k)     # frames are not input: they keep nothing alive
    s.tick(t + SETTINGS.guidance_timeout_s)
    assert s.state is State.ATTRACT


def test_done_returns_to_attract_by_itself_or_on_confirm():
    s, t = to_state(State.DONE)
    s.tick(t + SETTINGS.done_s)
    assert s.state is State.ATTRACT
    s, t = to_state(State.DONE)
    s.handle(CONFIRM, t + 1)
    assert s.state is State.ATTRACT


@pytest.mark.parametrize("state", [State.ATTRACT, State.IDENTIFY, State.CONFIRM, State.REMINDERS,
                                   State.GUIDANCE, State.CAPTURE, State.REVIEW, State.SAVE, State.DONE])
def test_a_failure_anywhere_goes_to_failsafe(state):
    s, t = to_state(state)
    s.handle(Failure(Message("相机没有响应", "Camera hung")), t)
    assert s.state is State.FAILSAFE and s.data.failure.en == "Camera hung"
    s.tick(t + SETTINGS.failsafe_s)
    assert s.state is State.ATTRACT and s.data.student is None


def test_technician_mode_from_attract_and_back():
    s = new()
    s.handle(TECHNICIAN_REQUEST, 1)
    assert s.state is State.TECHNICIAN
    s.handle(TECHNICIAN_EXIT, 2)
    assert s.state is State.ATTRACT


def test_technician_never_interrupts_saving():
    s, t = to_state(State.SAVE)
    s.handle(TECHNICIAN_REQUEST, t)
    assert s.state is State.SAVE


def test_technician_mode_times_out():
    s = new()
    s.handle(TECHNICIAN_REQUEST, 1)
    s.tick(1 + SETTINGS.technician_timeout_s)
    assert s.state is State.ATTRACT


def test_language_toggle_everywhere_and_reset_for_the_next_student():
    s, t = to_state(State.REMINDERS)
    s.handle(LANGUAGE, t)
    assert s.data.language == "en" and s.state is State.REMINDERS
    s.handle(LANGUAGE, t)
    s.handle(LANGUAGE, t)
    s.tick(t + SETTINGS.idle_timeout_s)
    assert s.state is State.ATTRACT and s.data.language == "zh"


def test_every_state_has_lights_and_only_scanning_states_analyse():
    assert set(LIGHTS) == set(State)
    assert ANALYSIS == {State.ATTRACT: "qr", State.IDENTIFY: "qr", State.GUIDANCE: "guide"}
    assert LIGHTS[State.ATTRACT] == "idle" and LIGHTS[State.GUIDANCE] == "preview"
