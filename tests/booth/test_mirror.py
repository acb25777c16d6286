"""The live mirror of the crop and its big arrows, on real composed scenes (SDL dummy driver).

The mirror must show the planned crop of the camera frame flipped left-right, the standard's
bands at their scaled rows, and every arrow must point where the student has to move *as they
see themselves in the mirror*.
"""

from __future__ import annotations

import cv2
import numpy as np
import pygame
import pytest
from booth_support import SIZES

from kiosk.booth.guidance import HOLD_STILL, Guide
from kiosk.booth.session import SessionData, State
from kiosk.booth.ui import icons, mirror, screens
from kiosk.booth.ui.layout import make_layout
from kiosk.config import Config, SessionSettings
from kiosk.photo import crop, standard
from kiosk.photo.checks import pose
from kiosk.sim import gallery

PREVIEW = (640, 480)
STILL = (1440, 1080)


@pytest.fixture(scope="module")
def live():
    """The booth's live path (models, crop plan, checks) on composed scenes of a real face."""
    from hardware.camera import downscale
    from kiosk.booth.workers import guide_frame
    from kiosk.photo.analysis import Analyzer
    from kiosk.sim.scenes import compose_scene

    analyzer = Analyzer(video=False)
    config = Config()

    def run(**kw):
        frame = downscale(compose_scene("hopper", "blue", size=STILL, **kw), PREVIEW)
        analysis, plan, results, _ = guide_frame(analyzer, frame, config, STILL)
        view = Guide(SessionSettings()).update(results, plan, 0.0, source_size=PREVIEW, people=1)
        return frame, analysis, plan, view

    yield run
    analyzer.close()


@pytest.fixture(autouse=True)
def fresh_zoom():
    screens._zoom.reset()            # each drawing here is a new scene: no easing from the last
    yield


def draw(fonts, frame, view, size=(1280, 800), lang="zh"):
    surface = pygame.Surface(size)
    layout = make_layout(size)
    data = SessionData(state=State.GUIDANCE, language=lang, live=view)
    screens.draw(surface, fonts, layout, screens.ScreenModel(data, now=1.0, preview=frame))
    return surface, screens.mirror_rect(screens.screen_layout(layout, State.GUIDANCE))


def region(surface, rect) -> np.ndarray:
    """The pixels of ``rect`` as an h×w×3 array."""
    return pygame.surfarray.array3d(surface.subsurface(rect)).transpose(1, 0, 2).astype(int)


def to_screen(box, dest, x, y):
    """Where camera-frame point (x, y) lands in the mirror ``dest`` showing ``box``."""
    x0, y0, x1, y1 = box
    return (dest.x + (1 - (x - x0) / (x1 - x0)) * dest.width,
            dest.y + (y - y0) / (y1 - y0) * dest.height)


# --- the mirror --------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=lambda s: "%dx%d" % s)
def test_the_mirror_is_the_crop_of_the_camera_frame_flipped_left_right(fonts, live, size):
    frame, _, plan, view = live(dx=0.08)
    assert plan.ok
    surface, dest = draw(fonts, frame, view, size)
    assert dest.width / dest.height == pytest.approx(3 / 4, abs=0.01)       # portrait
    x0, y0, x1, y1 = plan.box
    photo = cv2.resize(frame[y0:y1, x0:x1], dest.size, interpolation=cv2.INTER_AREA).astype(int)
    shown = region(surface, dest)
    # compare outside the two tinted bands (the guide's thin lines cost a percent or two)
    k = dest.height / standard.FRAME_HEIGHT
    rows = np.zeros(dest.height, bool)
    rows[8:-8] = True                            # not the frame line around it
    for band in (standard.HEAD_TOP, standard.EYE_LINE):
        rows[int(band.lo * k) - 2:int(band.hi * k) + 3] = False

    def same(a):
        return (np.abs(a[rows, 8:-8] - photo[rows, 8:-8]).max(axis=2) <= 12).mean()
    assert same(shown[:, ::-1]) > 0.9           # flipped back, it is the crop
    assert same(shown) < same(shown[:, ::-1]) - 0.25     # as it is, it is not: it is mirrored


def test_the_bands_are_drawn_at_the_standards_rows_scaled_to_the_mirror(fonts):
    frame = np.full((PREVIEW[1], PREVIEW[0], 3), 128, np.uint8)       # nobody: no plan
    surface, dest = draw(fonts, frame, None)
    k = dest.height / standard.FRAME_HEIGHT
    # a column left of the oval, inside the frame line: only the bands' tints cross it
    column = region(surface, dest)[:, int(dest.width * 0.12)]
    tinted = np.abs(column - 128).sum(axis=1) > 6
    for band in (standard.HEAD_TOP, standard.EYE_LINE):
        top, bottom = round(band.lo * k), round(band.hi * k)
        assert tinted[top + 1:bottom - 1].all(), band
        assert not tinted[top - 3] and not tinted[bottom + 2], band
    upper = tinted[8:round(standard.EYE_LINE.hi * k) + 10]     # not the frame line, nor the shoulders
    assert upper.sum() == pytest.approx((standard.HEAD_TOP.hi - standard.HEAD_TOP.lo
                                          + standard.EYE_LINE.hi - standard.EYE_LINE.lo) * k, abs=4)


def test_without_a_plan_the_mirror_is_the_middle_of_the_frame_flipped(fonts):
    frame = np.full((PREVIEW[1], PREVIEW[0], 3), 60, np.uint8)
    frame[:, :PREVIEW[0] // 4] = (250, 20, 20)           # red on the camera's left quarter
    surface, dest = draw(fonts, frame, None)
    shown = region(surface, dest)
    # the middle 360 px of 640: x 140..500; red up to 160 is its first 20 px, now on the right
    row = shown[dest.height // 2]
    red = (row[:, 0] > 200) & (row[:, 1] < 100)
    edge = int(dest.width * 20 / 360)
    assert red[-edge + 3:-8].all() and not red[:-edge - 3].any()


def test_the_zoom_eases_between_analysed_frames_and_snaps_for_a_new_scene():
    ease = mirror.BoxEase(tau=0.15, stale_s=0.5)
    a, b = (0.0, 0.0, 300.0, 400.0), (100.0, 0.0, 400.0, 400.0)
    assert ease.update(a, 10.0) == a
    halfway = ease.update(b, 10.0 + 0.15 * np.log(2))           # one half-life later
    assert halfway[0] == pytest.approx(50.0)
    assert ease.update(b, 20.0) == b                            # a long pause: at once


# --- the arrows ------------------------------------------------------------------------------
def icon_pixels(kind: str, side: int = 240):
    surface = pygame.Surface((side, side))
    icons.draw_icon(surface, kind, surface.get_rect())
    rgb = pygame.surfarray.array3d(surface).astype(int)           # [x, y]
    xs, ys = np.nonzero(np.abs(rgb - np.array(icons.ARROW)).sum(axis=2) < 40)
    assert xs.size > 0.02 * side * side, kind                     # a big shape, not a hairline
    return xs, ys


def pointing(kind: str) -> tuple[float, float]:
    """Where an arrow points, from its pixels: the arrow head is the thickest part of the shape
    (the largest inscribed circles, by distance transform); its offset from the middle of the
    whole shape is the direction (screen x to the right, y down)."""
    xs, ys = icon_pixels(kind)
    mask = np.zeros((240, 240), np.uint8)
    mask[ys, xs] = 1
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
    hy, hx = np.nonzero(dist > 0.8 * dist.max())
    return hx.mean() - (xs.min() + xs.max()) / 2, hy.mean() - (ys.min() + ys.max()) / 2


@pytest.mark.parametrize("kind, dx, dy", [("left", -1, 0), ("right", 1, 0), ("up", 0, -1),
                                          ("down", 0, 1), ("turn_left", -1, 0),
                                          ("turn_right", 1, 0), ("tilt_left", -1, 0),
                                          ("tilt_right", 1, 0)])
def test_each_arrow_points_its_way(kind, dx, dy):
    px, py = pointing(kind)
    if dx:
        assert np.sign(px) == dx and abs(px) > 3, (kind, px)
    if dy:
        assert np.sign(py) == dy and abs(py) > 3, (kind, py)


def test_closer_arrows_point_outward_and_further_arrows_inward():
    def heads_radius(kind):
        xs, ys = icon_pixels(kind)
        mask = np.zeros((240, 240), np.uint8)
        mask[ys, xs] = 1
        dist = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
        hy, hx = np.nonzero(dist > 0.8 * dist.max())
        return np.hypot(hx - 120, hy - 120).mean()
    assert heads_radius("closer") > heads_radius("further") + 20


@pytest.mark.parametrize("scene, expected", [
    (dict(dx=0.4), crop.MOVE_RIGHT), (dict(dx=-0.4), crop.MOVE_LEFT),
    (dict(dy=-0.15), crop.MOVE_LOWER), (dict(dy=0.3), crop.MOVE_HIGHER),
])
def test_the_arrow_points_from_the_face_in_the_mirror_to_the_guide(fonts, live, scene, expected):
    """A real face off to one side (or too high, too low): on the mirror the arrow points from
    where the face is drawn toward the guide, so following the arrow brings the face there."""
    frame, analysis, plan, view = live(**scene)
    assert view.message == expected
    surface, dest = draw(fonts, frame, view)
    box = mirror.target_box(PREVIEW, plan, PREVIEW)
    face = analysis.face
    fx, fy = to_screen(box, dest, face.face_center_x, face.eye_line_y)
    px, py = pointing(icons.kind_for(view.message))
    if expected in (crop.MOVE_LEFT, crop.MOVE_RIGHT):
        assert np.sign(px) == np.sign(dest.centerx - fx) and abs(dest.centerx - fx) > 0.1 * dest.width
    else:
        def row(photo_y):
            return dest.y + photo_y * dest.height / standard.FRAME_HEIGHT
        if expected == crop.MOVE_LOWER:     # too high: the hair above the head-top band
            target, actual = row(standard.HEAD_TOP.middle), to_screen(box, dest, 0, analysis.head_top_y)[1]
        else:                               # too low: the eyes below the eye band
            target, actual = row(standard.EYE_LINE.middle), fy
        assert np.sign(py) == np.sign(target - actual) and abs(target - actual) > 0.03 * dest.height
    # and the arrow is drawn on the screen, big
    box_icon = screens.icon_rect(screens.screen_layout(make_layout((1280, 800)), State.GUIDANCE))
    shown = region(surface, box_icon)
    assert (np.abs(shown - np.array(icons.ARROW)).sum(axis=2) < 40).mean() > 0.05


def test_a_face_too_far_is_small_in_the_oval_and_the_arrows_say_closer(fonts, live):
    frame, analysis, plan, view = live(scale=0.5)
    assert view.message == crop.MOVE_CLOSER and icons.kind_for(view.message) == "closer"
    _, dest = draw(fonts, frame, view)
    box = mirror.target_box(PREVIEW, plan, PREVIEW)
    width_on_screen = analysis.face.face_width / (box[2] - box[0]) * dest.width
    assert width_on_screen < standard.FACE_WIDTH.lo / standard.FRAME_WIDTH * dest.width


def test_a_tilted_head_gets_the_rotation_that_straightens_it_in_the_mirror(fonts, live):
    frame, analysis, plan, view = live(roll_deg=9.0)
    assert view.hint_id == "pose.roll"
    box = mirror.target_box(PREVIEW, plan, PREVIEW)
    _, dest = draw(fonts, frame, view)
    eyes = sorted(to_screen(box, dest, *p) for p in (analysis.face.right_pupil,
                                                      analysis.face.left_pupil))
    # the eye on the screen's right is lower: the head leans clockwise in the mirror, so the
    # arrow must turn it back counter-clockwise (its head on the left)
    clockwise = eyes[1][1] > eyes[0][1]
    px, _ = pointing(icons.kind_for(view.message))
    assert (px < 0) == clockwise


def test_instructions_with_a_direction_all_have_a_pictogram():
    for message in (crop.MOVE_LEFT, crop.MOVE_RIGHT, crop.MOVE_CLOSER, crop.STEP_BACK,
                    crop.MOVE_LOWER, crop.MOVE_HIGHER, pose.TURN_LEFT, pose.TURN_RIGHT,
                    pose.TILT_TO_LEFT, pose.TILT_TO_RIGHT, pose.CHIN_UP, pose.CHIN_DOWN,
                    pose.RAISE_LEFT, pose.RAISE_RIGHT):
        assert icons.kind_for(message) is not None, message.en
    assert icons.kind_for(HOLD_STILL, all_pass=True) == icons.HOLD
    for kind in icons.KINDS_ALL:                 # every pictogram draws, big
        surface = pygame.Surface((200, 200))
        icons.draw_icon(surface, kind, surface.get_rect())
        drawn = pygame.surfarray.array3d(surface).max(axis=2) > 100
        assert drawn.mean() > 0.03, kind


@pytest.mark.parametrize("size", SIZES, ids=lambda s: "%dx%d" % s)
def test_the_pictogram_is_readable_from_the_stool(size):
    layout = screens.screen_layout(make_layout(size), State.GUIDANCE)
    rect = screens.icon_rect(layout)
    assert rect.height >= 0.15 * size[1]
    assert layout.panel.contains(rect)


# --- the screenshots ---------------------------------------------------------------------------
def test_guidance_screenshots_show_each_state_from_real_scenes(tmp_path):
    views = gallery.render_states(tmp_path, sizes=((800, 480),))
    expected = {"move_left": crop.MOVE_LEFT, "move_right": crop.MOVE_RIGHT,
                "closer": crop.MOVE_CLOSER, "further": crop.STEP_BACK, "lower": crop.MOVE_LOWER,
                "higher": crop.MOVE_HIGHER, "raise_chin": pose.CHIN_UP,
                "lower_chin": pose.CHIN_DOWN, "hold_still": HOLD_STILL}
    for name, message in expected.items():
        assert views[name].message == message, name
    assert views["tilt"].hint_id == "pose.roll"
    assert views["no_face"].plan.box is None
    assert {p.name for p in tmp_path.glob("*.png")} == {f"{n}_800x480.png" for n in views}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: "%dx%d" % s)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_longest_instruction_stays_clear_of_the_back_button(fonts, size, lang):
    from kiosk.booth.ui import texts, widgets
    from kiosk.booth.ui.layout import bottom_buttons
    from kiosk.photo.checks import lighting

    message = max((pose.TILT_TO_LEFT, lighting.UNEVEN), key=lambda m: len(m.en))
    frame = np.full((PREVIEW[1], PREVIEW[0], 3), 128, np.uint8)
    surface = pygame.Surface(size)
    layout = make_layout(size)
    view = Guide(SessionSettings()).update([], None, 0.0, source_size=PREVIEW)
    view = type(view)(message, "pose.roll", False, 0.0, False)
    data = SessionData(state=State.GUIDANCE, language=lang, live=view)
    screens.draw(surface, fonts, layout, screens.ScreenModel(data, now=1.0, preview=frame))
    guide_layout = screens.screen_layout(layout, State.GUIDANCE)
    back = bottom_buttons(guide_layout, [("retake", texts.BACK, "quiet")])[0].rect
    zone = back.inflate(0, guide_layout.pad)          # the button and a little above it
    pixels = region(surface, zone)
    yellow = (np.abs(pixels - np.array(widgets.ACCENT)).sum(axis=2) < 60).sum()
    assert yellow == 0
