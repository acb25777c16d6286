"""What the speed work promises, without timing anything: no work done twice, no model loaded
for nothing, no C++ log noise on a user's terminal, and live decisions that are the
validator's. (The figures themselves come from `make bench`.)"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from kiosk.config import Config
from kiosk.photo.counting import CountingAnalyzer
from kiosk.photo.student import Student
from kiosk.sim.scenes import compose_scene

STUDENT = Student("2020123456", "11010519491231002X", "张三")
ROOT = Path(__file__).resolve().parents[2]


class StillCamera:
    """A camera at the device boundary: every still is the composed scene (a copy)."""

    def __init__(self, rgb) -> None:
        self.rgb = rgb

    def capture_burst(self, count: int, timeout=None):
        return [self.rgb.copy() for _ in range(count)]


def test_a_capture_analyses_each_still_once_and_the_finished_bytes_once(analyzer, tmp_path):
    from kiosk.booth.jobs import VisitJobs
    from kiosk.photo.engine import write_photo

    config = Config()
    counting = CountingAnalyzer(analyzer)
    feed = SimpleNamespace(lock=threading.Lock(), pause=lambda: None, resume=lambda: None)
    devices = SimpleNamespace(camera=StillCamera(
        compose_scene("franck-front", "blue", roll_deg=-5.5)), lights=None,
                              usb=None)
    key = os.urandom(32)
    jobs = VisitJobs(config, devices, feed, key=key, spool=None,
                     analyzer_factory=lambda: counting)
    done = jobs.burst(STUDENT)
    photo = done.photo
    assert photo.ok and photo.jpeg is not None, photo.problem
    assert counting.calls == config.session.burst_frames + 1
    # the verification of the finished bytes ran on them (its picture rules are in the report)
    assert photo.report.check("layout.head_top") is not None
    # writing the file reads it back and re-checks it without analysing it again
    path = write_photo(photo, tmp_path, config.booth.filename_template, key=key, config=config,
                       analyzer=counting)
    assert path.read_bytes() == photo.jpeg
    assert counting.calls == config.session.burst_frames + 1


def test_write_photo_still_rejects_bytes_that_differ(analyzer, tmp_path, monkeypatch):
    # The shortcut is taken only for the very bytes verified: a disk that returns something
    # else is analysed (and rejected), never trusted.
    from pathlib import Path as P

    from kiosk.photo.engine import PhotoRejected, build_photo, write_photo

    config, key = Config(), os.urandom(32)
    result = build_photo(compose_scene("franck-front", "blue", roll_deg=-5.5), STUDENT, config=config,
                         analyzer=analyzer, key=key)
    assert result.ok
    real_read = P.read_bytes
    monkeypatch.setattr(P, "read_bytes", lambda self: real_read(self)[:-10] + b"\0" * 10)
    with pytest.raises(PhotoRejected):
        write_photo(result, tmp_path, config.booth.filename_template, key=key, config=config,
                    analyzer=analyzer)
    monkeypatch.undo()
    assert not any(tmp_path.iterdir())


def test_verify_never_builds_pose(monkeypatch, analyzer):
    from kiosk.photo.analysis import Analyzer, load_solutions
    from kiosk.photo.engine import build_photo
    from kiosk.photo.verify import verify_bytes

    config, key = Config(), os.urandom(32)
    jpeg = build_photo(compose_scene("franck-front", "blue", roll_deg=-5.5), STUDENT, config=config,
                       analyzer=analyzer, key=key).jpeg
    pose_module = load_solutions().pose

    def no_pose(*args, **kwargs):
        raise AssertionError("verify built Pose")

    monkeypatch.setattr(pose_module, "Pose", no_pose)
    with Analyzer() as fresh:
        report = verify_bytes(jpeg, key=key, expected=STUDENT, analyzer=fresh, config=config)
        assert "pose" not in fresh.loaded and "face_mesh" in fresh.loaded
    assert report.ok, [c for c in report.checks if c.blocking]
    assert report.check("layout.eyes").status.value == "pass"


def _kiosk_check(image: Path, *flags: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("GLOG_minloglevel", None)         # the user's shell sets nothing
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *flags, "check", str(image)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


NATIVE_MARKERS = ("inference_feedback_manager", "TensorFlow Lite", "absl::InitializeLog", "W0000 ")


def test_kiosk_check_keeps_mediapipe_logs_off_the_terminal_unless_verbose(tmp_path):
    image = tmp_path / "one.jpg"
    Image.fromarray(compose_scene("franck-front", "blue", roll_deg=-5.5, size=(1440, 1080))).save(image, quality=92)
    quiet = _kiosk_check(image)
    assert quiet.returncode in (0, 1), quiet.stderr
    assert str(image) in quiet.stdout
    assert not any(m in quiet.stderr for m in NATIVE_MARKERS), quiet.stderr
    loud = _kiosk_check(image, "-v")
    assert loud.returncode == quiet.returncode
    assert any(m in loud.stderr for m in NATIVE_MARKERS), loud.stderr
    assert loud.stdout == quiet.stdout


def test_the_filter_passes_python_messages_through(tmp_path):
    # A traceback or a logging line still reaches stderr, in full, even at exit.
    code = ("import logging, sys\n"
            "from kiosk.native_logs import hide_native_logs\n"
            "hide_native_logs()\n"
            "import os\n"
            "os.write(2, b'W0000 00:00:1796199394.026568   18312 x.cc:114] noise\\n')\n"
            "logging.basicConfig(level=logging.WARNING)\n"
            "logging.warning('kept line')\n"
            "raise SystemExit('last words')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert "noise" not in out.stderr
    assert "kept line" in out.stderr and "last words" in out.stderr


# A set of composed scenes, each with a different thing to decide (see bench/live_decisions.py
# for the full set and the dump of every decision).
LIVE_SCENES = {
    "good": dict(face="hopper"),
    "left": dict(face="hopper", dx=-0.12),
    "far": dict(face="hopper", scale=0.55),
    "tilted": dict(face="hopper", roll_deg=12),
    "sunglasses": dict(face="hopper", sunglasses=True),
    "second face": dict(face="hopper", second_face=True),
    "clutter": dict(face="hopper", clutter=True),
    "astronaut": dict(face="astronaut"),
}


@pytest.mark.parametrize("name", sorted(LIVE_SCENES))
def test_live_decisions_are_the_validators(name, analyzer):
    from kiosk.booth.workers import LiveChecks, guide_frame, live_analyzer
    from kiosk.photo.checks import LIVE_RULE_IDS, run_checks
    from kiosk.photo.crop import plan_crop

    frame = compose_scene(size=(640, 480), **LIVE_SCENES[name])
    config, still = Config(), (4056, 3040)
    analysis = analyzer.analyze(frame, source_size=still)
    validator = {r.id: r.status for r in run_checks(analysis, config, crop=plan_crop(analysis))}
    checks = LiveChecks()
    with live_analyzer() as live:
        for _ in range(3):                       # a few frames: the tracker settles
            _, _, results, _ = guide_frame(live, frame, config, still, checks)
    assert [r.id for r in results] == list(LIVE_RULE_IDS)
    differ = {r.id: (validator[r.id].value, r.status.value) for r in results
              if r.status != validator[r.id]}
    assert differ == {}


def test_the_filter_knows_the_native_loggers_and_nothing_else():
    from kiosk.native_logs import NATIVE_LINE

    native = [b"W0000 00:00:1796199394.026568   18312 inference_feedback_manager.cc:114] Feedback",
              b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
              b"ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default"]
    ours = [b"kiosk: error: no such file", b"Traceback (most recent call last):",
            b"2026-12-02 10:22:58,087 WARNING kiosk.booth.player: no sound device", b"ALSA is missing"]
    assert all(NATIVE_LINE.match(line) for line in native)
    assert not any(NATIVE_LINE.match(line) for line in ours)
