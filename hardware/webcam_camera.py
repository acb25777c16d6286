"""A USB or built-in webcam through OpenCV, so anyone can try the booth on a laptop.

A webcam has one stream, so the still is the newest frame at the webcam's full size and the
preview is that frame downscaled: framing is identical by construction. ``VideoCapture.read``
can block forever when a camera is pulled out, so every read runs under
:func:`hardware.camera.call_with_timeout`; after a time-out the camera refuses reads until it is
restarted (:meth:`close` then :meth:`start`).
"""

from __future__ import annotations

import logging
import threading

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

log = logging.getLogger(__name__)


class WebcamCamera(Camera):
    """OpenCV ``VideoCapture(device)``; asks for ``request_size`` (most webcams give 1280×960 or
    1280×720: a 16:9 frame is centre-cropped to 4:3, the same cut for preview and still).

    ``device`` is a camera number (``/dev/videoN``) or anything else OpenCV opens: a stream URL
    (an IP camera) or a video file (how the tests drive this driver).
    """

    def __init__(self, index: int | str = 0, *, timeout: float = 5.0,
                 request_size: tuple[int, int] = (1280, 960),
                 preview_size: tuple[int, int] = PREVIEW_SIZE) -> None:
        super().__init__(timeout=timeout)
        self.index = index
        self.request_size = request_size
        self.preview_size = preview_size
        self._cap = None
        self._lock = threading.Lock()     # one read at a time: VideoCapture is not thread-safe
        self._broken = False

    def start(self) -> None:
        import cv2

        if self._cap is not None:
            return

        def open_it():
            cap = cv2.VideoCapture(self.index)
            if not cap.isOpened():
                cap.release()
                return None
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.request_size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.request_size[1])
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)   # the newest frame, not one from a second ago
            return cap

        cap = call_with_timeout(open_it, self.timeout, "webcam open")
        if cap is None:
            raise CameraError(CAMERA_MISSING, f"no webcam at {self.index!r}")
        self._cap = cap
        self._broken = False
        first = self._read(self.timeout)
        self._still_size = (first.shape[1], first.shape[0])
        log.info("webcam %r started: %dx%d (4:3 crop)", self.index, *self._still_size)

    def _read(self, timeout: float) -> np.ndarray:
        if self._cap is None:
            raise CameraError(CAMERA_FAILED, "camera not started")
        if self._broken:
            raise CameraError(CAMERA_HUNG, "webcam timed out before; restart it")
        cap = self._cap

        def read():
            import cv2

            with self._lock:
                ok, bgr = cap.read()
            if not ok or bgr is None:
                raise CameraError(CAMERA_FAILED, "webcam returned no frame (unplugged?)")
            return cv2.cvtColor(crop_to_aspect(bgr), cv2.COLOR_BGR2RGB)

        try:
            return call_with_timeout(read, timeout, "webcam read")
        except CameraError as exc:
            if exc.message is CAMERA_HUNG:
                self._broken = True
            raise

    def preview_frame(self, timeout: float | None = None) -> np.ndarray:
        return downscale(self._read(self.timeout if timeout is None else timeout), self.preview_size)

    def capture_still(self, timeout: float | None = None) -> np.ndarray:
        return self._read(self.timeout if timeout is None else timeout)

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None and not self._broken:
            cap.release()   # a hung capture stays with its stuck thread; releasing could block
