"""The crop planner: bands met with margin, never upsampled, clear instructions otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.photo import standard
from kiosk.photo.crop import (
    MOVE_CLOSER,
    MOVE_HIGHER,
    MOVE_LEFT,
    MOVE_LOWER,
    MOVE_RIGHT,
    NO_HEAD_TOP,
    STEP_BACK,
    apply_crop,
    plan_crop,
    project,
)


@pytest.mark.parametrize("kw", [dict(face="astronaut"), dict(face="hopper"),
                                dict(face="hopper", backdrop="white", size=(2028, 1520)),
                                dict(face="hopper", dx=0.08, dy=0.05, scale=0.85)])
def test_good_scenes_land_deep_inside_the_bands(scenes, kw):
    rgb, a, plan = scenes(**kw)
    assert plan.ok and plan.problem is None
    p = plan.predicted
    assert standard.HEAD_TOP.margin(p["head_top"]) > 10
    assert standard.EYE_LINE.margin(p["eyes"]) > 10
    assert standard.FACE_WIDTH.margin(p["face_width"]) > 10
    assert abs(p["centered"] - 240) < 3
    x0, y0, x1, y1 = plan.box
    assert (x1 - x0) * 4 == (y1 - y0) * 3                 # exact 3:4
    assert y1 - y0 >= 640 and plan.scale <= 1.0           # never upsampled
    out = apply_crop(rgb, plan)
    assert out.shape == (640, 480, 3) and out.dtype == np.uint8
    # the eye line projects where the plan says
    eye = project(plan, [(a.face.face_center_x, a.face.eye_line_y)])[0]
    assert eye[1] == pytest.approx(p["eyes"], abs=0.5)


def test_max_min_margin_balances_the_bands(scenes):
    _, _, plan = scenes(face="hopper")
    norm = [plan.margins["head_top"] / 30, plan.margins["eyes"] / 50, plan.margins["face_width"] / 60]
    assert max(norm) - min(norm) < 0.15        # no band is sacrificed for another


@pytest.mark.parametrize("kw", [dict(face="hopper", size=(640, 480), dy=0.1),
                                dict(face="astronaut", size=(640, 480)),
                                dict(face="astronaut", size=(640, 480), scale=0.6, dy=0.2)])
def test_the_plan_is_the_best_box_that_can_be_cut(scenes, kw):
    # every whole-pixel box of a preview of a 4056-wide still, tried one by one: none has a
    # larger worst normalised margin than the plan (passing or not)
    from kiosk.photo.crop import _BANDS, OUT_H, OUT_W
    _, a, plan = scenes(**kw)
    a.source_size = (4056, 3040)
    plan = plan_crop(a)
    w, h = a.size
    top, eye, fw, cx = a.head_top_y, a.face.eye_line_y, a.face.face_width, a.face.face_center_x
    best = -np.inf
    for bh in range(int(np.ceil(OUT_H * w / 4056 / 4)) * 4, h + 1, 4):
        bw = bh * OUT_W // OUT_H
        x0 = min(max(round(cx - bw / 2), 0), w - bw)
        s = OUT_H / bh
        for y0 in range(0, h - bh + 1):
            values = {"head_top": (top - y0) * s, "eyes": (eye - y0) * s, "face_width": fw * s,
                      "centered": (cx - x0) * s}
            best = max(best, min(_BANDS[k].margin(v) / ((_BANDS[k].hi - _BANDS[k].lo) / 2)
                                 for k, v in values.items()))
    assert plan.worst == pytest.approx(best, abs=1e-9)


def test_face_too_small_says_move_closer(scenes):
    _, _, plan = scenes(face="hopper", scale=0.5)
    assert not plan.ok and plan.problem == MOVE_CLOSER
    assert plan.scale <= 1.0


def test_face_at_the_image_right_says_move_to_your_right(scenes):
    # image right = the person's left (un-mirrored camera): they must move to THEIR right
    _, _, plan = scenes(face="hopper", dx=0.4)
    assert not plan.ok and plan.problem == MOVE_RIGHT
    _, _, plan = scenes(face="hopper", dx=-0.4)
    assert not plan.ok and plan.problem == MOVE_LEFT


def test_face_too_big_says_step_back(scenes):
    # 2× Hopper: even the largest box inside the frame leaves the face wider than 300 px
    _, _, plan = scenes(face="hopper", scale=2.0, dy=0.1)
    assert not plan.ok and plan.problem == STEP_BACK
    assert plan.predicted["face_width"] > standard.FACE_WIDTH.hi


def test_too_high_or_too_low_in_the_frame_says_which_way(scenes):
    # sitting too high: no box leaves 50 px above the hair without lifting the eyes past 300 px
    _, _, plan = scenes(face="hopper", dy=-0.15)
    assert not plan.ok and plan.problem == MOVE_LOWER
    # sitting too low: the eyes cannot come up to 300 px without the box leaving the frame
    _, _, plan = scenes(face="hopper", dy=0.3)
    assert not plan.ok and plan.problem == MOVE_HIGHER
    # the hair touching the frame's top edge: its top cannot be measured, so no crop at all
    _, _, plan = scenes(face="hopper", scale=2.2)
    assert not plan.ok and plan.problem == NO_HEAD_TOP and plan.box is None


@pytest.mark.parametrize("kw, move", [(dict(scale=2.0, dy=0.1), STEP_BACK), (dict(scale=0.5), MOVE_CLOSER),
                                      (dict(dx=0.4), MOVE_RIGHT)])
def test_failing_layout_checks_all_give_the_crops_one_instruction(scenes, kw, move):
    """No contradictory advice: a face too big fails head top and eyes on opposite sides, but
    every failing layout check says what the crop planner diagnosed (also in kiosk check --json)."""
    from kiosk.config import Config
    from kiosk.photo.checks import run_checks
    _, a, plan = scenes(face="hopper", **kw)
    assert not plan.ok and plan.problem == move
    layout = [r for r in run_checks(a, Config(), crop=plan) if r.id.startswith("layout.")]
    failing = [r for r in layout if r.status.value == "fail"]
    assert failing and all(r.message == move for r in failing), [r.id for r in failing]
    assert all(r.severity > 0 for r in failing)


def test_head_cut_at_the_top_edge_is_not_cropped(scenes):
    _, a, plan = scenes(face="hopper", dy=-0.3)
    assert not plan.ok and plan.problem is not None and plan.box is None


def test_never_upsamples_a_small_frame(analyzer):
    from kiosk.sim.scenes import compose_scene
    rgb = compose_scene("hopper", "blue", size=(640, 480))
    plan = plan_crop(analyzer.analyze(rgb))
    assert not plan.ok       # 480 px high cannot hold a 640 px box
    # ...unless it is a preview of a larger still: then the box is counted in still pixels
    a = analyzer.analyze(rgb, source_size=(2028, 1520))
    plan = plan_crop(a)
    assert plan.ok and plan.scale <= 1.0
    still = compose_scene("hopper", "blue", size=(2028, 1520))
    assert apply_crop(still, plan).shape == (640, 480, 3)
