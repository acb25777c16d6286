"""Choose the 480×640 crop of a camera frame: head top, eye line and face width deep in their bands.

The standard fixes three bands inside the 480×640 file (kiosk/photo/standard.py): the top of the head
50–110 px below the top edge, the eye line 200–300 px, the face 180–300 px wide, and (product
rule) the face centred within ±12 px. A crop is a box of aspect 3:4 scaled uniformly to 480×640;
the box has two free numbers, its top ``y0`` and its height, since its left edge centres the face.
:func:`plan_crop` picks the box whose worst band margin, each normalised by the band's half
width, is the largest: not "inside the bands", but as far inside all of them as the frame allows.
Of every whole-pixel box that can be cut, exactly: one closed-form top per height, every height.

Two rules are never bent: the crop never upsamples the camera image (the box is at least
480×640 camera pixels), and it never leaves the frame. When no box satisfies all bands,
``plan.ok`` is False and ``plan.problem`` tells the person what to do, in their own frame of
reference ("move to your left" stays right in a mirrored preview)::

    plan = plan_crop(analysis)
    if plan.ok:
        photo = apply_crop(rgb, plan)             # 640×480×3 uint8 (h×w×c)
    else:
        show(plan.problem)                        # e.g. 请靠近一点 / Move a little closer

For a live preview frame that is a scaled-down view of the still, analyse it with
``source_size=(still_w, still_h)``: the planner then counts camera pixels, not preview pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.analysis import Analysis
from kiosk.photo.arrays import RGB, Floats

OUT_W, OUT_H = standard.FRAME_WIDTH, standard.FRAME_HEIGHT
ASPECT = OUT_W / OUT_H                       # 3:4

MOVE_CLOSER = Message("请靠近镜头一点", "Please move a little closer to the camera")
STEP_BACK = Message("请离镜头远一点", "Please step back a little from the camera")
MOVE_LEFT = Message("请向您的左边移一点", "Please move a little to your left")
MOVE_RIGHT = Message("请向您的右边移一点", "Please move a little to your right")
MOVE_LOWER = Message("请把身体放低一点（坐低或微微屈膝）", "Please lower yourself a little (sit lower)")
MOVE_HIGHER = Message("请坐直、把身体抬高一点", "Please sit up straight and a little higher")
NO_FACE = Message("请面向镜头，让脸完整出现在画面中", "Please face the camera so your whole face is in view")
NO_HEAD_TOP = Message("头顶不在画面内：请把身体放低一点或离远一点",
                      "The top of your head is out of view: please move lower or step back")


@dataclass
class CropPlan:
    """Where to crop, how much to scale, and how well the result sits inside the bands.

    ``box`` is (x0, y0, x1, y1) in pixels of the analysed frame; ``scale`` is output pixels per
    CAMERA pixel (≤ 1: never upsampled); ``frame_scale`` is output pixels per analysed-frame
    pixel (what :func:`project` uses). ``predicted`` gives where head top, eye line, face width
    and face centre land in the 480×640 output; ``margins`` the distance of each to the nearer
    band edge in output pixels (negative = outside), ``worst`` the smallest normalised margin.
    """

    ok: bool
    box: tuple[int, int, int, int] | None = None
    scale: float = 0.0
    frame_scale: float = 0.0
    frame_size: tuple[int, int] = (0, 0)
    problem: Message | None = None
    margins: dict[str, float] = field(default_factory=dict)
    predicted: dict[str, float] = field(default_factory=dict)
    worst: float = float("-inf")

    def project(self, points: ArrayLike) -> NDArray[np.float64]:
        """Map analysed-frame points (N×2, or one (x, y)) into output coordinates."""
        return project(self, points)


_BANDS = {
    "head_top": standard.HEAD_TOP,
    "eyes": standard.EYE_LINE,
    "face_width": standard.FACE_WIDTH,
    "centered": standard.FACE_CENTER_X,
}


def project(plan: CropPlan, points: ArrayLike) -> NDArray[np.float64]:
    """Source (analysed-frame) pixel coordinates → 480×640 output coordinates."""
    if plan.box is None:
        raise ValueError("the crop plan has no box")
    p = np.asarray(points, dtype=np.float64)
    return (p - np.array(plan.box[:2], dtype=np.float64)) * plan.frame_scale


def _margin(band: standard.Band, value: Any) -> Any:
    """Band.margin for scalars and numpy arrays alike."""
    return np.minimum(value - band.lo, band.hi - value)


#: One crop's margins (floats) or a grid of candidate crops' (arrays).
Margin = TypeVar("Margin", float, Floats)


def _margins(head_out: Margin, eye_out: Margin, width_out: Margin, centre_out: Margin) -> dict[str, Margin]:
    return {
        "head_top": _margin(_BANDS["head_top"], head_out),
        "eyes": _margin(_BANDS["eyes"], eye_out),
        "face_width": _margin(_BANDS["face_width"], width_out),
        "centered": _margin(_BANDS["centered"], centre_out),
    }


def _normalised(margins: dict[str, Margin]) -> dict[str, Margin]:
    return {k: v / ((_BANDS[k].hi - _BANDS[k].lo) / 2) for k, v in margins.items()}


def plan_crop(analysis: Analysis) -> CropPlan:
    """The best 3:4 crop of the analysed frame for a 480×640 photo (see the module docstring)."""
    w, h = analysis.size
    face = analysis.face
    if face is None:
        return CropPlan(ok=False, frame_size=(w, h), problem=NO_FACE)
    if analysis.head_top_y is None or analysis.head_top_clipped:
        return CropPlan(ok=False, frame_size=(w, h), problem=NO_HEAD_TOP)
    src_w = analysis.source_size[0] if analysis.source_size else w
    k = src_w / w                                   # camera pixels per analysed pixel
    top, eye, fw, cx = analysis.head_top_y, face.eye_line_y, face.face_width, face.face_center_x

    bh_min = max(OUT_H / k, 4.0)                    # never upsample the camera image
    bh_max = min(float(h), w / ASPECT)              # never leave the frame
    if bh_max < bh_min:
        return CropPlan(ok=False, frame_size=(w, h), problem=STEP_BACK)

    # every box that can be cut: a height a multiple of 4 (an exact 3:4 aspect), inside the frame
    lo, hi = int(np.ceil(bh_min / 4) * 4), min((h // 4) * 4, (int(w / ASPECT) // 4) * 4)
    heights = np.arange(lo, hi + 1, 4, dtype=np.float64) if lo <= hi else np.array([hi], np.float64)
    bh_i, y0_i, x0_i = _best_box(top, eye, fw, cx, w, h, heights)
    bw_i = bh_i * OUT_W // OUT_H
    s = OUT_H / bh_i
    predicted = {
        "head_top": (top - y0_i) * s,
        "eyes": (eye - y0_i) * s,
        "face_width": fw * s,
        "centered": (cx - x0_i) * s,
    }
    margins = {k2: float(v) for k2, v in _margins(*predicted.values()).items()}
    worst = min(_normalised(margins).values())
    plan = CropPlan(ok=worst >= 0, box=(x0_i, y0_i, x0_i + bw_i, y0_i + bh_i), scale=s / k,
                    frame_scale=s, frame_size=(w, h), margins=margins,
                    predicted={k2: float(v) for k2, v in predicted.items()}, worst=float(worst))
    if not plan.ok:
        plan.problem = _diagnose(plan, fw, bh_min, bh_max, cx, w)
    return plan


def _best_box(top: float, eye: float, fw: float, cx: float, w: int, h: int,
              heights: Floats) -> tuple[int, int, int]:
    """The best whole-pixel box (height, top, left) of the box heights ``heights``.

    For one height, the left edge centres the face as far as the frame allows, the face width
    and centring do not depend on the box's top, and the head top's and eye line's margins
    are tents in it (each falls off linearly from its band's middle): the best top is where
    the two tents cross, kept inside the frame, and of the two whole pixels around it the
    better (the lower of two tents is concave). Ties go to the smallest box.
    """
    s = OUT_H / heights
    bw = heights * OUT_W // OUT_H
    x0 = np.clip(np.round(cx - bw / 2), 0, w - bw)
    room = h - heights
    y = _best_top(top, eye, s)
    below, above = np.clip(np.floor(y), 0, room), np.clip(np.ceil(y), 0, room)
    worst_below, worst_above = _worst(top, eye, fw, cx, below, s, x0), _worst(top, eye, fw, cx, above, s, x0)
    ys = np.where(worst_above > worst_below, above, below)
    i = int(np.argmax(np.maximum(worst_below, worst_above)))
    return int(heights[i]), int(ys[i]), int(x0[i])


def _best_top(top: float, eye: float, s: Floats) -> Floats:
    """The box top (frame pixels, the frame's edges aside) that puts head top and eye line
    deepest into their bands at ``s`` output pixels per frame pixel: where their tents cross."""
    head, eyes = _BANDS["head_top"], _BANDS["eyes"]
    y_head = top - head.middle / s                    # the top that puts the head top mid-band
    y_eyes = eye - eyes.middle / s
    half_head, half_eyes = (head.hi - head.lo) / 2, (eyes.hi - eyes.lo) / 2
    best: Floats = (half_eyes * y_head + half_head * y_eyes) / (half_head + half_eyes)
    return best


def _worst(top: float, eye: float, fw: float, cx: float, ys: Floats, s: Floats,
           x0: Floats) -> Floats:
    m = _normalised(_margins((top - ys) * s, (eye - ys) * s, fw * s, (cx - x0) * s))
    worst: Floats = np.minimum(np.minimum(m["head_top"], m["eyes"]),
                               np.minimum(m["face_width"], m["centered"]))
    return worst


def _diagnose(plan: CropPlan, fw: float, bh_min: float, bh_max: float, cx: float, w: int) -> Message:
    """Say what the person must do when no crop meets every band."""
    fw_max_out = fw * OUT_H / bh_min      # face width at the largest allowed magnification
    fw_min_out = fw * OUT_H / bh_max      # ... at the smallest
    if fw_max_out < standard.FACE_WIDTH.lo:
        return MOVE_CLOSER
    if fw_min_out > standard.FACE_WIDTH.hi:
        return STEP_BACK
    norm = _normalised(plan.margins)
    worst = min(norm, key=lambda name: norm[name])
    p = plan.predicted
    if worst == "centered":
        # face right of centre in the image = on the person's left: they move to their right
        return MOVE_RIGHT if p["centered"] > _BANDS["centered"].middle else MOVE_LEFT
    if worst == "face_width":
        return MOVE_CLOSER if p["face_width"] < _BANDS["face_width"].lo else STEP_BACK
    if worst == "head_top":
        # too little room above the head: the person is too high in the frame
        return MOVE_LOWER if p["head_top"] < _BANDS["head_top"].lo else MOVE_HIGHER
    return MOVE_LOWER if p["eyes"] < _BANDS["eyes"].lo else MOVE_HIGHER


def apply_crop(rgb: RGB, plan: CropPlan) -> RGB:
    """Cut the plan's box out of ``rgb`` and scale it to 480×640 (INTER_AREA). Returns 640×480×3.

    ``rgb`` may be the analysed frame or a larger still framed the same way (a preview was
    analysed, the still is cropped): the box is scaled by the size ratio.
    """
    if plan.box is None:
        raise ValueError("the crop plan has no box")
    h, w = rgb.shape[:2]
    fw, fh = plan.frame_size
    x0, y0, x1, y1 = plan.box
    if (w, h) != (fw, fh):
        kx, ky = w / fw, h / fh
        x0, x1 = round(x0 * kx), round(x1 * kx)
        y0, y1 = round(y0 * ky), round(y1 * ky)
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, w), min(y1, h)
    box = rgb[y0:y1, x0:x1]
    interp = cv2.INTER_AREA if box.shape[0] >= OUT_H else cv2.INTER_LINEAR
    return cast(RGB, cv2.resize(box, (OUT_W, OUT_H), interpolation=interp))
