"""The booth's main loop: ``kiosk run`` on the real booth, and the same loop in the simulator.

One thread owns the screen. Each frame it

1. takes the events posted by devices and workers (a thread-safe queue) and pygame's input,
   turned into typed events at the edge (kiosk.booth.inputs),
2. feeds them to the `Session` (the state machine) and starts the jobs it asks for (its typed
   effects, each with a handler registered in `Booth._effects`),
3. lets time pass (timeouts, countdown), applies lights and analysis mode on a state change,
4. draws the state, and pets the watchdog when the loop ticks *and* camera frames arrive.

It never sleeps: waiting for the next frame is waiting on the event queue, so a button press
is handled at once. The camera is read, and frames analysed, on worker threads
(`kiosk.booth.workers`); the loop keeps its frame rate while a frame is being analysed.
How the booth is put together from the config (key, roster, spool, devices, display) is
kiosk.booth.main; who is who, kiosk.booth.directory.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Union, cast

from kiosk.booth import inputs
from kiosk.booth import session as s
from kiosk.booth.guidance import Guide
from kiosk.booth.jobs import VisitJobs
from kiosk.booth.retry import Backoff, Retry
from kiosk.booth.session import ANALYSIS, LIGHTS, Directory, Session, State
from kiosk.booth.workers import Jobs, LiveAnalysis, LiveResult, PreviewFeed
from kiosk.config import Config
from kiosk.message import Message

if TYPE_CHECKING:
    import pygame

    from hardware.factory import Devices
    from kiosk.booth.ui.fonts import Fonts
    from kiosk.booth.ui.layout import Layout
    from kiosk.booth.ui.screens import ScreenModel
    from kiosk.handoff.spool import Spool
    from kiosk.technician.mode import TechnicianMode

log = logging.getLogger(__name__)
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")   # no banner on the booth's stdout

#: At start the camera is retried until it delivers frames (see `CameraStarter`): first after
#: half a second, then less and less often, at most this far apart (shorter than the failsafe
#: screen's timeout, which each failed try renews).
CAMERA_RETRY_S = 3.0

MSG_CAMERA_MISSING = Message("相机未连接，请联系工作人员", "Camera not connected: please call staff")


@dataclass(frozen=True)
class CameraStarted:
    """Posted by `CameraStarter` once ``camera.start()`` worked."""


#: What travels through the loop's queue: typed events, or a device's event name (a ``str``
#: from the hardware layer, translated by kiosk.booth.inputs.device_event).
Posted = Union[inputs.Input, LiveResult, CameraStarted, str]


class EventQueue:
    """Thread-safe mailbox of the loop: device callbacks and workers only ever call ``post``."""

    def __init__(self) -> None:
        self._q: queue.Queue[Posted] = queue.Queue()

    def post(self, event: Posted) -> None:
        self._q.put(event)

    def get(self, timeout: float) -> Posted | None:
        try:
            return self._q.get(timeout=max(0.0, timeout)) if timeout > 0 else self._q.get_nowait()
        except queue.Empty:
            return None


class CameraStarter(threading.Thread):
    """Retries ``camera.start()`` (`kiosk.booth.retry`) until it works, then posts `CameraStarted`.
    Until then each failed try posts a `Failure`, so the failsafe screen stays up with
    ``message`` (it would otherwise go back to attract by itself)."""

    def __init__(self, camera: Any, post: Callable[[Posted], None], message: Message, *,
                 retry_s: float = CAMERA_RETRY_S) -> None:
        super().__init__(name="camera-starter", daemon=True)
        self.camera, self.post, self.message = camera, post, message
        self.retry = Retry("camera start", Backoff(min(0.5, retry_s), retry_s), log=log)
        self._halt = threading.Event()

    @property
    def tries(self) -> int:
        return self.retry.tries

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        started, _ = self.retry.run(self.camera.start, self._halt, wait_first=True,
                                    on_failure=lambda exc: self.post(s.Failure(self.message)))
        if started:
            self.post(CameraStarted())


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
        if self.all_pass_at is None or self.review_at is None or self.accepted_at is None or \
                self.saved_at is None:
            return None
        return (self.review_at - self.all_pass_at) + (self.saved_at - self.accepted_at)


@dataclass
class Rig:
    """The devices and what reads them: the queue their callbacks post into, the camera's
    preview feed, the live analysis of its frames (once the camera works) and the retrier of a
    camera that did not start."""

    devices: Devices
    events: EventQueue
    feed: PreviewFeed
    analyzer_factory: Callable[[], Any] | None = None   # the live analysis's models (None: mediapipe)
    live: LiveAnalysis | None = None
    starter: CameraStarter | None = None

    def start_live(self, config: Config, mode: str) -> None:
        """The camera works: start reading and analysing its preview frames."""
        still = getattr(self.devices.camera, "still_size", None)
        self.live = LiveAnalysis(self.feed, self.events.post, config, still_size=still,
                                 analyzer_factory=self.analyzer_factory)
        self.feed.start()
        self.live.start()
        self.live.set_mode(mode)

    @property
    def workers(self) -> tuple[CameraStarter | None, PreviewFeed, LiveAnalysis | None]:
        return self.starter, self.feed, self.live


@dataclass
class Screen:
    """What the loop draws on, and the model it drew last (touches are hit-tested against it)."""

    surface: pygame.Surface
    fonts: Fonts
    layout: Layout
    model: ScreenModel | None = None
    warnings: list[str] = field(default_factory=list)   # for the technician, small on the attract screen


@dataclass
class Technician:
    """The technician's state on the booth. The mode is made when technician mode is first
    entered (kiosk.technician.screens.mode_of), never by a draw function."""

    mode: TechnicianMode | None = None
    press: tuple[tuple[int, int], float] | None = None   # where and when the screen was pressed

    def pressed(self, pos: tuple[int, int], now: float) -> None:
        self.press = (pos, now)

    def released_in_corner(self, size: tuple[int, int], now: float) -> bool:
        """The press ends: True when it was the hidden gesture (held long in a corner)."""
        press, self.press = self.press, None
        return press is not None and inputs.is_technician_corner(press[0], size, now - press[1])


@dataclass
class Listeners:
    """Who follows the loop (the voice, technician mode, the simulator's student)."""

    state: list[Callable[[Booth, State], None]] = field(default_factory=list)   # on a new state
    frame: list[Callable[[Booth], None]] = field(default_factory=list)          # after each frame


@dataclass
class Timing:
    """The loop's beat: when the next frame is due, the visit's timestamps, and what systemd
    hears (None without a service manager)."""

    heartbeat: Heartbeat | None
    stats: Stats = field(default_factory=Stats)
    next_frame: float = 0.0

    @property
    def watchdog(self) -> Any:
        """The watchdog gate (hardware.service.WatchdogGate), or None without a service manager."""
        return self.heartbeat.gate if self.heartbeat is not None else None

    def beat(self, frame_seq: int) -> None:
        """Once per frame, with the preview feed's newest frame number (see `Heartbeat`)."""
        if self.heartbeat is not None:
            self.heartbeat.beat(frame_seq)


class Booth:
    """The loop. Build it, ``start()`` it, then ``run()`` (or ``step()`` frame by frame).

    ``devices`` is what :func:`hardware.open_devices` returns (camera, lights, buttons, usb,
    service); its buttons and USB watcher must post into ``events``.
    """

    camera_retry_s = CAMERA_RETRY_S     # at most this long between tries of a camera that failed

    def __init__(self, config: Config, devices: Devices, events: EventQueue, *, key: bytes,
                 directory: Directory, spool: Spool, surface: pygame.Surface | None = None,
                 fonts: Fonts | None = None, clock: Callable[[], float] = time.monotonic,
                 analyzer_factory: Callable[[], Any] | None = None) -> None:
        import pygame

        from kiosk.booth.ui.fonts import Fonts
        from kiosk.booth.ui.layout import make_layout
        from kiosk.booth.voice import Voice

        self.config = config
        self.clock = clock
        shown = surface if surface is not None else pygame.display.get_surface()
        if shown is None:
            raise RuntimeError("no display: open_display() first, or pass a surface")
        self.screen = Screen(shown, fonts or Fonts(), make_layout(shown.get_size()))
        self.session = Session(config.session, directory, language=config.booth.language,
                               now=clock())
        self.guide = Guide(config.session)
        self.rig = Rig(devices, events, PreviewFeed(devices.camera, events.post), analyzer_factory)
        self.jobs = Jobs(events.post)
        self.work = VisitJobs(config, devices, self.rig.feed, key=key, spool=spool,
                              analyzer_factory=analyzer_factory)
        self.technician = Technician()
        self.listeners = Listeners()
        service = getattr(devices, "service", None)
        self.timing = Timing(Heartbeat(service) if service is not None else None)
        self.running = False
        self._shown_state: State | None = None
        self.voice = Voice.for_booth(self)     # spoken prompts and beeps: a frame listener
        # what the loop does with each kind of event, and with each effect of the session
        self._loop_events: dict[type, Callable[[Any, float], None]] = {
            LiveResult: self._live_result,
            CameraStarted: lambda event, now: self._start_camera_workers(),
            inputs.UsbInserted: lambda event, now: self._usb_inserted(),
            inputs.UsbRemoved: lambda event, now: self.jobs.submit(self.work.stick_status),
            inputs.Quit: lambda event, now: self._quit(),
        }
        self._effects: dict[type, Callable[[Any], None]] = {
            s.TakeBurst: self._take_burst,
            s.SavePhoto: self._save_photo,
            s.EjectStick: lambda effect: self.jobs.submit(self.work.eject),
        }

    # what the simulator's student and the tests look at
    @property
    def feed(self) -> PreviewFeed:
        return self.rig.feed

    @property
    def layout(self) -> Layout:
        return self.screen.layout

    @property
    def surface(self) -> pygame.Surface:
        return self.screen.surface

    # --- life cycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Start the camera and the workers.

        A camera that cannot start (missing, cable loose, driver error) does not stop the booth:
        the failsafe screen says so (`MSG_CAMERA_MISSING`), the log says why (once: see
        kiosk.booth.retry), and `CameraStarter` tries again, at most `camera_retry_s` apart.
        READY is sent only once frames arrive (`Heartbeat`), so under systemd a camera
        that never comes back still ends in the unit's start timeout and its restart/recovery
        path (see systemd/kiosk.service).
        """
        rig = self.rig
        try:
            rig.devices.camera.start()
        except Exception as exc:
            log.error("camera cannot start: %s; retrying", exc)
            self.session.fail(MSG_CAMERA_MISSING, self.clock())
            rig.starter = CameraStarter(rig.devices.camera, rig.events.post, MSG_CAMERA_MISSING,
                                        retry_s=self.camera_retry_s)
            rig.starter.retry.failed(exc, logged=True)   # later failures are not repeated
            rig.starter.start()
        else:
            self._start_camera_workers()
        self.jobs.start()
        self.jobs.submit(self.work.export_when_inserted)   # what waited in the spool, if any
        self.jobs.submit(self.work.stick_status)           # for the attract screen's status line
        self.timing.stats.started = self.clock()
        self.running = True
        self._on_state(self.session.state)

    def _start_camera_workers(self) -> None:
        self.rig.start_live(self.config, ANALYSIS.get(self.session.state, "off"))

    def stop(self) -> None:
        self.running = False
        service = self.rig.devices.service
        if service is not None and hasattr(service, "stopping"):
            service.stopping()
        workers = (*self.rig.workers, self.jobs)
        for worker in workers:
            if worker is not None:
                worker.stop()
        for worker in workers:
            if worker is not None and worker.is_alive():
                worker.join(timeout=5)
        self.work.close()
        self.voice.close()
    def run(self, *, until: Callable[[Booth], bool] | None = None,
            max_seconds: float | None = None) -> None:
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
        deadline = self.timing.next_frame if self.timing.next_frame > now else now + period
        self.timing.next_frame = deadline + period
        self._handle_pygame(pygame.event.get())
        # wait for posted events until the next frame is due: this is the loop's only wait
        state = self.session.state
        while True:
            event = self.rig.events.get(deadline - self.clock())
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
            self.timing.stats.draw_seconds += time.perf_counter() - t0
        except Exception as exc:        # a drawing bug shows the failsafe screen, not a traceback
            log.exception("drawing %s failed", self.session.state.value)
            if self.session.state is State.FAILSAFE:
                raise                   # even the failsafe screen cannot draw: let systemd restart
            self.session.fail(Message("显示出错", f"Display error: {exc}"), self.clock())
            self._after_events()
            self.draw()
        pygame.display.flip()
        self.timing.stats.frames += 1
        self.timing.beat(self.rig.feed.latest()[1])
        for listener in list(self.listeners.frame):
            listener(self)

    def draw(self) -> None:
        """Draw the current state. Reads the booth; creates nothing."""
        from kiosk.booth.ui import screens

        frame, _ = self.rig.feed.latest()
        technician = self.technician.mode if self.session.state is State.TECHNICIAN else None
        self.screen.model = screens.ScreenModel(
            self.session.data, now=self.clock(), preview=frame,
            retakes_left=self.session.retakes_left, can_accept=self.session.can_accept,
            technician=technician, warnings=tuple(self.config.warnings) + tuple(self.screen.warnings),
            whole_frame=self.config.booth.whole_frame_preview)
        screens.draw(self.screen.surface, self.screen.fonts, self.screen.layout, self.screen.model)

    # --- events --------------------------------------------------------------------------
    def post(self, event: Posted) -> None:
        self.rig.events.post(event)

    def _dispatch(self, posted: Posted) -> None:
        now = self.clock()
        event = inputs.device_event(posted) if isinstance(posted, str) and \
            not isinstance(posted, s.Press) else posted
        if event is None:
            log.warning("unknown device event %r ignored", posted)
            return
        loop_handler = self._loop_events.get(type(event))
        if loop_handler is not None:
            loop_handler(event, now)
            return
        if isinstance(event, s.SaveDone) and event.exported:
            self.timing.stats.saved_at = now
        if self.session.state is State.TECHNICIAN and event is s.BACK and \
                self.technician.mode is None:
            event = s.TECHNICIAN_EXIT            # technician mode did not open: Back leaves
        try:
            self._apply(self.session.handle(cast(s.Event, event), now))   # loop events left above
        except Exception as exc:                # a handler bug must not kill the booth
            log.exception("session failed on %r", event)
            self.session.fail(Message("内部错误", f"Internal error: {exc}"), now)
        self._after_events()

    def _usb_inserted(self) -> None:
        self.jobs.submit(self.work.export_when_inserted)
        self.jobs.submit(self.work.stick_status)

    def _quit(self) -> None:
        self.running = False

    def _live_result(self, r: LiveResult, now: float) -> None:
        if self.rig.live is None or r.generation != self.rig.live.generation or \
                self.session.state is not State.GUIDANCE:
            return                               # from an older visit or state: stale
        self.timing.stats.live_frames += 1
        view = self.guide.update(r.results, r.plan, now, source_size=r.source_size, people=r.people)
        log.debug("live: %.0f ms, people %d, failing %s -> %s", r.seconds * 1000, r.people,
                  ",".join(view.failing) or "-", view.message.en)
        if view.ready:
            self.timing.stats.all_pass_at = self.guide.steady.since
        self._apply(self.session.handle(s.LiveUpdate(view), now))
        self._after_events()

    def _handle_pygame(self, events: list[Any]) -> None:
        import pygame

        from kiosk.booth.ui import screens
        from kiosk.booth.ui.layout import hit

        for ev in events:
            if ev.type == pygame.QUIT:
                self.running = False
                continue
            if self.session.state is State.TECHNICIAN and self.technician.mode is not None:
                from kiosk.technician import screens as technician_screens

                if technician_screens.handle(ev, self):   # True: leave technician mode
                    self.rig.events.post(s.TECHNICIAN_EXIT)
            elif ev.type == pygame.KEYDOWN:
                typing = self.session.state is State.IDENTIFY and bool(self.session.data.keypad)
                event = inputs.key_event(ev.key, ev.mod, ev.unicode, typing=typing)
                if event is not None:
                    self.rig.events.post(event)
            elif ev.type == pygame.MOUSEBUTTONDOWN and ev.button == 1:
                self.technician.pressed(ev.pos, self.clock())
            elif ev.type == pygame.MOUSEBUTTONUP and ev.button == 1:
                size = (self.screen.layout.width, self.screen.layout.height)
                if self.technician.released_in_corner(size, self.clock()):
                    self.rig.events.post(s.TECHNICIAN_REQUEST)
                    continue
                if self.screen.model is None:
                    continue
                name = hit(screens.buttons(self.screen.model, self.screen.layout), ev.pos)
                touched = inputs.button_event(name) if name else None
                if touched is not None:
                    self.rig.events.post(touched)

    # --- effects and state changes -------------------------------------------------------
    def _apply(self, effects: list[s.Effect]) -> None:
        for effect in effects:
            self._effects[type(effect)](effect)

    def _take_burst(self, effect: s.TakeBurst) -> None:
        self.timing.stats.burst_at = self.clock()
        self.jobs.submit(lambda: self.work.burst(effect.student))

    def _save_photo(self, effect: s.SavePhoto) -> None:
        self.timing.stats.accepted_at = self.clock()
        self.jobs.submit(lambda: self.work.save(effect.student, effect.photo, effect.confirmed))
        self.jobs.submit(self.work.stick_status)    # the attract screen's photo count

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
        lights = self.rig.devices.lights
        if lights is not None and state in LIGHTS:
            try:
                lights.set_mode(LIGHTS[state])
            except Exception:
                log.exception("lights failed")
        if self.rig.live is not None:
            self.rig.live.set_mode(ANALYSIS.get(state, "off"))
        if state is State.GUIDANCE:
            self.guide.reset()
            self.timing.stats.guidance_at = self.clock()
        if state is State.REVIEW:
            self.timing.stats.review_at = self.clock()
        if state is State.TECHNICIAN:
            self._enter_technician()
        service = self.rig.devices.service
        if service is not None and hasattr(service, "status"):
            service.status(f"state: {state.value}")
        for listener in list(self.listeners.state):
            listener(self, state)

    def _enter_technician(self) -> None:
        """Technician mode: made on first entry, back at its PIN page on every entry."""
        from kiosk.technician import screens as technician_screens

        try:
            self.technician.mode = technician_screens.mode_of(self)
        except Exception:                # a technician bug must not take the booth down
            log.exception("technician mode failed to open")
            self.technician.mode = None


class Heartbeat:
    """What systemd hears from the loop: READY once the screen is up and camera frames arrive,
    then WATCHDOG only while both keep happening (hardware.service.WatchdogGate), so a hung
    camera or a stuck loop gets the booth restarted."""

    def __init__(self, service: Any) -> None:
        from hardware.service import WatchdogGate

        self.service = service
        self.gate = WatchdogGate(service)
        self.ready_sent = False
        self._frame_seq = 0

    def beat(self, frame_seq: int) -> None:
        """Once per loop tick, with the preview feed's newest frame number."""
        self.gate.loop_ticked()
        if frame_seq != self._frame_seq:
            self._frame_seq = frame_seq
            self.gate.frame_arrived()
            if not self.ready_sent:
                self.service.ready()
                self.ready_sent = True
        self.gate.maybe_pet()        # frames stopped: no pet, systemd restarts the booth
