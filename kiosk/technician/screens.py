"""Technician mode on the booth's screen: draw functions of a :class:`TechnicianMode`.

Follows the booth UI's conventions (kiosk.booth.ui): screens only draw; :func:`buttons` is the single
source of the touch targets, used to draw them and to hit-test a touch; text is bilingual with
the booth's CJK font. The booth calls:

* ``mode_of(booth)`` when technician mode is entered: the mode lives on the booth
  (``booth.technician.mode``), made on first entry and wired to the booth's devices through a
  :class:`~kiosk.technician.mode.Port`; it starts at the PIN page every time it is entered;
* ``draw(surface, fonts, layout, model)`` every frame in the TECHNICIAN state
  (``model.technician`` is that mode; drawing only reads it, it never creates one);
* ``handle(pygame_event, booth)`` for each input event in that state; True = leave.
"""

from __future__ import annotations

import logging
from typing import Any

import pygame

from kiosk.booth.ui.fonts import Fonts
from kiosk.booth.ui.keypad import keypad_buttons
from kiosk.booth.ui.layout import Button, Layout, hit
from kiosk.booth.ui.widgets import ACCENT, BACKGROUND, BAD, DIM, GOOD, TEXT, bilingual, button, fit, rgb_surface, text
from kiosk.message import Message
from kiosk.photo.checks.result import Status
from kiosk.technician.camera_calibration import CameraSettings
from kiosk.technician.mode import Port, TechnicianMode

log = logging.getLogger(__name__)

TITLES = {
    "pin": Message("技术人员模式：请输入密码", "Technician mode: enter the PIN"),
    "menu": Message("技术人员模式", "Technician mode"),
    "focus": Message("对焦：转动镜头直到分数达到峰值", "Focus: turn the lens until the score reaches its peak"),
    "backdrop": Message("背景检查（请保持拍摄区为空）", "Backdrop check (keep the booth empty)"),
    "lights": Message("灯光平衡：请人坐好或举起灰卡", "Light balance: seat someone or hold a grey card"),
    "camera": Message("曝光与白平衡（请保持拍摄区为空）", "Exposure and white balance (keep the booth empty)"),
    "stats": Message("统计", "Statistics"),
    "confirm_reboot": Message("重新启动？", "Restart the booth?"),
    "confirm_shutdown": Message("关机？（指示灯熄灭后再拔电源）", "Shut down? (unplug after the green light stops)"),
}
MENU = [("focus", Message("对焦", "Focus")), ("backdrop", Message("背景", "Backdrop")),
        ("lights", Message("灯光", "Lights")), ("camera", Message("曝光/白平衡", "Exposure/WB")),
        ("stats", Message("统计", "Statistics")), ("logs", Message("日志→U盘", "Logs → USB")),
        ("reboot", Message("重启", "Restart")), ("shutdown", Message("关机", "Shut down")),
        ("exit", Message("退出", "Exit"))]
BACK = Message("返回", "Back")
PAGE_ACTIONS = {
    "focus": [("reset", Message("重置峰值", "Reset peak"), "normal"), ("save", Message("保存", "Save"), "primary")],
    "backdrop": [("run", Message("检查", "Check"), "primary")],
    "lights": [("start", Message("开始", "Start"), "normal"), ("save", Message("保存", "Save"), "primary")],
    "camera": [("start", Message("开始", "Start"), "normal"), ("save", Message("保存", "Save"), "primary")],
    "stats": [],
    "confirm_reboot": [("yes", Message("重启", "Restart"), "primary")],
    "confirm_shutdown": [("yes", Message("关机", "Shut down"), "primary")],
}
KEYS = {pygame.K_BACKSPACE: "erase", pygame.K_RETURN: "ok", pygame.K_KP_ENTER: "ok"}


# --- the mode on the booth -------------------------------------------------------------------------

def mode_of(booth) -> TechnicianMode:
    """The booth's technician mode, made and wired on first use; back to the PIN on each entry."""
    mode = booth.technician.mode
    if mode is None:
        mode = TechnicianMode(booth.config, port_of(booth.rig.devices, getattr(booth, "jobs", None)),
                              clock=getattr(booth, "clock", None) or _now)
        booth.technician.mode = mode
        booth.listeners.frame.append(_on_frame)
    entered = getattr(getattr(booth, "session", None), "data", None)
    entered = getattr(entered, "entered_at", None)
    if entered != mode.entered_at:
        mode.entered_at = entered
        mode.page, mode.pin_entry, mode.notice = "pin", "", None
    return mode


def _now() -> float:
    import time
    return time.monotonic()


def port_of(devices, jobs) -> Port:
    """Wire technician mode to the booth's devices (what a device lacks, its page says so);
    slow work runs on the booth's ``jobs`` thread (None: at once)."""
    lights = getattr(devices, "lights", None)
    camera = getattr(devices, "camera", None)
    usb = getattr(devices, "usb", None)
    analyzer: dict[str, Any] = {}

    def analyze(frame):
        # made on the jobs thread, used only there (an Analyzer is one per thread)
        if "a" not in analyzer:
            from kiosk.photo.analysis import Analyzer
            analyzer["a"] = Analyzer()
        return analyzer["a"].analyze(frame)

    set_controls = getattr(camera, "set_controls", None)

    def camera_controls(s: CameraSettings) -> None:
        assert set_controls is not None         # offered only when the camera has it (below)
        set_controls(exposure_time_us=s.exposure_time_us, analogue_gain=s.analogue_gain,
                     colour_gains=s.colour_gains)

    def mount_point():
        try:
            status = usb.status()
        except Exception:                    # a pulled stick must not take technician mode down
            log.exception("USB status failed")
            return None
        return status.mount_point if status.present and not status.read_only else None

    return Port(
        set_light_levels=getattr(lights, "set_levels", None),
        set_light_gains=getattr(lights, "set_gains", None),
        set_camera_controls=camera_controls if set_controls else None,
        submit=jobs.submit if jobs is not None else (lambda job: job()),
        analyze=analyze,
        usb_mount_point=mount_point if usb is not None else (lambda: None))


def _on_frame(booth) -> None:
    mode = booth.technician.mode
    state = getattr(getattr(getattr(booth, "session", None), "data", None), "state", None)
    if mode is None or getattr(state, "value", state) != "technician" or not mode.unlocked:
        return
    frame, seq = booth.feed.latest()
    mode.on_frame(frame, seq)


def handle(event, booth) -> bool:
    """One pygame input event in technician mode; True = leave technician mode."""
    mode = mode_of(booth)
    name = None
    if event.type == pygame.MOUSEBUTTONUP and getattr(event, "button", 1) == 1:
        name = hit(buttons(mode, booth.layout), event.pos)
    elif event.type == pygame.KEYDOWN:
        if event.key == pygame.K_ESCAPE:
            name = "exit" if mode.page in ("pin", "menu") else "back"
        elif mode.page == "pin" and event.unicode and event.unicode.isdigit():
            name = "digit:" + event.unicode
        else:
            name = KEYS.get(event.key)
    return name is not None and bool(name) and mode.press(name)


# --- touch targets ------------------------------------------------------------------------------------

def _grid(area: pygame.Rect, specs: list[tuple[str, Message, str]], cols: int, gap: int) -> list[Button]:
    rows = (len(specs) + cols - 1) // cols
    w = (area.width - gap * (cols - 1)) // cols
    h = min((area.height - gap * (rows - 1)) // max(rows, 1), area.height)
    return [Button(pygame.Rect(area.x + (i % cols) * (w + gap), area.y + (i // cols) * (h + gap), w, h),
                   event, label, kind) for i, (event, label, kind) in enumerate(specs)]


def _button_row(layout: Layout, specs: list[tuple[str, Message, str]]) -> list[Button]:
    height = max(48, int(min(layout.width, layout.height) * 0.12))
    area = pygame.Rect(layout.pad, layout.height - layout.pad - height, layout.width - 2 * layout.pad, height)
    return _grid(area, specs, len(specs), layout.pad)


def _content(layout: Layout) -> pygame.Rect:
    top = layout.pad + int(layout.medium * 2.6)
    height = max(48, int(min(layout.width, layout.height) * 0.12))
    return pygame.Rect(layout.pad, top, layout.width - 2 * layout.pad,
                       layout.height - top - height - 3 * layout.pad)


def buttons(mode: TechnicianMode, layout: Layout) -> list[Button]:
    """The touch targets of the current page (drawn, and hit-tested, from this one list)."""
    if mode.page == "pin":
        area = _content(layout)
        side = min(area.width, int(area.height * 0.8))
        pad_area = pygame.Rect(area.centerx - side // 2, area.y + int(area.height * 0.2), side,
                               int(area.height * 0.8))
        keys = [Button(b.rect, "ok" if b.event == "confirm" else b.event, b.label, b.kind)
                for b in keypad_buttons(layout, pad_area)]
        return keys + _button_row(layout, [("exit", Message("退出", "Exit"), "quiet")])
    if mode.page == "menu":
        cols = 3 if layout.width >= layout.height else 2
        specs = [(event, label, "quiet" if event == "exit" else "normal") for event, label in MENU]
        return _grid(_content(layout), specs, cols, layout.pad)
    return _button_row(layout, [("back", BACK, "quiet")] + PAGE_ACTIONS.get(mode.page, []))


# --- drawing -------------------------------------------------------------------------------------------

def draw(surface: pygame.Surface, fonts: Fonts, layout: Layout, model) -> None:
    """Draw the page of the technician mode in ``model.technician`` (made by the booth's loop
    on entering technician mode with :func:`mode_of`)."""
    mode: TechnicianMode = model.technician
    lang = getattr(model, "lang", "zh")
    draw_mode(surface, fonts, layout, mode, lang, preview=getattr(model, "preview", None))


def draw_mode(surface: pygame.Surface, fonts: Fonts, layout: Layout, mode: TechnicianMode,
              lang: str = "zh", *, preview=None) -> None:
    """Draw ``mode`` (usable without a booth: the screenshot tests call this)."""
    surface.fill(BACKGROUND)
    y = bilingual(surface, fonts, TITLES.get(mode.page, TITLES["menu"]), lang, (layout.pad, layout.pad),
                  layout.medium, layout.width - 2 * layout.pad, ACCENT)
    if mode.notice is not None:
        good = mode.notice.en in ("Saved", "Logs written to the USB stick")
        bilingual(surface, fonts, mode.notice, lang, (layout.pad, y), layout.small,
                  layout.width - 2 * layout.pad, GOOD if good else BAD)
    area = _content(layout)
    drawer = {"pin": _draw_pin, "menu": _draw_menu, "focus": _draw_focus, "backdrop": _draw_backdrop,
              "lights": _draw_lights, "camera": _draw_camera, "stats": _draw_stats}.get(mode.page)
    if drawer is not None:
        drawer(surface, fonts, layout, mode, area, lang, preview)
    for b in buttons(mode, layout):
        button(surface, fonts, b, lang, layout.small)


def _lines(surface, fonts, layout, lines: list[tuple[str, tuple]], x: int, y: int, width: int) -> int:
    for s, color in lines:
        y = text(surface, fonts, s, (x, y), layout.small, color, width=width)
    return y


def _draw_pin(surface, fonts, layout, mode, area, lang, preview):
    shown = "●" * len(mode.pin_entry) or "—"
    text(surface, fonts, shown, (area.x, area.y), layout.big, TEXT, width=area.width, center=True)


def _draw_menu(surface, fonts, layout, mode, area, lang, preview):
    if mode.warnings:       # e.g. "not calibrated yet": visible until a calibration is saved
        _lines(surface, fonts, layout, [(w, BAD) for w in mode.warnings[:2]], layout.pad,
               area.bottom + layout.pad, layout.width - 2 * layout.pad)


def _preview_and_info(surface, layout, area, preview) -> tuple[int, int, int]:
    """Draw the (unmirrored: a measuring view) preview beside or above the readings; returns
    the readings' x, y and width."""
    if layout.portrait:
        box = pygame.Rect(area.x, area.y, area.width, int(area.height * 0.55))
        info = (area.x, box.bottom + layout.pad, area.width)
    else:
        box = pygame.Rect(area.x, area.y, int(area.width * 0.55), area.height)
        info = (area.x + int(area.width * 0.58), area.y, int(area.width * 0.42))
    if preview is not None:
        dest = fit((preview.shape[1], preview.shape[0]), box)
        surface.blit(rgb_surface(preview, dest.size), dest)
    return info


def _draw_focus(surface, fonts, layout, mode, area, lang, preview):
    x, top, w = _preview_and_info(surface, layout, area, preview)
    r = mode.focus_reading
    if r is None:
        text(surface, fonts, "…", (x, top), layout.big, DIM)
        return
    color = GOOD if r.in_focus else ACCENT
    y = text(surface, fonts, f"{r.score:.0f}", (x, top), layout.big * 2, color)
    y = text(surface, fonts, f"peak {r.peak:.0f}   {r.ratio * 100:.0f} %", (x, y), layout.small, TEXT)
    bar = pygame.Rect(x, y + layout.pad, w, layout.pad * 2)
    pygame.draw.rect(surface, DIM, bar, 1)
    pygame.draw.rect(surface, color, (bar.x, bar.y, int(bar.width * min(1.0, r.ratio)), bar.height))
    region = Message("测量区域：人脸" if r.on_face else "测量区域：画面中央",
                     "measured on: the face" if r.on_face else "measured on: the centre")
    bilingual(surface, fonts, region, lang, (x, bar.bottom + layout.pad), layout.small, w, DIM)


def _draw_backdrop(surface, fonts, layout, mode, area, lang, preview):
    x, top, w = _preview_and_info(surface, layout, area, preview)
    y = top
    if not mode.backdrop_results:
        bilingual(surface, fonts, Message("按“检查”", "Press Check"), lang, (x, y), layout.small, w, DIM)
        return
    for res in mode.backdrop_results:
        ok = res.status is Status.PASS
        found = f" ({res.found})" if res.found else ""      # which standard colour it is
        y = text(surface, fonts, f"{'✓' if ok else '×'} {res.id}: {res.value}{found}", (x, y),
                 layout.small, GOOD if ok else BAD, width=w)
        if not ok:
            y = bilingual(surface, fonts, res.message, lang, (x, y), int(layout.small * 0.9), w, TEXT)


def _draw_lights(surface, fonts, layout, mode, area, lang, preview):
    x, top, w = _preview_and_info(surface, layout, area, preview)
    c = mode.calibration
    lines = [(f"saved: L {c.light_left_gain:.2f}  R {c.light_right_gain:.2f}", DIM)]
    b = mode.balancer
    if b is not None:
        ratio = b.ratio
        lines.append((f"now: L {b.left:.2f}  R {b.right:.2f}", TEXT))
        if ratio is not None:
            lines.append((f"left/right {ratio:.3f}  (step {len(b.history)})",
                          GOOD if b.converged else ACCENT))
        if b.converged:
            lines.append(("✓ even: Save", GOOD))
    _lines(surface, fonts, layout, lines, x, top, w)


def _draw_camera(surface, fonts, layout, mode, area, lang, preview):
    x, top, w = _preview_and_info(surface, layout, area, preview)
    c = mode.calibration
    lines = [(f"saved: {c.exposure_time_us} µs ×{c.analogue_gain:.2f}  "
              f"R {c.colour_gain_red:.2f} B {c.colour_gain_blue:.2f}", DIM)]
    cam = mode.camera
    if cam is not None:
        s = cam.settings
        lines.append((f"now: {s.exposure_time_us} µs ×{s.analogue_gain:.2f}  "
                      f"R {s.colour_gains[0]:.2f} B {s.colour_gains[1]:.2f}", TEXT))
        lines.append((f"step {cam.steps}" + ("  ✓ Save" if cam.converged else ""),
                      GOOD if cam.converged else ACCENT))
    _lines(surface, fonts, layout, lines, x, top, w)


def _draw_stats(surface, fonts, layout, mode, area, lang, preview):
    s = mode.stats
    if s is None or s.sessions == 0:
        bilingual(surface, fonts, Message("还没有记录", "No sessions yet"), lang, (area.x, area.y),
                  layout.small, area.width, DIM)
        return
    median = f"{s.median_session_s:.0f} s" if s.median_session_s is not None else "—"
    lines = [(f"sessions {s.sessions}   saved {s.saved}   retakes {s.retakes}   median {median}", TEXT)]
    for rule, rate in s.worst_checks(8):
        lines.append((f"{rule}: {rate.rate * 100:.0f} % pass ({rate.passed}/{rate.total})",
                      GOOD if rate.rate >= 0.9 else ACCENT))
    _lines(surface, fonts, layout, lines, area.x, area.y, area.width)
