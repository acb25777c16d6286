"""Where things go on the screen, computed from its size: portrait or landscape alike.

Sizes are fractions of the screen so the same code fills a 7-inch 800×480 panel and a 1080×1920
portrait monitor. Type is large: the main instruction is about 7 % of the short side of the
screen (≈ 34 px on 480 px, 76 px on 1080 px), readable from 1.5 m.

Touch targets (`Button`) are computed here, once, and used both to draw and to hit-test a touch,
so what the student sees is exactly what reacts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame

from kiosk.message import Message


@dataclass(frozen=True)
class Button:
    rect: pygame.Rect
    event: str                  # what a touch posts: "confirm", "retake", "language", "digit:7" …
    label: Message
    kind: str = "normal"        # normal | primary | quiet


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    portrait: bool
    preview: pygame.Rect        # camera preview / photo area
    panel: pygame.Rect          # text and buttons
    language: pygame.Rect       # the 中/EN toggle, top corner
    big: int                    # font size of the main instruction
    medium: int
    small: int
    pad: int

    @property
    def screen(self) -> pygame.Rect:
        return pygame.Rect(0, 0, self.width, self.height)


def make_layout(size: tuple[int, int], *, preview_share: float = 0.58,
                landscape_share: float = 0.5) -> Layout:
    """Split the screen into a preview area and a panel, by orientation.

    ``preview_share`` is the part of a portrait screen's height given to the preview (a screen
    with a keypad gives it less); ``landscape_share`` the part of a landscape screen's width
    (live guidance gives the mirror more).
    """
    w, h = size
    short = min(w, h)
    pad = max(8, short // 40)
    portrait = h > w
    if portrait:
        preview = pygame.Rect(pad, pad, w - 2 * pad, int(h * preview_share) - pad)
        panel = pygame.Rect(pad, preview.bottom + pad, w - 2 * pad, h - preview.bottom - 2 * pad)
    else:
        preview = pygame.Rect(pad, pad, int(w * landscape_share) - pad, h - 2 * pad)
        panel = pygame.Rect(preview.right + pad, pad, w - preview.right - 2 * pad, h - 2 * pad)
    lang_w, lang_h = int(short * 0.16), int(short * 0.08)
    language = pygame.Rect(w - lang_w - pad, pad, lang_w, lang_h)
    big = max(20, int(short * 0.07))
    return Layout(w, h, portrait, preview, panel, language, big=big,
                  medium=max(16, int(big * 0.68)), small=max(13, int(big * 0.48)), pad=pad)


def bottom_buttons(layout: Layout, specs: list[tuple[str, Message, str]]) -> list[Button]:
    """Big buttons side by side at the bottom of the panel (back on the left, OK on the right)."""
    if not specs:
        return []
    p = layout.panel
    height = max(48, int(min(layout.width, layout.height) * 0.13))
    gap = layout.pad
    width = (p.width - gap * (len(specs) - 1)) // len(specs)
    top = p.bottom - height
    return [Button(pygame.Rect(p.x + i * (width + gap), top, width, height), event, label, kind)
            for i, (event, label, kind) in enumerate(specs)]


def hit(buttons: list[Button], pos: tuple[int, int]) -> str | None:
    """The event of the button under a touch, or None."""
    for b in buttons:
        if b.rect.collidepoint(pos):
            return b.event
    return None
