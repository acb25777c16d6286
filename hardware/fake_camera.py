"""A camera that films real photographs, a video or a scripted scene — for tests and the simulator.

The fake goes through the same code path as a real driver: frames are fetched under the same
time limit (:func:`hardware.camera.call_with_timeout`), the preview is the still downscaled (so
the framing is identical by construction) and it can fail the way hardware fails::

    cam = FakeCamera(scene)                     # any t -> frame callable (the simulator's students)
    cam = FakeCamera("photos/")                 # each photograph for a few seconds
    cam = FakeCamera("walk.mp4")                # a video at its own frame rate
    cam = FakeCamera(fault="missing")           # start() raises CameraError
    cam.fault = "hung"                          # unplug it mid-session: reads time out

Which frame it shows depends on the time since :meth:`start` (``clock``), not on how often it is
read, so the scripted student moves at the same speed whatever the booth's frame rate.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import numpy as np

from hardware.camera import (
    CAMERA_FAILED,
    CAMERA_HUNG,
    CAMERA_MISSING,
    PREVIEW_SIZE,
    Camera,
    CameraError,
    call_with_timeout,
    crop_to_aspect,
    downscale,
)
from hardware.frame_sources import FrameSource, open_source

log = logging.getLogger(__name__)

FAULTS = (None, "missing", "hung", "broken")


class FakeCamera(Camera):
    """Serves frames from a :mod:`hardware.frame_sources` source, like a camera would.

    :param source: what to film — see :func:`hardware.frame_sources.open_source` (none: the
        camera is missing when started).
    :param fps: frame rate at which a callable scene is sampled.
    :param fault: ``None``; ``"missing"`` (start fails); ``"hung"`` (reads never answer, so
        they time out); ``"broken"`` (reads raise an I/O error). Can be changed at any time.
    :param clock: seconds, monotonic; tests pass their own to step time by hand.
    """

    def __init__(self, source: Any = None, *, fps: float = 15.0, fault: str | None = None,
                 timeout: float = 5.0, clock: Callable[[], float] = time.monotonic,
                 preview_size: tuple[int, int] = PREVIEW_SIZE) -> None:
        super().__init__(timeout=timeout)
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {FAULTS}")
        self._spec = source
        self.fps = fps
        self.fault = fault
        self.clock = clock
        self.preview_size = preview_size
        self._source: FrameSource | None = None
        self._t0 = 0.0
        self._unhang = threading.Event()     # set by close(): lets abandoned "hung" reads end
        self._preview_cache: tuple[np.ndarray, np.ndarray] | None = None
        self.frames_served = 0

    @property
    def started(self) -> bool:
        return self._source is not None

    def start(self) -> None:
        if self.fault == "missing":
            raise CameraError(CAMERA_MISSING, "fake camera set to 'missing'")
        if self._source is not None:
            return
        try:
            self._source = open_source(self._spec, fps=self.fps)
        except (OSError, ValueError, TypeError) as exc:
            raise CameraError(CAMERA_MISSING, f"fake camera source: {exc}") from exc
        self._unhang.clear()
        self._t0 = self.clock()
        try:
            first = crop_to_aspect(self._source.frame_at(0.0))
        except (OSError, ValueError) as exc:
            raise CameraError(CAMERA_MISSING, f"fake camera source: {exc}") from exc
        self._still_size = (first.shape[1], first.shape[0])
        log.info("fake camera started: still %dx%d, preview %dx%d", *self._still_size, *self.preview_size)

    def elapsed(self) -> float:
        """Seconds of film played since :meth:`start`."""
        return self.clock() - self._t0

    def _sensor_frame(self, size: tuple[int, int] | None = None) -> np.ndarray:
        """What the sensor sees now — run on the time-limited worker thread."""
        if self.fault == "hung":
            self._unhang.wait()          # a camera that never answers (until closed)
            raise CameraError(CAMERA_HUNG, "fake camera closed while hung")
        if self.fault == "broken":
            raise OSError("fake camera: read failed")
        if self._source is None:
            raise CameraError(CAMERA_FAILED, "camera not started")
        return self._source.frame_at(self.elapsed(), size)

    def preview_frame(self, timeout: float | None = None) -> np.ndarray:
        if self._source is None:
            raise CameraError(CAMERA_FAILED, "preview_frame() before start()")
        raw = call_with_timeout(lambda: self._sensor_frame(self.preview_size),
                                self.timeout if timeout is None else timeout, "preview frame")
        self.frames_served += 1
        # the same source frame asked twice gives the same (cached) preview: cheap at any loop rate
        if self._preview_cache is not None and self._preview_cache[0] is raw:
            return self._preview_cache[1]
        small = downscale(crop_to_aspect(raw), self.preview_size)
        self._preview_cache = (raw, small)
        return small

    def capture_still(self, timeout: float | None = None) -> np.ndarray:
        if self._source is None:
            raise CameraError(CAMERA_FAILED, "capture_still() before start()")
        raw = call_with_timeout(self._sensor_frame, self.timeout if timeout is None else timeout,
                                "still capture")
        return np.array(crop_to_aspect(raw))   # a copy the caller owns, like a real capture

    def close(self) -> None:
        self._unhang.set()
        if self._source is not None:
            self._source.close()
        self._source = None
        self._preview_cache = None
