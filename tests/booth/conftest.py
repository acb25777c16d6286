"""Booth tests draw off-screen: SDL's dummy video driver, no sound device."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="module")
def fonts():
    """The booth's CJK font set, on SDL's dummy display."""
    import pygame

    from kiosk.booth.ui.fonts import Fonts

    pygame.display.init()
    return Fonts()
