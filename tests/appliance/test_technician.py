"""Technician mode's calibration logic on real photographs composed into booth scenes.

The panels and the camera are simulated the way they act on light: a panel's level scales the
light it throws on its side of the scene (with spill across the face); the camera's exposure and
colour gains scale the linear channels of the scene. The controllers only ever see frames.
"""

from __future__ import annotations

import json
import math
import subprocess

import cv2
import numpy as np
import pytest

from kiosk.config import Config
from kiosk.photo import standard
from kiosk.photo.checks import run_checks
from kiosk.photo.checks.common import delta_e_2000, srgb_to_lab
from kiosk.photo.checks.result import Status
from kiosk.sim.scenes import compose_scene
from kiosk.technician import calibration, logs, power, stats
from kiosk.technician.backdrop import all_passed, check_backdrop
from kiosk.technician.camera_calibration import (
    CameraCalibrator,
    CameraSettings,
    backdrop_median,
    calibrate_camera,
    srgb_to_linear,
)
from kiosk.technician.focus import FocusAssist, sharpness
from kiosk.technician.light_balance import LightBalancer, balance_lights, card_halves, face_halves, side_luminance
from kiosk.technician.pin import pin_matches


@pytest.fixture(scope="module")
def analyzer():
    from kiosk.photo.analysis import Analyzer

    a = Analyzer()
    yield a
    a.close()


# --- PIN -------------------------------------------------------------------------------------------

def test_pin():
    assert pin_matches("2468", "2468")
    assert pin_matches(" 2468\n", "2468")
    assert not pin_matches("2469", "2468")
    assert not pin_matches("", "2468")
    assert not pin_matches("", "")          # a lost PIN keeps the door shut


# --- focus -----------------------------------------------------------------------------------------

def test_sharp_photo_scores_higher_than_blurred(hopper_rgb):
    scores = [sharpness(cv2.GaussianBlur(hopper_rgb, (0, 0), s) if s else hopper_rgb)
              for s in (0, 1.0, 2.0, 4.0)]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 3 * scores[2]


def test_focus_assist_holds_the_peak_on_the_face(analyzer):
    frames = [compose_scene("hopper", "blue", size=(960, 720), blur=b, noise=2.0, seed=i)
              for i, b in enumerate((3.0, 1.5, 0.0, 0.0, 1.5, 3.0))]
    analysis = analyzer.analyze(frames[2])
    assert analysis.face is not None
    assist = FocusAssist()
    readings = [assist.update(f, analysis) for f in frames]
    assert all(r.on_face for r in readings)
    best = max(r.score for r in readings)
    assert readings[-1].peak == pytest.approx(best)
    assert readings[3].in_focus                 # turned into focus: at the peak
    assert not readings[-1].in_focus            # turned past it: well below the held peak
    assert readings[-1].ratio < 0.6


def test_focus_assist_uses_the_centre_without_a_face(hopper_rgb):
    reading = FocusAssist().update(hopper_rgb, None)
    assert not reading.on_face and reading.score > 0


# --- backdrop check (empty booth) -------------------------------------------------------------------

def empty_booth(backdrop, *, gradient=0.0, band=0.0, seed=0, size=(640, 480)) -> np.ndarray:
    """An empty booth's frame: the backdrop's colour, mild lens vignetting, sensor noise."""
    w, h = size
    rgb = np.empty((h, w, 3), np.float32)
    rgb[:] = standard.BACKGROUND_COLORS[backdrop] if isinstance(backdrop, str) else backdrop
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    light = 1 - 0.03 * r2                                  # vignetting: 3 % in the corners
    light *= 1 - gradient * xx / w                         # one panel weaker: left to right
    if band:
        light[:, int(w * 0.55):int(w * 0.62)] *= 1 - band  # a shadow band (a stand, a fold)
    rgb *= light[..., None]
    rgb += np.random.default_rng(seed).normal(0, 2.0, rgb.shape)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("backdrop", sorted(standard.BACKGROUND_COLORS))
def test_reference_backdrop_passes(backdrop):
    results = check_backdrop(empty_booth(backdrop), backdrop)
    assert all_passed(results), [(r.id, r.value) for r in results]


def test_wrong_colour_fails_only_colour():
    results = {r.id: r for r in check_backdrop(empty_booth("white"), "blue")}
    assert results["background.color"].status is Status.FAIL
    assert results["background.uniform"].status is Status.PASS


def test_gradient_fails_uniformity():
    results = {r.id: r for r in check_backdrop(empty_booth("blue", gradient=0.3), "blue")}
    assert results["background.uniform"].status is Status.FAIL
    assert results["background.shadow"].status is Status.PASS   # a straight trend is no band


def test_shadow_band_fails_shadow():
    results = {r.id: r for r in check_backdrop(empty_booth("grey", band=0.25), "grey")}
    assert results["background.shadow"].status is Status.FAIL
    assert "阴影" in results["background.shadow"].message.zh


# --- light balance -----------------------------------------------------------------------------------

def panels(base: np.ndarray, centre_x: float, spread: float):
    """The booth's two panels acting on a scene: ``capture(left, right)`` relights ``base``.

    Each column gets light from both panels: mostly from the left panel on the image's left,
    mostly from the right one on the right, blended over ``spread`` pixels around the face's
    centre (light spills across the face). At left = right = 1 the scene is as composed.
    """
    x = np.arange(base.shape[1], dtype=np.float32)
    w_left = 0.5 + 0.35 * np.tanh((centre_x - x) / spread)
    lin = srgb_to_linear(base).astype(np.float32)

    def capture(left: float, right: float) -> np.ndarray:
        light = left * w_left + right * (1 - w_left)
        out = np.clip(lin * light[None, :, None], 0, 1)
        srgb = np.where(out <= 0.0031308, out * 12.92, 1.055 * out ** (1 / 2.4) - 0.055)
        return (srgb * 255 + 0.5).astype(np.uint8)

    return capture


@pytest.mark.parametrize("face", ["hopper", "astronaut"])
def test_light_balance_evens_out_a_face_lit_unevenly(analyzer, face):
    # one side darker twice over: the person's right side darkened in the scene itself, and the
    # left panel throwing only 60 % of the right one's light (further away, or ageing)
    base = compose_scene(face, "blue", size=(960, 720), side_dark=0.2)
    analysis = analyzer.analyze(base)
    halves = face_halves(analysis)
    assert halves is not None
    relight = panels(base, analysis.face.face_center_x, analysis.face.face_width * 0.25)
    capture = lambda left, right: relight(0.6 * left, right)
    before = side_luminance(capture(1.0, 1.0), halves)
    assert abs(math.log(before[0] / before[1])) > 0.08      # clearly uneven to start with

    result = balance_lights(capture, lambda frame: halves)

    assert result.converged, result.history
    assert abs(result.ratio - 1) <= 0.03
    assert result.steps <= 6
    assert max(result.left, result.right) == pytest.approx(1.0)   # one panel stays at full
    assert min(result.left, result.right) < 0.95                  # the other was dimmed
    errors = [abs(math.log(h[2])) for h in result.history]
    assert errors[-1] < errors[0] / 3
    # the booth's own photo check of the same face agrees that it is evenly lit
    sym_after = run_checks(analyzer.analyze(capture(result.left, result.right)), Config(),
                           ids=["lighting.symmetry"])[0]
    assert sym_after.status is Status.PASS, sym_after


def test_light_balance_with_a_grey_card():
    card = np.full((480, 640, 3), 150, np.uint8)
    capture = panels(card, 320.0, 60.0)
    uneven = lambda left, right: capture(left * 1.0, right * 0.6)   # the right panel is weaker
    result = balance_lights(uneven, lambda frame: card_halves(frame.shape))
    assert result.converged and result.right == pytest.approx(1.0) and result.left < 0.8


def test_light_balance_gives_up_when_dimming_cannot_help():
    b = LightBalancer(min_level=0.2)
    for _ in range(30):                         # a side that stays dark whatever is done
        if b.done:
            break
        b.step(0.2, 1.0)
    assert b.done and not b.converged
    assert min(b.left, b.right) >= 0.2


# --- exposure and white balance -------------------------------------------------------------------------

def sensor(scene: np.ndarray, raw_tint=(0.55, 1.0, 0.62), full_scale_exposure=6000.0, seed=0):
    """A camera: linear scene × the sensor's raw channel response × colour gains × exposure."""
    lin = srgb_to_linear(scene)
    rng = np.random.default_rng(seed)

    def capture(s: CameraSettings) -> np.ndarray:
        gains = np.array([s.colour_gains[0], 1.0, s.colour_gains[1]])
        out = lin * np.array(raw_tint) * gains * (s.exposure / full_scale_exposure)
        out = np.clip(out + rng.normal(0, 0.002, out.shape), 0, 1)
        srgb = np.where(out <= 0.0031308, out * 12.92, 1.055 * out ** (1 / 2.4) - 0.055)
        return (srgb * 255 + 0.5).astype(np.uint8)

    return capture


@pytest.mark.parametrize("backdrop", sorted(standard.BACKGROUND_COLORS))
def test_camera_calibration_makes_the_backdrop_read_its_reference(backdrop):
    scene = compose_scene("astronaut", backdrop, size=(640, 480))
    strip = (0.05 * 640, 0.01 * 480, 0.95 * 640, 0.08 * 480)     # backdrop above the head
    capture = sensor(scene)
    start = CameraSettings()                 # the config's defaults: too bright here, wrong tint
    first = backdrop_median(capture(start), strip)
    result = calibrate_camera(capture, backdrop, start=start, box=strip)
    assert result.converged, result
    got = backdrop_median(capture(result.settings), strip)
    reference = standard.BACKGROUND_COLORS[backdrop]
    de = float(delta_e_2000(srgb_to_lab(got), srgb_to_lab(reference)))
    de_first = float(delta_e_2000(srgb_to_lab(first), srgb_to_lab(reference)))
    assert de < 3.0
    assert de_first > 3.0 or first.max() >= 254        # wrong at the start (or clipped)
    if backdrop == "grey":                                   # below full scale: exactly
        assert de < 1.0
    if backdrop != "blue":                                   # white and grey read neutral
        assert max(got) - min(got) <= 3
    assert got.max() < 254                                   # headroom: nothing clipped


def test_camera_calibrator_backs_off_a_clipped_frame():
    c = CameraCalibrator("white", CameraSettings(exposure_time_us=20000, analogue_gain=4.0))
    s = c.step([255, 255, 255])
    assert s.exposure == pytest.approx(40000)


# --- the calibration file ----------------------------------------------------------------------------

def test_calibration_survives_a_round_trip(tmp_path):
    saved = calibration.save_calibration(tmp_path, calibration.Calibration(
        light_left_gain=1.0, light_right_gain=0.72, exposure_time_us=8300, analogue_gain=1.4,
        colour_gain_red=1.82, colour_gain_blue=1.61, focus_peak=412.5))
    loaded, warnings = calibration.load_calibration(tmp_path)
    assert warnings == [] and loaded == saved and saved.saved_at
    assert [p.name for p in tmp_path.iterdir()] == ["calibration.json"]   # no temp file left


def test_missing_calibration_falls_back_with_a_warning(tmp_path):
    config = Config()
    config.booth.state_dir = str(tmp_path)
    warnings = calibration.apply_saved_calibration(config)
    assert warnings and "not calibrated" in warnings[0] and warnings[0] in config.warnings
    assert config.devices.light_right_gain == Config().devices.light_right_gain


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "unreadable"),
    ("[1, 2]", "unreadable"),
    ('{"light_left_gain": 7, "light_right_gain": 0.8}', "light_left_gain"),
    ('{"exposure_time_us": "fast", "light_right_gain": 0.8}', "exposure_time_us"),
])
def test_broken_calibration_falls_back_per_value(tmp_path, content, fragment):
    (tmp_path / "calibration.json").write_text(content)
    config = Config()
    config.booth.state_dir = str(tmp_path)
    defaults = Config().devices
    warnings = calibration.apply_saved_calibration(config)
    assert any(fragment in w for w in warnings)
    assert config.devices.light_left_gain == defaults.light_left_gain
    assert config.devices.exposure_time_us == defaults.exposure_time_us
    if "0.8" in content:                     # the good value in a partly broken file is kept
        assert config.devices.light_right_gain == 0.8


def test_saved_calibration_reaches_the_device_settings(tmp_path):
    calibration.save_calibration(tmp_path, calibration.Calibration(
        light_right_gain=0.7, exposure_time_us=9000, colour_gain_red=1.9, colour_gain_blue=1.5))
    config = Config()
    config.booth.state_dir = str(tmp_path)
    assert calibration.apply_saved_calibration(config) == []
    d = config.devices
    assert (d.light_right_gain, d.exposure_time_us, d.colour_gains) == (0.7, 9000, (1.9, 1.5))


# --- statistics, logs, power ------------------------------------------------------------------------------

def test_statistics(tmp_path):
    stats.record_session(tmp_path, outcome="saved", duration_s=40, retakes=1,
                         checks={"pose.yaw": "pass", "eyes.open": "fail"}, when=100)
    stats.record_session(tmp_path, outcome="saved", duration_s=60,
                         checks={"pose.yaw": "pass", "eyes.open": "pass"}, when=200)
    stats.record_session(tmp_path, outcome="abandoned", duration_s=20, when=300)
    with open(tmp_path / "sessions.jsonl", "a") as f:
        f.write('{"outcome": "saved", "durat')          # a power cut mid-line
    s = stats.summarize(tmp_path)
    assert s.sessions == 3 and s.saved == 2 and s.outcomes["abandoned"] == 1
    assert s.median_session_s == 40 and s.retakes == 1 and s.skipped_lines == 1
    assert s.checks["pose.yaw"].rate == 1.0 and s.checks["eyes.open"].rate == 0.5
    assert s.worst_checks(1)[0][0] == "eyes.open"
    assert stats.summarize(tmp_path, since=150).sessions == 2
    assert stats.summarize(tmp_path / "nothing").sessions == 0


def test_statistics_take_check_results(tmp_path):
    from kiosk.photo.checks.result import CheckResult
    stats.record_session(tmp_path, outcome="saved", duration_s=30,
                         checks=[CheckResult("pose.roll", Status.PASS)])
    line = json.loads((tmp_path / "sessions.jsonl").read_text())
    assert line["checks"] == {"pose.roll": "pass"}


def test_logs_go_to_the_stick(tmp_path):
    state = tmp_path / "state"
    stick = tmp_path / "stick"
    stick.mkdir()
    stats.record_session(state, outcome="saved", duration_s=30)
    calibration.save_calibration(state, calibration.Calibration())
    out = logs.export_logs(stick, state_dir=state, booth_id="booth1", warnings=["config: x"],
                           journal_cmd=("journalctl", "--no-pager", "-n", "5"))
    assert out.ok, out.problem
    assert {"journal.txt", "warnings.txt", "sessions.jsonl", "calibration.json"} == set(out.files)
    assert out.folder.parent == stick / "kiosk-logs" and out.folder.name.startswith("booth1-")
    assert (out.folder / "warnings.txt").read_text() == "config: x\n"
    assert not (out.folder / "registrar.key").exists()


def test_logs_without_a_stick(tmp_path):
    out = logs.export_logs(tmp_path / "pulled", state_dir=tmp_path, booth_id="b")
    assert not out.ok and out.problem is logs.NO_STICK


def test_power_goes_through_systemctl():
    calls = []

    def runner(cmd):
        calls.append(list(cmd))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    assert power.reboot(runner) is None and power.shutdown(runner) is None
    assert calls == [["systemctl", "--no-ask-password", "reboot"],
                     ["systemctl", "--no-ask-password", "poweroff"]]
    refused = lambda cmd: subprocess.CompletedProcess(cmd, 1, "", "Access denied")
    assert power.reboot(refused) is power.FAILED
