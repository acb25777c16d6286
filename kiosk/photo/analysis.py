"""Analysis of one RGB frame: every measurement the checks need, computed once.

The only module of the program that calls a model. An :class:`Analyzer` owns mediapipe 0.10.18's
legacy solutions, which ship inside the wheel (nothing is downloaded):

* FaceMesh with ``refine_landmarks=True``: 478 landmarks including both irises;
* SelfieSegmentation (general model): the person's silhouette, hair included;
* Pose with ``model_complexity=1``: the shoulders (lite and heavy would need a download);
* FaceDetection ``model_selection=1`` (full range): counts faces FaceMesh's short-range detector
  misses, small or far away.

Use one Analyzer per thread and reuse it::

    analyzer = Analyzer()
    analysis = analyzer.analyze(rgb)            # any size, RGB uint8
    analysis.face.yaw, analysis.head_top_y, analysis.people_count
    analyzer.close()

Coordinates are always pixels of the frame that was passed in, even when the models ran on a
smaller copy (a 4056×3040 still is analysed at 1014×760, see :func:`work_copy`, and mapped back).

Direction conventions (all in the PERSON's frame, so they hold whether or not the screen mirrors
the preview):

* ``yaw`` > 0: the head is turned to the person's own left (their nose points to the camera's
  right, i.e. the right side of an un-mirrored image). Fix: "turn a little to your right".
* ``pitch`` > 0: chin up, looking above the camera. Fix: "lower your chin".
* ``roll`` > 0: the head leans toward the person's left shoulder (the right side of an
  un-mirrored image goes down). Fix: "tilt your head a little toward your right shoulder".
* "left"/"right" landmarks (``left_pupil``, ``cheek_left``, ``shoulders[0]``) are the person's own
  left, which is the right-hand side of an un-mirrored camera image.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence, cast

import cv2
import numpy as np
from numpy.typing import NDArray

from kiosk.photo.arrays import RGB, Floats

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

# mediapipe's C++ side logs to stderr (absl, which ignores these variables since 0.10, and
# TensorFlow Lite); the command line filters those lines out (kiosk.native_logs) unless -v.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: The models run on a copy whose long side is at most this many pixels, reduced by an integer
#: factor (:func:`work_copy`). FaceMesh works on a 192 px face crop and SelfieSegmentation on
#: 256×256, so more resolution only costs time; a 4056-wide still becomes 1014 px wide, where
#: a booth-distance face (≥ 600 px in the still: it fills a third of the crop) is ≥ 150 px.
WORK_LONG_SIDE = 1280

#: Assumed horizontal field of view of the camera, for the head-pose solve. The pose angles
#: depend only weakly on it for a face near the optical axis; 40° is between a webcam (~60°)
#: and the booth's HQ camera with a 16 mm lens (~22°).
ASSUMED_HFOV_DEG = 40.0

# --- FaceMesh landmark indices (0.10.x topology) ------------------------------------------------
# "R" = the person's right (left side of an un-mirrored image), "L" = the person's left.
RIGHT_IRIS_CENTER, LEFT_IRIS_CENTER = 468, 473
RIGHT_IRIS_RING, LEFT_IRIS_RING = (469, 470, 471, 472), (474, 475, 476, 477)
RIGHT_EYE = {"outer": 33, "inner": 133, "top": 159, "bottom": 145}
LEFT_EYE = {"outer": 263, "inner": 362, "top": 386, "bottom": 374}
RIGHT_EYE_RING = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
LEFT_EYE_RING = (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249)
CHEEK_RIGHT, CHEEK_LEFT = 234, 454
MOUTH = {"top_inner": 13, "bottom_inner": 14, "right": 61, "left": 291,
         "top_outer": 0, "bottom_outer": 17}
RIGHT_BROW_MID, LEFT_BROW_MID = 105, 334
FOREHEAD, CHIN, NOSE_TIP = 10, 152, 1
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
             377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67,
             109)

# Canonical face model (mediapipe's canonical_face_model.obj, centimetres, x to the person's
# left, y up, z toward the viewer) for landmarks that barely move with expression. Points of the
# person's left half are the mirror images of the right half.
_CANONICAL_RIGHT_AND_MIDLINE = {
    1: (0.000, -1.127, 7.476), 4: (0.000, -0.463, 7.587), 6: (0.000, 2.473, 5.789),
    10: (0.000, 8.262, 4.482), 152: (0.000, -9.403, 4.264), 168: (0.000, 3.271, 5.236),
    199: (0.000, -7.942, 5.181), 33: (-4.446, 2.664, 3.173), 133: (-1.856, 2.585, 3.758),
    61: (-2.456, -4.343, 4.284), 127: (-7.743, 2.365, -2.005), 93: (-7.542, -1.049, -2.431),
    132: (-7.271, -2.891, -2.252),
}
_MIRROR = {33: 263, 133: 362, 61: 291, 127: 356, 93: 323, 132: 361}

#: How far mediapipe's canonical face model holds its chin down compared with a real person
#: looking level into the camera. Solved against the model as it is, 24 real frontal faces of
#: the labelled set (tests/data/faces.json) read a median pitch of −3.0° (spread 5.6°: people
#: and photographers differ), Grace Hopper and the astronaut −6°. Not the camera model: the
#: assumed field of view moves the pitch by < 0.5° between 20° and 60°. It is the landmarks:
#: the model's nose sits higher against its eyes and mouth than FaceMesh places it on real
#: faces (without the face-contour points the median is −7°). Tilting the model by this much
#: makes the median frontal face read 0°.
CANONICAL_CHIN_DOWN_DEG = 3.0


def _canonical_points() -> tuple[NDArray[np.int_], NDArray[np.float64]]:
    idx, pts = [], []
    for i, (x, y, z) in _CANONICAL_RIGHT_AND_MIDLINE.items():
        idx.append(i)
        pts.append((x, y, z))
        if i in _MIRROR:
            idx.append(_MIRROR[i])
            pts.append((-x, y, z))
    # To OpenCV's camera convention (x right, y down, z away from the camera): a face with
    # rotation identity then looks straight into the camera.
    model = np.array(pts, dtype=np.float64) * np.array([1.0, -1.0, -1.0])
    # ...once the model is tilted to the level head of a real person: see CANONICAL_CHIN_DOWN_DEG.
    t = math.radians(CANONICAL_CHIN_DOWN_DEG)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, math.cos(t), -math.sin(t)], [0.0, math.sin(t), math.cos(t)]])
    return np.array(idx), model @ rx.T


POSE_LANDMARKS, POSE_MODEL = _canonical_points()


@dataclass
class FaceGeometry:
    """The main face: landmarks and what is derived from them, in frame pixels."""

    landmarks: NDArray[np.float32]   # (478, 2) x/y pixels
    depth: NDArray[np.float32]       # (478,) FaceMesh relative z, in the same pixel scale
    right_pupil: tuple[float, float]  # the person's right eye (left in an un-mirrored image)
    left_pupil: tuple[float, float]
    eye_line_y: float                # mean y of both pupils
    cheek_right: tuple[float, float]  # face contour at cheek level (landmark 234)
    cheek_left: tuple[float, float]   # (landmark 454)
    face_center_x: float             # midpoint of the two cheek points
    face_width: float                # cheek to cheek
    yaw: float                       # degrees, + = turned to the person's left
    pitch: float                     # degrees, + = chin up
    roll: float                      # degrees, + = leaning toward the person's left shoulder
    pose_error_px: float             # RMS reprojection error of the pose solve
    box: tuple[float, float, float, float]   # x0, y0, x1, y1 of all landmarks

    def point(self, index: int) -> NDArray[np.float32]:
        point: NDArray[np.float32] = self.landmarks[index]
        return point

    def eye_points(self, side: str) -> NDArray[np.float32]:
        """The 16-point contour of one eye: ``side`` is "right" or "left" (the person's)."""
        return self.landmarks[list(RIGHT_EYE_RING if side == "right" else LEFT_EYE_RING)]

    def oval(self) -> NDArray[np.float32]:
        return self.landmarks[list(FACE_OVAL)]


@dataclass
class Analysis:
    """Everything the checks need about one frame. Pure data: no model is called from here."""

    image: RGB                       # the RGB frame analysed (not copied)
    people_count: int                # faces (full range) + person blobs without a face
    face: FaceGeometry | None
    head_top_y: float | None         # top of the silhouette above the face (hair included)
    shoulders: tuple[tuple[float, float], tuple[float, float]] | None  # (person's left, right)
    faces: list[tuple[float, float, float, float]] = field(default_factory=list)  # FaceDetection boxes
    mask_small: NDArray[np.float32] | None = None   # person mask at analysis resolution
    head_top_clipped: bool = False   # the silhouette reaches the top edge: head top not visible
    source_size: tuple[int, int] | None = None   # (w, h) of the still this frame previews
    shoulders_age: int = 0           # frames since Pose measured ``shoulders`` (0: this frame)
    timings_ms: dict[str, float] = field(default_factory=dict)
    work_factor: int = 1             # the models ran on a copy reduced k× (mask_small's scale)
    _mask_full: NDArray[np.float32] | None = field(default=None, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the analysed frame."""
        return self.image.shape[1], self.image.shape[0]

    @property
    def person_mask(self) -> NDArray[np.float32]:
        """float32 H×W in [0, 1], the person's silhouette at frame resolution (computed once)."""
        if self._mask_full is None:
            h, w = self.image.shape[:2]
            if self.mask_small is None:
                self._mask_full = np.zeros((h, w), np.float32)
            elif self.mask_small.shape == (h, w):
                self._mask_full = self.mask_small
            else:
                self._mask_full = cast(NDArray[np.float32],
                                       cv2.resize(self.mask_small, (w, h), interpolation=cv2.INTER_LINEAR))
        return self._mask_full

    def mask_in(self, box: tuple[float, float, float, float], out_size: tuple[int, int]) -> NDArray[np.float32]:
        """The person mask of the source box ``(x0, y0, x1, y1)`` resampled to ``out_size`` (w, h)."""
        if self.mask_small is None:
            return np.zeros((out_size[1], out_size[0]), np.float32)
        s = 1.0 / self.work_factor
        x0, y0, x1, y1 = box
        sx = out_size[0] / ((x1 - x0) * s)
        sy = out_size[1] / ((y1 - y0) * s)
        m = np.array([[sx, 0, -x0 * s * sx], [0, sy, -y0 * s * sy]], dtype=np.float64)
        return cast(NDArray[np.float32], cv2.warpAffine(self.mask_small, m, out_size, flags=cv2.INTER_LINEAR,
                                                        borderMode=cv2.BORDER_REPLICATE))


def load_solutions() -> Any:
    """mediapipe's four legacy solution modules (face_detection, face_mesh, pose,
    selfie_segmentation) as a namespace.

    ``import mediapipe`` runs the package's ``__init__``, which imports every solution, the
    drawing utilities (and with them matplotlib) and the tasks API: about a second before the
    first model exists. Only the solution modules themselves are imported here: the two
    package ``__init__`` files that pull in the rest are skipped (their modules are registered
    bare), so a short command like ``kiosk check`` starts in half the time. A program that
    imported mediapipe in full before is served from it.
    """
    import importlib
    import importlib.util
    import sys
    import types

    for name in ("mediapipe", "mediapipe.python.solutions"):
        if name not in sys.modules:
            spec = importlib.util.find_spec(name)
            assert spec is not None, name                     # mediapipe is installed
            module = importlib.util.module_from_spec(spec)    # __path__ set, __init__ not run
            sys.modules[name] = module
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(sys.modules[parent], child, module)
    mods = {n: importlib.import_module(f"mediapipe.python.solutions.{n}")
            for n in ("face_detection", "face_mesh", "pose", "selfie_segmentation")}
    mp = sys.modules["mediapipe"]
    if not hasattr(mp, "solutions"):          # ``mp.solutions.face_mesh`` works either way
        setattr(mp, "solutions", sys.modules["mediapipe.python.solutions"])  # noqa: B010
    return types.SimpleNamespace(**mods)


def work_copy(rgb: RGB) -> tuple[RGB, int]:
    """The copy the models run on and its integer reduction factor ``k`` (1: the frame itself).

    ``k`` is the smallest integer that brings the long side to at most :data:`WORK_LONG_SIDE`.
    An integer factor lets INTER_AREA take its fast path (plain k×k block means: a 4056×3040
    still becomes 1014×760 in a third of the time of a fractional 1280×960 resize), and
    maps coordinates back exactly (frame pixel = work pixel × k). The at most k − 1 rows and
    columns past the last whole block are left out of the copy.
    """
    h, w = rgb.shape[:2]
    k = max(1, math.ceil(max(h, w) / WORK_LONG_SIDE))
    if k == 1:
        return np.ascontiguousarray(rgb), 1
    ww, wh = w // k, h // k
    return cast(RGB, cv2.resize(rgb[:wh * k, :ww * k], (ww, wh), interpolation=cv2.INTER_AREA)), k


class _SharedModel:
    """One model instance serving several Analyzers (threads), one call at a time."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.lock = threading.Lock()
        self.users = 0

    def process(self, image: RGB) -> Any:
        with self.lock:
            return self.model.process(image)


#: Models without state between frames, shared by every Analyzer of the process (the booth's
#: live thread and its capture job, the simulator's check of the stick): Pose alone holds
#: about 110 MiB. Key: the model's name; each guarded by its own lock.
SHARED_MODELS = ("segmentation", "face_detection", "pose")
_POOL: dict[str, _SharedModel] = {}
_POOL_LOCKS = {name: threading.Lock() for name in SHARED_MODELS}


class Analyzer:
    """Owns the mediapipe models; create once, call :meth:`analyze` for every frame.

    ``video=True`` is for a live preview stream: FaceMesh (one face) then tracks the person
    between consecutive frames instead of searching the whole frame each time. Keep the
    default for unrelated images (stills, files): FaceMesh then looks for two faces and keeps
    the larger. The models without state between frames (SelfieSegmentation, FaceDetection and
    Pose, which runs on single images everywhere so that its shoulders are the validator's)
    are shared by all Analyzers of the process, one call at a time.

    Two models are only needed now and then on a live stream, and their last measurement is
    reused in between (amortised, see bench/live.py for the figures):

    * ``pose_every=N`` runs Pose (the slowest model, for the shoulders only) on one frame in N;
      :attr:`Analysis.shoulders_age` says how many frames old the shoulders are. Shoulders move
      slowly: at 15 analysed frames/s N = 8 is a measurement at most half a second old.
    * ``detect_every=N`` runs the full-range FaceDetection (the people count: faces FaceMesh's
      tracker does not see) on one frame in N. In between, the box of the person being
      tracked is left to FaceMesh; a newcomer is counted at most N − 1 frames late.

    Each model is built on first use: a verifier that never asks for shoulders never loads Pose.
    ``max_faces`` overrides FaceMesh's number of faces (1 live, 2 otherwise).
    Not thread-safe: use one Analyzer per thread.
    """

    def __init__(self, *, video: bool = False, pose_every: int = 1, detect_every: int = 1,
                 max_faces: int | None = None) -> None:
        self.video = video
        self.max_faces = max_faces or (1 if video else 2)
        self.pose_every = max(1, int(pose_every))
        self.detect_every = max(1, int(detect_every))
        self._models: dict[str, Any] = {}
        # (frame size, shoulders, age in frames)
        self._last_shoulders: tuple[tuple[int, int], tuple[tuple[float, float], tuple[float, float]] | None,
                                    int] | None = None
        # (frame size, boxes, main nose, age)
        self._last_faces: tuple[tuple[int, int], list[tuple[float, float, float, float]],
                                NDArray[np.float64] | None, int] | None = None
        self._pool: ThreadPoolExecutor | None = None  # helper thread for Pose, on first use
        self._blob_scratch: tuple[NDArray[np.uint8], NDArray[np.int32]] | None = None  # _blob_buffers
        self._closed = False

    def __enter__(self) -> Analyzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def loaded(self) -> tuple[str, ...]:
        """The models built so far: "face_mesh", "segmentation", "face_detection", "pose"."""
        return tuple(self._models)

    def model(self, name: str) -> Any:
        """The mediapipe solution ``name``, built on first use (shared ones: once a process)."""
        m = self._models.get(name)
        if m is not None:
            return m
        if name in SHARED_MODELS:
            with _POOL_LOCKS[name]:           # one build per model, others build meanwhile
                m = _POOL.get(name)
                if m is None:
                    m = _POOL[name] = _SharedModel(self._build(name))
                m.users += 1
        else:
            m = self._build(name)
        self._models[name] = m              # each name is only ever built by one thread
        return m

    def _build(self, name: str) -> Any:
        mp = load_solutions()
        static = not self.video
        if name == "face_mesh":
            # Live: one face, so the tracker replaces the detector (with two it keeps looking
            # for a second face on every frame). Stills: two, and the larger one is kept.
            return mp.face_mesh.FaceMesh(
                static_image_mode=static, max_num_faces=self.max_faces,
                refine_landmarks=True, min_detection_confidence=0.5, min_tracking_confidence=0.5)
        if name == "segmentation":
            return mp.selfie_segmentation.SelfieSegmentation(model_selection=0)
        if name == "face_detection":
            return mp.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
        if name == "pose":
            # model_complexity=1: the lite and heavy models would need a download. Single
            # images even live (Pose runs on one frame in many there: nothing to track).
            return mp.pose.Pose(static_image_mode=True, model_complexity=1,
                                enable_segmentation=False, min_detection_confidence=0.5)
        raise KeyError(name)

    def warm_up(self, *, shoulders: bool = True) -> None:
        """Build the models a call of :meth:`analyze` will need (they load in about 0.3 s)."""
        for name in ("face_mesh", "segmentation", "face_detection") + (("pose",) if shoulders else ()):
            self.model(name)

    def close(self) -> None:
        """Release the models. Safe to call twice."""
        if self._closed:
            return
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for name, model in self._models.items():
            if isinstance(model, _SharedModel):
                with _POOL_LOCKS[name]:
                    model.users -= 1
                    if model.users == 0:
                        _POOL.pop(name, None)
                        model.model.close()
            else:
                model.close()
        self._models.clear()
        self._closed = True

    def analyze(self, rgb: RGB, *, shoulders: bool = True,
                source_size: tuple[int, int] | None = None,
                pose_every: int | None = None) -> Analysis:
        """Analyse one RGB uint8 frame (H×W×3, any size).

        ``shoulders=False`` skips Pose (a file's checks never look at the shoulders).
        ``pose_every`` overrides the Analyzer's for this frame (live guidance measures the
        shoulders more often while they are what the student is told to fix).
        ``source_size`` (w, h): this frame is a scaled-down preview of a still of that size
        (the crop planner then knows how many camera pixels a crop really has).
        """
        if self._closed:
            raise RuntimeError("Analyzer is closed")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 H×W×3 image, got {rgb.dtype} {rgb.shape}")
        times: dict[str, float] = {}
        t0 = time.perf_counter()
        h, w = rgb.shape[:2]
        work, k = work_copy(rgb)
        wh, ww = work.shape[:2]
        scale, inv = 1.0 / k, float(k)
        t = time.perf_counter()
        times["resize"] = (t - t0) * 1e3

        work.flags.writeable = False
        # Pose (the slowest model, shoulders only) runs beside the others: mediapipe releases
        # the GIL, so on a multi-core booth it costs no wall time of its own
        pose_job, age = None, 0
        shoulder_pts = None
        if shoulders:
            last = self._last_shoulders
            every = self.pose_every if pose_every is None else max(1, int(pose_every))
            if last is not None and last[0] == (w, h) and last[2] + 1 < every:
                shoulder_pts, age = last[1], last[2] + 1      # recent enough: reuse it
            else:
                pose_job = self._helper().submit(self._measure_shoulders, work, inv)
        mesh = self.model("face_mesh").process(work)
        t1 = time.perf_counter()
        times["face_mesh"] = (t1 - t) * 1e3
        seg = self.model("segmentation").process(work)
        mask = np.asarray(seg.segmentation_mask, dtype=np.float32)
        t2 = time.perf_counter()
        times["segmentation"] = (t2 - t1) * 1e3
        face = _main_face(mesh, ww, wh, inv, (w, h))
        faces = self._faces(work, (w, h), inv, face, times)
        if pose_job is not None:
            shoulder_pts, times["pose"] = pose_job.result()
        if shoulders:
            self._last_shoulders = ((w, h), shoulder_pts, age)
        t4 = time.perf_counter()

        # one labelling of the silhouette serves the head top and the people count
        blobs = _blobs(mask, self._blob_buffers(mask.shape))
        head_top, clipped = (None, False)
        if face is not None:
            head_top, clipped = _head_top(mask, face, scale, blobs[1])
        people = _count_people(mask, faces, face, scale, blobs)
        times["geometry"] = (time.perf_counter() - t4) * 1e3
        times["total"] = (time.perf_counter() - t0) * 1e3
        return Analysis(image=rgb, people_count=people, face=face, head_top_y=head_top,
                        shoulders=shoulder_pts, faces=faces, mask_small=mask,
                        head_top_clipped=clipped, source_size=source_size, shoulders_age=age,
                        timings_ms=times, work_factor=k)

    def _blob_buffers(self, shape: tuple[int, ...]) -> tuple[NDArray[np.uint8], NDArray[np.int32]]:
        """This Analyzer's scratch images for :func:`_blobs`, reused while the size stays."""
        if self._blob_scratch is None or self._blob_scratch[0].shape != shape:
            self._blob_scratch = (np.empty(shape, np.uint8), np.empty(shape, np.int32))
        return self._blob_scratch

    def _helper(self) -> ThreadPoolExecutor:
        """This Analyzer's one helper thread (for Pose), started on first use."""
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analyzer-pose")
        return self._pool

    def _measure_shoulders(self, work: RGB, inv: float
                           ) -> tuple[tuple[tuple[float, float], tuple[float, float]] | None, float]:
        t = time.perf_counter()
        pose = self.model("pose").process(work)
        return _shoulders(pose, work.shape[1], work.shape[0], inv), (time.perf_counter() - t) * 1e3

    def _faces(self, work: RGB, size: tuple[int, int], inv: float,
               face: FaceGeometry | None, times: dict[str, float]) -> list[tuple[float, float, float, float]]:
        """FaceDetection's boxes (frame pixels): measured, or the last ones carried forward.

        Carried forward, only the boxes of other people are kept: the tracked person is
        counted by FaceMesh wherever they moved (no "second" face where they just were).
        """
        nose = None if face is None else face.landmarks[NOSE_TIP].astype(np.float64)
        last = self._last_faces
        if last is not None and last[0] == size and last[3] + 1 < self.detect_every:
            # Only the OTHER people's boxes are carried forward: the tracked person is
            # counted by FaceMesh itself, wherever they moved meanwhile.
            _, boxes, last_nose, age = last
            others = [b for b in boxes if not (last_nose is not None and _inside(last_nose, b))
                      and not (nose is not None and _inside(nose, b))]
            self._last_faces = (size, others, None, age + 1)
            return list(others)
        t = time.perf_counter()
        det = self.model("face_detection").process(work)
        boxes = _detections(det, work.shape[1], work.shape[0], inv)
        times["face_detection"] = (time.perf_counter() - t) * 1e3
        self._last_faces = (size, boxes, nose, 0)
        return list(boxes)


# --- helpers (pure functions of model outputs) -------------------------------------------------

def _detections(det: Any, ww: int, wh: int, inv: float) -> list[tuple[float, float, float, float]]:
    boxes = []
    for d in det.detections or []:
        b = d.location_data.relative_bounding_box
        x0, y0 = b.xmin * ww * inv, b.ymin * wh * inv
        boxes.append((x0, y0, x0 + b.width * ww * inv, y0 + b.height * wh * inv))
    return boxes


def _shoulders(pose: Any, ww: int, wh: int, inv: float
               ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    if pose.pose_landmarks is None:
        return None
    lm = pose.pose_landmarks.landmark
    left, right = lm[11], lm[12]          # pose's 11/12 are the person's left/right shoulder
    if min(left.visibility, right.visibility) < 0.5:
        return None
    return ((left.x * ww * inv, left.y * wh * inv), (right.x * ww * inv, right.y * wh * inv))


def _main_face(mesh: Any, ww: int, wh: int, inv: float, size: tuple[int, int]) -> FaceGeometry | None:
    if not mesh.multi_face_landmarks:
        return None
    best = None
    for cand in mesh.multi_face_landmarks:   # the largest face is the person being photographed
        pts = _landmark_array(cand) * np.array([ww, wh, ww], np.float64)
        width = np.ptp(pts[:, 0])
        if best is None or width > best[0]:
            best = (width, pts)
    assert best is not None                  # at least one face (checked above)
    chosen = best[1] * inv
    return face_geometry(chosen[:, :2], chosen[:, 2], size)


#: One serialized NormalizedLandmark with x, y, z set: field tags 0x0D, 0x15, 0x1D, 4-byte floats,
#: inside a length-delimited entry (tag 0x0A, length 15) of the landmark list.
_LANDMARK_RECORD = np.dtype([("tag", "u1"), ("len", "u1"), ("tx", "u1"), ("x", "<f4"),
                             ("ty", "u1"), ("y", "<f4"), ("tz", "u1"), ("z", "<f4")])


def _landmark_array(landmark_list: Any) -> NDArray[np.float64]:
    """(N, 3) float64 normalised x, y, z of a NormalizedLandmarkList.

    Read from the message's bytes in one go (a Python loop over 478 protobuf objects costs
    about 1 ms a frame); any other layout (visibility set, a field missing) takes the loop.
    """
    data = landmark_list.SerializeToString()
    n = len(landmark_list.landmark)
    if n and len(data) == n * _LANDMARK_RECORD.itemsize:
        rec = np.frombuffer(data, _LANDMARK_RECORD)
        if ((rec["tag"] == 0x0A).all() and (rec["len"] == 15).all() and (rec["tx"] == 0x0D).all()
                and (rec["ty"] == 0x15).all() and (rec["tz"] == 0x1D).all()):
            xyz: NDArray[np.float64] = np.stack([rec["x"], rec["y"], rec["z"]], axis=1).astype(np.float64)
            return xyz
    return np.array([(p.x, p.y, p.z) for p in landmark_list.landmark], dtype=np.float64)


def face_geometry(landmarks: Floats, depth: Floats, size: tuple[int, int]) -> FaceGeometry:
    """Derive the face geometry from 478 landmarks (pixels) of a frame of ``size`` (w, h).

    Public so that tests can build a face from modified landmarks (e.g. closed eyelids).
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    rp, lp = lm[RIGHT_IRIS_CENTER], lm[LEFT_IRIS_CENTER]
    cr, cl = lm[CHEEK_RIGHT], lm[CHEEK_LEFT]
    yaw, pitch, roll, err = head_pose(lm, size)
    return FaceGeometry(
        landmarks=lm.astype(np.float32), depth=np.asarray(depth, np.float32),
        right_pupil=(float(rp[0]), float(rp[1])), left_pupil=(float(lp[0]), float(lp[1])),
        eye_line_y=float((rp[1] + lp[1]) / 2),
        cheek_right=(float(cr[0]), float(cr[1])), cheek_left=(float(cl[0]), float(cl[1])),
        face_center_x=float((cr[0] + cl[0]) / 2), face_width=float(np.hypot(*(cl - cr))),
        yaw=yaw, pitch=pitch, roll=roll, pose_error_px=err,
        box=(float(lm[:, 0].min()), float(lm[:, 1].min()), float(lm[:, 0].max()), float(lm[:, 1].max())),
    )


def head_pose(landmarks: Floats, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """Yaw, pitch, roll (degrees) and RMS reprojection error (px) of a face.

    A perspective-n-point solve (cv2.solvePnP) of 20 stable FaceMesh landmarks against
    mediapipe's canonical 3D face model. The angles are measured relative to the line of sight
    from the face to the camera, so a face off-centre but looking into the lens reads 0°.
    Signs: see the module docstring.
    """
    w, h = size
    f = (w / 2) / math.tan(math.radians(ASSUMED_HFOV_DEG) / 2)
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]], dtype=np.float64)
    img = np.asarray(landmarks, dtype=np.float64)[POSE_LANDMARKS, :2]
    # Start from "facing the camera" at the distance the face width implies: the iterative
    # solver then converges to the right one of the mirror-ambiguous solutions.
    model_width = np.ptp(POSE_MODEL[:, 0])
    img_width = max(np.ptp(img[:, 0]), 1.0)
    z0 = f * model_width / img_width
    centre = img.mean(axis=0)
    t0 = np.array([(centre[0] - w / 2) * z0 / f, (centre[1] - h / 2) * z0 / f, z0])
    rvec = np.zeros((3, 1))
    tvec = t0.reshape(3, 1)
    ok, rvec, tvec = cv2.solvePnP(POSE_MODEL, img, k, None, rvec, tvec,  # type: ignore[call-overload]
                                  useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)  # (no distortion)
    if not ok:
        return float("nan"), float("nan"), float("nan"), float("inf")
    proj, _ = cv2.projectPoints(POSE_MODEL, rvec, tvec, k, None)  # type: ignore[call-overload]
    err = float(np.sqrt(np.mean(np.sum((proj.reshape(-1, 2) - img) ** 2, axis=1))))
    r, _ = cv2.Rodrigues(rvec)
    t = tvec.ravel()
    fwd = r @ np.array([0.0, 0.0, -1.0])      # where the nose points
    to_cam = -t / np.linalg.norm(t)           # from the face to the camera
    yaw = math.degrees(math.atan2(fwd[0], -fwd[2]) - math.atan2(to_cam[0], -to_cam[2]))
    pitch = math.degrees(math.atan2(-fwd[1], math.hypot(fwd[0], fwd[2]))
                         - math.atan2(-to_cam[1], math.hypot(to_cam[0], to_cam[2])))
    side = r @ np.array([1.0, 0.0, 0.0])      # toward the person's left ear
    roll = math.degrees(math.atan2(side[1], side[0]))
    return yaw, pitch, roll, err


def _blobs(mask: NDArray[np.float32],
           buffers: tuple[NDArray[np.uint8], NDArray[np.int32]] | None = None
           ) -> tuple[int, NDArray[np.integer[Any]], NDArray[np.intp]]:
    """The silhouette (mask ≥ 0.5) labelled in 8-connected blobs: (count incl. background,
    labels, area of each label).

    The usual frame, the person alone, is one blob: counted by its outlines (the outer
    borders of a two-level contour tree are one per 8-connected blob), it is its own label
    image (0 background, 1 the blob) and has the silhouette's pixel count for its area. Only
    several blobs are labelled, into a label image, with their areas: a 640×480
    label image is 1.2 MB written a frame, which the next frame's models then miss in their
    caches. ``buffers`` (uint8 and int32, the mask's shape) are written in place of new
    arrays: the command line maps every big block afresh (kiosk.cli.tune_malloc), and a new
    image a frame costs its page faults every frame (0.6 ms of a preview frame)."""
    inside_buf, labels_buf = buffers if buffers is not None else (None, None)
    inside = cv2.compare(mask, 0.5, cv2.CMP_GE, dst=inside_buf)  # type: ignore[call-overload]
    np.bitwise_and(inside, 1, out=inside)                        # 0 / 1: the blob's label
    _, tree = cv2.findContours(inside, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    outer = 0 if tree is None else int(np.count_nonzero(tree[0][:, 3] == -1))
    if outer <= 1:
        on = cv2.countNonZero(inside)
        return outer + 1, cast(NDArray[np.uint8], inside), np.array([inside.size - on, on][:outer + 1], dtype=np.intp)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(inside, labels=labels_buf, connectivity=8,
                                                           ltype=cv2.CV_32S)
    return n, cast(NDArray[np.int32], labels), stats[:, cv2.CC_STAT_AREA].astype(np.intp)


def _label_at(labels: NDArray[np.integer[Any]], x: float, y: float) -> int:
    """The label (of the labelled silhouette) under the point (x, y); 0 = background."""
    h, w = labels.shape
    xi, yi = int(np.clip(x, 0, w - 1)), int(np.clip(y, 0, h - 1))
    return int(labels[yi, xi])


def _head_top(mask: NDArray[np.float32], face: FaceGeometry, scale: float,
              labels: NDArray[np.integer[Any]]) -> tuple[float | None, bool]:
    """Highest point of the person's silhouette above the face (hair included), frame pixels.

    Only the silhouette part connected to the face and within the face's columns counts, so a
    raised hand or a neighbour does not move the head top.
    """
    nose = face.landmarks[NOSE_TIP] * scale
    lab = _label_at(labels, nose[0], nose[1])
    if lab == 0:
        return None, False
    x0 = int(max(0, math.floor(face.cheek_right[0] * scale)))
    x1 = int(min(mask.shape[1], math.ceil(face.cheek_left[0] * scale) + 1))
    if x1 <= x0:
        return None, False
    rows = np.nonzero((labels[:, x0:x1] == lab).any(axis=1))[0]
    if rows.size == 0:
        return None, False
    top = int(rows[0])
    if top >= face.landmarks[FOREHEAD][1] * scale:
        return None, False
    return top / scale, top == 0


def _count_people(mask: NDArray[np.float32], faces: Sequence[tuple[float, float, float, float]],
                  face: FaceGeometry | None, scale: float, blobs: Any) -> int:
    """Faces found by the full-range detector plus sizeable person blobs that hold no face.

    ``blobs``: :func:`_blobs` of the silhouette.
    """
    count = len(faces)
    if face is not None and not any(_inside(face.landmarks[NOSE_TIP], b) for b in faces):
        count += 1     # FaceMesh found a face the detector missed
    n, labels, areas = blobs
    min_area = 0.02 * mask.size
    centres = [((b[0] + b[2]) / 2 * scale, (b[1] + b[3]) / 2 * scale) for b in faces]
    if face is not None:
        centres.append(tuple(face.landmarks[NOSE_TIP] * scale))
    for lab in range(1, n):
        if areas[lab] < min_area:
            continue
        has_face = any(labels[int(np.clip(cy, 0, mask.shape[0] - 1)),
                              int(np.clip(cx, 0, mask.shape[1] - 1))] == lab for cx, cy in centres)
        if not has_face:
            count += 1
    return count


def _inside(p: Sequence[float] | Floats, box: Sequence[float]) -> bool:
    return bool(box[0] <= p[0] <= box[2] and box[1] <= p[1] <= box[3])
