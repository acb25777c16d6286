"""Technician mode end to end: PIN, pages, calibration saved, and its screens drawn for real.

The screens are rendered off-screen (SDL's dummy driver) with the booth's CJK font and saved as
PNG files; the tests look at the pixels where the title and the buttons must be.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np  # noqa: E402
import pygame  # noqa: E402
import pytest  # noqa: E402
from test_technician import empty_booth, panels  # noqa: E402

from kiosk.booth.ui.fonts import Fonts  # noqa: E402
from kiosk.booth.ui.layout import make_layout  # noqa: E402
from kiosk.booth.ui.widgets import BACKGROUND  # noqa: E402
from kiosk.config import Config  # noqa: E402
from kiosk.sim.scenes import compose_scene  # noqa: E402
from kiosk.technician import screens, stats  # noqa: E402
from kiosk.technician.light_balance import face_halves, side_luminance  # noqa: E402
from kiosk.technician.mode import PIN_ATTEMPTS, Port, TechnicianMode  # noqa: E402


@pytest.fixture
def config(tmp_path) -> Config:
    c = Config()
    c.booth.state_dir = str(tmp_path / "state")
    c.technician.pin = "2468"
    return c


def unlock(mode: TechnicianMode) -> None:
    for d in "2468":
        mode.press(f"digit:{d}")
    mode.press("ok")


# --- the mode as plain state ------------------------------------------------------------------------

def test_pin_opens_the_menu_and_wrong_pins_lock_out(config):
    now = [100.0]
    mode = TechnicianMode(config, clock=lambda: now[0])
    mode.press("digit:1")
    mode.press("ok")
    assert mode.page == "pin" and mode.notice.en == "Wrong PIN" and mode.pin_entry == ""
    for _ in range(PIN_ATTEMPTS - 1):
        mode.press("ok")
    unlock(mode)                                   # locked: even the right PIN waits
    assert mode.page == "pin" and "minute" in mode.notice.en
    now[0] += 61
    unlock(mode)
    assert mode.page == "menu"


def test_missing_calibration_is_a_visible_warning(config):
    mode = TechnicianMode(config)
    assert mode.warnings and "not calibrated" in mode.warnings[0]


def test_exit_and_back(config):
    mode = TechnicianMode(config)
    assert mode.press("exit") is True              # from the PIN page: leave
    unlock(mode)
    mode.press("stats")
    assert mode.page == "stats"
    assert mode.press("back") is False and mode.page == "menu"


def test_backdrop_page_judges_the_next_frame(config):
    config.booth.backdrop = "blue"
    mode = TechnicianMode(config)
    unlock(mode)
    mode.press("backdrop")
    mode.on_frame(empty_booth("blue"), 1)
    assert mode.backdrop_results == []             # nothing asked yet
    mode.press("run")
    mode.on_frame(empty_booth("blue", gradient=0.3), 2)
    statuses = {r.id: r.status.value for r in mode.backdrop_results}
    assert statuses["background.uniform"] == "fail" and statuses["background.shadow"] == "pass"


class Booth:
    """The booth's lights and camera acting on a composed scene (see test_technician.panels)."""

    def __init__(self, analyzer, left_efficiency=0.6):
        self.base = compose_scene("hopper", "grey", size=(960, 720))
        self.analysis = analyzer.analyze(self.base)
        f = self.analysis.face
        self.relight = panels(self.base, f.face_center_x, f.face_width * 0.25)
        self.eff = left_efficiency
        self.levels = (1.0, 1.0)
        self.gains = None

    def frame(self):
        return self.relight(self.levels[0] * self.eff, self.levels[1])

    def port(self, analyzer) -> Port:
        return Port(set_light_levels=lambda left, right: setattr(self, "levels", (left, right)),
                    set_light_gains=lambda left, right: setattr(self, "gains", (left, right)),
                    analyze=analyzer.analyze)


@pytest.fixture(scope="module")
def analyzer():
    from kiosk.photo.analysis import Analyzer

    a = Analyzer()
    yield a
    a.close()


def test_lights_page_balances_saves_and_survives_a_restart(config, analyzer):
    booth = Booth(analyzer)
    mode = TechnicianMode(config, booth.port(analyzer))
    unlock(mode)
    mode.press("lights")
    mode.press("start")
    for seq in range(1, 80):
        mode.on_frame(booth.frame(), seq)
        if mode.balancer.done:
            break
    assert mode.balancer.converged, mode.balancer.history
    halves = face_halves(booth.analysis)
    left, right = side_luminance(booth.frame(), halves)
    assert abs(left / right - 1) <= 0.03
    mode.press("save")
    assert mode.notice.en == "Saved" and mode.warnings == []
    saved = json.loads((Path(config.booth.state_dir) / "calibration.json").read_text())
    assert saved["light_left_gain"] == pytest.approx(booth.levels[0])
    assert booth.gains == (saved["light_left_gain"], saved["light_right_gain"])
    assert config.devices.light_right_gain == saved["light_right_gain"]
    # a reboot: a new booth process reads it back
    fresh = Config()
    fresh.booth.state_dir = config.booth.state_dir
    again = TechnicianMode(fresh)
    assert again.warnings == [] and again.calibration.light_right_gain == saved["light_right_gain"]


def test_leaving_lights_unsaved_restores_the_saved_balance(config, analyzer):
    booth = Booth(analyzer)
    mode = TechnicianMode(config, booth.port(analyzer))
    unlock(mode)
    mode.press("lights")
    mode.press("start")
    for seq in range(1, 10):
        mode.on_frame(booth.frame(), seq)
    mode.press("back")
    assert booth.gains == (1.0, 1.0) and mode.page == "menu"


def test_focus_page_saves_its_peak(config):
    mode = TechnicianMode(config)
    unlock(mode)
    mode.press("focus")
    scene = compose_scene("astronaut", "blue", size=(640, 480))
    import cv2
    for seq, sigma in enumerate((3, 1, 0, 2), start=1):
        mode.on_frame(cv2.GaussianBlur(scene, (0, 0), sigma) if sigma else scene, seq)
    assert not mode.focus_reading.in_focus
    mode.press("save")
    assert mode.calibration.focus_peak == pytest.approx(mode.focus_reading.peak)


def test_camera_page_without_manual_exposure_says_so(config):
    mode = TechnicianMode(config)
    unlock(mode)
    mode.press("camera")
    mode.press("start")
    assert mode.notice.en == "This camera has no manual exposure"


def test_reboot_asks_first_and_goes_through_systemctl(config):
    calls = []
    port = Port(run=lambda cmd: calls.append(cmd) or subprocess.CompletedProcess(cmd, 0, "", ""))
    mode = TechnicianMode(config, port)
    unlock(mode)
    mode.press("reboot")
    assert mode.page == "confirm_reboot" and calls == []
    mode.press("yes")
    assert calls == [["systemctl", "--no-ask-password", "reboot"]]


def test_logs_page_writes_to_the_stick(config, tmp_path):
    stick = tmp_path / "stick"
    stick.mkdir()
    mode = TechnicianMode(config, Port(usb_mount_point=lambda: str(stick)))
    unlock(mode)
    mode.press("logs")
    assert mode.notice.en == "Logs written to the USB stick"
    assert any((stick / "kiosk-logs").iterdir())


# --- screens -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fonts():
    pygame.init()
    yield Fonts()


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
@pytest.mark.parametrize("page", ["pin", "menu", "focus", "backdrop", "lights", "stats", "confirm_shutdown"])
def test_screens_draw(config, fonts, tmp_path, page, size):
    stats.record_session(config.booth.state_dir, outcome="saved", duration_s=42,
                         checks={"pose.yaw": "pass", "eyes.open": "fail"})
    mode = TechnicianMode(config)
    if page != "pin":
        unlock(mode)
        if page != "menu":
            mode.press(page if not page.startswith("confirm_") else page.split("_", 1)[1])
    preview = compose_scene("hopper", "blue", size=(640, 480))
    if page in ("focus", "backdrop"):
        mode.press("run")
        mode.on_frame(preview, 1)
    layout = make_layout(size)
    surface = pygame.Surface(size)
    screens.draw_mode(surface, fonts, layout, mode, "zh", preview=preview)
    pygame.image.save(surface, str(tmp_path / f"technician-{page}.png"))
    pixels = pygame.surfarray.array3d(surface).transpose(1, 0, 2)
    title = pixels[layout.pad:layout.pad + layout.medium, :size[0] // 2]
    assert (np.abs(title.astype(int) - BACKGROUND).sum(axis=-1) > 60).mean() > 0.02   # glyphs drawn
    for b in screens.buttons(mode, layout):
        x, y = b.rect.x + 3, b.rect.centery                          # the button's face, not text
        assert tuple(pixels[y, x]) != BACKGROUND, (b.event, b.rect)
        assert b.rect.right <= size[0] and b.rect.bottom <= size[1]


def test_screens_handle_touch_and_keys(config, fonts):
    layout = make_layout((1280, 800))
    booth = SimpleNamespace(config=config, layout=layout, rig=SimpleNamespace(devices=SimpleNamespace()),
                            session=SimpleNamespace(data=SimpleNamespace(entered_at=5.0, state="technician")),
                            technician=SimpleNamespace(mode=None), listeners=SimpleNamespace(frame=[]))
    mode = screens.mode_of(booth)
    assert booth.listeners.frame                      # steps itself on every booth frame
    targets = {b.event: b.rect.center for b in screens.buttons(mode, layout)}
    for d in "2468":
        screens.handle(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=targets[f"digit:{d}"]), booth)
    screens.handle(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=targets["ok"]), booth)
    assert mode.page == "menu"
    menu = {b.event: b.rect.center for b in screens.buttons(mode, layout)}
    assert screens.handle(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=menu["exit"]), booth)
    # entering technician mode again starts at the PIN
    booth.session.data.entered_at = 9.0
    assert screens.mode_of(booth).page == "pin"
    for key, uni in ((pygame.K_2, "2"), (pygame.K_4, "4"), (pygame.K_6, "6"), (pygame.K_8, "8")):
        screens.handle(pygame.event.Event(pygame.KEYDOWN, key=key, unicode=uni), booth)
    screens.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r"), booth)
    assert mode.page == "menu"


def test_camera_page_asks_which_backdrop_hangs_there(config):
    """Exposure and white balance aim at one reference colour: with the default backdrop
    setting ("any") the technician is asked to name it first (white and grey differ only in
    brightness, which is what this step sets)."""
    seen = []
    port = Port(set_camera_controls=seen.append)
    assert config.booth.backdrop == "any"
    mode = TechnicianMode(config, port)
    unlock(mode)
    mode.press("camera")
    mode.press("start")
    assert "[booth] backdrop" in mode.notice.en and mode.camera is None and seen == []
    config.booth.backdrop = "grey"
    mode.press("start")
    assert mode.camera is not None and mode.camera.backdrop == "grey" and len(seen) == 1


def test_backdrop_page_names_the_standard_colour_it_found(config):
    mode = TechnicianMode(config)
    unlock(mode)
    mode.press("backdrop")
    mode.press("run")
    mode.on_frame(empty_booth("white"), 1)
    colour = next(r for r in mode.backdrop_results if r.id == "background.color")
    assert colour.status.value == "pass" and colour.found == "white"
