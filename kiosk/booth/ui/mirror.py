"""The live mirror of the crop: the student sees their photo-to-be, portrait, as in a mirror.

The crop planner (kiosk/photo/crop.py) says which 3:4 box of the camera frame becomes the
480×640 photo. The mirror shows exactly that box, scaled to fill a portrait rectangle on the
screen and flipped left-right like a mirror, with the standard's head-top band (50–110 px of
640) and eye-line band (200–300 px) drawn at their scaled rows and a head-and-shoulders outline
(the guide oval) where a well-placed face sits. A face too small in the oval means "come
closer", a face off-centre means "move", without reading a word.

Until there is a crop plan (nobody there yet, no face found) it shows the middle of the frame,
cut to portrait, mirrored too. Only the preview is mirrored; the saved photo never is.

The box eases from one analysed frame's plan to the next (`BoxEase`) so the zoom does not jump
at the analysis rate: pure arithmetic on a clock the caller passes in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import pygame

from kiosk.booth.ui import overlay
from kiosk.photo import standard

Box = tuple[float, float, float, float]
ASPECT = standard.FRAME_WIDTH / standard.FRAME_HEIGHT          # 3:4, portrait


def centre_box(width: int, height: int) -> Box:
    """The portrait box in the middle of a frame, as tall as the frame (no face yet)."""
    w = min(float(width), height * ASPECT)
    h = w / ASPECT
    x0, y0 = (width - w) / 2, (height - h) / 2
    return (x0, y0, x0 + w, y0 + h)


def target_box(frame_size: tuple[int, int], plan, plan_size: tuple[int, int] | None) -> Box:
    """What the mirror should show of a frame of ``frame_size`` (w, h): the plan's box, scaled
    from the analysed frame's size ``plan_size`` when the shown frame differs, else the centre."""
    box = getattr(plan, "box", None)
    w, h = frame_size
    if box is None:
        return centre_box(w, h)
    pw, ph = plan_size or frame_size
    kx, ky = w / pw, h / ph
    x0, y0, x1, y1 = (float(v) for v in box)
    eyes = getattr(plan, "predicted", {}).get("eyes")
    scale = getattr(plan, "frame_scale", 0.0)
    if not getattr(plan, "ok", False) and eyes is not None and scale > 0:
        # A failing plan's box is only the best of bad boxes: every height and top is equally
        # bad at its worst band, so its top may be anywhere (often the frame's top, the face
        # at the bottom). Show the eyes where the standard wants them instead, as far as the
        # frame allows: what is left wrong is what the instruction is about.
        eye_y = y0 + eyes / scale
        bh = y1 - y0
        top = eye_y - standard.EYE_LINE.middle * bh / standard.FRAME_HEIGHT
        y0 = min(max(top, 0.0), max(0.0, ph - bh))
        y1 = y0 + bh
    return (x0 * kx, y0 * ky, x1 * kx, y1 * ky)


class BoxEase:
    """The box on screen follows the newest target with a time constant of ``tau`` seconds;
    the first box (or one after ``stale_s`` without drawing) is shown at once."""

    def __init__(self, tau: float = 0.15, stale_s: float = 0.5) -> None:
        self.tau = tau
        self.stale_s = stale_s
        self.box: Box | None = None
        self.at = 0.0

    def reset(self) -> None:
        self.box = None

    def update(self, target: Box, now: float) -> Box:
        dt = now - self.at
        # a redraw at the same instant or after a pause is a new scene (a test, a screenshot,
        # a new visit): show the target at once
        if self.box is None or dt > self.stale_s or dt <= 0 or self.tau <= 0:
            x0, y0, x1, y1 = (float(v) for v in target)
        else:
            a = 1.0 - math.exp(-dt / self.tau)
            x0, y0, x1, y1 = (b + (t - b) * a for b, t in zip(self.box, target))
        box = self.box = (x0, y0, x1, y1)
        self.at = now
        return box


def portrait_rect(area: pygame.Rect) -> pygame.Rect:
    """The largest 3:4 rectangle centred in ``area``."""
    scale = min(area.width / standard.FRAME_WIDTH, area.height / standard.FRAME_HEIGHT)
    w, h = int(standard.FRAME_WIDTH * scale), int(standard.FRAME_HEIGHT * scale)
    return pygame.Rect(area.centerx - w // 2, area.centery - h // 2, w, h)


def crop_pixels(frame: np.ndarray, box: Box, size: tuple[int, int]) -> np.ndarray:
    """The box of ``frame`` scaled to ``size`` (w, h) and mirrored left-right. RGB, h×w×3.

    A box reaching past the frame (an eased box on its way) is clamped to it first.
    """
    fh, fw = frame.shape[:2]
    x0, y0, x1, y1 = box
    x0, y0 = max(0, int(round(x0))), max(0, int(round(y0)))
    x1, y1 = min(fw, max(x0 + 1, int(round(x1)))), min(fh, max(y0 + 1, int(round(y1))))
    part = frame[y0:y1, x0:x1]
    w, h = max(1, size[0]), max(1, size[1])
    interp = cv2.INTER_AREA if part.shape[0] > h else cv2.INTER_LINEAR
    img = cv2.resize(part, (w, h), interpolation=interp)
    return np.ascontiguousarray(cv2.flip(img, 1))


_cache: list = []       # [(frame, box, size), surface]: the screen redraws faster than frames come


def mirror_surface(frame: np.ndarray, box: Box, size: tuple[int, int]) -> pygame.Surface:
    key = (tuple(int(round(v)) for v in box), tuple(size))      # whole pixels: what is cut
    if _cache and _cache[0][0] is frame and _cache[0][1:] == key:
        return _cache[1]
    img = crop_pixels(frame, box, size)
    surface = pygame.image.frombuffer(img.tobytes(), (img.shape[1], img.shape[0]), "RGB")
    _cache[:] = [(frame, *key), surface]
    return surface


@dataclass(frozen=True)
class MirrorShapes:
    """The guide on the mirror, in screen pixels: bands at the standard's rows, scaled."""
    dest: pygame.Rect
    guide: overlay.GuideShapes

    def row(self, photo_y: float) -> float:
        """Screen row of a row of the 480×640 photo."""
        return self.dest.y + photo_y * self.dest.height / standard.FRAME_HEIGHT


def mirror_shapes(dest: pygame.Rect) -> MirrorShapes:
    """The standard's bands and the head-and-shoulders outline inside the mirror ``dest``: the
    mirror IS the photo, so the photo's own coordinates are scaled to it (symmetric, so the
    mirroring changes nothing)."""
    photo = (0.0, 0.0, float(standard.FRAME_WIDTH), float(standard.FRAME_HEIGHT))
    proj = overlay.Projection(standard.FRAME_WIDTH, standard.FRAME_HEIGHT, dest, mirror=False)
    return MirrorShapes(dest, overlay.guide_shapes(photo, proj))


def draw_mirror(surface: pygame.Surface, dest: pygame.Rect, frame: np.ndarray | None, box: Box | None,
                *, ready: bool = False) -> MirrorShapes | None:
    """Draw the mirror of ``box`` of ``frame`` filling ``dest`` (a 3:4 rectangle, see
    `portrait_rect`) and the guide over it. Returns its shapes (None without a frame)."""
    if frame is None or box is None:
        pygame.draw.rect(surface, (30, 36, 52), dest)
        return None
    surface.blit(mirror_surface(frame, box, dest.size), dest)
    shapes = mirror_shapes(dest)
    overlay.draw_guide(surface, shapes.guide, dest, ready=ready, dim=False)
    return shapes
