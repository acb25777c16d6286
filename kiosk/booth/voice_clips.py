"""The booth's voice clips, made once at install or build time (tools/make-voice), never at run time.

Every phrase the booth can say is a bilingual `Message` it already shows: the live instructions
of the checks and of the crop planner, the guidance's own lines, and a few lines of the screen
text table (kiosk/booth/ui/texts.py). `phrases()` collects them; `build()` speaks each one in
Mandarin and in English with espeak-ng (Debian package ``espeak-ng``; its ``cmn-latn-pinyin``
voice reads Chinese characters with Mandarin tones) into 16-bit mono WAV files, trimmed and
normalised, and synthesises the countdown beep and the shutter sound with numpy. A manifest
(``manifest.json``) maps each phrase, by a hash of its language and spoken text, to its file;
the booth (kiosk/booth/voice.py) looks clips up there and plays nothing it cannot find.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.message import Message

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = 1
RATE = 22050                      # espeak-ng's own sample rate; the beeps are made at it too

#: Modules whose module-level Messages are live instructions the booth may say.
INSTRUCTION_MODULES = (
    "kiosk.photo.crop",
    "kiosk.photo.checks.common", "kiosk.photo.checks.people", "kiosk.photo.checks.layout",
    "kiosk.photo.checks.pose", "kiosk.photo.checks.eyes", "kiosk.photo.checks.mouth",
    "kiosk.photo.checks.lighting", "kiosk.photo.checks.glasses", "kiosk.photo.checks.image",
    "kiosk.photo.checks.background", "kiosk.photo.checks.attire",
    "kiosk.booth.guidance",
)
#: Lines of the screen text table that are spoken too (kiosk/booth/ui/texts.py).
SPOKEN_TEXTS = ("LOOKING", "STEADY", "PASSED", "WARNED", "FAILED", "PLEASE_CONFIRM", "THANKS")

#: espeak-ng voices and speeds (words per minute). ``cmn`` alone reads Chinese as pinyin
#: spelled out in English; ``cmn-latn-pinyin`` speaks it with Mandarin tones.
VOICES = {"zh": ("cmn-latn-pinyin", 160), "en": ("en-us", 165)}
LANGS = tuple(VOICES)

SOUNDS = ("beep", "shutter")


@dataclass(frozen=True)
class Phrase:
    id: str                        # where it comes from, e.g. "kiosk.photo.crop.MOVE_LEFT"
    message: Message


def spoken(text: str) -> str:
    """What is said of a shown line: without its explanations in brackets and trailing dots."""
    text = re.sub(r"[（(][^）)]*[）)]", "", text)
    return text.strip().rstrip("…. ").strip()


def clip_key(lang: str, text: str) -> str:
    """The manifest key of a line in a language: a hash of what is actually said."""
    return hashlib.sha1(f"{lang}\n{spoken(text)}".encode("utf-8")).hexdigest()[:16]


def phrases() -> list[Phrase]:
    """Every phrase the booth may say, each once (by its Chinese and English text)."""
    from kiosk.booth.ui import texts
    from kiosk.photo import standard
    from kiosk.photo.checks import background

    found: list[Phrase] = []
    for name in INSTRUCTION_MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, Message):
                found.append(Phrase(f"{name}.{attr}", value))
    for colour in standard.BACKGROUND_COLORS:       # the one instruction built at run time
        found.append(Phrase(f"kiosk.photo.checks.background.wrong_color({colour})",
                            background.wrong_color(colour)))
    for attr in SPOKEN_TEXTS:
        found.append(Phrase(f"kiosk.booth.ui.texts.{attr}", getattr(texts, attr)))
    unique: dict[tuple[str, str], Phrase] = {}
    for p in found:
        if spoken(p.message.zh) and spoken(p.message.en):
            unique.setdefault((spoken(p.message.zh), spoken(p.message.en)), p)
    return list(unique.values())


# --- sounds ------------------------------------------------------------------------------------
def tone(freq: float, seconds: float, rate: int = RATE, level: float = 0.6) -> np.ndarray:
    """A sine beep with short fades (no click), float in [-1, 1]."""
    t = np.arange(int(seconds * rate)) / rate
    env = np.minimum(1.0, np.minimum(t / 0.005, (seconds - t) / 0.03))
    return level * np.sin(2 * np.pi * freq * t) * np.clip(env, 0, 1)


def shutter(rate: int = RATE) -> np.ndarray:
    """A camera shutter: two short decaying clicks of high-passed noise, 70 ms apart."""
    rng = np.random.default_rng(7)
    out = np.zeros(int(0.16 * rate))
    for start, length, level in ((0.0, 0.05, 0.9), (0.07, 0.07, 0.7)):
        n = int(length * rate)
        t = np.arange(n) / rate
        click = np.diff(rng.standard_normal(n + 1)) * np.exp(-t / 0.012) * level
        i = int(start * rate)
        out[i:i + n] += click
    return out / max(1e-9, np.abs(out).max()) * 0.85


def synthesised_sounds(rate: int = RATE) -> dict[str, np.ndarray]:
    return {"beep": tone(880.0, 0.16, rate), "shutter": shutter(rate)}


# --- WAV files ---------------------------------------------------------------------------------
def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Mono float samples in [-1, 1] and the rate of a 16-bit WAV file."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: not 16-bit PCM")
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768.0
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1)
        return data, w.getframerate()


def write_wav(path: str | os.PathLike, samples: np.ndarray, rate: int = RATE) -> None:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    tmp = Path(f"{path}.tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    os.replace(tmp, path)


def tidy(samples: np.ndarray, rate: int, *, floor: float = 0.01, peak: float = 0.89) -> np.ndarray:
    """Trim the silence espeak-ng leaves around a phrase (keeping 40 ms) and normalise the peak
    (about -1 dBFS), so every clip starts at once and all are equally loud."""
    loud = np.nonzero(np.abs(samples) > floor)[0]
    if loud.size == 0:
        return samples
    keep = int(0.04 * rate)
    s = samples[max(0, loud[0] - keep):loud[-1] + keep]
    return s / max(1e-9, np.abs(s).max()) * peak


def espeak(text: str, lang: str, path: Path, *, program: str = "espeak-ng") -> None:
    voice, speed = VOICES[lang]
    subprocess.run([program, "-v", voice, "-s", str(speed), "-w", str(path), text],
                   check=True, capture_output=True, timeout=60)


def find_espeak() -> str:
    program = shutil.which("espeak-ng")
    if program is None:
        raise FileNotFoundError("espeak-ng is not installed (Debian: apt-get install espeak-ng); "
                                "it makes the booth's voice clips")
    return program


def build(out_dir: str | os.PathLike, *, langs=LANGS) -> dict:
    """Make every clip and sound into ``out_dir`` and write its manifest; returns the manifest.

    Files no longer in the manifest are removed, so the folder holds exactly one build."""
    program = find_espeak()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([program, "--version"], capture_output=True, text=True).stdout
    version = version.split("Data at")[0].strip()
    clips: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        for p in phrases():
            for lang in langs:
                text = p.message.zh if lang == "zh" else p.message.en
                key = clip_key(lang, text)
                if key in clips:
                    continue
                espeak(spoken(text), lang, raw, program=program)
                samples, rate = read_wav(raw)
                name = f"{lang}-{key}.wav"
                write_wav(out / name, tidy(samples, rate), rate)
                clips[key] = {"id": p.id, "lang": lang, "text": spoken(text), "file": name}
    sounds = {}
    for name, samples in synthesised_sounds().items():
        write_wav(out / f"{name}.wav", samples)
        sounds[name] = f"{name}.wav"
    manifest = {"format": FORMAT, "engine": version,
                "voices": {k: v[0] for k, v in VOICES.items()}, "clips": clips, "sounds": sounds}
    tmp_manifest = out / (MANIFEST + ".tmp")
    tmp_manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp_manifest, out / MANIFEST)
    wanted = {c["file"] for c in clips.values()} | set(sounds.values()) | {MANIFEST}
    for f in out.glob("*.wav"):
        if f.name not in wanted:
            f.unlink()
    return manifest


def default_dir() -> Path:
    """Where the booth looks for its clips when the config names no folder: inside the Python
    environment it runs in (``.venv/share/kiosk/voice``, ``/opt/kiosk/venv/share/kiosk/voice``)."""
    return Path(sys.prefix) / "share" / "kiosk" / "voice"


def main(argv: list[str] | None = None) -> int:
    """tools/make-voice [DIR]: make the clips (default: `default_dir()`)."""
    import argparse

    parser = argparse.ArgumentParser(prog="make-voice", description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(default_dir()),
                        help=f"folder for the clips and manifest (default {default_dir()})")
    args = parser.parse_args(argv)
    try:
        manifest = build(args.out)
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        print(f"make-voice: {exc}", file=sys.stderr)
        return 1
    print(f"make-voice: {len(manifest['clips'])} clips and {len(manifest['sounds'])} sounds "
          f"in {args.out} ({manifest['engine']})")
    return 0


if __name__ == "__main__":          # python -m kiosk.booth.voice_clips DIR (the install script)
    sys.exit(main())
