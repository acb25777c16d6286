"""One draw function per state. Screens only draw: they read a `ScreenModel`, decide nothing.

`buttons(model, layout)` is the single source of the touch targets of a screen; the loop uses
the same list to turn a touch into an event, so what is drawn is what reacts.

Touch input: the loop handles MOUSEBUTTONUP only. SDL synthesises mouse events from touches
(one finger = left button), so a touchscreen, a mouse in the simulator window and the tests all
speak the same event; FINGER events are ignored so no touch is counted twice.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pygame

from kiosk.booth.session import SessionData, State
from kiosk.booth.ui import icons, mirror, overlay, texts, widgets
from kiosk.booth.ui.fonts import Fonts
from kiosk.booth.ui.keypad import keypad_buttons
from kiosk.booth.ui.layout import Button, Layout, bottom_buttons, make_layout
from kiosk.booth.ui.widgets import ACCENT, BACKGROUND, BAD, DIM, GOOD, TEXT, bilingual, text
from kiosk.message import Message
from kiosk.photo import standard
from kiosk.photo.checks.confirm import confirmation_line
from kiosk.photo.checks.result import Status

log = logging.getLogger(__name__)


@dataclass
class ScreenModel:
    """What the screen shows this frame. Built by the loop from the session and the camera."""
    data: SessionData
    now: float
    preview: np.ndarray | None = None      # newest preview frame, RGB, NOT mirrored
    retakes_left: int = 0
    can_accept: bool = False
    technician: Any = None                 # handed to kiosk.technician.screens.draw
    warnings: tuple[str, ...] = ()         # config / roster problems, for the technician
    whole_frame: bool = False              # staff view: live guidance over the whole camera frame

    @property
    def lang(self) -> str:
        return self.data.language


def screen_layout(layout: Layout, state: State, whole_frame: bool = False) -> Layout:
    """The layout of one screen: the keypad needs room on a portrait screen, the live mirror on a
    landscape one."""
    if state is State.IDENTIFY and layout.portrait:
        return make_layout((layout.width, layout.height), preview_share=0.34)
    if state in (State.GUIDANCE, State.CAPTURE) and layout.portrait and not whole_frame:
        # the portrait mirror fills the width: the arrow sits beside the text below it
        return make_layout((layout.width, layout.height), preview_share=0.66)
    if state in (State.GUIDANCE, State.CAPTURE) and not layout.portrait:
        # the live view is the point of these screens: the staff's whole (landscape) frame
        # takes most of a landscape screen; the portrait mirror of the crop needs half of it
        # (its full height), leaving the other half to the big arrow and the instruction
        return make_layout((layout.width, layout.height),
                           landscape_share=0.62 if whole_frame else 0.5)
    return layout


def buttons(model: ScreenModel, layout: Layout) -> list[Button]:
    """The touch targets of the current screen, most specific first."""
    state = model.data.state
    layout = screen_layout(layout, state, model.whole_frame)
    if state is State.TECHNICIAN:
        return []
    out = [Button(layout.language, "language", texts.LANGUAGE_BUTTON, "quiet")]
    if state is State.ATTRACT:
        eject = _stick_button(layout, model)
        if eject is not None:          # before the whole-screen target: a touch on it ejects
            out.append(eject)
        out.append(Button(layout.screen, "confirm", texts.TOUCH_TO_START, "invisible"))
    elif state is State.IDENTIFY:
        back = bottom_buttons(layout, [("retake", texts.BACK, "quiet")])
        out += keypad_buttons(layout, _keypad_area(layout, back[0].rect.top)) + back
    elif state is State.CONFIRM:
        out += bottom_buttons(layout, [("retake", texts.NOT_ME, "normal"),
                                       ("confirm", texts.THATS_ME, "primary")])
    elif state is State.REMINDERS:
        out += bottom_buttons(layout, [("retake", texts.BACK, "quiet"),
                                       ("confirm", texts.READY, "primary")])
    elif state is State.GUIDANCE:
        out += bottom_buttons(layout, [("retake", texts.BACK, "quiet")])
    elif state is State.REVIEW:
        specs = []
        if model.retakes_left:
            specs.append(("retake", texts.RETAKE, "normal"))
        if _pending(model):
            specs.append(("confirm", texts.I_CONFIRM, "primary"))
        elif model.can_accept:
            specs.append(("confirm", texts.ACCEPT, "primary"))
        out += bottom_buttons(layout, specs)
    elif state is State.DONE:
        # the done screen's text is centred on the whole screen: so is its one button
        [ok] = bottom_buttons(layout, [("confirm", texts.OK, "primary")])
        out.append(Button(ok.rect.move(layout.width // 2 - ok.rect.centerx, 0), ok.event,
                          ok.label, ok.kind))
    return out


def _heading_top(layout: Layout) -> int:
    p = layout.panel
    return p.y + (0 if layout.portrait else layout.language.bottom)


@dataclass(frozen=True)
class _IdentifyGeometry:
    preview: pygame.Rect            # the camera (for the QR code)
    heading: tuple[int, int, int]   # x, y, width of "or type your student number"
    field: pygame.Rect              # the typed number
    keypad_top: int


def _identify_geometry(layout: Layout) -> _IdentifyGeometry:
    """Landscape: preview, heading and number on the left, a tall keypad on the right (fingers
    need big keys on a small screen). Portrait: preview on top, everything else below."""
    p = layout.panel
    heading_h = int(layout.big * 1.25 + layout.big * 0.75)
    if layout.portrait:
        top = _heading_top(layout)
        field = pygame.Rect(p.x, top + heading_h + layout.pad, p.width, int(layout.big * 1.4))
        return _IdentifyGeometry(layout.preview, (p.x, top, p.width), field,
                                 field.bottom + layout.pad)
    a = layout.preview
    below = heading_h + int(layout.big * 1.4) + 2 * layout.pad
    preview = pygame.Rect(a.x, a.y, a.width, min(a.height - below, int(a.width * 3 / 4)))
    top = preview.bottom + layout.pad
    field = pygame.Rect(a.x, top + heading_h + layout.pad // 2, a.width, int(layout.big * 1.4))
    return _IdentifyGeometry(preview, (a.x, top, a.width), field, layout.language.bottom + layout.pad)


def _keypad_area(layout: Layout, bottom: int) -> pygame.Rect:
    p = layout.panel
    top = _identify_geometry(layout).keypad_top
    height = bottom - layout.pad - top
    width = min(p.width, int(height * 1.1))
    return pygame.Rect(p.centerx - width // 2, top, width, height)


# --- the screens -------------------------------------------------------------------------------
def draw(surface: pygame.Surface, fonts: Fonts, layout: Layout, model: ScreenModel) -> None:
    """Draw the whole screen for the model's state."""
    surface.fill(BACKGROUND)
    state = model.data.state
    layout = screen_layout(layout, state, model.whole_frame)
    if state is State.TECHNICIAN:
        draw_technician(surface, fonts, layout, model)
        return
    DRAWERS[state](surface, fonts, layout, model)
    for b in buttons(model, layout):
        if b.kind != "invisible":
            widgets.button(surface, fonts, b, model.lang, _button_text(layout, b))


def _button_text(layout: Layout, b: Button) -> int:
    if b.event.startswith("digit:"):
        return int(min(b.rect.height * 0.6, layout.big))
    if b.event == "language":
        return int(b.rect.height * 0.5)
    return int(min(layout.medium, b.rect.height * 0.42))


def _heading(surface, fonts, layout, model, message: Message, *, y: int | None = None) -> int:
    p = layout.panel
    top = y if y is not None else _heading_top(layout)
    width = p.width - (layout.language.width + layout.pad if layout.portrait else 0)
    return bilingual(surface, fonts, message, model.lang, (p.x, top), layout.big, width)


def _notice(surface, fonts, layout, model, y: int, color=BAD) -> int:
    if model.data.notice is None:
        return y
    return bilingual(surface, fonts, model.data.notice, model.lang, (layout.panel.x, y + layout.pad),
                     layout.medium, layout.panel.width, color)


def _fit_clear(layout: Layout, size: tuple[int, int], area: pygame.Rect) -> pygame.Rect:
    """``widgets.fit``, moved down (and shrunk) when it would run under the language button in
    the top corner (portrait screens: the picture spans the width)."""
    dest = widgets.fit(size, area)
    if dest.colliderect(layout.language):
        top = layout.language.bottom + layout.pad
        below = pygame.Rect(area.x, top, area.width, area.bottom - top)
        if below.height > 0:
            dest = widgets.fit(size, below)
    return dest


def _preview(surface, layout, model, *, dim: bool = False,
             area: pygame.Rect | None = None) -> pygame.Rect | None:
    """The mirrored camera preview, fitted into the preview area."""
    frame = model.preview
    area = area or layout.preview
    if frame is None:
        pygame.draw.rect(surface, (30, 36, 52), area)
        return None
    h, w = frame.shape[:2]
    dest = _fit_clear(layout, (w, h), area)
    surface.blit(widgets.rgb_surface(frame, dest.size, mirror=True), dest)
    if dim:
        shade = pygame.Surface(dest.size, pygame.SRCALPHA)
        shade.fill((0, 0, 0, 110))
        surface.blit(shade, dest)
    return dest


def _caption(surface, fonts, layout, model, dest: pygame.Rect, message: Message, *,
             bottom: bool = False, color=TEXT) -> None:
    """A message on a dark band across the top (or bottom) of the preview, readable on any scene."""
    width = dest.width - 2 * layout.pad
    size = widgets.fitting_size(fonts, [message], model.lang, layout.medium, width, dest.height // 3)
    band = pygame.Rect(dest.x, dest.y, dest.width,
                       widgets.bilingual_height(fonts, message, model.lang, size, width) + layout.pad)
    if bottom:
        band.bottom = dest.bottom
    shade = pygame.Surface(band.size, pygame.SRCALPHA)
    shade.fill((0, 0, 0, 170))
    surface.blit(shade, band)
    bilingual(surface, fonts, message, model.lang, (band.x + layout.pad, band.y + layout.pad // 2),
              size, width, color, center=True)


# --- the registrar's USB stick on the attract screen --------------------------------------------
# One low row at the bottom: a status line (photos waiting, or the outcome of "remove safely")
# and, while a stick is mounted, a small "remove USB stick safely" button at its right. Landscape:
# the row spans the screen (the 4:3 preview has room to spare under it); portrait: the panel.
def _warnings_size(layout: Layout) -> int:
    return max(12, layout.small * 2 // 3)


def _stick_span(layout: Layout, model: ScreenModel) -> pygame.Rect:
    """The row's horizontal extent, and its bottom (above the technician's warning line)."""
    bottom = layout.panel.bottom
    if model.warnings:
        bottom = min(bottom, layout.height - int(_warnings_size(layout) * 1.6) - layout.pad // 2)
    p = layout.panel
    x0 = p.x if layout.portrait else layout.pad
    return pygame.Rect(x0, bottom, p.right - x0, 0)


def _stick_button(layout: Layout, model: ScreenModel) -> Button | None:
    """"Remove USB stick safely" while a stick is mounted and no eject is under way."""
    st = model.data.stick
    if model.data.state is not State.ATTRACT or not st.present or st.ejecting:
        return None
    span, short = _stick_span(layout, model), min(layout.width, layout.height)
    height = max(44, int(short * 0.1))
    width = min(layout.panel.width, int(short * 0.5))
    rect = pygame.Rect(span.right - width, span.bottom - height, width, height)
    return Button(rect, "eject", texts.STICK_REMOVE, "normal")


def stick_line(model: ScreenModel) -> tuple[Message, tuple] | None:
    """The attract screen's stick status line and its colour, or None (nothing to say)."""
    st = model.data.stick
    if st.ejecting:
        return texts.STICK_EJECTING, ACCENT
    if st.outcome is not None:
        return st.outcome, (GOOD if st.outcome_ok else BAD)
    if st.present:
        return texts.stick_waiting(st.pending), DIM
    if st.pending:
        return texts.kept_in_booth(st.pending), DIM
    return None


@dataclass(frozen=True)
class StickRow:
    rect: pygame.Rect               # the whole row (the screen above it is left to the others)
    text: pygame.Rect               # the status line
    button: Button | None


def stick_row(fonts: Fonts, layout: Layout, model: ScreenModel) -> StickRow | None:
    """Where the stick's row goes on the attract screen, or None when there is nothing to show."""
    line = stick_line(model)
    if model.data.state is not State.ATTRACT or line is None:
        return None
    span, button = _stick_span(layout, model), _stick_button(layout, model)
    width = span.width - (button.rect.width + layout.pad if button else 0)
    height = _stick_text_height(fonts, line[0], model.lang, _stick_size(layout), width)
    if button is not None and height <= button.rect.height:
        top = button.rect.centery - height // 2           # centred on the button
    else:
        top = span.bottom - height
    text_rect = pygame.Rect(span.x, top, width, height)
    row = text_rect.union(button.rect) if button else text_rect
    return StickRow(row, text_rect, button)


def _stick_size(layout: Layout) -> int:
    return max(16, layout.small)


def _second_size(size: int) -> int:
    # not as small as `bilingual` makes it: this line is small already
    return max(12, int(size * 0.8))


def _stick_text_height(fonts, message: Message, lang: str, size: int, width: int) -> int:
    first, second = widgets.primary(message, lang)
    return (widgets.text_height(fonts, first, size, width)
            + widgets.text_height(fonts, second, _second_size(size), width))


def _draw_stick(surface, fonts, layout: Layout, model: ScreenModel, row: StickRow) -> None:
    line = stick_line(model)
    if line is None:                  # (the row is drawn only when there is something to say)
        return
    message, color = line
    first, second = widgets.primary(message, model.lang)
    size, r = _stick_size(layout), row.text
    y = text(surface, fonts, first, (r.x, r.y), size, color, width=r.width)
    text(surface, fonts, second, (r.x, y), _second_size(size), DIM, width=r.width)
    # a hairline above: the row is the booth's own business, not part of the student's steps
    y = row.rect.top - layout.pad // 2
    pygame.draw.line(surface, (52, 62, 84), (row.rect.x, y), (row.rect.right, y))


def draw_attract(surface, fonts, layout, model):
    row = stick_row(fonts, layout, model)
    above = row.rect.top - layout.pad if row else layout.height     # the row's room is taken
    area = layout.preview.clip(pygame.Rect(0, 0, layout.width, above))
    dest = _preview(surface, layout, model, dim=True, area=area)
    if dest is not None:
        _caption(surface, fonts, layout, model, dest, texts.SHOW_QR)
    top = None
    if row is not None and layout.portrait and dest is not None:
        # the row takes the panel's bottom: the panel starts right under the 4:3 preview instead
        top = min(_heading_top(layout), dest.bottom + layout.pad)
    y = _heading(surface, fonts, layout, model, texts.TITLE, y=top)
    p = layout.panel
    steps = list(texts.HOW_IT_WORKS) + [texts.TOUCH_TO_START]
    size = widgets.fitting_size(fonts, steps, model.lang, layout.medium, p.width,
                                min(p.bottom, above) - y - 3 * layout.pad, gap=layout.pad)
    for step in texts.HOW_IT_WORKS:
        y = bilingual(surface, fonts, step, model.lang, (p.x, y + layout.pad), size, p.width)
    bilingual(surface, fonts, texts.TOUCH_TO_START, model.lang, (p.x, y + 2 * layout.pad),
              size, p.width, ACCENT)
    if row is not None:
        _draw_stick(surface, fonts, layout, model, row)
    if model.warnings:
        # for the technician, small at the bottom: the booth still works with its defaults
        size = _warnings_size(layout)
        line = "! " + "; ".join(model.warnings)
        text(surface, fonts, line[:200], (layout.pad, layout.height - int(size * 1.6)), size, DIM)


def draw_identify(surface, fonts, layout, model):
    g = _identify_geometry(layout)
    dest = _preview(surface, layout, model, area=g.preview)
    if dest is not None:
        _caption(surface, fonts, layout, model, dest, texts.SHOW_QR)
    x, y, width = g.heading
    bilingual(surface, fonts, texts.TYPE_NUMBER, model.lang, (x, y), layout.big, width)
    field = g.field
    pygame.draw.rect(surface, (36, 44, 62), field, border_radius=8)
    shown = model.data.keypad or "—"
    font = fonts.get(layout.big)
    r = font.get_rect(shown)
    font.render_to(surface, (field.centerx - r.width // 2, field.centery - r.height // 2), shown,
                   TEXT if model.data.keypad else DIM)
    if model.data.notice is not None:
        # the lookup's answer ("not in the roster", "not a booth QR code") over the preview
        _caption(surface, fonts, layout, model, dest or g.preview, model.data.notice,
                 bottom=True, color=BAD)


def draw_confirm(surface, fonts, layout, model):
    student = model.data.student
    from kiosk.photo.student import mask_id_number  # one definition of what is shown

    p = layout.panel
    area = layout.preview
    y = bilingual(surface, fonts, texts.IS_THIS_YOU, model.lang, (area.x, area.y + layout.pad),
                  layout.big, area.width)
    rows = [(texts.NAME, getattr(student, "name", "")),
            (texts.STUDENT_NUMBER, getattr(student, "student_id", "")),
            (texts.ID_NUMBER, mask_id_number(getattr(student, "id_number", "")))]
    for label, value in rows:
        first, _ = widgets.primary(label, model.lang)
        y = text(surface, fonts, first, (area.x, y + layout.pad), layout.small, DIM)
        y = text(surface, fonts, value, (area.x, y), layout.big, TEXT, width=area.width)
    _notice(surface, fonts, layout, model, p.y + layout.language.bottom)


def draw_reminders(surface, fonts, layout, model):
    """The heading, the live mirror (so the student checks glasses, hair and earrings in it)
    and the list. Landscape: mirror under the heading on the left, list on the right; portrait:
    heading and list above, the buttons below."""
    area = layout.preview
    y = bilingual(surface, fonts, texts.BEFORE_WE_START, model.lang, (area.x, area.y + layout.pad),
                  layout.big, area.width, ACCENT)
    p = layout.panel
    target = area if layout.portrait else p
    if not layout.portrait:
        # top-aligned under the heading (the camera's frames are 4:3)
        mirror = pygame.Rect(area.x, y + layout.pad, area.width,
                             min(area.bottom - y - layout.pad, area.width * 3 // 4))
        dest = _preview(surface, layout, model, area=mirror)
        if dest is not None:
            _caption(surface, fonts, layout, model, dest, texts.CHECK_IN_MIRROR, bottom=True)
        y = p.y + layout.language.bottom
    buttons_top = bottom_buttons(layout, [("confirm", texts.READY, "primary")])[0].rect.top
    if layout.portrait:
        mirror = pygame.Rect(p.x, p.y, p.width, buttons_top - 2 * layout.pad - p.y)
        if mirror.height > layout.big * 3:
            dest = _preview(surface, layout, model, area=mirror)
            if dest is not None:
                _caption(surface, fonts, layout, model, dest, texts.CHECK_IN_MIRROR, bottom=True)
    bottom = target.bottom if layout.portrait else buttons_top - layout.pad
    size = widgets.fitting_size(fonts, texts.REMINDERS, model.lang, layout.medium, target.width,
                                bottom - y, gap=layout.pad)
    bullet = "• "
    indent = fonts.get(size).get_rect("•").width + size // 3
    for item in texts.REMINDERS:
        # the bullet hangs in the margin: both languages of an item start at the same x
        text(surface, fonts, bullet.strip(), (target.x, y + layout.pad), size, TEXT)
        y = bilingual(surface, fonts, item, model.lang, (target.x + indent, y + layout.pad), size,
                      target.width - indent)


def draw_guidance(surface, fonts, layout, model):
    """Live guidance: the mirror of the crop with the guide, a big arrow and the instruction.
    The staff's view (``model.whole_frame``) shows the whole camera frame with the crop on it."""
    view = model.data.live
    if model.whole_frame:
        _whole_frame_guide(surface, fonts, layout, model, view)
    else:
        shapes = _mirror(surface, layout, model, getattr(view, "plan", None),
                         ready=bool(getattr(view, "all_pass", False)))
        if shapes is not None:
            _band_labels(surface, fonts, layout, model, shapes.guide, shapes.dest)
    if view is None:            # no analysed frame yet in this visit's guidance
        message, color, kind = texts.LOOKING, TEXT, None
    else:
        message = view.message
        color = GOOD if view.hint_id is None else ACCENT
        kind = icons.kind_for(message, all_pass=view.hint_id is None)
    y = _instruction(surface, fonts, layout, model, message, color, kind)
    if view is not None and view.all_pass:
        p = layout.panel
        bar = pygame.Rect(p.x, y + layout.pad, p.width, max(10, layout.pad))
        pygame.draw.rect(surface, (50, 60, 80), bar, border_radius=bar.height // 2)
        filled = bar.copy()
        filled.width = int(bar.width * view.progress)
        pygame.draw.rect(surface, GOOD, filled, border_radius=bar.height // 2)
        y = bar.bottom
    _notice(surface, fonts, layout, model, y + layout.pad)


#: The mirror's zoom eases from one analysed frame's crop to the next (screens draw on one thread).
_zoom = mirror.BoxEase()


def _mirror(surface, layout, model, plan, *, ready: bool = False, hold: bool = False):
    """The mirror of the crop in the preview area; ``hold`` keeps the last zoom (countdown)."""
    frame = model.preview
    dest = mirror_rect(layout)
    if frame is None:
        return mirror.draw_mirror(surface, dest, None, None)
    size = (frame.shape[1], frame.shape[0])
    if hold and _zoom.box is not None:
        box = _zoom.box
    else:
        src = getattr(model.data.live, "source_size", None)
        box = _zoom.update(mirror.target_box(size, plan, src), model.now)
    return mirror.draw_mirror(surface, dest, frame, box, ready=ready)


def mirror_rect(layout: Layout) -> pygame.Rect:
    """Where the live mirror goes (``layout`` as `screen_layout` gives it for the screen)."""
    area = _fit_clear(layout, mirror.portrait_rect(layout.preview).size, layout.preview)
    return mirror.portrait_rect(area)


def icon_rect(layout: Layout) -> pygame.Rect:
    """Where the big pictogram goes: at the top of the panel (landscape), at its left beside
    the text (portrait). At least 15 % of the screen's height, readable from the stool."""
    p = layout.panel
    if layout.portrait:
        side = int(min(p.width * 0.4, p.height * 0.6, layout.height * 0.17))
        return pygame.Rect(p.x, p.y, side, side)
    top = p.y + layout.language.bottom
    side = int(min(p.width * 0.8, layout.height * 0.27))
    return pygame.Rect(p.centerx - side // 2, top, side, side)


def _instruction(surface, fonts, layout, model, message: Message, color, kind: str | None) -> int:
    """The pictogram (if any) and the instruction, big; returns the y below them."""
    p = layout.panel
    box = icon_rect(layout)
    if kind is not None:
        icons.draw_icon(surface, kind, box)
    size = int(layout.big * 1.15)
    # room down to the back button, less the steady-pass bar's: long English must still fit
    bottom = bottom_buttons(layout, [("retake", texts.BACK, "quiet")])[0].rect.top - 3 * layout.pad
    if layout.portrait:
        x = box.right + layout.pad
        width = p.right - x
        size = widgets.fitting_size(fonts, [message], model.lang, size, width, bottom - p.y)
        y = bilingual(surface, fonts, message, model.lang, (x, p.y), size, width, color)
        return max(y, box.bottom)
    top = box.bottom + layout.pad
    size = widgets.fitting_size(fonts, [message], model.lang, size, p.width, bottom - top)
    return bilingual(surface, fonts, message, model.lang, (p.x, top), size, p.width, color,
                     center=True)


def _whole_frame_guide(surface, fonts, layout, model, view) -> None:
    """The staff's view: the whole mirrored camera frame, the crop and bands projected on it."""
    dest = _preview(surface, layout, model)
    if dest is None:
        return
    src = getattr(view, "source_size", None) or (model.preview.shape[1], model.preview.shape[0])
    proj = overlay.Projection(src[0], src[1], dest, mirror=True)
    plan = getattr(view, "plan", None)
    box = getattr(plan, "box", None) or overlay.default_box(*src)
    shapes = overlay.guide_shapes(box, proj)
    overlay.draw_guide(surface, shapes, dest, ready=bool(getattr(view, "all_pass", False)))
    _band_labels(surface, fonts, layout, model, shapes, dest)


def _band_labels(surface, fonts, layout, model, shapes, dest) -> None:
    """Name the two target bands (small, inside the crop's right edge) so the guide explains itself."""
    font = fonts.get(max(12, layout.small * 2 // 3))
    clip = surface.get_clip()
    surface.set_clip(dest)
    for band, label in ((shapes.head_top, texts.HEAD_TOP_BAND), (shapes.eyes, texts.EYE_BAND)):
        name = widgets.primary(label, model.lang)[0]
        r = font.get_rect(name)
        if band.height >= r.height:
            font.render_to(surface, (shapes.crop.right - r.width - 6, band.centery - r.height // 2),
                           name, TEXT)
    surface.set_clip(clip)


def draw_capture(surface, fonts, layout, model):
    if model.whole_frame:
        dest = _preview(surface, layout, model)
    else:
        shapes = _mirror(surface, layout, model, None, hold=True)
        dest = shapes.dest if shapes is not None else None
    d = model.data
    p = layout.panel
    if not d.burst_started and d.countdown_until is not None:
        left = max(1, int(np.ceil(d.countdown_until - model.now)))
        y = bilingual(surface, fonts, texts.STEADY, model.lang, (p.x, _heading_top(layout)),
                      layout.big, p.width, TEXT, center=True)
        font = fonts.get(int(min(p.bottom - y, p.width) * 0.6))
        s = str(left)
        r = font.get_rect(s)
        font.render_to(surface, (p.centerx - r.width // 2, (y + p.bottom) // 2 - r.height // 2),
                       s, ACCENT)
    else:
        if dest is not None:
            pygame.draw.rect(surface, TEXT, dest, max(4, layout.pad // 2))
        bilingual(surface, fonts, texts.TAKING, model.lang, (p.x, p.centery - layout.big),
                  layout.big, p.width, TEXT, center=True)
        bilingual(surface, fonts, texts.CHECKING, model.lang, (p.x, p.centery + layout.big * 2),
                  layout.medium, p.width, DIM, center=True)


def _photo_array(model) -> np.ndarray | None:
    if model.data.photo_preview is not None:
        return model.data.photo_preview
    jpeg = getattr(model.data.photo, "jpeg", None)
    if not jpeg:
        return None
    import cv2

    bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _pending(model) -> list:
    """REVIEW: the points the student still has to confirm (the session's data, as shown)."""
    d = model.data
    if not getattr(d.photo, "ok", False):
        return []
    return [c for c in d.to_confirm if c.id not in d.confirmed]


def draw_review(surface, fonts, layout, model):
    photo = _photo_array(model)
    if photo is not None:
        dest = _fit_clear(layout, (standard.FRAME_WIDTH, standard.FRAME_HEIGHT), layout.preview)
        # the photo exactly as saved: never mirrored
        surface.blit(widgets.rgb_surface(photo, dest.size, mirror=False), dest)
    p = layout.panel
    result = model.data.photo
    verdict = getattr(result, "verdict", None)
    verdict = getattr(verdict, "value", verdict)
    asked = list(model.data.to_confirm) if getattr(result, "ok", False) else []
    pending = _pending(model)
    if not getattr(result, "ok", False):
        title, color = texts.FAILED, BAD
    elif pending:                          # never "meets the standard" while a rule is unknown
        title, color = texts.PLEASE_CONFIRM, ACCENT
    elif asked:
        title, color = texts.CONFIRMED_LOOK, ACCENT
    elif verdict == Status.WARN.value:
        title, color = texts.WARNED, ACCENT
    else:
        title, color = texts.PASSED, GOOD
    y = _heading(surface, fonts, layout, model, texts.YOUR_PHOTO)
    y = bilingual(surface, fonts, title, model.lang, (p.x, y + layout.pad), layout.medium, p.width, color)
    bottom = p.bottom - int(min(layout.width, layout.height) * 0.13) - layout.pad * 3
    if asked:
        # one line per point to confirm, ticked once confirmed; the other notes make room
        y = bilingual(surface, fonts, texts.CANNOT_CHECK, model.lang, (p.x, y + layout.pad // 2),
                      layout.small, p.width, DIM)
        for c in asked:
            line = confirmation_line(c)
            done = c.id in model.data.confirmed
            mark = "✓ " if done else "□ "
            y = bilingual(surface, fonts, Message(mark + line.zh, mark + line.en), model.lang,
                          (p.x, y + layout.pad // 2), layout.small, p.width, GOOD if done else TEXT)
    notes = [c for c in (getattr(result, "checks", None) or []) if getattr(c, "status", None)
             not in (Status.PASS, "pass") and c not in asked]
    for c in notes[:4]:
        if y > bottom - layout.small * 2:
            break
        mark = "✘ " if getattr(c, "blocking", False) else "• "
        y = bilingual(surface, fonts, Message(mark + c.message.zh, mark + c.message.en), model.lang,
                      (p.x, y + layout.pad // 2), layout.small, p.width,
                      BAD if getattr(c, "blocking", False) else ACCENT)
    n = model.retakes_left
    left = texts.retakes_left(n)
    # medium like the verdict above: at small size the English line is too small on a 7" screen
    y = bilingual(surface, fonts, left, model.lang, (p.x, min(y + layout.pad, bottom)),
                  layout.medium, p.width, DIM)
    _notice(surface, fonts, layout, model, y)


def draw_save(surface, fonts, layout, model):
    p = layout.screen
    bilingual(surface, fonts, texts.SAVING, model.lang, (p.x, p.centery - layout.big),
              layout.big, p.width, TEXT, center=True)


def draw_done(surface, fonts, layout, model):
    s = layout.screen
    y = bilingual(surface, fonts, texts.DONE, model.lang, (s.x, s.y + layout.big * 2), int(layout.big * 1.4),
                  s.width, GOOD, center=True)
    saved = model.data.saved
    if saved is not None:
        y = bilingual(surface, fonts, saved.message, model.lang, (s.x + layout.pad * 2, y + layout.pad),
                      layout.medium, s.width - layout.pad * 4, TEXT if saved.exported else ACCENT,
                      center=True)
    bilingual(surface, fonts, texts.THANKS, model.lang, (s.x, y + layout.pad * 2), layout.medium,
              s.width, DIM, center=True)


def draw_failsafe(surface, fonts, layout, model):
    s = layout.screen
    y = bilingual(surface, fonts, texts.FAILSAFE, model.lang, (s.x, s.y + layout.big * 2), layout.big,
                  s.width, BAD, center=True)
    if model.data.failure is not None:
        y = bilingual(surface, fonts, model.data.failure, model.lang, (s.x + layout.pad * 2, y + layout.pad),
                      layout.medium, s.width - layout.pad * 4, TEXT, center=True)
    bilingual(surface, fonts, texts.RECOVERING, model.lang, (s.x, y + layout.pad * 2), layout.medium,
              s.width, DIM, center=True)


def technician_module():
    """kiosk.technician.screens when installed (it provides ``draw(surface, fonts, layout, model)``)."""
    try:
        return importlib.import_module("kiosk.technician.screens")
    except ImportError:
        return None


def draw_technician(surface, fonts, layout, model):
    module = technician_module()
    drawer: Callable | None = getattr(module, "draw", None) if module else None
    if drawer is not None and model.technician is not None:
        try:
            drawer(surface, fonts, layout, model)
            return
        except Exception:           # a technician page bug must not take the booth down
            log.exception("technician screen failed")
            surface.fill(BACKGROUND)
    s = layout.screen
    y = bilingual(surface, fonts, texts.TECHNICIAN, model.lang, (s.x, s.y + layout.big * 2), layout.big,
                  s.width, ACCENT, center=True)
    bilingual(surface, fonts, texts.TECHNICIAN_MISSING, model.lang, (s.x, y + layout.pad), layout.medium,
              s.width, DIM, center=True)


DRAWERS = {
    State.ATTRACT: draw_attract, State.IDENTIFY: draw_identify, State.CONFIRM: draw_confirm,
    State.REMINDERS: draw_reminders, State.GUIDANCE: draw_guidance, State.CAPTURE: draw_capture,
    State.REVIEW: draw_review, State.SAVE: draw_save, State.DONE: draw_done,
    State.FAILSAFE: draw_failsafe,
}
