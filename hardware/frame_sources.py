"""What the fake camera films: real photographs, a video file, or a scene that changes over time.

A frame source answers one question, :meth:`FrameSource.frame_at`: *what does the camera see
``t`` seconds after it started?* The answer depends on the time only, never on how often it is
asked, so the booth's loop may run at any frame rate and the scripted student still moves at
the same speed.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".mjpeg", ".mjpg")


class FrameSource:
    """Base class: RGB uint8 frames as a function of time since the camera started."""

    def frame_at(self, t: float, size: tuple[int, int] | None = None) -> np.ndarray:
        """The frame at ``t``. ``size`` (w, h) is a hint: a source that can draw at any size
        (a composed scene) draws the preview small instead of drawing it big and shrinking it;
        others ignore it, and the camera downscales."""
        raise NotImplementedError

    def close(self) -> None:
        """Release files; the default has nothing to release."""


class CallableSource(FrameSource):
    """Any ``t -> RGB frame`` function, sampled at a steady ``fps``.

    Time is quantised to frames (frame ``int(t * fps)``) and the last few frames are kept, so a
    slow scene function runs once per camera frame however often the booth asks. A function
    that also takes ``size=(w, h)`` (like :class:`ScriptedScene`) is asked for that size.
    """

    def __init__(self, fn: Callable[..., np.ndarray], *, fps: float = 15.0, keep: int = 4) -> None:
        self.fn = fn
        self.fps = fps
        self.sized = bool(getattr(fn, "draws_any_size", False))
        self._cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()

    def frame_at(self, t: float, size: tuple[int, int] | None = None) -> np.ndarray:
        index = max(0, int(t * self.fps))
        key = (index, tuple(size) if (size and self.sized) else None)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        if key[1] is not None:
            frame = self.fn(index / self.fps, size=key[1])
        else:
            frame = self.fn(index / self.fps)
        frame = np.ascontiguousarray(frame)
        with self._lock:
            self._cache[key] = frame
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return frame


class PhotoFolderSource(FrameSource):
    """Photographs, each shown for ``seconds_each``, looping.

    ``photos`` is a folder (its pictures, sorted by name) or a list of picture files.
    """

    def __init__(self, photos: str | Path | Sequence[str | Path], *, seconds_each: float = 3.0) -> None:
        if isinstance(photos, (str, Path)) and Path(photos).is_dir():
            self.paths = sorted(p for p in Path(photos).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif isinstance(photos, (str, Path)):
            self.paths = [Path(photos)]
        else:
            self.paths = [Path(p) for p in photos]
        missing = [p for p in self.paths if not p.is_file()]
        if not self.paths or missing:
            raise FileNotFoundError(f"no photographs ({', '.join(IMAGE_SUFFIXES)}) at {photos}")
        self.seconds_each = seconds_each
        self._loaded: dict[int, np.ndarray] = {}

    def frame_at(self, t: float, size: tuple[int, int] | None = None) -> np.ndarray:
        index = int(max(t, 0.0) / self.seconds_each) % len(self.paths)
        if index not in self._loaded:
            from PIL import Image, ImageOps

            with Image.open(self.paths[index]) as im:
                # EXIF orientation is how the photographer held the camera: show it upright.
                self._loaded[index] = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
            if len(self._loaded) > 4:
                self._loaded.pop(next(iter(self._loaded)))
        return self._loaded[index]


class VideoSource(FrameSource):
    """A video file played at its own frame rate, looping; decoded forward as time advances."""

    def __init__(self, path: str | Path, *, fps: float | None = None) -> None:
        import cv2

        self.path = str(path)
        self._cv2 = cv2
        self._cap = cv2.VideoCapture(self.path)
        if not self._cap.isOpened():
            raise FileNotFoundError(f"cannot open video {path}")
        self.fps = fps or self._cap.get(cv2.CAP_PROP_FPS) or 25.0
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None
        self._index = -1
        self._frame: np.ndarray | None = None
        self._lock = threading.Lock()

    def frame_at(self, t: float, size: tuple[int, int] | None = None) -> np.ndarray:
        wanted = max(0, int(t * self.fps))
        if self.frame_count:
            wanted %= self.frame_count
        with self._lock:
            if wanted < self._index:  # looped: start again from the beginning
                self._cap.set(self._cv2.CAP_PROP_POS_FRAMES, 0)
                self._index = -1
            while self._index < wanted:
                ok, bgr = self._cap.read()
                if not ok:
                    if self._frame is None:
                        raise OSError(f"video {self.path} has no readable frame")
                    self.frame_count = self._index + 1   # the header was wrong: now we know
                    break
                self._index += 1
                if self._index == wanted:
                    self._frame = self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)
            assert self._frame is not None
            return self._frame

    def close(self) -> None:
        self._cap.release()


def open_source(source: Any, *, fps: float = 15.0) -> FrameSource:
    """Make a :class:`FrameSource` from what the fake camera was given.

    * a :class:`FrameSource` — used as it is;
    * a callable ``t -> RGB frame`` (e.g. the simulator's ``kiosk.sim.scripted.ScriptedScene``)
      — sampled at ``fps``;
    * a folder — its photographs; a video file — played;
    * a single image file — a still scene; an RGB array — a still frame;
    * ``None`` or ``""`` — nothing to film: :class:`ValueError` (the fake camera's ``start()``
      turns it into a missing camera).
    """
    if isinstance(source, FrameSource):
        return source
    if isinstance(source, np.ndarray):
        frame = source
        return CallableSource(lambda t: frame, fps=fps)
    if source is None or (isinstance(source, str) and source == ""):
        raise ValueError("the fake camera was given nothing to film")
    if callable(source):
        return CallableSource(source, fps=fps)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            return PhotoFolderSource(path)
        if path.suffix.lower() in VIDEO_SUFFIXES:
            return VideoSource(path)
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return PhotoFolderSource([path])
        raise FileNotFoundError(f"fake camera source {source} is not a folder, photo or video")
    raise TypeError(f"cannot film {source!r}")

