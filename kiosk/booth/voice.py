"""Spoken prompts, countdown beeps and the shutter sound, for a student who looks at the lens.

The booth says the live instruction that is on the screen, in Mandarin (English when the screen's
first language is English), from clips made at install time (kiosk/booth/voice_clips.py,
tools/make-voice): nothing is synthesised at run time. It counts down with a beep per second
and sounds a shutter when the burst starts. It says the photo's verdict on review and thanks
the student at the end.

Not a chatterbox (`Prompter`): the same phrase is said again at most every ``repeat_s``
seconds (config ``[voice]``), a new phrase waits ``gap_s`` after the previous one started
and never cuts into one still playing. A new visit starts afresh.

`Voice.follow(data, now)` reads the session's data like a screen does; the loop calls it once
a frame (a frame listener, see `Voice.for_booth`). A missing clip is logged once and skipped;
no sound device means silence (kiosk/booth/player.py); nothing here stops the booth.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from kiosk.booth.voice_clips import MANIFEST, clip_key, default_dir, spoken
from kiosk.message import Message

log = logging.getLogger(__name__)


class ClipLibrary:
    """The clips of one build (a folder with ``manifest.json``), looked up by what is said."""

    def __init__(self, folder: str | Path, *, load: bool = True) -> None:
        self.folder = Path(folder)
        self.clips: dict[str, str] = {}
        self.sounds: dict[str, str] = {}
        self._missing: set[str] = set()
        if not load:                    # muted: not even looked for
            return
        try:
            manifest = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
            self.clips = {k: v["file"] for k, v in manifest.get("clips", {}).items()}
            self.sounds = dict(manifest.get("sounds", {}))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("no voice clips in %s (%s): the booth runs silent; make them with "
                        "tools/make-voice", self.folder, exc)

    def clip(self, message: Message, lang: str) -> Path | None:
        """The clip of ``message`` in ``lang`` ("zh" or "en"), or None (logged once)."""
        text = message.en if lang == "en" else message.zh
        name = self.clips.get(clip_key(lang, text))
        return self._found(name, f"{lang}: {spoken(text)}")

    def sound(self, name: str) -> Path | None:
        return self._found(self.sounds.get(name), f"sound {name}")

    def _found(self, name: str | None, what: str) -> Path | None:
        path = self.folder / name if name else None
        if path is not None and path.is_file():
            return path
        if what not in self._missing and self.clips:      # an empty library was logged already
            self._missing.add(what)
            log.warning("no voice clip for %r in %s", what, self.folder)
        return None


class Prompter:
    """When to say a phrase: not the same one within ``repeat_s``, no new one within ``gap_s``
    of the previous one. Pure arithmetic on the times it is given."""

    def __init__(self, repeat_s: float, gap_s: float) -> None:
        self.repeat_s = repeat_s
        self.gap_s = gap_s
        self.reset()

    def reset(self) -> None:
        self._said: dict[Any, float] = {}
        self._last = -math.inf

    def allow(self, key: Any, now: float) -> bool:
        """True (and remembered as said) when ``key`` may be said at ``now``."""
        if now - self._last < self.gap_s:
            return False
        if now - self._said.get(key, -math.inf) < self.repeat_s:
            return False
        self._said[key] = self._last = now
        return True


class Voice:
    """Follows the session and plays what fits (see the module docstring)."""

    def __init__(self, settings, library: ClipLibrary, player) -> None:
        self.settings = settings
        self.library = library
        self.player = player
        self.volume = max(0.0, min(1.0, float(settings.volume)))
        self.prompter = Prompter(settings.repeat_s, settings.gap_s)
        self._state = None
        self._count: int | None = None      # the countdown number last beeped
        self._shutter = False
        self._once: Message | None = None    # said once on entering a screen (verdict, thanks)
        self.said: list[tuple[float, str, str]] = []     # (time, lang, text): the log of a visit

    @classmethod
    def for_booth(cls, booth) -> "Voice":
        """The booth's voice from its config, following it frame by frame."""
        from kiosk.booth.player import MixerPlayer, NullPlayer

        settings = booth.config.voice
        folder = settings.clip_dir or default_dir()
        player = NullPlayer() if settings.mute else MixerPlayer()
        voice = cls(settings, ClipLibrary(folder, load=not settings.mute), player)
        booth.listeners.frame.append(lambda b: voice.follow(b.session.data, b.clock()))
        return voice

    def close(self) -> None:
        self.player.close()

    # --- what to play ------------------------------------------------------------------------
    def say(self, message: Message, lang: str, now: float) -> bool:
        """Say ``message`` if the prompter allows it and no phrase is still playing; True when
        it was said (or would have been, had its clip been there)."""
        if self.settings.mute or self.player.busy("voice"):
            return False
        lang = "en" if lang == "en" else "zh"
        text = spoken(message.en if lang == "en" else message.zh)
        if not self.prompter.allow((lang, text), now):
            return False
        path = self.library.clip(message, lang)
        self.said.append((now, lang, text))
        if path is not None:
            self.player.play(path, "voice", self.volume)
        return True

    def effect(self, name: str) -> bool:
        if self.settings.mute or not self.settings.beeps:
            return False
        path = self.library.sound(name)
        return path is not None and self.player.play(path, "effect", self.volume)

    def follow(self, data, now: float) -> None:
        """Called once a frame with the session's data (read only)."""
        from kiosk.booth.session import State
        from kiosk.booth.ui import texts

        state = data.state
        if state is not self._state:
            self._state = state
            self._count, self._shutter, self._once = None, False, None
            if state is State.ATTRACT:
                self.prompter.reset()           # a new student hears everything afresh
                self.said.clear()
            elif state is State.REVIEW:
                self._once = _verdict(data.photo)
            elif state is State.DONE:
                self._once = texts.THANKS
        if self._once is not None:              # once, as soon as the last phrase has ended
            if self.say(self._once, data.language, now):
                self._once = None
        if state is State.GUIDANCE:
            view = data.live
            self.say(view.message if view is not None else texts.LOOKING, data.language, now)
        elif state is State.CAPTURE:
            if not data.burst_started and data.countdown_until is not None:
                left = max(1, math.ceil(data.countdown_until - now))
                if left != self._count:
                    self._count = left
                    self.effect("beep")
            elif data.burst_started and not self._shutter:
                self._shutter = True
                self.effect("shutter")


def _verdict(photo) -> Message:
    from kiosk.booth.ui import texts
    from kiosk.photo.checks.result import Status

    verdict = getattr(photo, "verdict", None)
    verdict = getattr(verdict, "value", verdict)
    if not getattr(photo, "ok", False):
        return texts.FAILED
    if verdict == Status.UNKNOWN.value:       # never "meets the standard" while a rule is unknown
        return texts.PLEASE_CONFIRM
    return texts.WARNED if verdict == Status.WARN.value else texts.PASSED
