"""Booth-like scenes composed from real photographs: the fake camera's subject and the tests'.

Two public-domain portraits that ship with packages we already install are cut out with
mediapipe's SelfieSegmentation (once per process, then cached) and placed on a booth backdrop:

* ``"astronaut"``: scikit-image's ``data.astronaut()`` (Eileen Collins, NASA);
* ``"hopper"``: matplotlib's sample ``grace_hopper.jpg`` (Grace Hopper, US Navy).

:func:`compose_scene` places the person on one of the standard's backdrops (or any colour) in a
frame shaped like the camera's (4:3 by default), at a chosen position and size, and can break
the scene on purpose the way real booths get it wrong::

    frame = compose_scene("hopper", "white", size=(2028, 1520))
    frame = compose_scene("astronaut", "blue", dx=0.2, scale=0.6)      # off-centre, too far away
    frame = compose_scene("astronaut", "blue", shadow=0.5, side_dark=0.6, glare=True)

Everything drawn is a change of the camera's INPUT (the scene in front of the lens); rotating
the person layer (``roll_deg``) is how a tilted head looks to the camera. The booth itself never
rotates or retouches a photo.

Placement: with ``dx=dy=0`` and ``scale=1`` the face is centred horizontally, its cheek-to-cheek
width is :data:`FACE_WIDTH_FRACTION` of the frame height and the eye line sits at
:data:`EYE_LINE_FRACTION` of the height: a valid, comfortable crop exists. ``dx``/``dy`` move the
face by that fraction of the frame width/height (positive = right/down in the image);
``scale`` multiplies its size (< 1 = further from the camera).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

FACES = ("astronaut", "hopper")
FACE_WIDTH_FRACTION = 0.25
EYE_LINE_FRACTION = 0.42

#: The standard's backdrops, plus a few wrong ones for tests and demonstrations.
WRONG_BACKDROPS = {"green": (90, 170, 90), "beige": (225, 205, 170), "dark": (60, 60, 70),
                   "deep_blue": (40, 90, 200)}


@dataclass(frozen=True)
class Cutout:
    """A person cut out of a photograph: colours, alpha and where the face is (photo pixels)."""

    rgb: np.ndarray          # float32 H×W×3, 0–255
    alpha: np.ndarray        # float32 H×W, 0–1
    landmarks: np.ndarray    # (478, 2) FaceMesh landmarks in photo pixels
    face_center: tuple[float, float]   # midpoint of the cheek points (x) and eye line (y)
    face_width: float


def load_photo(face: str) -> np.ndarray:
    """The source photograph, RGB uint8."""
    if face == "astronaut":
        from skimage import data
        return np.ascontiguousarray(data.astronaut())
    if face == "hopper":
        import matplotlib.cbook as cbook
        from PIL import Image
        with cbook.get_sample_data("grace_hopper.jpg") as f:  # type: ignore[union-attr]
            return np.array(Image.open(f).convert("RGB"))
    from kiosk.sim.faces import labels, load_labelled
    if face in labels():                    # a labelled real face of tests/data/faces.json
        return load_labelled(face)
    raise ValueError(f"unknown face {face!r}; choose one of {FACES} or a labelled face id")


@functools.lru_cache(maxsize=None)
def cutout(face: str) -> Cutout:
    """Cut the person out of the photo once (SelfieSegmentation + FaceMesh); cached."""
    import mediapipe as mp

    photo = load_photo(face)
    h, w = photo.shape[:2]
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        alpha = np.asarray(seg.process(photo).segmentation_mask, np.float32)
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True) as mesh:
        res = mesh.process(photo)
    if not res.multi_face_landmarks:
        raise RuntimeError(f"no face found in the {face} photo")
    lm = np.array([(p.x * w, p.y * h) for p in res.multi_face_landmarks[0].landmark], np.float32)
    # Keep only the person: the silhouette part connected to the face. (The astronaut photo's
    # helmet at the lower right is segmented as "person" too; the corner below her arm goes.)
    binary = (alpha >= 0.5).astype(np.uint8)
    _, labels = cv2.connectedComponents(binary)
    nose = np.clip(lm[1], 0, (w - 1, h - 1)).astype(int)
    keep = labels == labels[nose[1], nose[0]]
    if face == "astronaut":
        keep[int(h * 0.66):, int(w * 0.80):] = False
    # soft edge: a feathered version of the kept silhouette, like a real boundary
    hard = keep.astype(np.float32)
    alpha = np.minimum(cv2.GaussianBlur(hard, (0, 0), 1.2), np.clip(alpha * 1.5, 0, 1) * hard + 0.0)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.8)
    # The body continues below the photo's bottom edge (one photo height), so a student
    # standing further back reaches the frame's bottom edge instead of floating.
    rgb = np.concatenate([photo.astype(np.float32), _torso_below(photo, alpha)])
    alpha = np.concatenate([alpha, np.repeat(alpha[-1:], h, axis=0)])
    cx = float((lm[234, 0] + lm[454, 0]) / 2)
    cy = float((lm[468, 1] + lm[473, 1]) / 2)
    fw = float(np.hypot(*(lm[454] - lm[234])))
    return Cutout(rgb, alpha, lm, (cx, cy), fw)


def _torso_below(photo: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Clothes continuing below the photo: one photo height of rows, float32 RGB.

    Repeating the last row streaks every button and seam of the edge down the frame. Instead,
    each column takes the median colour of the person in the last band of rows (a button or a
    hand in the band is outvoted by the cloth around it), smoothed sideways (weighted by the
    silhouette, so the old backdrop does not bleed in); the real last row fades into it over a
    few rows, and it darkens a little downward, like a torso leaving the light. The silhouette
    keeps the last row's width (see :func:`cutout`).
    """
    h, w = photo.shape[:2]
    band = max(8, h // 8)
    a = alpha[-band:]
    colour = photo[-band:].astype(np.float32)
    person = a >= 0.5
    weight = person.mean(axis=0).astype(np.float32)                  # per column
    masked = np.where(person[..., None], colour, np.nan)
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)      # all-backdrop columns
            median = np.nanmedian(masked, axis=0)
    median = np.where(np.isnan(median), colour[-1], median).astype(np.float32)
    sigma = max(2.0, 0.02 * w)
    num = cv2.GaussianBlur(np.ascontiguousarray((median * weight[:, None])[None]), (0, 0), sigma)[0]
    den = cv2.GaussianBlur(np.ascontiguousarray(weight[None, :]), (0, 0), sigma)[0]
    smooth = np.where((den > 1e-3)[:, None], num / np.maximum(den, 1e-6)[:, None], median)
    rows = np.arange(h, dtype=np.float32)[:, None, None]
    fade = np.clip(rows / max(4.0, band / 6), 0.0, 1.0)          # last row → smooth cloth
    shade = 1.0 - 0.18 * rows / h                                   # a little darker downward
    last = photo[-1].astype(np.float32)[None]
    return ((1.0 - fade) * last + fade * smooth[None]) * shade


def backdrop_color(backdrop: str | tuple[int, int, int]) -> tuple[int, int, int]:
    """RGB of a backdrop name (the standard's three, or a wrong one) or an RGB triple."""
    if isinstance(backdrop, str):
        from kiosk.photo import standard
        if backdrop in standard.BACKGROUND_COLORS:
            return standard.BACKGROUND_COLORS[backdrop]
        if backdrop in WRONG_BACKDROPS:
            return WRONG_BACKDROPS[backdrop]
        raise ValueError(f"unknown backdrop {backdrop!r}")
    r, g, b = backdrop
    return int(r), int(g), int(b)


def compose_scene(face: str = "astronaut", backdrop: str | tuple[int, int, int] = "blue", *,
                  size: tuple[int, int] = (1440, 1080), dx: float = 0.0, dy: float = 0.0,
                  scale: float = 1.0, roll_deg: float = 0.0,
                  gradient: float = 0.0, shadow: float = 0.0, side_dark: float = 0.0,
                  exposure: float = 1.0, cast: tuple[float, float, float] | None = None,
                  glare: bool = False, hotspot: bool = False, red_eye: bool = False,
                  sunglasses: bool = False, blur: float = 0.0, stripes: bool = False,
                  clothing_rgb: tuple[int, int, int] | None = None,
                  second_face: bool = False, clutter: bool = False, noise: float = 0.0,
                  earrings: bool = False, lipstick: bool = False, fringe: bool = False,
                  seed: int = 0) -> np.ndarray:
    """Compose one camera frame: a real person in front of a booth backdrop. RGB uint8.

    Geometry: ``size`` (w, h) of the frame; ``dx``/``dy`` shift the face by that fraction of
    the frame width/height; ``scale`` multiplies the face size; ``roll_deg`` tilts the head
    (positive = counter-clockwise in the image = toward the person's right shoulder).

    Backdrop and light: ``gradient`` (0–1) darkens the backdrop from left to right;
    ``shadow`` (0–1) casts the person's shadow on the backdrop, offset right and down;
    ``side_dark`` (0–1) darkens the left half of the image's person (the person's right side);
    ``exposure`` multiplies all light; ``cast`` multiplies R, G, B (a colour cast).

    Person: ``glare`` puts a clipped reflection on the lens over the person's right eye;
    ``hotspot`` a clipped highlight on the forehead; ``red_eye`` red pupils; ``sunglasses``
    tinted lenses; ``stripes`` a striped garment; ``clothing_rgb`` re-dyes the clothes;
    ``earrings`` small metal studs below the ears; ``lipstick`` saturated red lips;
    ``fringe`` the person's own hair (copied from above the forehead) over the eyebrows.

    Frame: ``blur`` (Gaussian sigma in frame pixels, focus), ``second_face`` (another person at
    the side), ``clutter`` (an object on the backdrop beside the head), ``noise`` (sensor
    noise sigma), ``seed`` for the noise.
    """
    w, h = int(size[0]), int(size[1])
    cut = cutout(face)
    bg_rgb = np.array(backdrop_color(backdrop), np.float32)

    # --- the person layer, transformed into the frame ----------------------------------------
    fw_target = FACE_WIDTH_FRACTION * h * scale
    s = fw_target / cut.face_width
    tx = w / 2 + dx * w
    ty = EYE_LINE_FRACTION * h + dy * h
    m = cv2.getRotationMatrix2D(cut.face_center, roll_deg, s)
    m[0, 2] += tx - cut.face_center[0]
    m[1, 2] += ty - cut.face_center[1]
    # Only the person's footprint is warped and blended: everywhere else alpha is 0 and the
    # frame is the backdrop (a third of the time of warping the whole frame).
    fg = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    x0, y0, x1, y1 = _footprint(m, (cut.alpha.shape[0], cut.alpha.shape[1]), w, h)
    if x1 > x0 and y1 > y0:
        mr = m.astype(np.float64)
        mr[:, 2] -= (x0, y0)
        fg[y0:y1, x0:x1] = cv2.warpAffine(cut.rgb, mr, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                          borderMode=cv2.BORDER_REPLICATE)
        alpha[y0:y1, x0:x1] = cv2.warpAffine(cut.alpha, mr, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                             borderMode=cv2.BORDER_CONSTANT, borderValue=(0,))
    lm = _transform(cut.landmarks, m)

    if stripes or clothing_rgb is not None:
        fg = _dress(fg, alpha, lm, fw_target, stripes, clothing_rgb)
    if side_dark > 0:
        ramp = np.clip((lm[454, 0] - np.arange(w, dtype=np.float32)) / (lm[454, 0] - lm[234, 0]), 0, 1)
        fg = fg * (1 - side_dark * ramp)[None, :, None]
    if fringe:
        _fringe(fg, lm, fw_target)
    if lipstick:
        _lipstick(fg, lm)
    if earrings:
        for idx in (234, 454):
            c = lm[idx] + np.array([0.0, 0.25 * fw_target])
            _disc(fg, c, fw_target * 0.025, (150.0, 150.0, 155.0), 1.0)
            _blob(fg, c, fw_target * 0.012, 255.0)
    if sunglasses:
        _sunglasses(fg, lm)
    if red_eye:
        _red_pupils(fg, lm)

    # --- the backdrop ------------------------------------------------------------------------
    whole_frame_effects = (gradient > 0 or shadow > 0 or clutter or second_face or exposure != 1.0
                           or cast is not None or blur > 0 or noise > 0)
    if not whole_frame_effects:
        # a plain backdrop: only the person's footprint is computed in floating point
        out = np.empty((h, w, 3), np.uint8)
        out[:] = np.clip(bg_rgb + 0.5, 0, 255).astype(np.uint8)
        if x1 > x0 and y1 > y0:
            a = np.ascontiguousarray(alpha[y0:y1, x0:x1])
            back = np.empty((y1 - y0, x1 - x0, 3), np.float32)
            back[:] = bg_rgb
            roi = cv2.blendLinear(np.ascontiguousarray(fg[y0:y1, x0:x1]), back, a, 1 - a)
            _highlights(roi, lm - (x0, y0), fw_target, glare, hotspot)
            out[y0:y1, x0:x1] = cv2.convertScaleAbs(roi)     # rounds and saturates; roi ≥ 0
        return out
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = bg_rgb
    if gradient > 0:
        bg *= (1 - gradient * np.linspace(0, 1, w, dtype=np.float32))[None, :, None]
    if shadow > 0:
        off = fw_target * 0.12
        sm = cv2.warpAffine(alpha, np.array([[1, 0, off], [0, 1, off * 0.5]], np.float32), (w, h))
        sm = cv2.GaussianBlur(sm, (0, 0), fw_target * 0.06)
        bg *= (1 - shadow * sm)[..., None]
    if clutter:
        _paste_object(bg, lm, fw_target)

    frame = bg                       # blended in place, inside the footprint only
    if x1 > x0 and y1 > y0:
        a = alpha[y0:y1, x0:x1, None]
        frame[y0:y1, x0:x1] = fg[y0:y1, x0:x1] * a + bg[y0:y1, x0:x1] * (1 - a)
    if second_face:
        frame = _second_person(frame, face, lm, fw_target, w, h)
    _highlights(frame, lm, fw_target, glare, hotspot)
    if exposure != 1.0:
        frame *= exposure
    if cast is not None:
        frame *= np.asarray(cast, np.float32)[None, None, :]
    if blur > 0:
        frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), blur), np.float32)
    if noise > 0:
        frame += np.random.default_rng(seed).normal(0, noise, frame.shape).astype(np.float32)
    frame += 0.5
    return np.clip(frame, 0, 255, out=frame).astype(np.uint8)


def _highlights(img: np.ndarray, lm: np.ndarray, fw: float, glare: bool, hotspot: bool) -> None:
    """Clipped reflections: on the lens over the person's right eye, on the forehead."""
    if glare:
        _blob(img, _eye_center(lm, "right"), _eye_width(lm) * 0.32, 255.0)
    if hotspot:
        fh = lm[152] - lm[10]
        _blob(img, lm[10] + 0.18 * fh, fw * 0.12, 255.0)


def _footprint(m: np.ndarray, shape: tuple[int, int], w: int, h: int) -> tuple[int, int, int, int]:
    """Bounding box (x0, y0, x1, y1) in the frame of a ``shape`` (h, w) layer warped by ``m``,
    a pixel wider each way for the bilinear interpolation, clipped to the frame."""
    sh, sw = shape
    corners = np.array([[0, 0], [sw, 0], [0, sh], [sw, sh]], np.float64) @ m[:, :2].T + m[:, 2]
    x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 2
    return max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)


def scene_landmarks(face: str = "astronaut", *, size: tuple[int, int] = (1440, 1080),
                    dx: float = 0.0, dy: float = 0.0, scale: float = 1.0,
                    roll_deg: float = 0.0, **_ignored) -> np.ndarray:
    """Where the photo's FaceMesh landmarks land in a scene composed with these arguments."""
    w, h = size
    cut = cutout(face)
    s = FACE_WIDTH_FRACTION * h * scale / cut.face_width
    m = cv2.getRotationMatrix2D(cut.face_center, roll_deg, s)
    m[0, 2] += w / 2 + dx * w - cut.face_center[0]
    m[1, 2] += EYE_LINE_FRACTION * h + dy * h - cut.face_center[1]
    return _transform(cut.landmarks, m)


# --- drawing helpers ---------------------------------------------------------------------------

def _transform(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    return points @ m[:, :2].T + m[:, 2]


def _eye_center(lm: np.ndarray, side: str) -> np.ndarray:
    return lm[468] if side == "right" else lm[473]


def _eye_width(lm: np.ndarray) -> float:
    return float(np.hypot(*(lm[133] - lm[33])))


def _blob(img: np.ndarray, centre, radius: float, value: float) -> None:
    """A clipped specular highlight: flat saturated core with a soft rim."""
    h, w = img.shape[:2]
    r = max(radius, 2.0)
    x0, x1 = int(max(centre[0] - 2 * r, 0)), int(min(centre[0] + 2 * r + 1, w))
    y0, y1 = int(max(centre[1] - 2 * r, 0)), int(min(centre[1] + 2 * r + 1, h))
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = np.hypot(xx - centre[0], (yy - centre[1]) * 1.3) / r
    a = np.clip(1.6 - d, 0, 1)[..., None]
    img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - a) + value * a


def _red_pupils(img: np.ndarray, lm: np.ndarray) -> None:
    for c, ring in ((468, (469, 470, 471, 472)), (473, (474, 475, 476, 477))):
        r_iris = float(np.mean(np.hypot(*(lm[list(ring)] - lm[c]).T)))
        _disc(img, lm[c], r_iris * 0.55, (205.0, 35.0, 30.0), 1.0)


def _lipstick(img: np.ndarray, lm: np.ndarray) -> None:
    lips = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(lm[[61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91]]).astype(np.int32)], (1,))
    cv2.fillPoly(lips, [np.round(lm[[78, 81, 13, 311, 308, 402, 14, 178]]).astype(np.int32)], (0,))
    a = cv2.GaussianBlur(lips.astype(np.float32), (0, 0), 1.0)[..., None] * 0.8
    lum = img.mean(axis=2, keepdims=True) / 160.0
    red = np.array([200.0, 20.0, 45.0], np.float32) * np.clip(lum, 0.5, 1.2)
    img[:] = img * (1 - a) + red * a


def _fringe(img: np.ndarray, lm: np.ndarray, fw: float) -> None:
    """Hair over the eyebrows: the person's own hair from above the forehead, moved down."""
    brow_y = float(lm[[105, 334], 1].mean())
    x0, x1 = int(lm[234, 0]), int(lm[454, 0])
    top = int(brow_y - 0.14 * fw)
    bottom = int(brow_y + 0.05 * fw)
    src_bottom = int(lm[10, 1] - 0.02 * fw)
    src_top = src_bottom - (bottom - top)
    if src_top < 0 or x1 <= x0:
        return
    patch = img[src_top:src_bottom, x0:x1].copy()
    ramp = np.clip(np.linspace(0, 1, bottom - top, dtype=np.float32)[::-1] * 3, 0, 1)[:, None, None]
    img[top:bottom, x0:x1] = patch * ramp + img[top:bottom, x0:x1] * (1 - ramp)


def _sunglasses(img: np.ndarray, lm: np.ndarray) -> None:
    ew = _eye_width(lm)
    for c in (_eye_center(lm, "right"), _eye_center(lm, "left")):
        _disc(img, c, ew * 0.75, (25.0, 25.0, 30.0), 0.85, aspect=0.8)


def _disc(img, centre, radius, color, opacity, aspect=1.0) -> None:
    h, w = img.shape[:2]
    r = max(radius, 1.0)
    x0, x1 = int(max(centre[0] - r - 2, 0)), int(min(centre[0] + r + 3, w))
    y0, y1 = int(max(centre[1] - r - 2, 0)), int(min(centre[1] + r + 3, h))
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = np.hypot(xx - centre[0], (yy - centre[1]) / aspect)
    a = (np.clip(r + 0.5 - d, 0, 1) * opacity)[..., None]
    img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - a) + np.asarray(color, np.float32) * a


def _dress(fg, alpha, lm, fw, stripes, clothing_rgb):
    """Re-dye or stripe the clothes: the person's pixels below the chin and the neck."""
    h, w = alpha.shape
    top = int(np.clip(lm[152, 1] + 0.45 * fw, 0, h))
    region = np.zeros((h, w), np.float32)
    region[top:] = 1.0
    region = cv2.GaussianBlur(region, (0, 0), 3)[..., None]
    lum = fg.mean(axis=2, keepdims=True) / 255.0
    if clothing_rgb is not None:
        cloth = np.asarray(clothing_rgb, np.float32) * (0.75 + 0.35 * lum)
    else:
        period = max(fw * 0.09, 4.0)
        yy = np.arange(h, dtype=np.float32)[:, None]
        xx = np.arange(w, dtype=np.float32)[None, :]
        band = (np.sin(2 * np.pi * (yy + 0.3 * xx) / period) > 0).astype(np.float32)
        cloth = (30 + 200 * band)[..., None] * np.ones(3, np.float32)
    return fg * (1 - region) + cloth * region


def _paste_object(bg, lm, fw) -> None:
    """A real object (scikit-image's coffee cup photo) on the backdrop beside the head."""
    from skimage import data
    obj = data.coffee().astype(np.float32)
    side = int(fw * 0.55)
    obj = cv2.resize(obj, (side, int(side * obj.shape[0] / obj.shape[1])), interpolation=cv2.INTER_AREA)
    x = int(lm[234, 0] - fw * 0.35 - side)
    y = int(lm[10, 1] - fw * 0.1)
    h, w = bg.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + obj.shape[1], w), min(y + obj.shape[0], h)
    if x1 > x0 and y1 > y0:
        bg[y0:y1, x0:x1] = obj[y0 - y:y1 - y, x0 - x:x1 - x]


def _second_person(frame, face, lm, fw, w, h):
    """Another person, a little further back, beside the main one."""
    other = "hopper" if face == "astronaut" else "astronaut"
    cut = cutout(other)
    s = fw * 0.7 / cut.face_width
    tx = lm[454, 0] + fw * 1.5
    if tx > w - fw * 0.4:
        tx = lm[234, 0] - fw * 1.5
    ty = (lm[468, 1] + lm[473, 1]) / 2 + fw * 0.2
    m = cv2.getRotationMatrix2D(cut.face_center, 0.0, s)
    m[0, 2] += tx - cut.face_center[0]
    m[1, 2] += ty - cut.face_center[1]
    fg = cv2.warpAffine(cut.rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    a = cv2.warpAffine(cut.alpha, m, (w, h), flags=cv2.INTER_LINEAR)[..., None]
    return fg * a + frame * (1 - a)
