"""Screens, off-screen (SDL dummy driver): Chinese as glyphs, every state drawn, guide in place."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygame
import pygame.freetype
import pytest
from booth_support import SIZES, Directory

from kiosk.booth.guidance import GuidanceView
from kiosk.booth.session import CONFIRM, TECHNICIAN_REQUEST, CaptureDone, Digit, LiveUpdate, SaveDone, Session, State
from kiosk.booth.ui import fonts as fontmod
from kiosk.booth.ui import overlay, screens, texts, widgets
from kiosk.booth.ui.fonts import FontMissing, find_cjk_font, has_glyphs
from kiosk.booth.ui.layout import hit, make_layout
from kiosk.config import SessionSettings
from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.checks.result import CheckResult, Status

SRC = (640, 480)
BOX = (350.0, 60.0, 350.0 + 270.0, 60.0 + 360.0)      # a 3:4 crop, right of centre (source px)


@dataclass
class Plan:
    ok: bool = True
    box: tuple = BOX
    problem: Message | None = None


@dataclass
class Photo:
    ok: bool = True
    verdict: Status = Status.WARN
    jpeg: bytes | None = None
    checks: tuple = (CheckResult("file.size", Status.WARN, message=Message("文件偏大", "File a little large")),)
    student: object = None


def grey_frame(value: int = 128) -> np.ndarray:
    return np.full((SRC[1], SRC[0], 3), value, np.uint8)


def walk(session: Session, state: State) -> None:
    """Drive the session into ``state`` through its events."""
    t = 1.0
    steps = [CONFIRM, Digit("2"), CONFIRM, CONFIRM, CONFIRM,
             LiveUpdate(GuidanceView(Message("请向左移动一点", "Move a little to your left"),
                                     "layout.centered", False, 0.0, False, Plan(), SRC, 1))]
    order = [State.IDENTIFY, State.IDENTIFY, State.CONFIRM, State.REMINDERS, State.GUIDANCE, State.GUIDANCE]
    if state is State.TECHNICIAN:
        session.handle(TECHNICIAN_REQUEST, t)
        return
    if state is State.FAILSAFE:
        session.fail(Message("相机没有响应", "The camera does not answer"), t)
        return
    for event, reached in zip(steps, order):
        if session.state is state and reached is not state:
            return
        session.handle(event, t)
        if session.state is state and event is steps[-1]:
            return
    if state is State.GUIDANCE:
        return
    session.handle(LiveUpdate(GuidanceView(Message("很好", "Good"), None, True, 1.0, True, Plan(), SRC, 1)), t)
    if state is State.CAPTURE:
        return
    session.tick(t + 10)
    session.handle(CaptureDone(Photo(), np.full((640, 480, 3), 90, np.uint8)), t + 11)
    if state is State.REVIEW:
        return
    session.handle(CONFIRM, t + 12)
    if state is State.SAVE:
        return
    session.handle(SaveDone(True, Message("照片已保存到U盘：110105200303151236.jpg",
                                          "Saved to the USB stick: 110105200303151236.jpg")), t + 13)


def render(fonts, state: State, size=(1280, 800), *, language="zh", preview=None,
           whole_frame=False):
    session = Session(SessionSettings(), Directory(), language=language)
    walk(session, state)
    assert session.state is state
    surface = pygame.Surface(size)
    layout = make_layout(size)
    model = screens.ScreenModel(session.data, now=session.data.entered_at + 0.5,
                                preview=grey_frame() if preview is None else preview,
                                retakes_left=session.retakes_left, can_accept=session.can_accept,
                                whole_frame=whole_frame)
    screens.draw(surface, fonts, layout, model)
    return surface, layout, model


# --- the font ---------------------------------------------------------------------------------
def test_the_installed_cjk_font_has_every_glyph_the_booth_needs():
    font = find_cjk_font()
    assert Path(font.path).is_file()
    assert has_glyphs(font.path, font.index)


def all_messages() -> list[Message]:
    """Every fixed bilingual text the booth can show."""
    found = []
    for name in ("kiosk.booth.ui.texts", "kiosk.booth.session", "kiosk.booth.guidance", "kiosk.booth.loop",
                 "kiosk.booth.main", "kiosk.booth.directory", "kiosk.booth.jobs", "kiosk.booth.ui.keypad",
                 "kiosk.booth.workers"):
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, Message):
                found.append(value)
            elif isinstance(value, tuple) and value and all(isinstance(v, Message) for v in value):
                found.extend(value)
    return found


def test_every_text_on_every_screen_has_real_glyphs():
    font = find_cjk_font()
    messages = all_messages()
    assert len(messages) > 40
    text = "".join(m.zh + m.en for m in messages)
    missing = sorted({ch for ch in text if not has_glyphs(font.path, font.index, ch)})
    assert missing == []


def test_chinese_renders_as_glyphs_not_boxes(fonts):
    face = fonts.get(64)

    def pixels(ch: str) -> np.ndarray:
        surf = pygame.Surface((80, 80))
        surf.fill((0, 0, 0))
        face.render_to(surf, (4, 4), ch, (255, 255, 255))
        return pygame.surfarray.array3d(surf)[..., 0]

    notdef = pixels("\ue000")          # a private-use code point: the font's .notdef glyph
    a, b = pixels("请"), pixels("靠")
    assert a.sum() > 0 and b.sum() > 0
    assert not np.array_equal(a, b)                 # two characters, two different glyphs
    assert not np.array_equal(a, notdef) and not np.array_equal(b, notdef)
    assert face.get_metrics("请靠近一点") and all(m is not None for m in face.get_metrics("请靠近一点"))


def test_a_latin_only_font_is_refused_loudly(monkeypatch):
    latin = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    if not Path(latin).exists():
        pytest.skip("DejaVu not installed")
    assert not has_glyphs(latin)
    monkeypatch.setattr(fontmod, "KNOWN_FONTS", ((latin, 0),))
    monkeypatch.setattr(fontmod, "_fc_match", lambda: [])
    monkeypatch.delenv(fontmod.ENV_OVERRIDE, raising=False)
    fontmod.find_cjk_font.cache_clear()
    try:
        with pytest.raises(FontMissing, match="fonts-wqy-microhei"):
            fontmod.find_cjk_font()
    finally:
        fontmod.find_cjk_font.cache_clear()


# --- every screen -------------------------------------------------------------------------------
SCREEN_STATES = [s for s in State]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: "%dx%d" % s)
@pytest.mark.parametrize("state", SCREEN_STATES, ids=lambda s: s.value)
def test_every_screen_draws_with_big_text(fonts, state, size, tmp_path):
    surface, layout, model = render(fonts, state, size)
    pygame.image.save(surface, str(tmp_path / f"{state.value}.png"))
    rgb = pygame.surfarray.array3d(surface)
    # text is drawn: many pixels far from the background colour, and some near white
    drawn = (np.abs(rgb.astype(int) - np.array(widgets.BACKGROUND)).sum(axis=2) > 90).sum()
    assert drawn > 0.005 * size[0] * size[1]
    assert (rgb.max(axis=2) > 200).sum() > 200
    assert layout.big >= 0.065 * min(size) - 1          # readable from 1.5 m


def test_buttons_are_where_they_are_drawn_and_react(fonts):
    surface, layout, model = render(fonts, State.CONFIRM)
    targets = screens.buttons(model, layout)
    by_event = {b.event: b for b in targets}
    assert {"confirm", "retake", "language"} <= set(by_event)
    assert hit(targets, by_event["confirm"].rect.center) == "confirm"
    assert hit(targets, by_event["retake"].rect.center) == "retake"
    # the confirm button is drawn in the primary colour where its target is
    assert tuple(surface.get_at((by_event["confirm"].rect.x + 5, by_event["confirm"].rect.centery)))[:3] \
        == widgets.PRIMARY


@pytest.mark.parametrize("size", SIZES, ids=lambda s: "%dx%d" % s)
def test_keypad_has_twelve_keys_that_do_not_overlap(fonts, size):
    surface, layout, model = render(fonts, State.IDENTIFY, size)
    keys = [b for b in screens.buttons(model, layout) if b.event.startswith("digit:")
            or b.event in ("erase", "confirm")]
    assert len(keys) == 12
    assert sorted(b.event for b in keys if b.event.startswith("digit:")) == [f"digit:{d}" for d in "0123456789"]
    for i, a in enumerate(keys):
        assert a.rect.height >= 60                   # a finger fits
        for b in keys[i + 1:]:
            assert not a.rect.colliderect(b.rect)


def test_review_without_retakes_or_with_a_failing_photo_hides_those_buttons(fonts):
    session = Session(SessionSettings(), Directory())
    walk(session, State.REVIEW)
    layout = make_layout((1280, 800))
    model = screens.ScreenModel(session.data, now=0, retakes_left=0, can_accept=False)
    events = {b.event for b in screens.buttons(model, layout)}
    assert "confirm" not in events and "retake" not in events


def test_english_toggle_changes_the_first_language(fonts):
    zh, _, _ = render(fonts, State.ATTRACT, language="zh")
    en, _, _ = render(fonts, State.ATTRACT, language="en")
    assert not np.array_equal(pygame.surfarray.array3d(zh), pygame.surfarray.array3d(en))
    assert widgets.primary(texts.TITLE, "en")[0] == "Graduation photo booth"
    assert widgets.primary(texts.TITLE, "zh")[0] == "毕业照自助拍摄"


def test_wrapping_keeps_english_words_whole(fonts):
    face = fonts.get(30)
    lines = widgets.wrap(face, texts.HOW_IT_WORKS[0].en, 300)
    assert len(lines) > 1
    words = texts.HOW_IT_WORKS[0].en.split(" ")
    assert " ".join(lines).split(" ") == words


# --- the guide overlay ------------------------------------------------------------------------
def test_projection_mirrors_the_crop_box_into_the_preview():
    dest = pygame.Rect(100, 50, 640, 480)                 # 1:1 scale for easy numbers
    proj = overlay.Projection(SRC[0], SRC[1], dest, mirror=True)
    r = proj.rect(BOX)
    # mirrored: the box's right edge (x=620) lands 20 px from the preview's left edge
    assert (r.x, r.y, r.width, r.height) == (100 + 640 - 620, 50 + 60, 270, 360)
    plain = overlay.Projection(SRC[0], SRC[1], dest, mirror=False).rect(BOX)
    assert plain.x == 100 + 350


def test_target_bands_are_the_standards_bands_inside_the_crop():
    dest = pygame.Rect(0, 0, 640, 480)
    shapes = overlay.guide_shapes(BOX, overlay.Projection(640, 480, dest))
    k = (BOX[3] - BOX[1]) / standard.FRAME_HEIGHT
    assert shapes.head_top.top == round(BOX[1] + standard.HEAD_TOP.lo * k)
    assert shapes.head_top.bottom == round(BOX[1] + standard.HEAD_TOP.hi * k)
    assert shapes.eyes.top == round(BOX[1] + standard.EYE_LINE.lo * k)
    assert shapes.eyes.bottom == round(BOX[1] + standard.EYE_LINE.hi * k)
    assert shapes.crop.contains(shapes.head)
    # the head outline is centred in the crop (centred face = layout.centered)
    assert abs(shapes.head.centerx - shapes.crop.centerx) <= 1


def test_guide_overlay_is_drawn_where_the_crop_will_be(fonts, tmp_path):
    """The staff's whole-frame view (config booth.whole_frame_preview)."""
    size = (1280, 800)
    surface, layout, model = render(fonts, State.GUIDANCE, size, whole_frame=True)
    pygame.image.save(surface, str(tmp_path / "guidance.png"))
    layout = screens.screen_layout(layout, State.GUIDANCE, whole_frame=True)
    assert layout.preview.width > 0.55 * size[0]          # the mirror gets most of the screen
    dest = widgets.fit(SRC, layout.preview)
    crop = overlay.Projection(SRC[0], SRC[1], dest, mirror=True).rect(BOX)
    rgb = pygame.surfarray.array3d(surface)           # indexed [x, y]
    # the crop frame: guide-coloured pixels on its left edge (mirrored: box right edge)
    edge = rgb[crop.left + 1, crop.top + 10:crop.bottom - 10]
    assert (edge.min(axis=1) > 230).mean() > 0.9
    # outside the crop the preview is dimmed, inside it is not (the grey frame is 128)
    inside = rgb[crop.centerx, crop.bottom - 5]
    outside = rgb[dest.left + 5, dest.centery]
    assert abs(int(inside[0]) - 128) <= 2 and outside[0] < 100
    # head-top band is tinted inside the crop, at the projected rows
    k = crop.height / standard.FRAME_HEIGHT
    band_y = crop.top + int(standard.HEAD_TOP.middle * k)
    assert tuple(rgb[crop.centerx - crop.width // 3, band_y]) != (128, 128, 128)
    below = crop.top + int((standard.HEAD_TOP.hi + 40) * k)
    assert tuple(rgb[crop.left + 4, below]) == (128, 128, 128)


def test_the_preview_is_mirrored_and_the_review_photo_is_not(fonts):
    frame = grey_frame(60)
    frame[:, :SRC[0] // 4] = (250, 20, 20)            # red on the camera's left side
    surface, layout, _ = render(fonts, State.IDENTIFY, preview=frame)
    dest = widgets.fit(SRC, layout.preview)
    assert tuple(surface.get_at((dest.right - 4, dest.centery)))[:3][0] > 200    # shows on the right
    assert tuple(surface.get_at((dest.left + 4, dest.centery)))[:3][0] < 100

    session = Session(SessionSettings(), Directory())
    walk(session, State.REVIEW)
    photo = np.full((640, 480, 3), 60, np.uint8)
    photo[:, :120] = (250, 20, 20)                      # red on the photo's left
    session.data.photo_preview = photo
    surface = pygame.Surface((1280, 800))
    layout = make_layout((1280, 800))
    screens.draw(surface, fonts, layout, screens.ScreenModel(session.data, now=0, retakes_left=1,
                                                             can_accept=True))
    dest = widgets.fit((480, 640), layout.preview)
    assert surface.get_at((dest.left + 4, dest.centery))[0] > 200                # stays on the left


def test_with_a_real_face_the_eyes_sit_in_the_eye_band_and_the_face_in_the_crop(fonts, tmp_path):
    """A real photograph, analysed like a live preview frame: on screen (mirrored), the person's
    eye line falls inside the projected eye band and the face centre on the crop's centre line."""
    from hardware.camera import downscale
    from kiosk.booth.guidance import Guide
    from kiosk.photo.analysis import Analyzer
    from kiosk.photo.crop import plan_crop
    from kiosk.sim.scenes import compose_scene

    still = compose_scene("hopper", "blue", dx=0.08)
    frame = downscale(still, SRC)
    with Analyzer(video=True) as analyzer:
        analysis = analyzer.analyze(frame, source_size=(still.shape[1], still.shape[0]))
    plan = plan_crop(analysis)
    assert plan.ok
    view = Guide(SessionSettings()).update([], plan, 0.0, source_size=SRC, people=1)

    session = Session(SessionSettings(), Directory())
    walk(session, State.GUIDANCE)
    session.data.live = view
    size = (1280, 800)
    surface, layout = pygame.Surface(size), make_layout(size)
    screens.draw(surface, fonts, layout, screens.ScreenModel(session.data, now=0, preview=frame,
                                                             whole_frame=True))
    pygame.image.save(surface, str(tmp_path / "real_face_guidance.png"))

    dest = widgets.fit(SRC, screens.screen_layout(layout, State.GUIDANCE, whole_frame=True).preview)
    proj = overlay.Projection(SRC[0], SRC[1], dest, mirror=True)
    shapes = overlay.guide_shapes(plan.box, proj)
    face = analysis.face
    eye_y = proj.y(face.eye_line_y)
    assert shapes.eyes.top <= eye_y <= shapes.eyes.bottom
    # mirrored: the face (right of centre in the camera frame) is drawn left of the preview centre
    face_x = proj.x(face.face_center_x)
    assert face_x < dest.centerx
    assert abs(face_x - shapes.crop.centerx) <= 0.02 * shapes.crop.width + 1
    # the crop frame is drawn there (guide-coloured pixels along its top edge)
    rgb = pygame.surfarray.array3d(surface)
    top = rgb[shapes.crop.left + 5:shapes.crop.right - 5, shapes.crop.top + 1]
    assert (top.min(axis=1) > 200).mean() > 0.9 or (top[:, 1] > 180).mean() > 0.9
