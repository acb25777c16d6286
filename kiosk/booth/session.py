"""The booth's state machine: plain data and one small handler per state.

A student's visit is a walk through these states::

    ATTRACT ─▶ IDENTIFY ─▶ CONFIRM ─▶ REMINDERS ─▶ GUIDANCE ─▶ CAPTURE ─▶ REVIEW ─▶ SAVE ─▶ DONE
       ▲          (QR code or keypad)                  ▲  (steady pass)       │ retake
       │                                               └──────────────────────┘
       └── every timeout, the end of DONE, FAILSAFE (an error anywhere), TECHNICIAN

`Session` never touches a device, a thread or the screen. It is fed typed *events* (`Event`:
a `Press` of a button, digits, a decoded QR code, the latest live-guidance view, the results of
slow jobs) with the current time, and answers with typed *effects* (`Effect`): the slow jobs the
loop must start in a worker (`TakeBurst`, `SavePhoto`, `EjectStick`). Each state's handler is
registered in a table keyed by `State`; the loop (kiosk.booth.loop) turns device and key names
into events at its edge (kiosk.booth.inputs), so nothing in here compares strings. Which
lights and which analysis each state wants is plain data (`LIGHTS`, `ANALYSIS`), applied by the
loop when the state changes. That keeps every transition, timeout, retake and failure testable
with nothing but a clock value.

Entering ATTRACT forgets the student: a timeout anywhere leaves nothing of them on screen.

The registrar's USB stick is booth-level data (`StickView`, kept across visits): the jobs
thread reports whether a stick is there and how many photos wait for it (`StickStatus`); on the
attract screen `EJECT` (the "remove USB stick safely" button, or the E key) asks for the
`EjectStick` job (export what waits, flush, unmount), whose outcome (`StickEjected`) the attract
screen shows for `STICK_OUTCOME_S`.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Protocol, Union

from kiosk.booth.ui import texts  # plain bilingual data (no pygame)
from kiosk.config import SessionSettings
from kiosk.message import Message
from kiosk.photo.arrays import RGB
from kiosk.photo.checks.confirm import confirmation_line
from kiosk.photo.checks.result import to_confirm

if TYPE_CHECKING:                          # heavy modules (models, checks): types only
    from kiosk.booth.guidance import GuidanceView
    from kiosk.photo.checks.result import CheckResult
    from kiosk.photo.engine import PhotoResult
    from kiosk.photo.student import Student

log = logging.getLogger(__name__)


class State(str, enum.Enum):
    ATTRACT = "attract"          # idle: shows how the booth works
    IDENTIFY = "identify"        # scan the QR code from the phone, or type the student number
    CONFIRM = "confirm"          # name + masked ID number: "that's me"
    REMINDERS = "reminders"      # glasses clean, no earrings, hair off brows and ears, no hat
    GUIDANCE = "guidance"        # live preview, one instruction at a time, auto capture
    CAPTURE = "capture"          # countdown, capture lights, burst, build + verify the photo
    REVIEW = "review"            # the cropped 480×640 photo with its check results; what the
                                 # checks could not decide, the student confirms here
    SAVE = "save"                # spool on the SD card, export to the USB stick
    DONE = "done"                # where the photo went; back to attract by itself
    FAILSAFE = "failsafe"        # something broke: apologise, recover by itself
    TECHNICIAN = "technician"    # drawn by kiosk.technician.screens when installed


#: Light level per state (hardware.lights modes). CAPTURE is at capture level for the countdown
#: (eyes adapt before the photo) and the burst; the burst job sets "preview" again after it.
LIGHTS: dict[State, str] = {
    State.ATTRACT: "idle", State.IDENTIFY: "preview", State.CONFIRM: "preview",
    State.REMINDERS: "preview", State.GUIDANCE: "preview", State.CAPTURE: "capture",
    State.REVIEW: "preview", State.SAVE: "idle", State.DONE: "idle", State.FAILSAFE: "idle",
    State.TECHNICIAN: "preview",
}

#: What the analysis worker does with preview frames in each state.
ANALYSIS: dict[State, str] = {
    State.ATTRACT: "qr", State.IDENTIFY: "qr", State.GUIDANCE: "guide",
}

MAX_KEYPAD_DIGITS = 20

#: How long the outcome of "remove the USB stick safely" stays on the attract screen: the
#: registrar reads it, then pulls the stick (the mount is gone at once, the message is not).
STICK_OUTCOME_S = 60.0
#: An eject job that has not answered after this long is reported as failed (the button is back).
EJECT_TIMEOUT_S = 120.0

#: How a visit ends, by the state that ends it (kiosk.technician.stats outcomes).
_OUTCOME: dict[State, str] = {
    State.DONE: "saved", State.FAILSAFE: "failed",
    State.ATTRACT: "abandoned", State.TECHNICIAN: "abandoned",
}

# --- events ----------------------------------------------------------------------------------
class Press(str, enum.Enum):
    """What someone pressed: a big button, a key or a touch target (kiosk.booth.inputs). The
    values are the screens' touch-target names (kiosk.booth.ui ``Button.event``); the state
    machine compares members by identity, so a bare string is never taken for a press."""
    CONFIRM = "confirm"                       # big button, Enter, on-screen OK
    BACK = "retake"                           # retake / back: big button, Backspace, Escape
    LANGUAGE = "language"                     # L key or the on-screen 中/EN button
    ERASE = "erase"                           # keypad ⌫
    TECHNICIAN_REQUEST = "technician_request"  # both big buttons held, F12, the hidden corner
    TECHNICIAN_EXIT = "technician_exit"       # technician mode's Exit
    EJECT = "eject"                           # "remove the USB stick safely": E key or button


CONFIRM = Press.CONFIRM
BACK = Press.BACK
LANGUAGE = Press.LANGUAGE
ERASE = Press.ERASE
TECHNICIAN_REQUEST = Press.TECHNICIAN_REQUEST
TECHNICIAN_EXIT = Press.TECHNICIAN_EXIT
EJECT = Press.EJECT


@dataclass(frozen=True)
class Digit:
    digit: str


@dataclass(frozen=True)
class QrScanned:
    data: bytes


@dataclass(frozen=True)
class LiveUpdate:
    """The live-guidance view of the newest analysed preview frame (see kiosk.booth.guidance)."""
    view: GuidanceView          # .ready means "capture now"


@dataclass(frozen=True)
class CaptureDone:
    photo: PhotoResult          # .ok, .jpeg, .checks, .verdict, .student
    preview: RGB | None = None           # the cropped 480×640 RGB array shown on REVIEW


@dataclass(frozen=True)
class CaptureFailed:
    message: Message


@dataclass(frozen=True)
class SaveDone:
    exported: bool              # on the USB stick (False: kept in the spool for later)
    message: Message            # what the DONE screen says about where the photo is
    path: str | None = None
    item_id: str | None = None  # the photo's spool item (a later export can name it)


@dataclass(frozen=True)
class StickExported:
    """A stick was inserted and what waited in the spool was exported (kiosk.booth.jobs): the DONE
    screen of a photo that was only kept in the booth says where it is now."""
    items: tuple[SaveDone, ...] = ()    # SaveDone(exported=True, ...) per photo on the stick
    problem: Message | None = None     # why the export stopped early (full, read-only stick)


@dataclass(frozen=True)
class StickStatus:
    """The jobs thread looked at the stick and the spool (kiosk.booth.jobs.VisitJobs.stick_status)."""
    present: bool               # a stick is mounted
    pending: int                # photos in the spool that are not on a stick yet


@dataclass(frozen=True)
class StickEjected:
    """The outcome of `EjectStick`: ``ok`` means it is unmounted and may be pulled out."""
    ok: bool
    message: Message            # "可以拔出U盘了 / You can remove the USB stick now", or why not
    present: bool               # still mounted (eject refused or failed)
    pending: int                # photos that stay in the spool (did not reach the stick)


@dataclass(frozen=True)
class SaveFailed:
    message: Message


@dataclass(frozen=True)
class Failure:
    """Something broke (camera gone, worker crashed): go to the failsafe screen."""
    message: Message


# --- effects ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TakeBurst:
    """Switch lights to capture level, take the burst, pick the best frame, build the photo."""
    student: Student


@dataclass(frozen=True)
class SavePhoto:
    student: Student
    photo: PhotoResult
    # what the student confirmed on REVIEW (rules the checks could not decide), recorded with
    # the photo: ({"id": rule, "at": ISO time, "zh": line, "en": line}, ...)
    confirmed: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class EjectStick:
    """Export what waits in the spool, then flush and unmount the stick (the jobs thread)."""


@dataclass(frozen=True)
class SessionEnded:
    """A student's visit is over: the loop appends it to the statistics
    (kiosk.technician.stats.record_session). Nothing personal: no name, no number."""
    outcome: str                # "saved" | "abandoned" (timeout, back, technician) | "failed"
    duration_s: float           # from leaving the attract screen to the end
    checks: tuple[CheckResult, ...] = ()   # the newest photo's results (empty: none taken)
    retakes: int = 0


#: Everything the state machine is fed; the loop's own events never reach it.
Event = Union[Press, "Digit", "QrScanned", "LiveUpdate", "CaptureDone", "CaptureFailed",
              "SaveDone", "StickExported", "StickStatus", "StickEjected", "SaveFailed", "Failure"]
#: Everything it asks the loop to do (a slow job on the jobs thread).
Effect = Union[TakeBurst, SavePhoto, EjectStick]


class LookupFailed(Exception):
    """A QR code or student number that leads to nobody; ``message`` is shown on IDENTIFY."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.en)
        self.message = message


class Directory(Protocol):
    """Who is who: built by the app from the registrar's roster and the QR payload format."""

    def from_qr(self, data: bytes) -> Student: ...          # or raise LookupFailed
    def from_number(self, student_id: str) -> Student: ...  # or raise LookupFailed


MSG_CONFIRM_FIRST = Message("请先确认以上各项", "Please confirm the points above first")
MSG_NOT_ACCEPTABLE = Message("这张照片不符合要求，请重拍", "This photo does not meet the standard: please retake")
MSG_NO_RETAKES = Message("重拍次数已用完，请联系工作人员", "No retakes left: please ask the staff for help")
MSG_TYPE_NUMBER = Message("请输入学号", "Please type your student number")
MSG_CAPTURE_TIMEOUT = Message("拍照超时", "The camera did not answer in time")
MSG_SAVE_TIMEOUT = Message("保存超时", "Saving took too long")


@dataclass
class StickView:
    """The registrar's stick as the attract screen shows it. Booth-level: survives visits."""
    present: bool = False
    pending: int = 0
    ejecting_since: float | None = None    # an eject job is under way (the button is hidden)
    outcome: Message | None = None         # the last eject's result, shown until outcome_until
    outcome_ok: bool = False
    outcome_until: float = 0.0

    @property
    def ejecting(self) -> bool:
        return self.ejecting_since is not None


@dataclass
class SessionData:
    """Everything the screens show. Screens read it; only `Session` writes it."""
    state: State = State.ATTRACT
    entered_at: float = 0.0
    last_input_at: float = 0.0
    language: str = "zh"
    student: Student | None = None
    keypad: str = ""
    notice: Message | None = None          # a message for the current screen (errors, hints)
    live: GuidanceView | None = None       # newest view while in GUIDANCE
    countdown_until: float | None = None   # CAPTURE: when the countdown ends
    burst_started: bool = False
    photo: PhotoResult | None = None       # on REVIEW / SAVE
    photo_preview: RGB | None = None          # cropped RGB array for REVIEW
    # REVIEW: the rules the checks could not decide (CheckResults, kiosk.photo.checks.result
    # .to_confirm) and the confirmations given so far, rule id -> the recorded confirmation
    to_confirm: tuple[CheckResult, ...] = ()
    confirmed: dict[str, dict[str, str]] = field(default_factory=dict)
    retakes: int = 0
    saved: SaveDone | None = None
    failure: Message | None = None
    history: list[State] = field(default_factory=list)   # states entered, for tests and logs
    visit_started_at: float | None = None  # left the attract screen (None: no visit under way)
    last_checks: tuple[CheckResult, ...] = ()   # the newest photo's results, for the statistics
    identified: bool = False               # someone was identified in this visit (else not counted)
    stick: StickView = field(default_factory=StickView)   # the registrar's USB stick


class Session:
    """The booth's state machine. ``handle(event, now)`` and ``tick(now)`` return effects."""

    def __init__(self, settings: SessionSettings, directory: Directory, *,
                 language: str = "zh", now: float = 0.0,
                 wall_clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.directory = directory
        # when a confirmation was given is recorded in local time with its offset (the
        # session's own ``now`` is a monotonic clock)
        self.wall_clock = wall_clock or (lambda: datetime.now().astimezone())
        self._default_language = language
        self.data = SessionData(language=language)
        self._ended: list[SessionEnded] = []
        # one handler per state, registered here (not looked up by name)
        self._handlers: dict[State, Callable[[Event, float], list[Effect] | None]] = {
            State.ATTRACT: self._on_attract, State.IDENTIFY: self._on_identify,
            State.CONFIRM: self._on_confirm, State.REMINDERS: self._on_reminders,
            State.GUIDANCE: self._on_guidance, State.CAPTURE: self._on_capture,
            State.REVIEW: self._on_review, State.SAVE: self._on_save, State.DONE: self._on_done,
            State.FAILSAFE: self._on_failsafe, State.TECHNICIAN: self._on_technician,
        }
        self._enter(State.ATTRACT, now)

    @property
    def state(self) -> State:
        return self.data.state

    # --- the two entry points ------------------------------------------------------------
    def handle(self, event: Event, now: float) -> list[Effect]:
        """Feed one event; returns the effects the loop must start (a list, often empty)."""
        d = self.data
        if event is LANGUAGE:
            d.language = "en" if d.language == "zh" else "zh"
            d.last_input_at = now
            return []
        if isinstance(event, Failure):
            return self.fail(event.message, now)
        if isinstance(event, (StickStatus, StickEjected)):     # booth-level, in any state
            self._stick_news(event, now)
            return []
        if event is TECHNICIAN_REQUEST and d.state is not State.SAVE:
            # SAVE is never interrupted: the photo is being written
            self._enter(State.TECHNICIAN, now)
            return []
        if not isinstance(event, (LiveUpdate, StickExported)):   # not the student's doing
            d.last_input_at = now
        return self._handlers[d.state](event, now) or []

    def tick(self, now: float) -> list[Effect]:
        """Let time pass: timeouts, the countdown, the end of DONE and FAILSAFE."""
        d, s = self.data, self.settings
        self._stick_tick(now)
        idle = now - d.last_input_at
        in_state = now - d.entered_at
        if d.state in (State.IDENTIFY, State.CONFIRM, State.REMINDERS, State.REVIEW):
            if idle >= s.idle_timeout_s:
                log.info("timeout on %s: back to attract", d.state.value)
                self._enter(State.ATTRACT, now)
        elif d.state is State.GUIDANCE and in_state >= s.guidance_timeout_s:
            log.info("no capture after %.0f s of guidance: back to attract", in_state)
            self._enter(State.ATTRACT, now)
        elif d.state is State.CAPTURE:
            if not d.burst_started and d.countdown_until is not None and now >= d.countdown_until:
                d.burst_started = True
                assert d.student is not None            # CAPTURE is reached only once identified
                return [TakeBurst(d.student)]
            if d.burst_started and d.countdown_until is not None and \
                    now - d.countdown_until >= s.capture_timeout_s:
                return self.fail(MSG_CAPTURE_TIMEOUT, now)
        elif d.state is State.SAVE and in_state >= s.save_timeout_s:
            return self.fail(MSG_SAVE_TIMEOUT, now)
        elif d.state is State.DONE and in_state >= s.done_s:
            self._enter(State.ATTRACT, now)
        elif d.state is State.FAILSAFE and in_state >= s.failsafe_s:
            self._enter(State.ATTRACT, now)
        elif d.state is State.TECHNICIAN and idle >= s.technician_timeout_s:
            self._enter(State.ATTRACT, now)
        return []

    def take_ended(self) -> list[SessionEnded]:
        """The visits that ended since the last call (the loop records them)."""
        ended, self._ended = self._ended, []
        return ended

    def fail(self, message: Message, now: float) -> list[Effect]:
        """Go to the failsafe screen (from anywhere); it returns to attract by itself."""
        log.error("failsafe: %s", message.en)
        self._enter(State.FAILSAFE, now)
        self.data.failure = message
        return []

    # --- per-state handlers --------------------------------------------------------------
    def _on_attract(self, event: Event, now: float) -> list[Effect] | None:
        if isinstance(event, (QrScanned, Digit)):
            self._enter(State.IDENTIFY, now)
            return self._on_identify(event, now)
        if event is CONFIRM:
            self._enter(State.IDENTIFY, now)
        if event is EJECT:
            return self._eject(now)
        return None

    def _on_identify(self, event: Event, now: float) -> list[Effect] | None:
        d = self.data
        if isinstance(event, QrScanned):
            self._identify(lambda: self.directory.from_qr(event.data), now)
        elif isinstance(event, Digit):
            if event.digit.isdigit() and len(d.keypad) < MAX_KEYPAD_DIGITS:
                d.keypad += event.digit
                d.notice = None
        elif event is ERASE:
            d.keypad = d.keypad[:-1]
        elif event is BACK:
            if d.keypad:
                d.keypad = d.keypad[:-1]
            else:
                self._enter(State.ATTRACT, now)
        elif event is CONFIRM:
            if not d.keypad:
                d.notice = MSG_TYPE_NUMBER
            else:
                number = d.keypad
                self._identify(lambda: self.directory.from_number(number), now)
        return None

    def _identify(self, lookup: Callable[[], Student], now: float) -> None:
        try:
            student = lookup()
        except LookupFailed as exc:
            self.data.notice = exc.message
            self.data.keypad = ""
            return
        self._enter(State.CONFIRM, now)
        self.data.student = student
        self.data.identified = True

    def _on_confirm(self, event: Event, now: float) -> list[Effect] | None:
        if event is CONFIRM:
            self._enter(State.REMINDERS, now)
        elif event is BACK:
            self._enter(State.IDENTIFY, now)
            self.data.student = None
        return None

    def _on_reminders(self, event: Event, now: float) -> list[Effect] | None:
        if event is CONFIRM:
            self._enter(State.GUIDANCE, now)
        elif event is BACK:
            self._enter(State.CONFIRM, now)
        return None

    def _on_guidance(self, event: Event, now: float) -> list[Effect] | None:
        d = self.data
        if isinstance(event, LiveUpdate):
            d.live = event.view
            if event.view.ready:
                self._start_countdown(now)
        elif event is CONFIRM and d.live is not None and d.live.all_pass:
            # the student may press the button once everything passes, without waiting
            self._start_countdown(now)
        elif event is BACK:
            self._enter(State.REMINDERS, now)
        return None

    def _start_countdown(self, now: float) -> None:
        self._enter(State.CAPTURE, now)
        self.data.countdown_until = now + self.settings.countdown_s
        self.data.burst_started = False

    def _on_capture(self, event: Event, now: float) -> list[Effect] | None:
        d = self.data
        if isinstance(event, CaptureDone):
            who = event.photo.student
            if not d.burst_started or (who is not None and who != d.student):
                # a late result of an earlier visit's burst: never show someone else's photo
                log.warning("capture result for another visit ignored")
                return []
            self._enter(State.REVIEW, now)
            d.photo, d.photo_preview = event.photo, event.preview
            d.last_checks = tuple(event.photo.checks or ())
            d.to_confirm = tuple(to_confirm(d.last_checks)) if event.photo.ok else ()
            d.confirmed = {}
            if not event.photo.ok:
                d.notice = MSG_NOT_ACCEPTABLE if self.retakes_left else MSG_NO_RETAKES
        elif isinstance(event, CaptureFailed):
            # the student moved during the burst: back to guidance, not counted as a retake
            self._enter(State.GUIDANCE, now)
            d.notice = event.message
        elif event is BACK and not d.burst_started:
            self._enter(State.GUIDANCE, now)
        return None

    @property
    def retakes_left(self) -> int:
        return max(0, self.settings.max_retakes - self.data.retakes)

    @property
    def pending_confirmations(self) -> tuple[CheckResult, ...]:
        """REVIEW: the undecided rules the student has not confirmed yet."""
        d = self.data
        return tuple(c for c in d.to_confirm if c.id not in d.confirmed)

    @property
    def must_confirm(self) -> bool:
        """REVIEW: the photo is usable once the student confirms what the checks could not decide."""
        return (self.data.state is State.REVIEW and self.data.photo is not None
                and self.data.photo.ok and bool(self.pending_confirmations))

    @property
    def can_accept(self) -> bool:
        return (self.data.state is State.REVIEW and self.data.photo is not None
                and self.data.photo.ok and not self.pending_confirmations)

    def _confirm(self) -> None:
        """The student confirms every listed point at once (one big button): recorded with
        the time, and the photo stays flagged "needs a look" for the registrar."""
        d = self.data
        at = self.wall_clock().isoformat(timespec="seconds")
        for c in self.pending_confirmations:
            line = confirmation_line(c)
            d.confirmed[c.id] = {"id": c.id, "at": at, "zh": line.zh, "en": line.en,
                                 **({"exception": str(c.found)} if c.found else {})}
            log.info("student confirmed %s", c.id)

    def _on_review(self, event: Event, now: float) -> list[Effect] | None:
        d = self.data
        if event is CONFIRM:
            if self.must_confirm:
                self._confirm()
                return []
            if not self.can_accept:
                d.notice = MSG_NOT_ACCEPTABLE if self.retakes_left else MSG_NO_RETAKES
                return []
            photo, student, confirmed = d.photo, d.student, tuple(d.confirmed.values())
            assert photo is not None and student is not None      # can_accept: both are there
            self._enter(State.SAVE, now)
            d.photo = photo
            return [SavePhoto(student, photo, confirmed)]
        if event is BACK:
            if not self.retakes_left:
                d.notice = MSG_NO_RETAKES
                return []
            d.retakes += 1
            self._enter(State.GUIDANCE, now)
        return []

    def _on_save(self, event: Event, now: float) -> list[Effect] | None:
        if isinstance(event, SaveDone):
            self._enter(State.DONE, now)
            self.data.saved = event
        elif isinstance(event, SaveFailed):
            self.fail(event.message, now)
        return None

    def _on_done(self, event: Event, now: float) -> list[Effect] | None:
        d = self.data
        if event is CONFIRM:
            self._enter(State.ATTRACT, now)
        elif isinstance(event, StickExported) and d.saved is not None and not d.saved.exported:
            mine = next((i for i in event.items if i.item_id == d.saved.item_id), None)
            if mine is not None:
                d.saved = mine
            elif event.problem is not None:
                d.saved = SaveDone(False, event.problem, item_id=d.saved.item_id)
        return None

    def _on_failsafe(self, event: Event, now: float) -> list[Effect] | None:
        return None      # recovers by itself (tick); buttons are ignored while it does

    def _on_technician(self, event: Event, now: float) -> list[Effect] | None:
        if event is TECHNICIAN_EXIT:
            self._enter(State.ATTRACT, now)
        return None

    # --- the registrar's stick -----------------------------------------------------------
    def _eject(self, now: float) -> list[Effect]:
        """"Remove the USB stick safely": one eject job at a time, only with a stick there."""
        st = self.data.stick
        if st.ejecting:
            return []
        if not st.present:
            self._stick_outcome(False, texts.STICK_MISSING, now)
            return []
        log.info("eject requested (%d photos waiting for the stick)", st.pending)
        st.ejecting_since = now
        st.outcome = None
        return [EjectStick()]

    def _stick_news(self, event: StickStatus | StickEjected, now: float) -> None:
        st = self.data.stick
        if isinstance(event, StickEjected):
            st.ejecting_since = None
            self._stick_outcome(event.ok, event.message, now)
        elif event.present and not st.present:
            st.outcome = None          # a (new) stick came in: the last one's outcome is old news
        st.present, st.pending = event.present, event.pending

    def _stick_outcome(self, ok: bool, message: Message, now: float) -> None:
        st = self.data.stick
        st.outcome, st.outcome_ok, st.outcome_until = message, ok, now + STICK_OUTCOME_S

    def _stick_tick(self, now: float) -> None:
        st = self.data.stick
        if st.ejecting_since is not None and now - st.ejecting_since >= EJECT_TIMEOUT_S:
            log.error("no answer from the eject job after %.0f s", now - st.ejecting_since)
            st.ejecting_since = None
            self._stick_outcome(False, texts.STICK_EJECT_FAILED, now)
        if st.outcome is not None and now >= st.outcome_until:
            st.outcome = None

    # --- bookkeeping ---------------------------------------------------------------------
    def _end_visit(self, state: State, now: float) -> None:
        """Entering DONE, FAILSAFE, ATTRACT or TECHNICIAN during a visit ends it, once. A visit
        in which nobody was identified (a touch by accident, a passer-by) is not counted."""
        d = self.data
        if d.visit_started_at is None or state not in _OUTCOME:
            return
        if not d.identified:
            d.visit_started_at = None
            return
        ended = SessionEnded(_OUTCOME[state], max(0.0, now - d.visit_started_at),
                             d.last_checks, d.retakes)
        d.visit_started_at = None
        log.info("visit ended: %s after %.0f s, %d retakes", ended.outcome, ended.duration_s,
                 ended.retakes)
        self._ended.append(ended)

    def _enter(self, state: State, now: float) -> None:
        d = self.data
        self._end_visit(state, now)
        if d.state is State.ATTRACT and state is State.IDENTIFY:
            d.visit_started_at = now
        if state is State.ATTRACT:
            # forget the student (nothing of them stays on screen or in memory); the next
            # student starts in the booth's first language again
            self.data = d = SessionData(language=self._default_language,
                                        history=d.history[-50:], stick=d.stick)
        log.info("state %s -> %s", d.state.value, state.value)
        d.state = state
        d.entered_at = now
        d.last_input_at = now
        d.notice = None
        d.live = None
        d.failure = None
        if state not in (State.REVIEW, State.SAVE):
            d.photo = d.photo_preview = None
            d.to_confirm, d.confirmed = (), {}
        d.history.append(state)
