"""Live guidance: which hint first, no flicker, steady pass, best frame of the burst."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.booth.guidance import (
    CROP_HINT_ID,
    HOLD_STILL,
    Candidate,
    Guide,
    Hint,
    HintFilter,
    SteadyTimer,
    most_important,
    pick_best,
    plan_margin,
    rank,
)
from kiosk.config import SessionSettings
from kiosk.message import Message
from kiosk.photo.checks.result import CheckResult, Status


def fail(rule: str, en: str = "", severity: float = 1.0, advisory: bool = False) -> CheckResult:
    return CheckResult(rule, Status.FAIL, message=Message("中:" + rule, en or rule),
                       severity=severity, advisory=advisory)


def ok(rule: str) -> CheckResult:
    return CheckResult(rule, Status.PASS)


@dataclass
class Plan:
    ok: bool = True
    problem: Message | None = None
    box: tuple = (100, 50, 400, 450)
    margins: object = None


def test_priority_order_of_the_rules():
    order = ["face.count", "layout.centered", "pose.yaw", "eyes.open", "mouth.closed",
             "lighting.symmetry", "glasses.glare", "background.color"]
    assert [rank(r) for r in order] == sorted(rank(r) for r in order)
    assert rank("face.count") < rank("layout.head_top") < rank("pose.roll") < rank("eyes.gaze") \
        < rank("lighting.exposure") < rank("background.shadow")
    assert rank(CROP_HINT_ID) == rank("layout.eyes")


def test_most_important_follows_the_priority_not_the_list_order():
    results = [fail("background.color"), fail("mouth.closed"), fail("pose.yaw"), ok("face.count")]
    assert most_important(results).id == "pose.yaw"
    results.append(fail("face.count"))
    assert most_important(results).id == "face.count"


def test_the_crop_problem_comes_before_layout_and_pose():
    closer = Message("请靠近一点", "Move closer")
    hint = most_important([fail("pose.roll"), fail("layout.face_width", severity=50)], closer)
    assert hint.id == CROP_HINT_ID and hint.message == closer


def test_within_a_rank_the_worse_problem_first():
    hint = most_important([fail("pose.pitch", severity=2), fail("pose.yaw", severity=9)])
    assert hint.id == "pose.yaw"


def test_advisory_rules_and_warnings_never_are_the_live_hint():
    results = [fail("attire.jewelry", advisory=True),
               CheckResult("file.size", Status.WARN, message=Message("偏大", "large"))]
    assert most_important(results) is None


def test_hint_filter_shows_the_first_hint_at_once():
    f = HintFilter(hold_frames=3, hold_s=0.5)
    h = Hint("pose.yaw", Message("转正", "Face the camera"), 2)
    assert f.update(h, 0.0) == h


def test_hint_filter_needs_frames_and_time_before_switching():
    f = HintFilter(hold_frames=3, hold_s=0.5)
    a = Hint("pose.yaw", Message("a", "a"), 2)
    b = Hint("eyes.open", Message("b", "b"), 3)
    f.update(a, 0.0)
    assert f.update(b, 0.1) == a        # 1 frame
    assert f.update(b, 0.2) == a        # 2 frames
    assert f.update(b, 0.3) == a        # 3 frames but only 0.2 s
    assert f.update(b, 0.6) == b        # 4 frames and 0.5 s


def test_hint_filter_flicker_never_reaches_the_screen():
    f = HintFilter(hold_frames=2, hold_s=0.3)
    a = Hint("pose.yaw", Message("a", "a"), 2)
    b = Hint("eyes.open", Message("b", "b"), 3)
    shown = [f.update(a if i % 2 == 0 else b, i * 0.1) for i in range(40)]
    assert all(h == a for h in shown)


def test_hint_filter_alternatives_taking_turns_do_not_take_turns_on_screen():
    f = HintFilter(hold_frames=2, hold_s=0.3)
    a = Hint("pose.yaw", Message("a", "a"), 2)
    b = Hint("eyes.open", Message("b", "b"), 3)
    c = Hint("mouth.closed", Message("c", "c"), 3)
    f.update(c, 0.0)
    shown = [f.update(a if i % 2 else b, 0.1 * i).id for i in range(1, 30)]
    switched = shown.index(next(h for h in shown if h != "mouth.closed"))
    assert len(set(shown[switched:])) == 1          # once switched, it stays


def test_hint_filter_a_new_direction_is_a_new_hint():
    f = HintFilter(hold_frames=1, hold_s=0.0)
    left = Hint("layout.centered", Message("左", "Move left"), 1)
    right = Hint("layout.centered", Message("右", "Move right"), 1)
    f.update(left, 0)
    assert f.update(right, 0.1) == right


def test_steady_timer_resets_on_any_failing_frame():
    t = SteadyTimer(1.0)
    assert t.update(True, 0.0) == 0.0
    assert t.update(True, 0.5) == 0.5
    assert t.update(False, 0.6) == 0.0
    assert t.update(True, 0.7) == 0.0
    assert t.update(True, 1.7) == 1.0


def test_guide_shows_hold_still_and_becomes_ready_after_the_steady_pass():
    settings = SessionSettings(steady_pass_s=1.0, hint_hold_frames=2, hint_hold_s=0.3)
    g = Guide(settings)
    bad = [fail("pose.roll", "Straighten your head"), ok("face.count")]
    good = [ok("pose.roll"), ok("face.count")]
    v = g.update(bad, Plan(), 0.0)
    assert v.message.en == "Straighten your head" and not v.all_pass and not v.ready
    assert v.failing == ("pose.roll",)
    ts = [0.2 * i for i in range(1, 8)]
    views = [g.update(good, Plan(), t) for t in ts]
    assert all(v.all_pass for v in views)
    # "hold still" goes through the hysteresis too: 2 frames and 0.3 s
    assert [v.message == HOLD_STILL for v in views] == [False, False, True, True, True, True, True]
    assert not views[3].ready                  # 0.8 s after the first passing frame (0.2 s)
    assert views[5].ready                      # 1.0 s
    assert views[-1].plan.box == (100, 50, 400, 450)


def test_on_a_slow_machine_the_countdown_waits_until_hold_still_was_shown():
    """Few analysed frames (one every 1.2 s): the steady pass is over by the second passing
    frame, but "hold still" only shows on that frame, so the capture waits one more frame."""
    g = Guide(SessionSettings(steady_pass_s=1.0, hint_hold_frames=2, hint_hold_s=0.3))
    bad = [fail("pose.roll", "Straighten your head")]
    good = [ok("pose.roll")]
    g.update(bad, Plan(), 0.0)
    first = g.update(good, Plan(), 1.2)
    second = g.update(good, Plan(), 2.4)
    third = g.update(good, Plan(), 3.6)
    assert first.message.en == "Straighten your head" and not first.ready
    assert second.message == HOLD_STILL and second.progress == 1.0 and not second.ready
    assert third.message == HOLD_STILL and third.ready


def test_a_reset_guide_starts_over():
    g = Guide(SessionSettings(steady_pass_s=0.0, hint_hold_frames=1, hint_hold_s=0.0))
    g.update([ok("pose.roll")], Plan(), 0.0)
    assert g.update([ok("pose.roll")], Plan(), 0.1).ready
    g.reset()
    assert not g.update([ok("pose.roll")], Plan(), 0.2).ready    # a new visit: shown once first


def test_one_lucky_passing_frame_does_not_flash_hold_still():
    g = Guide(SessionSettings(steady_pass_s=1.0, hint_hold_frames=2, hint_hold_s=0.3))
    bad = [fail("layout.centered", "Move left")]
    messages = [g.update([] if i == 5 else bad, Plan(), i * 0.1).message.en for i in range(12)]
    assert set(messages) == {"Move left"}


def test_guide_a_crop_without_a_plan_problem_says_where_to_stand():
    g = Guide(SessionSettings())
    v = g.update([], Plan(ok=False, problem=None), 0.0)
    assert v.hint_id == CROP_HINT_ID and not v.all_pass
    v = g.update([], Plan(ok=False, problem=Message("请靠近一点", "Move closer")), 0.1)
    assert v.message.en in ("Move closer", "Please stand in front of the camera")


def test_pick_best_prefers_a_passing_frame_with_more_margin():
    warn = CheckResult("image.sharpness", Status.WARN, value=10.0, message=Message("", ""))
    frames = [
        Candidate(0, [fail("eyes.open")], True, 30.0),            # blinked
        Candidate(1, [ok("eyes.open"), warn], True, 30.0),        # passes with a warning
        Candidate(2, [ok("eyes.open")], True, 8.0),               # passes, little margin
        Candidate(3, [ok("eyes.open")], True, 20.0),              # passes, more margin
    ]
    assert pick_best(frames).index == 3
    assert pick_best(frames[:2]).index == 1


def test_pick_best_none_when_nothing_passes():
    assert pick_best([Candidate(0, [fail("eyes.open")]), Candidate(1, [], crop_ok=False)]) is None
    assert pick_best([]) is None


def test_plan_margin_reads_dicts_numbers_and_sequences():
    assert plan_margin(Plan(margins={"eyes": 12.0, "head_top": 4.0})) == 4.0
    assert plan_margin(Plan(margins=7)) == 7.0
    assert plan_margin(Plan(margins=(3, 9))) == 3.0
    assert plan_margin(Plan(margins=None)) == 0.0
