"""Spoken prompts: every instruction has an audible clip (made with the real espeak-ng), the voice
never repeats itself too often (a fake clock, no sleeps), beeps count down, and the real mixer
plays a clip into SDL's disk audio driver."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from kiosk.booth import voice_clips
from kiosk.booth.guidance import HOLD_STILL, GuidanceView
from kiosk.booth.session import SessionData, State
from kiosk.booth.ui import texts
from kiosk.booth.voice import ClipLibrary, Prompter, Voice
from kiosk.config import Config, VoiceSettings
from kiosk.message import Message
from kiosk.photo import crop
from kiosk.photo.checks import pose

#: An audible clip: RMS above -30 dBFS (the quietest espeak-ng phrase, normalised, is ≈ -21),
#: speech in most of it, and a sane length.
MIN_RMS = 0.03
MAX_SECONDS = 10.0


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory) -> Path:
    """One real build of the clips (espeak-ng is a Debian package of the set-up: no skip)."""
    out = tmp_path_factory.mktemp("voice")
    voice_clips.build(out)
    return out


@pytest.fixture(scope="module")
def library(clip_dir) -> ClipLibrary:
    return ClipLibrary(clip_dir)


def audible(path: Path, min_s: float) -> tuple[float, float, float]:
    """(rms, seconds, share of 20 ms windows with sound) of a WAV clip."""
    samples, rate = voice_clips.read_wav(path)
    n = int(0.02 * rate)
    windows = samples[: len(samples) // n * n].reshape(-1, n)
    loud = (np.sqrt((windows ** 2).mean(axis=1)) > 0.01).mean()
    seconds = len(samples) / rate
    assert seconds >= min_s, path
    return float(np.sqrt((samples ** 2).mean())), seconds, float(loud)


# --- the clips ---------------------------------------------------------------------------------
def test_every_phrase_has_an_audible_clip_in_both_languages(clip_dir, library):
    phrases = voice_clips.phrases()
    assert len(phrases) > 40
    ids = {p.id for p in phrases}
    for must in ("kiosk.photo.crop.MOVE_LEFT", "kiosk.photo.crop.MOVE_CLOSER", "kiosk.photo.checks.pose.CHIN_UP",
                 "kiosk.booth.guidance.HOLD_STILL", "kiosk.booth.ui.texts.LOOKING"):
        assert must in ids
    for p in phrases:
        for lang in ("zh", "en"):
            path = library.clip(p.message, lang)
            assert path is not None, (p.id, lang)
            rms, seconds, loud = audible(path, 0.3)
            assert rms > MIN_RMS and seconds < MAX_SECONDS and loud > 0.5, (p.id, lang, rms, seconds, loud)
    manifest = json.loads((clip_dir / voice_clips.MANIFEST).read_text(encoding="utf-8"))
    # exactly the manifest's files in the folder: a rebuild leaves nothing stale behind
    assert {f.name for f in clip_dir.glob("*.wav")} == (
        {c["file"] for c in manifest["clips"].values()} | set(manifest["sounds"].values()))


def test_beep_and_shutter_are_short_and_audible(library):
    for name in voice_clips.SOUNDS:
        rms, seconds, _ = audible(library.sound(name), 0.05)
        assert rms > MIN_RMS and seconds <= 0.5, name


def test_mandarin_is_spoken_with_mandarin_tones_not_spelled_out_in_english(clip_dir):
    """espeak-ng's plain ``cmn`` voice reads Chinese as pinyin spelled in English ("qing three"):
    the voice used must give Mandarin phonemes (tone numbers, no switch to English)."""
    voice, _ = voice_clips.VOICES["zh"]
    out = subprocess.run(["espeak-ng", "-v", voice, "-q", "-x", crop.MOVE_LEFT.zh],
                         capture_output=True, text=True, check=True).stdout
    assert "(en)" not in out and "21" in out           # 请 qǐng: a falling-rising tone


def test_spoken_text_drops_explanations_in_brackets():
    assert voice_clips.spoken(crop.MOVE_LOWER.zh) == "请把身体放低一点"
    assert voice_clips.spoken(crop.MOVE_LOWER.en) == "Please lower yourself a little"
    assert voice_clips.spoken(texts.STEADY.zh) == "保持不动"
    assert voice_clips.clip_key("zh", crop.MOVE_LOWER.zh) == voice_clips.clip_key("zh", "请把身体放低一点")


STATES_WITH_FAULTS = [
    {}, {"dx": 0.4}, {"dx": -0.4}, {"scale": 0.5}, {"scale": 2.0, "dy": 0.1}, {"dy": -0.15}, {"dy": 0.3},
    {"roll_deg": 9.0}, {"sunglasses": True}, {"glare": True}, {"second_face": True},
    {"side_dark": 0.7}, {"exposure": 0.35}, {"red_eye": True}, {"backdrop": "white"},
]


def test_every_instruction_real_scenes_give_has_a_clip(library):
    """The instructions live guidance actually gives on real composed scenes (faults of layout,
    pose, glasses, people, light, backdrop), each in both languages, all have a clip."""
    from hardware.camera import downscale
    from kiosk.booth.workers import guide_frame
    from kiosk.photo.analysis import Analyzer
    from kiosk.sim.scenes import compose_scene

    config = Config()
    said = set()
    with Analyzer(video=False) as analyzer:
        for kw in STATES_WITH_FAULTS:
            kw = dict(kw)
            backdrop = kw.pop("backdrop", "blue")
            frame = downscale(compose_scene("hopper", backdrop, size=(1440, 1080), **kw), (640, 480))
            _, plan, results, _ = guide_frame(analyzer, frame, config, (1440, 1080))
            said |= {r.message for r in results if r.blocking}
            if plan.problem is not None:
                said.add(plan.problem)
    assert len(said) >= 10
    for message in said:
        for lang in ("zh", "en"):
            assert library.clip(message, lang) is not None, (message, lang)


# --- when to speak -----------------------------------------------------------------------------
def test_prompter_never_repeats_a_phrase_within_the_interval():
    p = Prompter(repeat_s=6.0, gap_s=2.0)
    said = [t for t in np.arange(0.0, 20.0, 0.05) if p.allow("move left", float(t))]
    assert said == [0.0, pytest.approx(6.0), pytest.approx(12.0), pytest.approx(18.0)]


def test_prompter_keeps_a_gap_between_different_phrases_and_forgets_on_reset():
    p = Prompter(repeat_s=6.0, gap_s=2.0)
    assert p.allow("left", 0.0)
    assert not p.allow("closer", 1.0)           # too soon after "left"
    assert p.allow("closer", 2.0)
    assert not p.allow("left", 4.5)             # "left" was said at 0.0: not again before 6.0
    assert p.allow("left", 6.0)
    p.reset()
    assert p.allow("left", 6.1)


class Recorder:
    """The sound device boundary: records what would be played."""

    def __init__(self) -> None:
        self.played: list[tuple[str, str]] = []
        self.busy_now = False

    def play(self, path, channel="voice", volume=1.0) -> bool:
        self.played.append((channel, Path(path).name))
        return True

    def busy(self, channel="voice") -> bool:
        return self.busy_now and channel == "voice"

    def close(self) -> None:
        pass


def view(message: Message) -> GuidanceView:
    return GuidanceView(message, None if message == HOLD_STILL else "crop", message == HOLD_STILL,
                        0.0, False)


def make_voice(library, **settings) -> tuple[Voice, Recorder]:
    player = Recorder()
    return Voice(VoiceSettings(**settings), library, player), player


def test_guidance_speaks_each_instruction_once_per_interval_at_the_loops_frame_rate(library):
    voice, player = make_voice(library, repeat_s=6.0, gap_s=2.0)
    data = SessionData(state=State.GUIDANCE, language="zh")
    script = [(0.0, None), (1.0, crop.MOVE_LEFT), (5.0, crop.MOVE_CLOSER), (9.0, HOLD_STILL)]
    t = 0.0
    while t < 12.0:                               # 20 frames a second, as the loop calls it
        message = next(m for start, m in reversed(script) if t >= start)
        data.live = None if message is None else view(message)
        voice.follow(data, t)
        t = round(t + 0.05, 2)
    texts_said = [(round(at, 2), text) for at, _, text in voice.said]
    assert texts_said == [(0.0, "请看镜头，正在检查姿势"), (2.0, "请向您的左边移一点"),
                          (5.0, "请靠近镜头一点"), (9.0, "很好，请保持不动")]
    assert all(channel == "voice" for channel, _ in player.played) and len(player.played) == 4
    # the clips played are the ones of those phrases
    assert player.played[1][1] == library.clip(crop.MOVE_LEFT, "zh").name


def test_english_booth_speaks_english_and_a_phrase_playing_is_never_cut(library):
    voice, player = make_voice(library, gap_s=0.0)
    data = SessionData(state=State.GUIDANCE, language="en", live=view(pose.CHIN_UP))
    voice.follow(data, 0.0)
    assert player.played == [("voice", library.clip(pose.CHIN_UP, "en").name)]
    player.busy_now = True
    data.live = view(crop.MOVE_RIGHT)
    voice.follow(data, 3.0)
    assert len(player.played) == 1                 # still speaking: wait
    player.busy_now = False
    voice.follow(data, 3.1)
    assert player.played[-1] == ("voice", library.clip(crop.MOVE_RIGHT, "en").name)


def test_countdown_beeps_once_a_second_then_the_shutter(library):
    voice, player = make_voice(library)
    data = SessionData(state=State.CAPTURE, countdown_until=3.0)
    for t in np.arange(0.0, 3.0, 0.05):
        voice.follow(data, float(t))
    data.burst_started = True
    for t in np.arange(3.0, 4.0, 0.05):
        voice.follow(data, float(t))
    assert player.played == [("effect", "beep.wav")] * 3 + [("effect", "shutter.wav")]


def test_the_verdict_is_said_once_when_the_last_phrase_has_ended(library):
    voice, player = make_voice(library, gap_s=0.0, repeat_s=0.0)
    player.busy_now = True                         # "hold still" is still playing
    data = SessionData(state=State.REVIEW, language="zh")
    voice.follow(data, 0.0)
    assert player.played == []
    player.busy_now = False
    for t in (0.5, 0.6, 5.0, 20.0):
        voice.follow(data, t)
    assert player.played == [("voice", library.clip(texts.FAILED, "zh").name)]   # no photo: failed


def test_the_voice_never_says_meets_the_standard_while_a_rule_is_unknown(library):
    """A usable photo with a point the camera could not decide: the booth asks the student to
    confirm, aloud too (never 符合标准)."""
    from kiosk.photo.checks.result import Status

    class Photo:
        ok, verdict = True, Status.UNKNOWN

    voice, player = make_voice(library, gap_s=0.0, repeat_s=0.0)
    data = SessionData(state=State.REVIEW, language="zh", photo=Photo())
    for t in (0.0, 0.5, 5.0):
        voice.follow(data, t)
    assert player.played == [("voice", library.clip(texts.PLEASE_CONFIRM, "zh").name)]


def test_mute_and_no_beeps_settings(library):
    voice, player = make_voice(library, mute=True)
    voice.follow(SessionData(state=State.GUIDANCE, live=view(crop.MOVE_LEFT)), 0.0)
    voice.follow(SessionData(state=State.CAPTURE, countdown_until=3.0), 0.1)
    assert player.played == []
    voice, player = make_voice(library, beeps=False)
    voice.follow(SessionData(state=State.CAPTURE, countdown_until=3.0), 0.1)
    assert player.played == []


def test_a_missing_clip_is_logged_once_and_nothing_breaks(clip_dir, tmp_path, caplog):
    partial = tmp_path / "partial"
    partial.mkdir()
    manifest = json.loads((clip_dir / voice_clips.MANIFEST).read_text(encoding="utf-8"))
    keep = voice_clips.clip_key("zh", crop.MOVE_LEFT.zh)
    manifest["clips"] = {keep: manifest["clips"][keep]}
    (partial / voice_clips.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    (partial / manifest["clips"][keep]["file"]).write_bytes(
        (clip_dir / manifest["clips"][keep]["file"]).read_bytes())
    voice, player = make_voice(ClipLibrary(partial), gap_s=0.0, repeat_s=0.0)
    data = SessionData(state=State.GUIDANCE, live=view(crop.MOVE_CLOSER))
    with caplog.at_level(logging.WARNING, logger="kiosk.booth.voice"):
        for t in range(5):
            voice.follow(data, float(t))
    assert player.played == []
    assert sum("no voice clip" in r.getMessage() for r in caplog.records) == 1
    data.live = view(crop.MOVE_LEFT)
    voice.follow(data, 9.0)
    assert len(player.played) == 1
    # no clips at all (never built): silent, one warning, no exception
    empty = ClipLibrary(tmp_path / "nowhere")
    assert empty.clip(crop.MOVE_LEFT, "zh") is None and empty.sound("beep") is None


def test_the_booth_wires_its_voice_to_the_loop(clip_dir):
    """Booth.__init__ makes the voice a frame listener (config [voice]); muted: a null player."""
    from kiosk.booth.loop import Listeners
    from kiosk.booth.player import NullPlayer

    @dataclass
    class FakeBooth:
        config: Config
        listeners: Listeners

    config = Config()
    config.voice.clip_dir = str(clip_dir)
    booth = FakeBooth(config, Listeners())
    voice = Voice.for_booth(booth)
    assert len(booth.listeners.frame) == 1 and voice.library.clips
    config.voice.mute = True
    assert isinstance(Voice.for_booth(FakeBooth(config, Listeners())).player, NullPlayer)


def test_the_real_mixer_plays_a_clip_into_sdls_disk_driver(library, tmp_path):
    """pygame.mixer with SDL's disk audio driver writes what it plays to a file: the beep and
    a phrase come out as sound (not silence), through the booth's own player."""
    out = tmp_path / "out.raw"
    clip = library.clip(HOLD_STILL, "en")
    script = textwrap.dedent(f"""
        import time
        from kiosk.booth.player import MixerPlayer
        p = MixerPlayer()
        assert p.play({str(library.sound('beep'))!r}, "effect")
        assert p.play({str(clip)!r}, "voice", 0.5)
        end = time.monotonic() + 30
        while (p.busy("voice") or p.busy("effect")) and time.monotonic() < end:
            time.sleep(0.05)
        p.close()
    """)
    env = dict(os.environ, SDL_AUDIODRIVER="disk", SDL_DISKAUDIOFILE=str(out))
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60,
                   capture_output=True)
    pcm = np.fromfile(out, "<i2").astype(np.float64) / 32768.0
    seconds = len(pcm) / 2 / 22050
    samples, rate = voice_clips.read_wav(clip)
    assert seconds >= len(samples) / rate * 0.9
    assert np.sqrt((pcm ** 2).mean()) > MIN_RMS / 2        # played at half volume


def test_no_sound_device_means_silence_not_a_crash(tmp_path):
    script = textwrap.dedent("""
        from kiosk.booth.player import MixerPlayer
        p = MixerPlayer()
        assert p.play("/nonexistent.wav") is False
        assert p.busy() is False
        p.close()
        print("silent")
    """)
    env = dict(os.environ, SDL_AUDIODRIVER="nosuchdriver")
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60,
                         capture_output=True, text=True)
    assert "silent" in out.stdout
