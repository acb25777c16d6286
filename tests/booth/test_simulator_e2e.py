"""End to end: the simulator's scripted student leaves a photo on the USB folder that the
registrar's `kiosk verify` accepts; lights and buttons go through gpiozero's MockFactory."""

from __future__ import annotations

import pytest

from kiosk.cli import main as kiosk_main
from kiosk.config import Config
from kiosk.sim.simulator import DEMO_STUDENT, GUIDED_FAULTS, simulate

# A cap against a hang only: the scripted student waits for what the booth shows, never for the
# clock, so a visit that passes ends long before this, however busy the machine.
CAP_S = 900


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim")
    return simulate(root / "usb", screenshots=root / "shots", headless=True,
                    demo_dir=root / "demo", max_seconds=CAP_S)


def test_the_visit_goes_through_every_state_in_order(outcome):
    assert outcome.states == ["attract", "identify", "confirm", "reminders", "guidance",
                              "capture", "review", "save", "done"]


def test_the_photo_lands_on_the_stick_and_verifies(outcome):
    assert outcome.path is not None and outcome.path.is_file()
    assert outcome.path.name == DEMO_STUDENT["id_number"] + ".jpg"
    assert outcome.verdict in ("pass", "warn")
    # the registrar's own command accepts it (exit 0 = pass or warn), with the key
    code = kiosk_main(["verify", str(outcome.path), "--key", str(outcome.demo_folder / "registrar.key")])
    assert code == 0


def test_the_student_was_guided_from_bad_poses_into_a_good_one(outcome):
    ids = outcome.hint_ids
    assert "crop" in ids                        # too far / off to the side: the crop says where
    assert "pose.roll" in ids                   # head tilted
    assert ids[-1] is None                      # the last word: all good, hold still
    assert ids.index("pose.roll") > ids.index("crop")
    assert any("closer" in h for h in outcome.hints)
    assert any("right" in h or "left" in h for h in outcome.hints)
    # each fault was told (in this order) before the student corrected it ...
    assert outcome.corrected == [f.what for f in GUIDED_FAULTS]
    said = iter(zip(ids, outcome.hints))
    for fault in GUIDED_FAULTS:
        assert any(fault.told_by(i, h) for i, h in said), fault.what
    # ... and "hold still" came only once the last one was corrected (no good pose on the way)
    assert ids.index(None) > ids.index("pose.roll")


def test_lights_and_buttons_went_through_mockfactory(outcome):
    d = Config().devices
    levels = outcome.light_levels
    assert d.light_idle_level in levels and d.light_preview_level in levels
    assert d.light_capture_level in levels      # countdown and burst at capture level ...
    i = len(levels) - 1 - levels[::-1].index(d.light_capture_level)
    assert levels[i + 1] == d.light_preview_level   # ... and back for the review
    assert levels[-1] == d.light_idle_level         # done: idle again
    # "that's me", "I'm ready", ("I confirm" the points the camera could not decide), "use this photo"
    assert outcome.confirm_presses == 3 + bool(outcome.confirmed)


def test_every_screen_was_saved(outcome, tmp_path_factory):
    names = outcome.screenshots
    for state in ("attract", "identify", "confirm", "reminders", "guidance", "capture", "review",
                  "save", "done"):
        assert any(n.endswith(f"_{state}.png") for n in names), state
    assert sum("guidance_hint" in n for n in names) >= 3


def test_timings_are_recorded(outcome):
    # recorded, not judged: how fast is for bench/booth.py, a test must pass on a busy machine
    settings = Config().session
    assert outcome.pass_to_usb_s is not None
    assert outcome.pass_to_usb_s >= settings.countdown_s      # the countdown is part of it
    assert outcome.fps > 0 and outcome.seconds > 0


def test_a_retake_replaces_the_photo(tmp_path):
    """Review → retake → guidance → capture → review → accept: one file on the stick."""
    out = simulate(tmp_path / "usb", headless=True, demo_dir=tmp_path / "demo", retakes=1,
                   max_seconds=CAP_S)
    assert out.states[out.states.index("review"):] == ["review", "guidance", "capture", "review",
                                                       "save", "done"]
    assert out.verdict in ("pass", "warn")
    photos = list((tmp_path / "usb").rglob("*.jpg"))
    assert photos == [out.path]


def test_the_default_student_is_bareheaded_and_fails_no_rule(outcome):
    """The simulator's student is a real person without a hat, jewellery or hair over the brows
    and ears: no rule fails. What the camera could not decide (unknown) the student confirmed on
    the review screen, and the manifest says so: never a silent pass."""
    import json

    from kiosk.photo.checks.result import CONFIRMABLE_IDS
    from kiosk.sim.faces import labels
    from kiosk.sim.simulator import BAREHEADED
    label = labels()[BAREHEADED.face]
    assert label["headwear"] == "none" and label["ears_visible"] == "both"
    assert not label["earrings"] and not label["necklace"] and not label["hair_over_brows"]
    assert outcome.captured_faces == [BAREHEADED.face]
    [entry] = json.loads(next(outcome.path.parent.glob("manifest.json")).read_text("utf-8"))["photos"]
    statuses = {c["id"]: c["status"] for c in entry["checks"]}
    assert "fail" not in statuses.values() and "warn" not in statuses.values()
    undecided = sorted({rule for rule, status in statuses.items() if status == "unknown"})
    assert set(undecided) <= CONFIRMABLE_IDS
    assert sorted(outcome.confirmed) == undecided == sorted(c["id"] for c in entry["confirmed"])
    assert entry["verdict"] == ("warn" if undecided else "pass")
    assert entry["backdrop"] == "blue"
    if undecided:
        assert any(n.endswith("_review_confirmed.png") for n in outcome.screenshots)


def _headwear_is_advisory() -> bool:
    from kiosk.photo.checks import ADVISORY_IDS
    return "attire.headwear" in ADVISORY_IDS


@pytest.mark.xfail(_headwear_is_advisory(), strict=True,
                   reason="attire.headwear is not measured yet (advisory): the booth cannot see the cap")
def test_the_student_in_a_cap_is_told_to_take_it_off_and_refused_until_she_does(tmp_path):
    """Grace Hopper in her officer's cap: the live instruction is to take it off, no photo is
    taken while it is on; once it is off (the scene shows the bareheaded student) the visit
    ends with a photo of the bareheaded student."""
    from kiosk.sim.simulator import BAREHEADED, IN_A_CAP
    out = simulate(tmp_path / "usb", headless=True, demo_dir=tmp_path / "demo", student="cap",
                   max_seconds=CAP_S)
    assert "attire.headwear" in out.hint_ids                  # told, live, to take it off
    assert out.told_to_take_off_at is not None
    assert IN_A_CAP.face not in out.captured_faces            # never captured in the cap
    assert out.captured_faces == [BAREHEADED.face]
    assert out.path is not None and out.verdict in ("pass", "warn")
    assert out.states[-1] == "done"
