"""The booth's background threads: they do the slow work and only *post* events to the loop.

* `PreviewFeed` reads the camera's preview stream at the camera's pace and keeps the newest
  frame; the loop shows whatever is newest and never waits for the camera.
* `LiveAnalysis` analyses the newest frame with its own `Analyzer` (one per thread): it decodes
  QR codes while the booth waits for a student, and runs the checks with the crop plan during
  live guidance. Frames that arrive while it works are skipped, not queued: guidance is about now.
* `Jobs` runs one slow job at a time (burst + photo build, save + export) and posts its result.

Nothing here touches pygame. Every exception becomes a `Failure` event (failsafe screen),
never a dead thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from kiosk.booth.retry import Backoff, Retry
from kiosk.booth.session import Failure, QrScanned
from kiosk.message import Message

log = logging.getLogger(__name__)

Post = Callable[[Any], None]

MSG_WORKER_CRASHED = Message("内部错误", "Internal error")

#: Live guidance runs Pose (for the shoulders only, as slow as the two essential models
#: together) on one preview frame in this many while the shoulders pass and the student holds
#: still, and reuses the last measurement in between: at 12 analysed frames/s it is at most
#: 10 s old. Shoulders do not tilt on their own: the head moves with them, and once it has
#: moved (LIVE_HEAD_MOVED_*) they are measured again within ``LIVE_MOVED_RECHECK`` frames;
#: every still of the burst measures them too. While they fail or are not seen, the
#: student is being told about them: measured again every ``LIVE_POSE_RECHECK`` frames, and
#: on the very next one once the head has moved, so the instruction goes away soon after they
#: are level.
LIVE_POSE_EVERY = 120
LIVE_POSE_RECHECK = 15
#: The full-range face detector (the people count) runs on one frame in this many: a newcomer
#: is counted within 2–3 s; the capture counts again on every still. bench/live.py prints what
#: these cost, amortised.
LIVE_DETECT_EVERY = 30
#: The pixel rules (backdrop, clothes, light, glasses) are judged again after this many frames
#: while nothing is on screen about them, after ``LIVE_PIXEL_RECHECK`` while they block (the
#: student is told about them; kiosk.booth.workers.LiveChecks), and after ``LIVE_MOVED_RECHECK``
#: once the head has moved since (the crop moved with it: other backdrop, other clothes in
#: view). At 12 analysed frames/s a result held while the student holds still is at most 5 s
#: old, a blocking one 1.2 s.
LIVE_PIXEL_EVERY = 60
LIVE_PIXEL_RECHECK = 15
#: The head has moved since a measurement when it has tilted by this many degrees, or its face
#: centre has shifted by this many face widths: a student straightening up straightens the
#: head too (an old "level your shoulders" must not outlive the fix: it did, for a second or
#: more), one who shifts on the stool may have dropped a shoulder, and the crop follows the
#: face. Half a face width is a move, not the sway of someone holding still (bench/live.py's
#: student sways by a tenth).
LIVE_HEAD_MOVED_DEG = 3.0
LIVE_HEAD_MOVED_FACES = 0.5
#: Passing shoulders and pixel rules measured before the head moved are measured again within
#: this many frames (2.5 s): a student moving into place pays the cadence these had before the
#: head's moves were watched, one holding still a half (pixel rules) or a quarter (Pose) of it.
LIVE_MOVED_RECHECK = 30

#: Where the head is, for :func:`head_moved`: roll (degrees), face centre x, eye line y, face width.
HeadPlace = tuple[float, float, float, float]


def head_place(analysis) -> HeadPlace | None:
    face = analysis.face
    return None if face is None else (face.roll, face.face_center_x, face.eye_line_y, face.face_width)


def head_moved(now: HeadPlace | None, then: HeadPlace | None) -> bool:
    """Whether the head has moved (LIVE_HEAD_MOVED_*) from ``then`` to ``now``; a face that has
    appeared since has moved, one that is gone has not (nothing to judge)."""
    if now is None:
        return False
    if then is None:
        return True
    return (abs(now[0] - then[0]) >= LIVE_HEAD_MOVED_DEG
            or math.hypot(now[1] - then[1], now[2] - then[2]) >= LIVE_HEAD_MOVED_FACES * then[3])


def camera_message(exc: BaseException) -> Message:
    """The bilingual message of a camera error (hardware.camera.CameraError has one)."""
    message = getattr(exc, "message", None)
    if isinstance(message, Message):
        return message
    zh, en = getattr(message, "zh", None), getattr(message, "en", None)
    if isinstance(zh, str) and isinstance(en, str):
        return Message(zh, en)                      # hardware.camera's own bilingual line
    return Message("相机出错，请联系工作人员", "Camera error: please ask the staff for help")


class PreviewFeed(threading.Thread):
    """Keeps the newest preview frame. ``pause()`` while the burst uses the camera."""

    def __init__(self, camera, post: Post, *, fps: float = 15.0, retry_s: float = 2.0) -> None:
        super().__init__(name="preview-feed", daemon=True)
        self.camera = camera
        self.post = post
        self.period = 1.0 / fps
        # a camera that stops delivering: tried again soon, then at most retry_s apart (each
        # failure also keeps the failsafe screen up), logged once (kiosk.booth.retry)
        self.retry = Retry("preview frame", Backoff(min(0.5, retry_s), retry_s), log=log)
        self.lock = threading.Lock()            # held by whoever reads the camera
        self._halt = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.new_frame = threading.Condition()
        self.frame: np.ndarray | None = None
        self.seq = 0
        self.last_frame_at = 0.0                # monotonic time of the newest frame (watchdog)
        self.frames = 0

    def latest(self) -> tuple[np.ndarray | None, int]:
        return self.frame, self.seq

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._halt.set()
        self._running.set()
        with self.new_frame:
            self.new_frame.notify_all()

    def run(self) -> None:
        while not self._halt.is_set():
            self._running.wait()
            if self._halt.is_set():
                break
            started = time.monotonic()
            try:
                with self.lock:
                    frame = self.camera.preview_frame()
            except Exception as exc:     # CameraError, or a driver's OSError
                delay = self.retry.failed(exc)
                # posted on every failed try: the failsafe screen stays up while the camera is
                # gone (and the watchdog, without frames, gets systemd to restart the booth)
                self.post(Failure(camera_message(exc)))
                self._halt.wait(delay)
                continue
            if self.retry.failures:
                self.retry.succeeded()
            with self.new_frame:
                self.frame = frame
                self.seq += 1
                self.frames += 1
                self.last_frame_at = time.monotonic()
                self.new_frame.notify_all()
            # a fake camera answers at once: pace it like a real sensor
            self._halt.wait(max(0.0, self.period - (time.monotonic() - started)))


@dataclass(frozen=True)
class LiveResult:
    """One analysed preview frame during guidance (posted to the loop)."""
    generation: int
    results: list
    plan: Any
    source_size: tuple[int, int]
    people: int
    at: float
    seconds: float                  # how long the analysis took
    stages_ms: dict | None = None   # models / crop / checks milliseconds of this frame


class LiveAnalysis(threading.Thread):
    """Analyses the newest preview frame: ``mode`` is "qr", "guide" or "off" (set by the loop)."""

    def __init__(self, feed: PreviewFeed, post: Post, config, *, still_size: tuple[int, int] | None,
                 analyzer_factory: Callable[[], Any] | None = None,
                 qr_repeat_s: float = 3.0, retry_s: float = 10.0) -> None:
        super().__init__(name="live-analysis", daemon=True)
        self.feed = feed
        self.post = post
        self.config = config
        self.still_size = still_size
        self.analyzer_factory = analyzer_factory
        self.qr_repeat_s = qr_repeat_s
        self.retry = Retry("loading the analysis models", Backoff(min(2.0, retry_s), retry_s),
                           log=log)
        self.mode = "off"
        self.generation = 0
        self._halt = threading.Event()
        self._last_qr: tuple[bytes, float] | None = None
        self.ready = threading.Event()          # the analyzer is loaded
        self.analysed = 0
        self.seconds = 0.0
        self.stage_seconds: dict[str, float] = {"models": 0.0, "crop": 0.0, "checks": 0.0}
        self.live_checks = LiveChecks()
        self._checks_generation = -1

    def set_mode(self, mode: str) -> None:
        """Called by the loop on every state change; results of an older mode are dropped."""
        if mode != self.mode:
            self.generation += 1
            self.mode = mode
            self._last_qr = None

    def stop(self) -> None:
        self._halt.set()
        with self.feed.new_frame:
            self.feed.new_frame.notify_all()

    def run(self) -> None:
        # the failsafe screen stays up (a Failure on every try) until the models load; a
        # factory that gives no analyzer (None): QR codes only (tests)
        _, analyzer = self.retry.run(
            self._make_analyzer, self._halt,
            on_failure=lambda exc: self.post(Failure(Message(
                "无法加载分析模型，请联系工作人员", f"Cannot load the analysis models: {exc}"))))
        self.ready.set()
        seen = 0
        try:
            while not self._halt.is_set():
                with self.feed.new_frame:
                    while self.feed.seq == seen and not self._halt.is_set():
                        self.feed.new_frame.wait(0.5)
                    frame, seen = self.feed.frame, self.feed.seq
                if self._halt.is_set() or frame is None:
                    continue
                mode, generation = self.mode, self.generation
                try:
                    if mode == "qr":
                        self._scan(frame)
                    elif mode == "guide" and analyzer is not None:   # None: QR codes only
                        self._guide(analyzer, frame, generation)
                except Exception as exc:
                    log.exception("live analysis failed")
                    self.post(Failure(Message("实时分析出错", f"Live analysis failed: {exc}")))
                    self._halt.wait(1.0)
        finally:
            if analyzer is not None:
                analyzer.close()

    def _make_analyzer(self):
        if self.analyzer_factory is not None:
            return self.analyzer_factory()
        return live_analyzer()

    def _scan(self, frame: np.ndarray) -> None:
        for data in decode_qr(frame):
            now = time.monotonic()
            if self._last_qr and self._last_qr[0] == data and now - self._last_qr[1] < self.qr_repeat_s:
                continue        # the same phone held up: one event, not fifteen a second
            self._last_qr = (data, now)
            self.post(QrScanned(data))

    def _guide(self, analyzer, frame: np.ndarray, generation: int) -> None:
        if self._checks_generation != generation:       # a new visit: nothing held over
            self.live_checks.reset()
            self._checks_generation = generation
        analysis, plan, results, stages = guide_frame(analyzer, frame, self.config, self.still_size,
                                                      self.live_checks)
        took = sum(stages.values())
        self.analysed += 1
        self.seconds += took
        for k, v in stages.items():
            self.stage_seconds[k] += v
        self.post(LiveResult(generation, results, plan, (frame.shape[1], frame.shape[0]),
                             int(getattr(analysis, "people_count", 0)), time.monotonic(), took,
                             {k: v * 1e3 for k, v in stages.items()}))


def guide_frame(analyzer, frame: np.ndarray, config, still_size: tuple[int, int] | None,
                checks: "LiveChecks | None" = None):
    """One frame of live guidance: models, crop plan, then the blocking checks judged in the crop.

    The validator's own checks (kiosk.photo.checks.run_checks) on the preview frame, with
    savings meant to leave every decision what the validator decides on that frame
    (bench/live_decisions.py dumps both on 28 scenes: 2 of 728 decisions differ, near their
    thresholds, at the preview's resolution; tests/photo/test_speed_contract.py checks 8):

    * only :data:`~kiosk.photo.checks.LIVE_RULE_IDS`: advisory rules never become the
      instruction on screen;
    * the crop is judged at the preview's own resolution (:func:`live_view_scale`) instead of
      being upsampled to 480×640 first: upsampling adds pixels, not information;
    * the analyzer tracks the face (FaceMesh) and runs Pose and the full-range face detector
      on one frame in many (:func:`live_analyzer`); ``checks`` (the live thread's
      :class:`LiveChecks`) likewise re-measures the pixel rules on one frame in a few.

    Returns ``(analysis, plan, results, stages)``; ``stages`` are seconds per step ("models",
    "crop", "checks"). bench/live.py times exactly this function.
    """
    from kiosk.photo.crop import plan_crop

    t0 = time.perf_counter()
    analysis = analyzer.analyze(frame, source_size=still_size,
                                pose_every=None if checks is None else checks.pose_every)
    t1 = time.perf_counter()
    plan = plan_crop(analysis)
    t2 = time.perf_counter()
    results = (checks or LiveChecks(pixel_every=1))(analysis, plan, config)
    t3 = time.perf_counter()
    return analysis, plan, results, {"models": t1 - t0, "crop": t2 - t1, "checks": t3 - t2}


class LiveChecks:
    """The live rules of one stream of preview frames, the pixel rules amortised.

    The geometry rules (people, layout, pose, eyes, mouth: what a student changes from one
    moment to the next) are judged on every frame. The pixel rules (backdrop, clothes, light,
    glasses, sharpness, colour) are held between measurements, each rule with its own age:
    a blocking result for ``pixel_recheck`` frames (the student is being told about it: the
    instruction must go soon after it is fixed), any other for ``pixel_every`` (a pass, or an
    unknown the student will confirm at the review: nothing is on screen about it, and these
    change when the booth's light or the student's clothes do) while the head holds still, and
    LIVE_MOVED_RECHECK once it has moved since the rule was judged (:func:`head_moved`: the
    crop has moved with it). A capture still needs every rule to pass on every still of the
    burst (the validator has the last word).
    """

    def __init__(self, pixel_every: int | None = None, pixel_recheck: int | None = None) -> None:
        self.pixel_every = max(1, int(LIVE_PIXEL_EVERY if pixel_every is None else pixel_every))
        recheck = LIVE_PIXEL_RECHECK if pixel_recheck is None else pixel_recheck
        self.pixel_recheck = max(1, min(int(recheck), self.pixel_every))
        self._size: tuple[int, int] | None = None
        # pixel rule id → (result, age in frames, where the head was when it was judged)
        self._held: dict[str, tuple[Any, int, HeadPlace | None]] = {}
        self.shoulders_pass = False          # pose.shoulders passed on the last frame
        self._head: HeadPlace | None = None  # where the head was on the last frame
        self._head_at_pose: HeadPlace | None = None

    def reset(self) -> None:
        """Forget the held results (a new student, a new mode)."""
        self._held = {}
        self.shoulders_pass = False
        self._head = self._head_at_pose = None

    @property
    def moved_since_pose(self) -> bool:
        """The head has moved since the shoulders were measured."""
        return head_moved(self._head, self._head_at_pose)

    @property
    def pose_every(self) -> int:
        """How old the shoulders may be (frames): while they pass, LIVE_POSE_EVERY while the
        head holds still and LIVE_MOVED_RECHECK once it has moved since they were measured;
        while they fail, LIVE_POSE_RECHECK, and none at all once it has moved (a student
        straightening up)."""
        if not self.shoulders_pass:
            return 1 if self.moved_since_pose else LIVE_POSE_RECHECK
        return LIVE_MOVED_RECHECK if self.moved_since_pose else LIVE_POSE_EVERY

    def due(self, rule: str) -> bool:
        """Whether the pixel rule ``rule`` is judged again on the next frame."""
        held = self._held.get(rule)
        if held is None:
            return True
        result, age, head = held
        if result.blocking:
            keep = self.pixel_recheck
        else:
            keep = min(LIVE_MOVED_RECHECK, self.pixel_every) if head_moved(self._head, head) else self.pixel_every
        return age + 1 >= keep

    def __call__(self, analysis, plan, config) -> list:
        from kiosk.photo.checks import GEOMETRY_RULE_IDS, LIVE_RULE_IDS, PIXEL_RULE_IDS, run_checks
        from kiosk.photo.checks.result import Status

        if analysis.size != self._size:          # another stream: nothing held applies
            self._size, self._held = analysis.size, {}
        due = {i for i in PIXEL_RULE_IDS if self.due(i)}
        ids = [i for i in LIVE_RULE_IDS if i in GEOMETRY_RULE_IDS or i in due]
        fresh = run_checks(analysis, config, crop=plan, ids=ids, view_scale=live_view_scale(plan))
        by_id = {r.id: r for r in fresh}
        head = head_place(analysis)
        for i in PIXEL_RULE_IDS:
            if i in due:
                self._held[i] = (by_id[i], 0, head)
            else:
                result, age, then = self._held[i]
                self._held[i] = (result, age + 1, then)
                by_id[i] = result
        self.shoulders_pass = by_id["pose.shoulders"].status is Status.PASS
        self._head = head
        if analysis.shoulders_age == 0:
            self._head_at_pose = head
        return [by_id[i] for i in LIVE_RULE_IDS]


def live_view_scale(plan) -> float:
    """The fraction of 480×640 at which a preview's crop holds as many pixels as the preview
    itself has there (≤ 1: never upsampled)."""
    fs = getattr(plan, "frame_scale", 0.0) or 1.0
    return min(1.0, 1.0 / fs)


def live_analyzer():
    """The live thread's Analyzer: tracking, Pose and FaceDetection amortised."""
    from kiosk.photo.analysis import Analyzer

    return Analyzer(video=True, pose_every=LIVE_POSE_EVERY, detect_every=LIVE_DETECT_EVERY)


def decode_qr(frame: np.ndarray) -> list[bytes]:
    """QR codes in an RGB frame (pyzbar), as raw bytes. The camera's frame is never mirrored
    (only the preview on screen is), so a phone's code reads the right way round."""
    import cv2
    from pyzbar import pyzbar

    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return [s.data for s in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])]


class Jobs(threading.Thread):
    """Runs submitted jobs one after another; a job returns an event (or None) to post."""

    def __init__(self, post: Post) -> None:
        super().__init__(name="jobs", daemon=True)
        import queue

        self.post = post
        self._queue: "queue.Queue[Callable[[], Any] | None]" = queue.Queue()
        self.busy = threading.Event()

    def submit(self, job: Callable[[], Any]) -> None:
        self._queue.put(job)

    def stop(self) -> None:
        self._queue.put(None)

    def run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            self.busy.set()
            try:
                event = job()
            except Exception as exc:
                log.exception("job %s failed", getattr(job, "__name__", job))
                event = Failure(Message("处理照片时出错", f"Processing failed: {exc}"))
            finally:
                self.busy.clear()
            if event is not None:
                self.post(event)
