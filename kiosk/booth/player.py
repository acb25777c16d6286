"""Plays the booth's sounds through pygame.mixer (SDL audio): one channel for the voice, one for
the beeps and the shutter, so a beep never cuts a phrase short.

No audio device (a booth without a speaker, the tests, SDL's dummy driver) is not an error: the
first failure is logged once and the booth runs silent. A file that will not load is logged
once and skipped. Nothing here raises into the booth's loop.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

CHANNELS = {"voice": 0, "effect": 1}


class NullPlayer:
    """Plays nothing (muted, or no device)."""

    def play(self, path: Path, channel: str = "voice", volume: float = 1.0) -> bool:
        return False

    def busy(self, channel: str = "voice") -> bool:
        return False

    def close(self) -> None:
        pass


class MixerPlayer:
    """pygame.mixer, opened on the first sound (so a silent booth never opens the device)."""

    def __init__(self, frequency: int = 22050, buffer: int = 1024) -> None:
        self.frequency = frequency
        self.buffer = buffer
        self._ok: bool | None = None         # None: not tried yet
        self._opened_here = False
        self._sounds: dict[Path, object] = {}
        self._bad: set[Path] = set()

    def _ready(self) -> bool:
        if self._ok is not None:
            return self._ok
        import pygame

        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=self.frequency, size=-16, channels=2,
                                  buffer=self.buffer)
                self._opened_here = True
            pygame.mixer.set_reserved(len(CHANNELS))
            self._ok = True
            log.info("sound: %s", pygame.mixer.get_init())
        except pygame.error as exc:
            log.warning("no sound device (%s): the booth runs silent", exc)
            self._ok = False
        return self._ok

    def _sound(self, path: Path):
        import pygame

        sound = self._sounds.get(path)
        if sound is None and path not in self._bad:
            try:
                sound = pygame.mixer.Sound(str(path))
            except (pygame.error, FileNotFoundError, OSError) as exc:
                log.warning("sound %s cannot be played: %s", path, exc)
                self._bad.add(path)
                return None
            self._sounds[path] = sound
        return sound

    def play(self, path: Path, channel: str = "voice", volume: float = 1.0) -> bool:
        if not self._ready():
            return False
        import pygame

        sound = self._sound(Path(path))
        if sound is None:
            return False
        try:
            ch = pygame.mixer.Channel(CHANNELS[channel])
            ch.set_volume(max(0.0, min(1.0, volume)))
            ch.play(sound)
        except pygame.error as exc:
            log.warning("sound %s failed: %s", path, exc)
            return False
        return True

    def busy(self, channel: str = "voice") -> bool:
        if not self._ok:
            return False
        import pygame

        try:
            return bool(pygame.mixer.Channel(CHANNELS[channel]).get_busy())
        except pygame.error:
            return False

    def close(self) -> None:
        if self._opened_here:
            import pygame

            pygame.mixer.quit()
            self._opened_here = False
        self._sounds.clear()
        self._ok = None
