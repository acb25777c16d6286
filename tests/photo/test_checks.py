"""Every check of the standard passes on a good real-face scene and fails on a broken one.

Scenes are real photographs composed on booth backdrops (kiosk.sim.scenes). Conditions a
photograph cannot show (closed eyes, a sideways glance, a turned head) are derived from the
real landmarks (moved eyelids, moved irises, rotated 3D landmarks), and the test says so.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kiosk.config import Config
from kiosk.photo.analysis import face_geometry
from kiosk.photo.checks import ADVISORY_IDS, ALL_RULE_IDS, LAYOUT_AND_BACKGROUND_IDS, run_checks
from kiosk.photo.checks.result import Status

GOOD = dict(face="hopper")          # Grace Hopper: lips closed, shoulders level, even light
# ... but in an officer's cap. A bareheaded real person for whole-photo verdicts: Franck of the
# labelled set (tests/data/faces.json), his 5.7° head tilt straightened in the scene.
BAREHEADED = dict(face="franck-front", roll_deg=-5.5)
#: Hard rules a person can answer: when their measure is unsure (unknown) the booth asks the
#: student to confirm instead of failing the photo.
CONFIRMABLE = {"attire.headwear", "attire.jewelry", "occlusion.hair"}


def _blocking(results):
    """Blocking results other than an unsure head rule (which the student confirms)."""
    return [r for r in results if r.blocking
            and not (r.status == Status.UNKNOWN and r.id in CONFIRMABLE)]

# rule id -> (scene arguments that must PASS, scene arguments that must FAIL / warn)
SCENE_CASES = {
    "face.count": (GOOD, dict(face="hopper", second_face=True)),
    "layout.centered": (GOOD, dict(face="hopper", dx=0.4)),
    "layout.head_top": (GOOD, dict(face="hopper", dy=0.35)),          # sits too low
    "layout.face_width": (GOOD, dict(face="hopper", scale=0.5)),
    "pose.roll": (GOOD, dict(face="hopper", roll_deg=12.0)),
    "pose.shoulders": (GOOD, dict(face="hopper", roll_deg=12.0)),
    "mouth.closed": (GOOD, dict(face="astronaut")),         # her real smile shows teeth
    "expression.natural": (GOOD, dict(face="astronaut")),   # a broad real smile
    "glasses.glare": (GOOD, dict(face="hopper", glare=True)),
    "glasses.tinted": (GOOD, dict(face="hopper", sunglasses=True)),
    "eyes.red_eye": (GOOD, dict(face="hopper", red_eye=True)),
    "attire.contrast": (GOOD, dict(face="hopper", clothing_rgb=(100, 197, 255))),
    "attire.pattern": (GOOD, dict(face="hopper", stripes=True)),
    "makeup": (GOOD, dict(face="hopper", lipstick=True)),
    "background.color": (GOOD, dict(face="hopper", backdrop="white")),   # blue is installed
    "background.uniform": (GOOD, dict(face="hopper", gradient=0.3)),
    "background.shadow": (GOOD, dict(face="hopper", shadow=0.6)),
    "background.clutter": (GOOD, dict(face="hopper", clutter=True)),
    "lighting.symmetry": (GOOD, dict(face="hopper", side_dark=0.5)),
    "lighting.exposure": (GOOD, dict(face="hopper", exposure=0.45)),
    "lighting.highlights": (GOOD, dict(face="hopper", hotspot=True)),
    "image.sharpness": (GOOD, dict(face="hopper", blur=4.0)),
    "image.color": (dict(face="hopper", backdrop="grey"),
                    dict(face="hopper", backdrop="grey", cast=(1.08, 1.0, 0.88))),
}


def _config(backdrop: str = "blue") -> Config:
    cfg = Config()
    cfg.booth.backdrop = backdrop
    return cfg


def _check(scenes, rule, kw):
    _, analysis, plan = scenes(**kw)
    installed = "grey" if kw.get("backdrop") == "grey" else "blue"
    (result,) = run_checks(analysis, _config(installed), crop=plan if plan.box else None, ids=[rule])
    return result


@pytest.mark.parametrize("rule", sorted(SCENE_CASES))
def test_passes_on_good_scene(scenes, rule):
    r = _check(scenes, rule, SCENE_CASES[rule][0])
    assert r.status == Status.PASS, r
    assert r.severity == 0 and r.message.zh and r.message.en


@pytest.mark.parametrize("rule", sorted(SCENE_CASES))
def test_fails_on_broken_scene(scenes, rule):
    r = _check(scenes, rule, SCENE_CASES[rule][1])
    expected = Status.WARN if rule in ADVISORY_IDS else Status.FAIL
    assert r.status == expected, r
    assert r.severity > 0 and r.message.zh and r.message.en and r.limit


# --- conditions derived from the real landmarks ---------------------------------------------

def _with_landmarks(analysis, lm):
    face = face_geometry(lm, analysis.face.depth, (analysis.image.shape[1], analysis.image.shape[0]))
    return dataclasses.replace(analysis, face=face)


def test_eyes_open_and_closed(scenes):
    _, a, plan = scenes(**GOOD)
    assert run_checks(a, _config(), crop=plan, ids=["eyes.open"])[0].status == Status.PASS
    # A photograph cannot close its eyes: move each upper-eyelid landmark onto the lower lid.
    lm = a.face.landmarks.copy()
    for top, bottom in ((159, 145), (386, 374), (160, 144), (158, 153), (385, 380), (387, 373)):
        lm[top] = lm[bottom] - (0, 1.0)
    r = run_checks(_with_landmarks(a, lm), _config(), crop=plan, ids=["eyes.open"])[0]
    assert r.status == Status.FAIL and "eyes" in r.message.en.lower()


def test_gaze_centred_and_sideways(scenes):
    _, a, plan = scenes(**GOOD)
    assert run_checks(a, _config(), crop=plan, ids=["eyes.gaze"])[0].status == Status.PASS
    # A sideways glance derived from the real landmarks: both irises moved a quarter eye width.
    lm = a.face.landmarks.copy()
    shift = 0.25 * np.linalg.norm(lm[133] - lm[33])
    lm[468:478, 0] += shift
    r = run_checks(_with_landmarks(a, lm), _config(), crop=plan, ids=["eyes.gaze"])[0]
    assert r.status == Status.FAIL


def test_yaw_and_pitch_pass_and_fail(scenes, rotate_landmarks):
    _, a, plan = scenes(**GOOD)
    both = ["pose.yaw", "pose.pitch"]
    assert all(r.status == Status.PASS for r in run_checks(a, _config(), crop=plan, ids=both))
    # A photo cannot turn its head: the real 3D landmarks are rotated (yaw 15°, person's left).
    turned = _with_landmarks(a, rotate_landmarks(a.face, yaw_deg=15))
    (r,) = run_checks(turned, _config(), crop=plan, ids=["pose.yaw"])
    assert r.status == Status.FAIL and r.value > 5
    assert "your right" in r.message.en          # the fix, in the person's own frame
    up = _with_landmarks(a, rotate_landmarks(a.face, pitch_deg=20))
    (r,) = run_checks(up, _config(), crop=plan, ids=["pose.pitch"])
    assert r.status == Status.FAIL and "Lower your chin" in r.message.en


def test_mouth_open_derived_from_landmarks(scenes):
    _, a, plan = scenes(**GOOD)
    lm = a.face.landmarks.copy()
    lm[14, 1] += 0.08 * a.face.face_width       # lower inner lip dropped: an open mouth
    (r,) = run_checks(_with_landmarks(a, lm), _config(), crop=plan, ids=["mouth.closed"])
    assert r.status == Status.FAIL


def test_layout_eyes_in_a_finished_file(scenes, analyzer):
    from kiosk.photo.crop import apply_crop
    rgb, a, plan = scenes(**GOOD)
    photo = apply_crop(rgb, plan)
    done = analyzer.analyze(photo)
    rs = {r.id: r for r in run_checks(done, _config(), ids=LAYOUT_AND_BACKGROUND_IDS)}
    assert all(r.status == Status.PASS for r in rs.values()), rs
    assert rs["layout.eyes"].value == pytest.approx(plan.predicted["eyes"], abs=6)
    # the same file shifted down by 80 px no longer has its eyes in the band
    shifted = np.vstack([np.repeat(photo[:1], 80, axis=0), photo[:-80]])
    (r,) = run_checks(analyzer.analyze(shifted), _config(), ids=["layout.eyes"])
    assert r.status == Status.FAIL


def test_head_rules_are_hard_and_judged_on_real_people(scenes):
    # measured on the labelled real faces in test_real_faces.py; here: hard, never advisory
    _, a, plan = scenes(**GOOD)
    for r in run_checks(a, _config(), crop=plan, ids=["attire.headwear", "attire.jewelry", "occlusion.hair"]):
        assert r.id not in ADVISORY_IDS and r.limit and r.status != Status.WARN, r
        assert r.blocking or r.status != Status.FAIL, r
    (r,) = run_checks(a, _config(), crop=plan, ids=["attire.headwear"])
    assert r.status == Status.FAIL and r.blocking and "hat" in r.message.en.lower()   # her cap


def test_every_rule_is_covered_and_ids_are_the_standards():
    covered = set(SCENE_CASES) | {"eyes.open", "eyes.gaze", "pose.yaw", "pose.pitch",
                                  "layout.eyes", "attire.headwear", "attire.jewelry",
                                  "occlusion.hair"}
    assert covered == set(ALL_RULE_IDS)
    assert len(ALL_RULE_IDS) == len(set(ALL_RULE_IDS)) == 31


def test_good_scene_verdict_and_no_face(scenes, analyzer):
    _, a, plan = scenes(**BAREHEADED)
    results = run_checks(a, _config(), crop=plan)
    assert [r.id for r in results] == list(ALL_RULE_IDS)
    assert not _blocking(results), _blocking(results)
    by = {r.id: r for r in results}
    assert by["attire.headwear"].status == Status.PASS
    empty = analyzer.analyze(np.full((640, 480, 3), 240, np.uint8))
    results = run_checks(empty, _config("grey"))
    by = {r.id: r for r in results}
    assert by["face.count"].status == Status.FAIL
    assert by["pose.yaw"].status == Status.UNKNOWN and by["pose.yaw"].blocking
    assert by["expression.natural"].status == Status.WARN and not by["expression.natural"].blocking


def test_channel_median_is_numpys_median():
    from kiosk.photo.checks.context import channel_median
    rng = np.random.default_rng(1)
    image = rng.normal(50, 20, (60, 80, 3)).astype(np.float32)
    mask = rng.random((60, 80)) > 0.4
    assert np.array_equal(channel_median(image, mask), np.median(image[mask], axis=0))


def test_live_path_judges_a_preview_like_the_still(scenes):
    # The booth's live thread: tracking, Pose and the people count every few frames, the
    # blocking checks in the crop at the preview's resolution, the pixel rules held between
    # measurements. On a 640×480 preview of Grace Hopper it reaches the still's verdict.
    from kiosk.booth.workers import LIVE_PIXEL_EVERY, LIVE_POSE_EVERY, LiveChecks, guide_frame, live_analyzer
    from kiosk.photo.checks import LIVE_RULE_IDS
    from kiosk.sim.scenes import compose_scene
    preview = compose_scene("hopper", "blue", size=(640, 480))
    n = max(LIVE_POSE_EVERY, LIVE_PIXEL_EVERY) + 1
    checks = LiveChecks()
    with live_analyzer() as tracker:
        runs = [guide_frame(tracker, preview, _config(), (1440, 1080), checks) for _ in range(n)]
    for _analysis, plan, results, stages in runs:
        assert plan.ok and [r.id for r in results] == list(LIVE_RULE_IDS)
        # everything passes but her officer's cap, which the live path catches too
        assert [r.id for r in _blocking(results)] == ["attire.headwear"], _blocking(results)
        assert set(stages) == {"models", "crop", "checks"} and all(v > 0 for v in stages.values())
    # shoulders measured on the first frame are reused (not unknown) on the next ones
    assert [a.shoulders_age for a, *_ in runs] == [i % LIVE_POSE_EVERY for i in range(n)]
    shoulders = [{r.id: r for r in res}["pose.shoulders"].status for _, _, res, _ in runs]
    assert shoulders == [Status.PASS] * len(runs)


def test_live_path_judges_a_failing_pixel_rule_again_sooner_than_passing_ones():
    # A pixel rule the student is told about (sunglasses) is judged again after
    # LIVE_PIXEL_RECHECK frames, the passing ones are held for LIVE_PIXEL_EVERY.
    from kiosk.booth.workers import LIVE_PIXEL_EVERY, LIVE_PIXEL_RECHECK, LiveChecks, guide_frame, live_analyzer
    from kiosk.photo.checks import PIXEL_RULE_IDS
    from kiosk.sim.scenes import compose_scene
    assert LIVE_PIXEL_RECHECK < LIVE_PIXEL_EVERY
    dark = compose_scene("hopper", "blue", size=(640, 480), sunglasses=True)
    clear = compose_scene("hopper", "blue", size=(640, 480))
    checks = LiveChecks()
    statuses = []
    with live_analyzer() as tracker:
        for n in range(1, LIVE_PIXEL_EVERY + 1):
            frame = dark if n <= 2 else clear          # the student takes them off at once
            _, _, results, _ = guide_frame(tracker, frame, _config(), (4056, 3040), checks)
            statuses.append({r.id: r.status for r in results}["glasses.tinted"])
            if n < LIVE_PIXEL_RECHECK:
                assert not any(checks.due(i) for i in PIXEL_RULE_IDS)
            if n == LIVE_PIXEL_RECHECK:                  # due: judged on the next frame
                assert checks.due("glasses.tinted") and checks.due("attire.headwear")  # her cap
                assert not checks.due("background.uniform")
                # what she will confirm at the review (her hair under the cap, jewellery) is
                # on no instruction: held as long as a pass
                held = {r.id: r for r in results}
                waiting = [i for i in PIXEL_RULE_IDS if held[i].needs_confirmation]
                assert waiting and not any(checks.due(i) for i in waiting)
        assert checks.due("background.uniform")
    # held while they were on, and for LIVE_PIXEL_RECHECK - 1 frames after: then judged again
    assert statuses[0] is Status.FAIL
    assert statuses == [Status.FAIL] * LIVE_PIXEL_RECHECK + [Status.PASS] * (LIVE_PIXEL_EVERY - LIVE_PIXEL_RECHECK)


def test_the_head_has_moved_when_it_tilts_or_shifts_enough():
    from kiosk.booth.workers import LIVE_HEAD_MOVED_DEG, LIVE_HEAD_MOVED_FACES, head_moved
    then = (1.0, 320.0, 200.0, 120.0)                 # roll, face centre x, eye line y, width
    step = LIVE_HEAD_MOVED_FACES * 120.0
    assert not head_moved(then, then)
    assert not head_moved((1.0 + 0.9 * LIVE_HEAD_MOVED_DEG, 320.0 + 0.7 * step, 200.0 - 0.7 * step, 120.0), then)
    assert head_moved((1.0 - LIVE_HEAD_MOVED_DEG, 320.0, 200.0, 120.0), then)       # tilted
    assert head_moved((1.0, 320.0 + 0.75 * step, 200.0 + 0.75 * step, 120.0), then)  # shifted
    assert head_moved(then, None)           # a face appeared since: measure it
    assert not head_moved(None, then)       # gone: nothing to measure


def test_live_path_measures_again_once_the_student_moves():
    # Passing shoulders and pixel rules are kept for LIVE_POSE_EVERY / LIVE_PIXEL_EVERY frames
    # while the student holds still (swaying by a few pixels), but only LIVE_MOVED_RECHECK
    # once the head has shifted by LIVE_HEAD_MOVED_FACES face widths since they were
    # measured: shoulders do not move on their own, and the crop moves with the face.
    from kiosk.booth.workers import (
        LIVE_HEAD_MOVED_FACES,
        LIVE_MOVED_RECHECK,
        LIVE_PIXEL_EVERY,
        LIVE_POSE_EVERY,
        LiveChecks,
        guide_frame,
        live_analyzer,
    )
    from kiosk.photo.checks import PIXEL_RULE_IDS
    from kiosk.sim.scenes import FACE_WIDTH_FRACTION, compose_scene
    assert LIVE_MOVED_RECHECK < min(LIVE_PIXEL_EVERY, LIVE_POSE_EVERY)
    w, h = 640, 480
    sway = [compose_scene("hopper", "blue", size=(w, h), dx=0.004 * (i % 5 - 2)) for i in range(5)]
    shift = 1.2 * LIVE_HEAD_MOVED_FACES * FACE_WIDTH_FRACTION * h / w   # frame widths
    moved = compose_scene("hopper", "blue", size=(w, h), dx=shift)

    def run(frames):
        checks, ages, due = LiveChecks(), [], []
        with live_analyzer() as tracker:
            for frame in frames:
                # (her cap, which fails, is judged every LIVE_PIXEL_RECHECK frames either way)
                due.append(all(checks.due(i) for i in PIXEL_RULE_IDS if i != "attire.headwear"))
                ages.append(guide_frame(tracker, frame, _config(), (4056, 3040), checks)[0].shoulders_age)
        return checks, ages, due

    n = LIVE_MOVED_RECHECK + 5
    checks, ages, due = run([sway[i % 5] for i in range(n)])
    assert ages == list(range(n)) and not any(due[1:])
    assert checks.shoulders_pass and checks.pose_every == LIVE_POSE_EVERY
    checks, ages, due = run([sway[i % 5] for i in range(3)] + [moved] * (n - 3))
    assert ages == list(range(LIVE_MOVED_RECHECK)) + list(range(n - LIVE_MOVED_RECHECK))
    assert [i for i, d in enumerate(due) if d] == [0, LIVE_MOVED_RECHECK]


def test_live_path_measures_failing_shoulders_again_sooner():
    # While the shoulders fail, the student is being told to level them: Pose runs every
    # LIVE_POSE_RECHECK frames, and on the next frame once the head has tilted by
    # LIVE_HEAD_MOVED_DEG since; once they pass, every LIVE_POSE_EVERY.
    from kiosk.booth.workers import LIVE_POSE_EVERY, LIVE_POSE_RECHECK, LiveChecks, guide_frame, live_analyzer
    from kiosk.sim.scenes import compose_scene
    assert LIVE_POSE_RECHECK < LIVE_POSE_EVERY
    leaning = compose_scene("hopper", "blue", size=(640, 480), roll_deg=12)
    level = compose_scene("hopper", "blue", size=(640, 480))
    checks = LiveChecks()
    with live_analyzer() as tracker:
        n = LIVE_POSE_RECHECK + 2
        runs = [guide_frame(tracker, leaning, _config(), (4056, 3040), checks) for _ in range(n)]
        assert all({r.id: r for r in res}["pose.shoulders"].status is Status.FAIL for _, _, res, _ in runs)
        assert [a.shoulders_age for a, *_ in runs] == [i % LIVE_POSE_RECHECK for i in range(n)]
        # levelled: the head straightened by 12° since the shoulders were measured, so they are
        # measured again on the very next frame (no stale "level your shoulders"), and kept longer
        runs = [guide_frame(tracker, level, _config(), (4056, 3040), checks)
                for _ in range(LIVE_POSE_RECHECK + 1)]
        ages = [a.shoulders_age for a, *_ in runs]
        assert ages[0] > 0
        fresh = ages.index(0)
        assert fresh == 1 and checks.pose_every == LIVE_POSE_EVERY
        assert ages[fresh:] == list(range(len(ages) - fresh))
