"""The head-and-shoulders guide drawn over the mirrored live preview.

The guide sits exactly where the crop will be: the crop plan's box (in pixels of the analysed
frame) is projected into the preview rectangle on screen, mirrored like the preview, and the
standard's target bands (head top 50–110 px, eye line 200–300 px of the 480×640 photo) are
projected inside it. Everything outside the crop is dimmed, so the student sees their photo.

Only the preview is mirrored (people expect a mirror); the saved photo never is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame

from kiosk.photo import standard

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Projection:
    """Maps pixels of the analysed frame (src) to the preview rectangle on screen (dest)."""
    src_w: int
    src_h: int
    dest: pygame.Rect
    mirror: bool = True

    def x(self, x: float) -> float:
        u = x / self.src_w
        if self.mirror:
            u = 1.0 - u
        return self.dest.x + u * self.dest.width

    def y(self, y: float) -> float:
        return self.dest.y + y / self.src_h * self.dest.height

    def rect(self, box: Box) -> pygame.Rect:
        x0, y0, x1, y1 = box
        a, b = self.x(x0), self.x(x1)
        left, right = min(a, b), max(a, b)
        left, right, top, bottom = round(left), round(right), round(self.y(y0)), round(self.y(y1))
        return pygame.Rect(left, top, right - left, bottom - top)


def default_box(src_w: int, src_h: int) -> Box:
    """Where a well-placed person's crop would be, for frames without a crop plan yet."""
    h = src_h * 0.85
    w = h * standard.FRAME_WIDTH / standard.FRAME_HEIGHT
    x0, y0 = (src_w - w) / 2, (src_h - h) / 2
    return (x0, y0, x0 + w, y0 + h)


@dataclass(frozen=True)
class GuideShapes:
    """The guide in screen pixels: crop rect, target bands, and the head-and-shoulders outline."""
    crop: pygame.Rect
    head_top: pygame.Rect
    eyes: pygame.Rect
    centre_x: int
    head: pygame.Rect
    shoulders: tuple[tuple[int, int], ...]


def guide_shapes(box: Box, proj: Projection) -> GuideShapes:
    """Project the crop box and the standard's layout bands into the preview."""
    x0, y0, x1, y1 = box
    k = (y1 - y0) / standard.FRAME_HEIGHT       # source px per photo px (uniform scale)

    def band(b: standard.Band) -> pygame.Rect:
        return proj.rect((x0, y0 + b.lo * k, x1, y0 + b.hi * k))

    cx = x0 + standard.FACE_CENTER_X.middle * k
    face_w = standard.FACE_WIDTH.middle * k
    head_top = y0 + standard.HEAD_TOP.middle * k
    eye = y0 + standard.EYE_LINE.middle * k
    # a head whose eyes sit at the target line lies about halfway down the head: chin ≈ 2×
    chin = eye + (eye - head_top) * 0.95
    head = proj.rect((cx - face_w / 2, head_top, cx + face_w / 2, chin))
    shoulder_y = chin + (chin - head_top) * 0.35
    neck = face_w * 0.28
    pts = [(cx - face_w * 0.95, y1), (cx - face_w * 0.85, shoulder_y + (y1 - shoulder_y) * 0.25),
           (cx - neck, shoulder_y), (cx - neck, chin - (chin - eye) * 0.1)]
    right = [(2 * cx - x, y) for x, y in reversed(pts)]
    shoulders = tuple((round(proj.x(x)), round(proj.y(y))) for x, y in pts + right)
    return GuideShapes(crop=proj.rect(box), head_top=band(standard.HEAD_TOP),
                       eyes=band(standard.EYE_LINE), centre_x=round(proj.x(cx)),
                       head=head, shoulders=shoulders)


GUIDE = (255, 255, 255)
READY = (70, 200, 120)
BAND_HEAD = (255, 196, 60, 70)
BAND_EYES = (90, 180, 255, 70)


def draw_guide(surface: pygame.Surface, shapes: GuideShapes, area: pygame.Rect, *,
               ready: bool = False, dim: bool = True) -> None:
    """Draw the guide inside the preview ``area``: dim outside the crop, bands, outline, crop
    frame (green when everything passes)."""
    clip = surface.get_clip()
    surface.set_clip(area)
    # translucent layers the size of the preview only (a full-screen alpha layer costs frames)
    layer = pygame.Surface(area.size, pygame.SRCALPHA)
    local = shapes.crop.move(-area.x, -area.y)
    if dim:
        layer.fill((0, 0, 0, 120))
        layer.fill((0, 0, 0, 0), local)
    layer.fill(BAND_HEAD, shapes.head_top.clip(shapes.crop).move(-area.x, -area.y))
    layer.fill(BAND_EYES, shapes.eyes.clip(shapes.crop).move(-area.x, -area.y))
    surface.blit(layer, area.topleft)
    color = READY if ready else GUIDE
    width = max(2, shapes.crop.width // 120)
    pygame.draw.ellipse(surface, color, shapes.head, width)
    pygame.draw.lines(surface, color, False, shapes.shoulders, width)
    pygame.draw.rect(surface, color, shapes.crop, width + 1)
    surface.set_clip(clip)
