"""Drawing helpers shared by the screens: bilingual text with wrapping, buttons, images."""

from __future__ import annotations

import cv2
import numpy as np
import pygame

from kiosk.booth.ui.fonts import Fonts
from kiosk.booth.ui.layout import Button
from kiosk.message import Message

BACKGROUND = (18, 24, 38)
TEXT = (245, 247, 250)
DIM = (160, 170, 185)
ACCENT = (255, 196, 60)          # the live instruction
GOOD = (70, 200, 120)
BAD = (235, 90, 80)
BUTTON = (60, 72, 96)
PRIMARY = (40, 150, 90)
QUIET = (44, 52, 70)


def primary(message: Message, lang: str) -> tuple[str, str]:
    """(first line, second line) of a message in the screen's language order."""
    return (message.en, message.zh) if lang == "en" else (message.zh, message.en)


def is_cjk(s: str) -> bool:
    return any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in s)


def wrap(font, text: str, width: int) -> list[str]:
    """Break text to fit ``width``: at spaces for Latin text, anywhere for Chinese."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        latin = not is_cjk(paragraph)
        tokens = paragraph.split(" ") if latin else list(paragraph)
        sep = " " if latin else ""
        for tok in tokens:
            trial = (line + sep + tok) if line else tok
            if font.get_rect(trial).width <= width or not line:
                line = trial
            else:
                lines.append(line)
                line = tok
        lines.append(line)
    return lines


def text(surface: pygame.Surface, fonts: Fonts, s: str, pos: tuple[int, int], size: int,
         color=TEXT, *, width: int | None = None, center: bool = False) -> int:
    """Draw (wrapped) text with its top at pos; returns the y below it."""
    font = fonts.get(size)
    x, y = pos
    line_h = int(size * 1.25)
    for line in wrap(font, s, width) if width else [s]:
        rect = font.get_rect(line)
        lx = x + (width - rect.width) // 2 if (center and width) else x
        # render_to places the baseline by the font's ascender: use origin-free positioning
        font.render_to(surface, (lx, y + (line_h - rect.height) // 2), line, color)
        y += line_h
    return y


def bilingual(surface: pygame.Surface, fonts: Fonts, message: Message, lang: str,
              pos: tuple[int, int], size: int, width: int, color=TEXT, *,
              center: bool = False, second_color=DIM) -> int:
    """The message in the screen's language, large, with the other language smaller below."""
    first, second = primary(message, lang)
    y = text(surface, fonts, first, pos, size, color, width=width, center=center)
    if second and second != first:
        y = text(surface, fonts, second, (pos[0], y), int(size * 0.6), second_color,
                 width=width, center=center)
    return y


def text_height(fonts: Fonts, s: str, size: int, width: int) -> int:
    """How tall `text` draws ``s`` at ``size`` wrapped to ``width``."""
    return len(wrap(fonts.get(size), s, width)) * int(size * 1.25)


def bilingual_height(fonts: Fonts, message: Message, lang: str, size: int, width: int) -> int:
    """How tall `bilingual` draws ``message``."""
    first, second = primary(message, lang)
    h = text_height(fonts, first, size, width)
    if second and second != first:
        h += text_height(fonts, second, int(size * 0.6), width)
    return h


def fitting_size(fonts: Fonts, messages, lang: str, size: int, width: int, height: int,
                 gap: int = 0, minimum: int = 14) -> int:
    """The largest size ≤ ``size`` at which all ``messages`` (stacked, ``gap`` apart) fit
    ``height``: English is longer than Chinese, and small screens are small."""
    while size > minimum:
        total = sum(bilingual_height(fonts, m, lang, size, width) + gap for m in messages)
        if total <= height:
            break
        size = int(size * 0.92)
    return max(minimum, size)


def button(surface: pygame.Surface, fonts: Fonts, b: Button, lang: str, size: int) -> None:
    color = {"primary": PRIMARY, "quiet": QUIET}.get(b.kind, BUTTON)
    pygame.draw.rect(surface, color, b.rect, border_radius=max(6, b.rect.height // 6))
    first, second = primary(b.label, lang)
    font = fonts.get(size)
    r1 = font.get_rect(first)
    if second and second != first and b.rect.height > size * 2.1:
        small = fonts.get(int(size * 0.55))
        r2 = small.get_rect(second)
        total = r1.height + r2.height + size // 5
        top = b.rect.centery - total // 2
        font.render_to(surface, (b.rect.centerx - r1.width // 2, top), first, TEXT)
        small.render_to(surface, (b.rect.centerx - r2.width // 2, top + r1.height + size // 5),
                        second, (215, 235, 222) if b.kind == "primary" else DIM)
    else:
        font.render_to(surface, (b.rect.centerx - r1.width // 2, b.rect.centery - r1.height // 2),
                       first, TEXT)


_last_surface: list = []      # [(array, size, mirror), surface]: the newest conversion


def rgb_surface(rgb: np.ndarray, size: tuple[int, int], *, mirror: bool = False) -> pygame.Surface:
    """An RGB array scaled to ``size`` (w, h) as a pygame surface; mirrored for the preview only.

    The screen redraws faster than the camera delivers: the same frame is converted once (the
    cache keeps a reference to the array, so its identity cannot be reused by another one).
    """
    if _last_surface and _last_surface[0][0] is rgb and _last_surface[0][1:] == (tuple(size), mirror):
        return _last_surface[1]
    surface = _convert(rgb, size, mirror)
    _last_surface[:] = [(rgb, tuple(size), mirror), surface]
    return surface


def _convert(rgb: np.ndarray, size: tuple[int, int], mirror: bool) -> pygame.Surface:
    w, h = size
    img = cv2.resize(rgb, (max(1, w), max(1, h)), interpolation=cv2.INTER_AREA)
    if mirror:
        img = cv2.flip(img, 1)
    img = np.ascontiguousarray(img)
    return pygame.image.frombuffer(img.tobytes(), (img.shape[1], img.shape[0]), "RGB")


def fit(src_size: tuple[int, int], area: pygame.Rect) -> pygame.Rect:
    """The largest rect of the source's aspect ratio centred in ``area``."""
    sw, sh = src_size
    s = min(area.width / sw, area.height / sh)
    w, h = int(sw * s), int(sh * s)
    return pygame.Rect(area.centerx - w // 2, area.centery - h // 2, w, h)
