"""The booth's fonts: one CJK font that draws both Chinese and Latin, found once at start.

A screen that shows boxes (tofu) instead of Chinese is worse than no screen: the student cannot
read the instructions. So the booth refuses to start without a font that has the glyphs it
needs (`FontMissing`), instead of silently falling back to pygame's Latin-only default font.

The project's set-up installs ``fonts-wqy-microhei`` (5 MB, simplified Chinese + Latin). Other
known CJK fonts are accepted too; ``fc-match`` is asked last so a machine with a different CJK
font installed still works.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# (path, face index). Noto CJK's collection keeps Simplified Chinese at face index 2.
KNOWN_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)

# Characters every screen needs; a font is only accepted if it has all of them.
PROBE_TEXT = "请向左移动一点拍照完成学号确认重拍眼镜耳环帽子身份证ABCxyz0123456789"

ENV_OVERRIDE = "KIOSK_CJK_FONT"   # a path, for a booth with an unusual font


class FontMissing(RuntimeError):
    """No font that can draw Chinese was found: the booth must not start and show boxes."""


@dataclass(frozen=True)
class FontFile:
    path: str
    index: int = 0


def has_glyphs(path: str, index: int = 0, text: str = PROBE_TEXT) -> bool:
    """True when the font file has a real glyph (not .notdef) for every character of ``text``."""
    import pygame.freetype

    pygame.freetype.init()
    try:
        font = pygame.freetype.Font(path, 24, font_index=index)
    except (OSError, IOError, pygame.error):
        return False
    # freetype answers None for a character the font has no glyph for.
    metrics = font.get_metrics(text)
    return metrics is not None and all(m is not None for m in metrics)


def _fc_match() -> list[FontFile]:
    if shutil.which("fc-match") is None:
        return []
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}\n%{index}\n", ":lang=zh-cn"],
                             capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    lines = out.split("\n")
    if len(lines) >= 2 and lines[0]:
        try:
            return [FontFile(lines[0], int(lines[1] or 0))]
        except ValueError:
            return [FontFile(lines[0], 0)]
    return []


def candidates() -> list[FontFile]:
    """Where to look, in order: the override, the known paths, then fontconfig's answer."""
    found: list[FontFile] = []
    override = os.environ.get(ENV_OVERRIDE)
    if override:
        found.append(FontFile(override, 0))
    found += [FontFile(p, i) for p, i in KNOWN_FONTS if Path(p).exists()]
    found += _fc_match()
    return found


@functools.lru_cache(maxsize=1)
def find_cjk_font() -> FontFile:
    """The first font that draws every character the booth needs, or raise `FontMissing`."""
    tried = []
    for cand in candidates():
        tried.append(cand.path)
        if Path(cand.path).exists() and has_glyphs(cand.path, cand.index):
            log.info("CJK font: %s (face %d)", cand.path, cand.index)
            return cand
    raise FontMissing(
        "no font with Chinese glyphs found (tried: %s). Install fonts-wqy-microhei "
        "(the project's set-up does) or set %s to a CJK font file."
        % (", ".join(tried) or "nothing", ENV_OVERRIDE))


class Fonts:
    """Sized faces of the CJK font, cached: ``fonts.get(48).render_to(surface, pos, text)``."""

    def __init__(self, font: FontFile | None = None) -> None:
        import pygame.freetype

        pygame.freetype.init()
        self.file = font or find_cjk_font()
        self._cache: dict[int, "pygame.freetype.Font"] = {}

    def get(self, size: int):
        size = max(8, int(size))
        face = self._cache.get(size)
        if face is None:
            import pygame.freetype

            face = pygame.freetype.Font(self.file.path, size, font_index=self.file.index)
            face.antialiased = True
            self._cache[size] = face
        return face
