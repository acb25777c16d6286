"""The camera interface every driver implements, and what they share.

A camera gives the booth two views of the same scene:

* :meth:`Camera.preview_frame` — a small RGB frame (:data:`PREVIEW_SIZE`, 640×480) for the live
  analysis and the on-screen preview, delivered as fast as the camera runs;
* :meth:`Camera.capture_still` — the full-resolution RGB still the photo is made from.

Both are framed **exactly** alike (same sensor area, 4:3), so a face measured in the preview sits
at the same relative place in the still: the crop planned on a preview frame can be scaled to the
still by :meth:`Camera.preview_to_still`. Every call has a timeout: a camera that does not answer
raises :class:`CameraError` instead of blocking the booth, and so does a camera that is missing.

Drivers: :class:`hardware.picamera_camera.PiCamera` (the HQ camera on the Pi),
:class:`hardware.webcam_camera.WebcamCamera` (OpenCV, for laptops) and
:class:`hardware.fake_camera.FakeCamera` (real photographs, a video or a scripted scene).
"""

from __future__ import annotations

import abc
import logging
import threading
from typing import Callable, NamedTuple, TypeVar

import numpy as np

log = logging.getLogger(__name__)

#: Width, height of the analysis / preview stream.
PREVIEW_SIZE: tuple[int, int] = (640, 480)
#: Both streams are 4:3, the sensor's own shape (IMX477: 4056×3040).
ASPECT = 4 / 3



class Message(NamedTuple):
    """A bilingual line for the screen. The hardware layer imports nothing of the application;
    the booth turns this into its own message type (same two fields)."""

    zh: str
    en: str


CAMERA_MISSING = Message(zh="找不到相机，请联系工作人员。", en="No camera found. Please ask a member of staff.")
CAMERA_HUNG = Message(zh="相机没有响应，正在重新启动……", en="The camera stopped responding; restarting…")
CAMERA_FAILED = Message(zh="相机出错，请联系工作人员。", en="Camera error. Please ask a member of staff.")


class CameraError(RuntimeError):
    """The camera is missing, did not answer in time, or failed.

    :attr:`message` is the bilingual text for the screen; :attr:`detail` says what happened, for
    the log. The booth shows the message on its failsafe screen and restarts the camera.
    """

    def __init__(self, message: Message, detail: str = "") -> None:
        super().__init__(f"{message.en} ({detail})" if detail else message.en)
        self.message = message
        self.detail = detail


class Camera(abc.ABC):
    """One camera: :meth:`start` it, read frames, :meth:`close` it (or use ``with``)."""

    #: Size (w, h) of :meth:`preview_frame`'s frames.
    preview_size: tuple[int, int] = PREVIEW_SIZE

    def __init__(self, *, timeout: float = 5.0) -> None:
        #: Default time limit (seconds) for a preview frame.
        self.timeout = timeout
        #: Set by each driver's :meth:`start` once the still's size is known.
        self._still_size: tuple[int, int] | None = None

    @property
    def still_size(self) -> tuple[int, int]:
        """Size (w, h) of :meth:`capture_still`'s frames (known after :meth:`start`)."""
        if self._still_size is None:
            raise CameraError(CAMERA_FAILED, "camera not started")
        return self._still_size

    @abc.abstractmethod
    def start(self) -> None:
        """Open the device and begin streaming. Raises :class:`CameraError` if it is missing."""

    @abc.abstractmethod
    def preview_frame(self, timeout: float | None = None) -> np.ndarray:
        """The newest preview frame: RGB uint8, ``preview_size[1] × preview_size[0] × 3``."""

    @abc.abstractmethod
    def capture_still(self, timeout: float | None = None) -> np.ndarray:
        """One full-resolution RGB still, framed like the preview."""

    def capture_burst(self, count: int, timeout: float | None = None) -> list[np.ndarray]:
        """``count`` consecutive stills (the booth keeps the best one that passes).

        Drivers that can do better than one still after another (the Pi camera switches its mode
        once for the whole burst) override this.
        """
        return [self.capture_still(timeout) for _ in range(count)]

    @abc.abstractmethod
    def close(self) -> None:
        """Stop streaming and release the device. Safe to call twice."""

    def preview_to_still(self) -> float:
        """How many still pixels one preview pixel spans (same framing: one factor for x and y)."""
        return self.still_size[0] / self.preview_size[0]

    def __enter__(self) -> "Camera":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- shared helpers -------------------------------------------------------------------------------

def crop_to_aspect(rgb: np.ndarray, aspect: float = ASPECT) -> np.ndarray:
    """Centre crop to ``aspect`` (w/h). Both streams are cut the same way, so framing matches."""
    h, w = rgb.shape[:2]
    if w > round(h * aspect):
        new_w = round(h * aspect)
        x0 = (w - new_w) // 2
        return rgb[:, x0:x0 + new_w]
    new_h = round(w / aspect)
    if new_h < h:
        y0 = (h - new_h) // 2
        return rgb[y0:y0 + new_h]
    return rgb


def downscale(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to ``size`` (w, h) with area averaging (no aliasing in the analysis stream)."""
    import cv2  # the package must import without OpenCV's start-up cost

    if (rgb.shape[1], rgb.shape[0]) == tuple(size):
        return rgb
    interp = cv2.INTER_AREA if rgb.shape[1] >= size[0] else cv2.INTER_LINEAR
    return cv2.resize(rgb, tuple(size), interpolation=interp)


T = TypeVar("T")


def call_with_timeout(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Run ``fn`` on a daemon thread and wait at most ``timeout`` seconds for its answer.

    Device reads (``cv2.VideoCapture.read``, a USB camera pulled out) can block forever; this is
    how a driver without its own timeout keeps the booth alive. On time-out the stuck thread is
    abandoned (it is a daemon: it cannot keep the process from exiting) and :class:`CameraError`
    is raised; the driver then refuses further reads until it is restarted.
    """
    box: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed over to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"camera-{what}", daemon=True).start()
    if not done.wait(timeout):
        raise CameraError(CAMERA_HUNG, f"{what} took longer than {timeout:.1f} s")
    if "error" in box:
        error = box["error"]
        if isinstance(error, CameraError):
            raise error
        raise CameraError(CAMERA_FAILED, f"{what}: {error!r}") from error  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
