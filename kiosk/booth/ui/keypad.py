"""The on-screen keypad for typing the student number: 1–9, ⌫, 0, OK in a 4×3 grid."""

from __future__ import annotations

import pygame

from kiosk.booth.ui.layout import Button, Layout
from kiosk.message import Message

KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "erase", "0", "confirm")
ERASE_LABEL = Message("← 删除", "← Delete")
OK_LABEL = Message("确定", "OK")


def keypad_buttons(layout: Layout, area: pygame.Rect) -> list[Button]:
    """Twelve keys filling ``area``; digits post "digit:N", the others "erase" and "confirm"."""
    cols, rows = 3, 4
    gap = max(4, layout.pad // 2)
    kw = (area.width - gap * (cols - 1)) // cols
    kh = (area.height - gap * (rows - 1)) // rows
    buttons = []
    for i, key in enumerate(KEYS):
        r, c = divmod(i, cols)
        rect = pygame.Rect(area.x + c * (kw + gap), area.y + r * (kh + gap), kw, kh)
        if key.isdigit():
            buttons.append(Button(rect, "digit:" + key, Message(key, key)))
        elif key == "erase":
            buttons.append(Button(rect, "erase", ERASE_LABEL, "quiet"))
        else:
            buttons.append(Button(rect, "confirm", OK_LABEL, "primary"))
    return buttons
