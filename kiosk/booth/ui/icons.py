"""Big pictograms for the live instruction, drawn with pygame primitives (no image files).

A student on the stool, looking at the lens, reads no text: a big arrow tells them which way to
go. Every direction is drawn **as seen in the mirror** (the live preview is mirrored): "move to
your left" points to the screen's left, "tilt toward your right shoulder" turns clockwise,
"turn your head to your left" curves to the screen's left. The checks and the crop planner
phrase every instruction in the person's own frame, so this is a plain lookup.

`kind_for(message)` maps an instruction to a pictogram; instructions with no direction
(lighting, glasses, staff) get none and keep their text alone.
"""

from __future__ import annotations

import math

import pygame

from kiosk.message import Message
from kiosk.photo import crop
from kiosk.photo.checks import attire, background, common, eyes, glasses, layout, people, pose

ARROW = (255, 196, 60)          # the instruction's colour (widgets.ACCENT)
GOOD = (70, 200, 120)
LINE = (245, 247, 250)

#: instruction → pictogram. Directions are in the person's frame = the mirror's frame.
KINDS: dict[Message, str] = {
    crop.MOVE_LEFT: "left",
    crop.MOVE_RIGHT: "right",
    crop.MOVE_HIGHER: "up",
    crop.MOVE_LOWER: "down",
    crop.NO_HEAD_TOP: "down",
    layout.NO_HEAD_TOP: "down",
    crop.MOVE_CLOSER: "closer",
    crop.STEP_BACK: "further",
    background.NO_BACKDROP: "further",
    attire.NO_CLOTHES: "further",
    pose.TURN_LEFT: "turn_left",
    pose.TURN_RIGHT: "turn_right",
    pose.TILT_TO_LEFT: "tilt_left",
    pose.TILT_TO_RIGHT: "tilt_right",
    pose.CHIN_UP: "chin_up",
    pose.CHIN_DOWN: "chin_down",
    glasses.GLARE: "chin_down",
    pose.RAISE_LEFT: "shoulder_left",
    pose.RAISE_RIGHT: "shoulder_right",
    eyes.LOOK_AT_CAMERA: "look",
    crop.NO_FACE: "face",
    common.NO_FACE: "face",
    people.NOBODY: "face",
}
HOLD = "hold"
KINDS_ALL = tuple(sorted(set(KINDS.values()) | {HOLD}))


def kind_for(message: Message | None, *, all_pass: bool = False) -> str | None:
    """The pictogram for an instruction; "hold" while everything passes; None: text only."""
    if all_pass:
        return HOLD
    if message is None:
        return None
    return KINDS.get(message)


# --- drawing -----------------------------------------------------------------------------------
def _rotate(points, angle_deg: float, centre: tuple[float, float]):
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    cx, cy = centre
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in points]


def arrow(surface, color, centre, length: float, angle_deg: float, *, thickness: float | None = None):
    """A straight arrow centred on ``centre`` pointing at ``angle_deg`` (screen degrees: 0 =
    right, 90 = down)."""
    t = thickness or length * 0.22
    head_l, head_w = length * 0.42, t * 2.6
    half = length / 2
    pts = [(-half, -t / 2), (half - head_l, -t / 2), (half - head_l, -head_w / 2), (half, 0),
           (half - head_l, head_w / 2), (half - head_l, t / 2), (-half, t / 2)]
    pygame.draw.polygon(surface, color, _rotate(pts, angle_deg, centre))


def _head_at(surface, color, tip, direction_deg: float, size: float) -> None:
    pts = [(0, 0), (-size, -size * 0.75), (-size, size * 0.75)]
    pygame.draw.polygon(surface, color, _rotate(pts, direction_deg, tip))


def arc_arrow(surface, color, centre, radius: float, start_deg: float, end_deg: float,
              width: int) -> None:
    """An arc from ``start_deg`` to ``end_deg`` (screen degrees: increasing = clockwise on the
    screen) with an arrow head at its end."""
    cx, cy = centre
    n = 24
    head = width * 2.0             # its inscribed circle is wider than the line: it reads as a head
    # stop the line short of the tip so the head's point is sharp
    span = end_deg - start_deg
    shorten = math.degrees(head * 0.8 / radius) * (1 if span > 0 else -1)
    pts = []
    for i in range(n + 1):
        a = math.radians(start_deg + (span - shorten) * i / n)
        pts.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    pygame.draw.lines(surface, color, False, pts, width)
    for p in (pts[0],):
        pygame.draw.circle(surface, color, p, width / 2)
    a = math.radians(end_deg)
    tip = (cx + radius * math.cos(a), cy + radius * math.sin(a))
    tangent = end_deg + (90 if span > 0 else -90)
    _head_at(surface, color, tip, tangent, head)


def _face(surface, rect: pygame.Rect, width: int, *, eyes_dx: float = 0.0) -> None:
    """A simple face: an oval with two eyes (shifted by ``eyes_dx`` of the width: looking aside)."""
    pygame.draw.ellipse(surface, LINE, rect, width)
    ey = rect.y + rect.height * 0.42
    for fx in (0.33, 0.67):
        x = rect.x + rect.width * (fx + eyes_dx)
        pygame.draw.circle(surface, LINE, (x, ey), max(2, width * 0.9))


def draw_icon(surface: pygame.Surface, kind: str, rect: pygame.Rect) -> None:
    """Draw pictogram ``kind`` filling the square ``rect``."""
    s = min(rect.width, rect.height)
    c = rect.center
    w = max(3, s // 18)                    # line width
    col = GOOD if kind == HOLD else ARROW
    if kind in ("left", "right", "up", "down"):
        angle = {"right": 0, "down": 90, "left": 180, "up": 270}[kind]
        arrow(surface, col, c, s * 0.9, angle)
    elif kind in ("closer", "further"):
        # a face in the middle, four arrows: outward = it grows (come closer), inward = shrink
        face = pygame.Rect(0, 0, s * 0.36, s * 0.44)
        face.center = c
        _face(surface, face, w)
        for angle in (45, 135, 225, 315):
            a = math.radians(angle)
            r = s * 0.36
            p = (c[0] + r * math.cos(a), c[1] + r * math.sin(a))
            arrow(surface, col, p, s * 0.26, angle if kind == "closer" else angle + 180,
                  thickness=s * 0.07)
    elif kind in ("turn_left", "turn_right", "tilt_left", "tilt_right"):
        face = pygame.Rect(0, 0, s * 0.42, s * 0.52)
        face.center = c
        turn = kind.startswith("turn")
        eyes_dx = (-0.08 if kind == "turn_left" else 0.08) if turn else 0.0
        _face(surface, face, w, eyes_dx=eyes_dx)
        if turn:
            # a curve across the front of the face, ending toward the side to turn to
            a0, a1 = (60, 120) if kind == "turn_left" else (120, 60)
            arc_arrow(surface, col, (c[0], c[1] - s * 0.42), s * 0.62, a0, a1, max(4, s // 14))
        else:
            # over the top of the head: clockwise = toward the right shoulder (in the mirror)
            a0, a1 = (205, 335) if kind == "tilt_right" else (335, 205)
            arc_arrow(surface, col, c, s * 0.42, a0, a1, max(4, s // 14))
    elif kind in ("chin_up", "chin_down"):
        face = pygame.Rect(0, 0, s * 0.5, s * 0.64)
        face.center = (c[0] - s * 0.17, c[1])
        _face(surface, face, w)
        # the chin the arrow talks about, and the arrow beside it
        pygame.draw.arc(surface, col, face.inflate(-face.width * 0.25, 0), math.radians(210),
                        math.radians(330), w + 3)
        angle = 270 if kind == "chin_up" else 90
        arrow(surface, col, (c[0] + s * 0.3, c[1] + s * 0.05), s * 0.62, angle, thickness=s * 0.13)
    elif kind in ("shoulder_left", "shoulder_right"):
        y = c[1] + s * 0.25
        pygame.draw.line(surface, LINE, (rect.x + s * 0.1, y), (rect.right - s * 0.1, y), w)
        face = pygame.Rect(0, 0, s * 0.3, s * 0.38)
        face.midbottom = (c[0], y - s * 0.05)
        _face(surface, face, w)
        x = rect.x + s * 0.2 if kind == "shoulder_left" else rect.right - s * 0.2
        arrow(surface, col, (x, y - s * 0.25), s * 0.42, 270, thickness=s * 0.1)
    elif kind == "look":
        eye = pygame.Rect(0, 0, s * 0.8, s * 0.42)
        eye.center = c
        pygame.draw.ellipse(surface, LINE, eye, w)
        pygame.draw.circle(surface, col, c, s * 0.16)
        pygame.draw.circle(surface, (20, 20, 20), c, s * 0.07)
    elif kind == "face":
        face = pygame.Rect(0, 0, s * 0.56, s * 0.72)
        face.center = c
        _face(surface, face, w)
        pygame.draw.arc(surface, LINE, face.inflate(-face.width * 0.45, -face.height * 0.5)
                        .move(0, face.height * 0.12), math.radians(200), math.radians(340), w)
    elif kind == HOLD:
        pygame.draw.circle(surface, col, c, s * 0.45, w + 2)
        pts = [(c[0] - s * 0.22, c[1]), (c[0] - s * 0.05, c[1] + s * 0.17), (c[0] + s * 0.24, c[1] - s * 0.16)]
        pygame.draw.lines(surface, col, False, pts, max(6, s // 10))
    else:
        raise ValueError(f"no pictogram {kind!r}")
