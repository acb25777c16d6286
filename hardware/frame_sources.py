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


def _lerp(a: Any, b: Any, u: float) -> Any:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return a + (b - a) * u
    return a if u < 1.0 else b


def _smooth(u: float) -> float:
    """Ease in and out: a person slows down as they arrive where they want to be."""
    return u * u * (3 - 2 * u)


class ScriptedScene:
    """A scene that changes over time: keyframes of :func:`hardware.scenes.compose_scene` arguments.

    ``keyframes`` is a sequence of ``(t_seconds, {argument: value})``. Between two keyframes the
    numeric arguments (``dx``, ``dy``, ``scale``, …) move smoothly from one value to the next;
    the others (``face``, ``backdrop``) switch when the next keyframe is reached. After the last
    keyframe the scene holds still. Call it with a time to get the frame: it is a valid source
    for :class:`CallableSource`, and so for :class:`hardware.fake_camera.FakeCamera`.

    ``compose`` defaults to :func:`hardware.scenes.compose_scene` (imported on first use).
    Its geometry is in fractions of the frame, so the scene can be drawn at any ``size``
    with the same framing: the fake camera draws its preview at 640×480 directly.
    """

    draws_any_size = True

    def __init__(self, keyframes: Sequence[tuple[float, dict[str, Any]]], *,
                 compose: Callable[..., np.ndarray] | None = None, **common: Any) -> None:
        if not keyframes:
            raise ValueError("a scripted scene needs at least one keyframe")
        self.keyframes = sorted(((float(t), dict(kw)) for t, kw in keyframes), key=lambda k: k[0])
        self.common = common
        self._compose = compose
        self._held: dict[tuple, np.ndarray] = {}

    def arguments_at(self, t: float) -> dict[str, Any]:
        """The ``compose_scene`` arguments at time ``t`` (the common ones included)."""
        frames = self.keyframes
        if t <= frames[0][0]:
            args = frames[0][1]
        elif t >= frames[-1][0]:
            args = frames[-1][1]
        else:
            for (t0, a), (t1, b) in zip(frames, frames[1:]):
                if t0 <= t < t1:
                    u = _smooth((t - t0) / (t1 - t0)) if t1 > t0 else 1.0
                    args = {k: _lerp(a[k], b.get(k, a[k]), u) for k in a}
                    args.update({k: v for k, v in b.items() if k not in a})
                    break
        merged = dict(self.common)
        merged.update(args)
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in merged.items()}

    def __call__(self, t: float, size: tuple[int, int] | None = None) -> np.ndarray:
        args = self.arguments_at(t)
        if size is not None:
            args["size"] = tuple(size)
        key = tuple(sorted((k, repr(v)) for k, v in args.items()))
        if key in self._held:
            return self._held[key]   # holding still: no need to compose again
        compose = self._compose
        if compose is None:
            from hardware.scenes import compose_scene as compose
        frame = compose(**args)
        if len(self._held) >= 4:
            self._held.pop(next(iter(self._held)))
        self._held[key] = frame
        return frame


def student_walks_in(face: str = "astronaut", backdrop: str = "blue", *,
                     size: tuple[int, int] = (1440, 1080), settle_s: float = 4.0,
                     **variations: Any) -> ScriptedScene:
    """The simulator's student: starts off-centre and too far away, then steps into place.

    0 s: shifted to the side, a little high and too small (too far from the camera);
    ``settle_s``: centred at the right distance, then holds still (so live guidance can pass
    and the booth captures). ``variations`` go to every frame (lighting, glasses, …).
    """
    return ScriptedScene(
        [
            (0.0, {"dx": 0.22, "dy": -0.08, "scale": 0.7}),
            (settle_s * 0.5, {"dx": 0.08, "dy": -0.03, "scale": 0.85}),
            (settle_s, {"dx": 0.0, "dy": 0.0, "scale": 1.0}),
        ],
        face=face, backdrop=backdrop, size=size, **variations,
    )


def open_source(source: Any, *, fps: float = 15.0) -> FrameSource:
    """Make a :class:`FrameSource` from what the fake camera was given.

    * a :class:`FrameSource` — used as it is;
    * a callable ``t -> RGB frame`` (e.g. a :class:`ScriptedScene`) — sampled at ``fps``;
    * a sequence of ``(t, {compose_scene arguments})`` keyframes — a :class:`ScriptedScene`;
    * a folder — its photographs; a video file — played;
    * a single image file — a still scene; an RGB array — a still frame;
    * ``None`` or ``""`` — :func:`student_walks_in`.
    """
    if isinstance(source, FrameSource):
        return source
    if isinstance(source, np.ndarray):
        frame = source
        return CallableSource(lambda t: frame, fps=fps)
    if source is None or (isinstance(source, str) and source == ""):
        return CallableSource(student_walks_in(), fps=fps)
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
    if isinstance(source, Sequence):
        return CallableSource(ScriptedScene(source), fps=fps)
    raise TypeError(f"cannot film {source!r}")

