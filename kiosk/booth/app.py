"""The booth's main loop: ``kiosk run`` on the real booth, and the same loop in the simulator.

One thread owns the screen. Each frame it

1. takes the events posted by devices and workers (a thread-safe queue) and pygame's input,
2. feeds them to the `Session` (the state machine) and starts the jobs it asks for,
3. lets time pass (timeouts, countdown), applies lights and analysis mode on a state change,
4. draws the state, and pets the watchdog when the loop ticks *and* camera frames arrive.

It never sleeps: waiting for the next frame is waiting on the event queue, so a button press
is handled at once. The camera is read, and frames analysed, on worker threads
(`kiosk.booth.workers`); the loop keeps its frame rate while a frame is being analysed.

Input: keyboard Enter/Space = confirm, Backspace/Esc = retake or back (Backspace erases a digit
while typing), digits = keypad, L = language, E = remove the USB stick safely (attract screen
only, like its button), F12 = technician mode, Ctrl+Q = quit. Touch:
MOUSEBUTTONUP only (SDL synthesises it from a finger), see `kiosk.booth.ui.screens`. Technician mode:
both big buttons held (hardware.events.BOTH_HELD), F12, or a touch held for
`TECHNICIAN_HOLD_S` in the top-left corner of the screen.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from kiosk.booth import session as s
from kiosk.message import Message
from kiosk.config import Config
from kiosk.booth.guidance import Guide
from kiosk.booth.jobs import VisitJobs
from kiosk.booth.session import LIGHTS, ANALYSIS, Session, State
from kiosk.booth.workers import Jobs, LiveAnalysis, LiveResult, PreviewFeed

log = logging.getLogger(__name__)
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")   # no banner on the booth's stdout

TECHNICIAN_HOLD_S = 3.0          # hidden gesture: hold the top-left corner this long

#: At start the camera is retried this often until it delivers frames (see `CameraStarter`).
CAMERA_RETRY_S = 3.0

MSG_CAMERA_MISSING = Message("相机未连接，请联系工作人员", "Camera not connected: please call staff")
MSG_NO_ROSTER = Message("名单未加载，请联系工作人员", "The roster is not loaded: please ask the staff")


def msg_not_on_roster(number: str) -> Message:
    return Message(f"名单中没有学号 {number}，请检查后重新输入",
                   f"Student number {number} is not on the roster: please check and type it again")


class EventQueue:
    """Thread-safe mailbox of the loop: device callbacks and workers only ever call ``post``."""

    def __init__(self) -> None:
        self._q: "queue.Queue[Any]" = queue.Queue()

    def post(self, event: Any) -> None:
        self._q.put(event)

    def get(self, timeout: float) -> Any | None:
        try:
            return self._q.get(timeout=max(0.0, timeout)) if timeout > 0 else self._q.get_nowait()
        except queue.Empty:
            return None


class RosterDirectory:
    """`kiosk.booth.session.Directory` over the registrar's roster and the QR payload formats.

    ``formats`` and ``max_bytes`` are the QR codes the booth accepts (``config.export``
    ``qr_formats``, ``qr_max_bytes``); ``student_id_pattern`` the school's student numbers
    (``config.students``; empty: kiosk.photo.student's default). :meth:`from_config` reads all three.
    """

    def __init__(self, roster, *, formats: tuple[str, ...] | None = None,
                 max_bytes: int | None = None, student_id_pattern: str = "") -> None:
        from kiosk.handoff.qr import FORMATS, MAX_PAYLOAD_BYTES

        self.roster = roster
        self.formats = tuple(formats) if formats is not None else FORMATS
        self.max_bytes = max_bytes if max_bytes is not None else MAX_PAYLOAD_BYTES
        self.student_id_pattern = student_id_pattern

    @classmethod
    def from_config(cls, roster, config: Config) -> "RosterDirectory":
        return cls(roster, formats=config.export.qr_formats, max_bytes=config.export.qr_max_bytes,
                   student_id_pattern=config.students.student_id_pattern)

    def from_qr(self, data: bytes):
        from kiosk.handoff.qr import QrPayloadError, identify, parse_qr_payload

        extra = {"student_id_pattern": self.student_id_pattern} if self.student_id_pattern else {}
        try:
            qr = parse_qr_payload(data, formats=self.formats, max_bytes=self.max_bytes, **extra)
            return identify(qr, self.roster)
        except QrPayloadError as exc:
            raise s.LookupFailed(exc.message) from None

    def from_number(self, student_id: str):
        if self.roster is None:
            raise s.LookupFailed(MSG_NO_ROSTER)
        student = self.roster.find(student_id)
        if student is None:
            raise s.LookupFailed(msg_not_on_roster(student_id))
        return student


CAMERA_STARTED = "camera_started"          # posted by CameraStarter once camera.start() worked


class CameraStarter(threading.Thread):
    """Retries ``camera.start()`` every ``retry_s`` seconds until it works, then posts
    `CAMERA_STARTED`. Until then each failed try posts a `Failure`, so the failsafe screen
    stays up with ``message`` (it would otherwise go back to attract by itself)."""

    def __init__(self, camera, post: Callable[[Any], None], message: Message, *,
                 retry_s: float = CAMERA_RETRY_S) -> None:
        super().__init__(name="camera-starter", daemon=True)
        self.camera, self.post, self.message, self.retry_s = camera, post, message, retry_s
        self._halt = threading.Event()
        self.tries = 0

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        while not self._halt.wait(self.retry_s):
            self.tries += 1
            try:
                self.camera.start()
            except Exception as exc:          # CameraError, or a driver's own error
                log.warning("camera still not available (try %d): %s", self.tries, exc)
                self.post(s.Failure(self.message))
                continue
            log.info("camera started after %d tries", self.tries)
            self.post(CAMERA_STARTED)
            return


@dataclass
class Stats:
    """Timestamps of the newest visit (loop clock) for the simulator's summary and the bench."""
    frames: int = 0
    started: float = 0.0
    draw_seconds: float = 0.0             # time spent drawing (all frames)
    live_frames: int = 0                  # analysed frames that reached guidance
    guidance_at: float | None = None      # live guidance began
    all_pass_at: float | None = None      # the steady pass that led to the capture began
    burst_at: float | None = None         # countdown over, burst started
    review_at: float | None = None        # photo built and verified, shown for review
    accepted_at: float | None = None      # the student accepted it
    saved_at: float | None = None         # spooled and on the USB stick

    @property
    def live_fps(self) -> float | None:
        """Analysed frames per second of live guidance (wall time, until the burst)."""
        if self.guidance_at is None or self.burst_at is None or self.burst_at <= self.guidance_at:
            return None
        return self.live_frames / (self.burst_at - self.guidance_at)

    @property
    def pass_to_usb_s(self) -> float | None:
        """Machine time from "all checks pass" to "photo on the USB stick", without the time
        the student spends looking at the review screen."""
        t = (self.all_pass_at, self.review_at, self.accepted_at, self.saved_at)
        if None in t:
            return None
        return (t[1] - t[0]) + (t[3] - t[2])


class Booth:
    """The loop. Build it, ``start()`` it, then ``run()`` (or ``step()`` frame by frame).

    ``devices`` is what :func:`hardware.open_devices` returns (camera, lights, buttons, usb,
    service); its buttons and USB watcher must post into ``events``.
    """

    camera_retry_s = CAMERA_RETRY_S     # how often a camera that did not start is tried again

    def __init__(self, config: Config, devices, events: EventQueue, *, key: bytes,
                 directory, spool, surface=None, fonts=None,
                 clock: Callable[[], float] = time.monotonic,
                 analyzer_factory: Callable[[], Any] | None = None) -> None:
        import pygame

        from kiosk.booth.ui.fonts import Fonts
        from kiosk.booth.ui.layout import make_layout

        self.config = config
        self.devices = devices
        self.events = events
        self.key = key
        self.spool = spool
        self.clock = clock
        self.surface = surface if surface is not None else pygame.display.get_surface()
        self.fonts = fonts or Fonts()
        self.layout = make_layout(self.surface.get_size())
        self.session = Session(config.session, directory, language=config.booth.language,
                               now=clock())
        self.guide = Guide(config.session)
        self.feed = PreviewFeed(devices.camera, events.post)
        self.live: LiveAnalysis | None = None
        self.starter: CameraStarter | None = None
        self.jobs = Jobs(events.post)
        self.analyzer_factory = analyzer_factory
        self.work = VisitJobs(config, devices, self.feed, key=key, spool=spool,
                              analyzer_factory=analyzer_factory)
        self.state_listeners: list[Callable[["Booth", State], None]] = []
        self.frame_listeners: list[Callable[["Booth"], None]] = []
        self.stats = Stats()
        self.running = False
        self._shown_state: State | None = None
        self._press: tuple[tuple[int, int], float] | None = None
        self.warnings: list[str] = []          # for the technician, small on the attract screen
        self._ready_sent = False
        self._frame_seq = 0
        self._next_frame = 0.0
        self.model = None
        self.watchdog = None
        from kiosk.booth.voice import Voice

        self.voice = Voice.for_booth(self)     # spoken prompts and beeps: a frame listener
        if getattr(devices, "service", None) is not None:
            from hardware.service import WatchdogGate

            self.watchdog = WatchdogGate(devices.service)

    # --- life cycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Start the camera and the workers.

        A camera that cannot start (missing, cable loose, driver error) does not stop the booth:
        the failsafe screen says so (`MSG_CAMERA_MISSING`), the log says why, and `CameraStarter`
        tries again every `CAMERA_RETRY_S`. READY is sent only once frames arrive
        (`_pet_watchdog`), so under systemd a camera that never comes back still ends in the
        unit's start timeout and its restart/recovery path (see systemd/kiosk.service).
        """
        try:
            self.devices.camera.start()
        except Exception as exc:
            log.error("camera cannot start: %s; retrying every %.0f s", exc, self.camera_retry_s)
            self.session.fail(MSG_CAMERA_MISSING, self.clock())
            self.starter = CameraStarter(self.devices.camera, self.events.post, MSG_CAMERA_MISSING,
                                         retry_s=self.camera_retry_s)
            self.starter.start()
        else:
            self._start_camera_workers()
        self.jobs.start()
        self.jobs.submit(self.work.export_when_inserted)   # what waited in the spool, if any
        self.jobs.submit(self.work.stick_status)           # for the attract screen's status line
        self.stats.started = self.clock()
        self.running = True
        self._on_state(self.session.state)

    def _start_camera_workers(self) -> None:
        """The camera works: start reading and analysing its preview frames."""
        still = getattr(self.devices.camera, "still_size", None)
        self.live = LiveAnalysis(self.feed, self.events.post, self.config, still_size=still,
                                 analyzer_factory=self.analyzer_factory)
        self.feed.start()
        self.live.start()
        self.live.set_mode(ANALYSIS.get(self.session.state, "off"))

    def stop(self) -> None:
        self.running = False
        service = self.devices.service
        if service is not None and hasattr(service, "stopping"):
            service.stopping()
        workers = (self.starter, self.feed, self.live, self.jobs)
        for worker in workers:
            if worker is not None:
                worker.stop()
        for worker in workers:
            if worker is not None and worker.is_alive():
                worker.join(timeout=5)
        self.work.close()
        self.voice.close()

    def run(self, *, until: Callable[["Booth"], bool] | None = None, max_seconds: float | None = None) -> None:
        """Run frames until ``until(booth)`` is true, ``max_seconds`` pass, or Ctrl+Q."""
        t0 = self.clock()
        while self.running:
            self.step()
            if until is not None and until(self):
                break
            if max_seconds is not None and self.clock() - t0 > max_seconds:
                log.warning("run: %.0f s passed, stopping", max_seconds)
                break

    # --- one frame -----------------------------------------------------------------------
    def step(self) -> None:
        import pygame

        period = 1.0 / max(1, self.config.session.fps)
        now = self.clock()
        # frames on a fixed beat: the time spent drawing is part of the period, not added to it
        deadline = self._next_frame if self._next_frame > now else now + period
        self._next_frame = deadline + period
        self._handle_pygame(pygame.event.get())
        # wait for posted events until the next frame is due: this is the loop's only wait
        state = self.session.state
        while True:
            event = self.events.get(deadline - self.clock())
            if event is None:
                break
            self._dispatch(event)
            if self.session.state is not state:
                break             # a new screen: draw it now (every state is seen, however short)
        self._apply(self.session.tick(self.clock()))
        self._after_events()
        try:
            t0 = time.perf_counter()
            self.draw()
            self.stats.draw_seconds += time.perf_counter() - t0
        except Exception as exc:        # a drawing bug shows the failsafe screen, not a traceback
            log.exception("drawing %s failed", self.session.state.value)
            if self.session.state is State.FAILSAFE:
                raise                   # even the failsafe screen cannot draw: let systemd restart
            self.session.fail(Message("显示出错", f"Display error: {exc}"), self.clock())
            self._after_events()
            self.draw()
        pygame.display.flip()
        self.stats.frames += 1
        self._pet_watchdog()
        for listener in list(self.frame_listeners):
            listener(self)

    def draw(self) -> None:
        from kiosk.booth.ui import screens

        frame, _ = self.feed.latest()
        self.model = screens.ScreenModel(
            self.session.data, now=self.clock(), preview=frame,
            retakes_left=self.session.retakes_left, can_accept=self.session.can_accept,
            technician=self, warnings=tuple(self.config.warnings) + tuple(self.warnings),
            whole_frame=self.config.booth.whole_frame_preview)
        screens.draw(self.surface, self.fonts, self.layout, self.model)

    # --- events --------------------------------------------------------------------------
    def post(self, event: Any) -> None:
        self.events.post(event)

    def _dispatch(self, event: Any) -> None:
        now = self.clock()
        if isinstance(event, LiveResult):
            self._live_result(event, now)
            return
        if event == CAMERA_STARTED:
            self._start_camera_workers()
            return
        if event == "usb_inserted":
            self.jobs.submit(self.work.export_when_inserted)
            self.jobs.submit(self.work.stick_status)
            return
        if isinstance(event, s.SaveDone) and event.exported:
            self.stats.saved_at = now
        if event == "usb_removed":
            self.jobs.submit(self.work.stick_status)
            return
        if self.session.state is State.TECHNICIAN and event == s.BACK and \
                _technician_handler() is None:
            event = s.TECHNICIAN_EXIT
        try:
            self._apply(self.session.handle(event, now))
        except Exception as exc:                # a handler bug must not kill the booth
            log.exception("session failed on %r", event)
            self.session.fail(Message("内部错误", f"Internal error: {exc}"), now)
        self._after_events()

    def _live_result(self, r: LiveResult, now: float) -> None:
        if self.live is None or r.generation != self.live.generation or \
                self.session.state is not State.GUIDANCE:
            return                               # from an older visit or state: stale
        self.stats.live_frames += 1
        view = self.guide.update(r.results, r.plan, now, source_size=r.source_size, people=r.people)
        log.debug("live: %.0f ms, people %d, failing %s -> %s", r.seconds * 1000, r.people,
                  ",".join(view.failing) or "-", view.message.en)
        if view.ready:
            self.stats.all_pass_at = self.guide.steady.since
        self._apply(self.session.handle(s.LiveUpdate(view), now))
        self._after_events()

    def _handle_pygame(self, events) -> None:
        import pygame

        from kiosk.booth.ui import screens
        from kiosk.booth.ui.layout import hit

        for ev in events:
            if ev.type == pygame.QUIT:
                self.running = False
            elif self.session.state is State.TECHNICIAN and _technician_handler() is not None:
                if _technician_handler()(ev, self):
                    self.events.post(s.TECHNICIAN_EXIT)
            elif ev.type == pygame.KEYDOWN:
                self._key(ev)
            elif ev.type == pygame.MOUSEBUTTONDOWN and ev.button == 1:
                self._press = (ev.pos, self.clock())
            elif ev.type == pygame.MOUSEBUTTONUP and ev.button == 1:
                press, self._press = self._press, None
                corner = pygame.Rect(0, 0, self.layout.width // 8, self.layout.height // 8)
                if press and corner.collidepoint(press[0]) and \
                        self.clock() - press[1] >= TECHNICIAN_HOLD_S:
                    self.events.post(s.TECHNICIAN_REQUEST)
                    continue
                if self.model is None:
                    continue
                name = hit(screens.buttons(self.model, self.layout), ev.pos)
                if name:
                    self.events.post(_button_event(name))

    def _key(self, ev) -> None:
        import pygame

        k = ev.key
        if k == pygame.K_q and ev.mod & pygame.KMOD_CTRL:
            self.running = False
        elif k in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE):
            self.events.post(s.CONFIRM)
        elif k == pygame.K_BACKSPACE:
            typing = self.session.state is State.IDENTIFY and self.session.data.keypad
            self.events.post(s.ERASE if typing else s.BACK)
        elif k == pygame.K_ESCAPE:
            self.events.post(s.BACK)
        elif k == pygame.K_l:
            self.events.post(s.LANGUAGE)
        elif k == pygame.K_e:
            self.events.post(s.EJECT)
        elif k == pygame.K_F12:
            self.events.post(s.TECHNICIAN_REQUEST)
        elif ev.unicode and ev.unicode.isdigit() and ev.unicode.isascii():
            self.events.post(s.Digit(ev.unicode))

    # --- effects and state changes -------------------------------------------------------
    def _apply(self, effects: list) -> None:
        for effect in effects:
            if isinstance(effect, s.TakeBurst):
                self.stats.burst_at = self.clock()
                self.jobs.submit(lambda student=effect.student: self.work.burst(student))
            elif isinstance(effect, s.SavePhoto):
                self.stats.accepted_at = self.clock()
                self.jobs.submit(lambda e=effect: self.work.save(e.student, e.photo, e.confirmed))
                self.jobs.submit(self.work.stick_status)    # the attract screen's photo count
            elif isinstance(effect, s.EjectStick):
                self.jobs.submit(self.work.eject)

    def _after_events(self) -> None:
        for ended in self.session.take_ended():
            self._record(ended)
        state = self.session.state
        if state is not self._shown_state:
            self._on_state(state)

    def _record(self, ended: s.SessionEnded) -> None:
        """Append the visit to the statistics (technician mode reads them); never fatal."""
        from kiosk.technician.stats import record_session

        try:
            record_session(self.config.booth.state_dir, outcome=ended.outcome,
                           duration_s=ended.duration_s, checks=ended.checks, retakes=ended.retakes)
        except Exception:
            log.exception("session statistics not recorded")

    def _on_state(self, state: State) -> None:
        self._shown_state = state
        lights = self.devices.lights
        if lights is not None and state in LIGHTS:
            try:
                lights.set_mode(LIGHTS[state])
            except Exception:
                log.exception("lights failed")
        if self.live is not None:
            self.live.set_mode(ANALYSIS.get(state, "off"))
        if state is State.GUIDANCE:
            self.guide.reset()
            self.stats.guidance_at = self.clock()
        if state is State.REVIEW:
            self.stats.review_at = self.clock()
        service = self.devices.service
        if service is not None and hasattr(service, "status"):
            service.status(f"state: {state.value}")
        for listener in list(self.state_listeners):
            listener(self, state)

    def _pet_watchdog(self) -> None:
        """READY once the screen is up and frames arrive; pet only while both keep happening."""
        if self.watchdog is None:
            return
        self.watchdog.loop_ticked()
        _, seq = self.feed.latest()
        if seq != self._frame_seq:
            self._frame_seq = seq
            self.watchdog.frame_arrived()
            if not self._ready_sent:
                self.devices.service.ready()
                self._ready_sent = True
        self.watchdog.maybe_pet()    # frames stopped: no pet, systemd restarts the booth


def _button_event(name: str) -> Any:
    if name.startswith("digit:"):
        return s.Digit(name.split(":", 1)[1])
    return {"confirm": s.CONFIRM, "retake": s.BACK, "language": s.LANGUAGE, "erase": s.ERASE}.get(name, name)


def _technician_handler():
    """kiosk.technician.screens.handle(pygame_event, booth) -> True to leave, when installed."""
    from kiosk.booth.ui.screens import technician_module

    module = technician_module()
    return getattr(module, "handle", None) if module else None


# --- the screen --------------------------------------------------------------------------------
def open_display(*, fullscreen: bool, size: tuple[int, int] = (1280, 800), headless: bool = False):
    """Open the window (simulator), the fullscreen kiosk display, or an off-screen surface."""
    if headless or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                        or fullscreen):
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    import pygame

    pygame.display.init()
    if fullscreen and os.environ.get("SDL_VIDEODRIVER") != "dummy":
        surface = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
        pygame.mouse.set_visible(False)
    else:
        surface = pygame.display.set_mode(size)
    pygame.display.set_caption("Graduation photo booth")
    return surface


# --- kiosk run -----------------------------------------------------------------------------------
def register(subparsers) -> None:
    """Add ``kiosk run`` to the kiosk command (kiosk.cli.COMMAND_MODULES lists this module)."""
    register_run(subparsers)


def register_run(subparsers) -> None:
    p = subparsers.add_parser("run", help="run the booth (the appliance's service runs this)",
                              description="Run the booth fullscreen with the devices in the config.")
    p.add_argument("--config", metavar="FILE", help="config file (default: $KIOSK_CONFIG or "
                                                     "/etc/kiosk/kiosk.toml)")
    p.add_argument("--windowed", action="store_true", help="a window instead of fullscreen")
    p.set_defaults(func=cmd_run)


MSG_DEVICE_PROBLEM = {
    "lights": "lights not working (the booth runs without them): ",
    "buttons": "buttons not working (use the touchscreen): ",
}


def cmd_run(args) -> int:
    """Run the booth until Ctrl+Q or SIGTERM.

    Devices that fail do not stop it (under systemd an exit only leads to a restart loop with a
    black screen): a camera that does not start leaves the failsafe screen up with
    `MSG_CAMERA_MISSING` while it is retried (`Booth.start`); lights or buttons that fail to
    open are left out and named on the attract screen for the technician. READY reaches
    systemd only once camera frames arrive. How that meets kiosk.service (Type=notify,
    TimeoutStartSec=120s, Restart=always, StartLimitBurst=5 per StartLimitIntervalSec,
    OnFailure=kiosk-recover.service): a camera plugged in within the start timeout brings the
    booth up without a restart; one that stays missing lets the start time out, systemd stops
    and restarts the booth (the failsafe screen comes back each time), and when the start limit
    is hit, kiosk-recover reboots (bounded) and then retries every 5 minutes. The watchdog only
    runs after READY, so it cannot kill a booth that is still waiting for its camera.
    """
    from kiosk.config import load_config
    from kiosk.technician.calibration import apply_saved_calibration
    from kiosk.booth.ui.fonts import FontMissing, find_cjk_font

    config = load_config(getattr(args, "config", None))
    # the technician's measured light balance, exposure and white balance: before the devices
    # are opened, since the drivers read them from config.devices
    apply_saved_calibration(config)
    try:
        find_cjk_font()
    except FontMissing as exc:
        log.critical("%s", exc)
        _say(str(exc))
        return 2
    import hardware

    events = EventQueue()
    try:
        devices = hardware.open_devices(config.devices, simulate=False, on_event=events.post,
                                        usb_mount_root=config.export.usb_mount_root, tolerate=True,
                                        scene=_fake_scene(config))
    except Exception as exc:
        log.critical("devices cannot be opened: %s", exc)
        _say(exc)
        return 1
    try:
        booth = build_booth(config, devices, events,
                            surface=open_display(fullscreen=not args.windowed))
        for name, why in devices.problems.items():
            booth.warnings.append(MSG_DEVICE_PROBLEM.get(name, f"{name}: ") + why)
        booth.start()
    except Exception as exc:
        log.critical("booth cannot start: %s", exc)
        _say(exc)
        devices.close()
        return 1
    try:
        booth.run()
    finally:
        booth.stop()
        devices.close()
    return 0


def _fake_scene(config: Config):
    """What a fake camera films when the config names no photos or video: the scripted student
    stepping into place (the hardware layer knows no faces). Ignored by the real drivers."""
    if config.devices.fake_source or os.environ.get("KIOSK_FAKE_SOURCE"):
        return None
    from kiosk.sim.scripted import student_walks_in

    return student_walks_in()


def _say(problem) -> None:
    """Why ``kiosk run`` stops, on stderr, in both languages when the error has a Message."""
    import sys

    message = getattr(problem, "message", None)
    if isinstance(message, Message):
        print(f"kiosk run: {message.zh} / {message.en}", file=sys.stderr)
    else:
        print(f"kiosk run: {problem}", file=sys.stderr)


def build_booth(config: Config, devices, events: EventQueue, *, surface,
                roster_path: str | None = None, key_path: str | None = None, **kw) -> Booth:
    """Load the key, the roster and the spool named by the config, and make the loop."""
    from kiosk.photo.identity import load_key
    from kiosk.handoff.roster import RosterError, load_roster
    from kiosk.handoff.spool import Spool

    key = load_key(key_path or config.booth.key_file)
    roster = None
    try:
        roster = load_roster(roster_path or config.booth.roster_file)
        for line, reason in roster.rejected:
            log.warning("roster line %d rejected: %s", line, reason)
    except RosterError as exc:
        log.error("roster: %s", exc.message.en)
        problem = f"roster: {exc.message.en}"
    else:
        problem = f"roster: {len(roster.rejected)} rows rejected (see log)" if roster.rejected else None
    spool = Spool(config.booth.state_dir)
    spool.recover()
    booth = Booth(config, devices, events, key=key,
                  directory=RosterDirectory.from_config(roster, config), spool=spool,
                  surface=surface, **kw)
    if problem:
        booth.warnings.append(problem)
    return booth
