"""``kiosk run``: the booth put together from its configuration (the composition root).

`build_booth` loads the registrar's key, the roster (kiosk.booth.directory) and the durable
spool, and makes the loop (kiosk.booth.loop.Booth); `cmd_run` opens the devices
(hardware.open_devices) and the display first, and runs the loop until Ctrl+Q or SIGTERM. The
simulator (kiosk.sim.simulator) uses the same `build_booth` and `open_display`.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from kiosk.booth.directory import RosterDirectory
from kiosk.booth.loop import MSG_CAMERA_MISSING, Booth, EventQueue
from kiosk.config import Config
from kiosk.message import Message

log = logging.getLogger(__name__)
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")   # no banner on the booth's stdout

__all__ = ["MSG_CAMERA_MISSING", "build_booth", "cmd_run", "open_display", "register"]


# --- the screen --------------------------------------------------------------------------------
def open_display(*, fullscreen: bool, size: tuple[int, int] = (1280, 800),
                 headless: bool = False) -> Any:
    """Open the window (simulator), the fullscreen kiosk display, or an off-screen surface."""
    if headless or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                        or fullscreen):
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    import pygame

    pygame.display.init()
    if fullscreen and os.environ.get("SDL_VIDEODRIVER") != "dummy":
        surface = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
        pygame.mouse.set_visible(False)
    else:
        surface = pygame.display.set_mode(size)
    pygame.display.set_caption("Graduation photo booth")
    return surface


# --- kiosk run -----------------------------------------------------------------------------------
def register(subparsers: Any) -> None:
    """Add ``kiosk run`` to the kiosk command (kiosk.cli.COMMAND_MODULES lists this module)."""
    register_run(subparsers)


def register_run(subparsers: Any) -> None:
    p = subparsers.add_parser("run", help="run the booth (the appliance's service runs this)",
                              description="Run the booth fullscreen with the devices in the config.")
    p.add_argument("--config", metavar="FILE", help="config file (default: $KIOSK_CONFIG or "
                                                     "/etc/kiosk/kiosk.toml)")
    p.add_argument("--windowed", action="store_true", help="a window instead of fullscreen")
    p.set_defaults(func=cmd_run)


MSG_DEVICE_PROBLEM = {
    "lights": "lights not working (the booth runs without them): ",
    "buttons": "buttons not working (use the touchscreen): ",
}


def cmd_run(args: argparse.Namespace) -> int:
    """Run the booth until Ctrl+Q or SIGTERM.

    Devices that fail do not stop it (under systemd an exit only leads to a restart loop with a
    black screen): a camera that does not start leaves the failsafe screen up with
    `MSG_CAMERA_MISSING` while it is retried (`Booth.start`); lights or buttons that fail to
    open are left out and named on the attract screen for the technician. READY reaches
    systemd only once camera frames arrive. How that meets kiosk.service (Type=notify,
    TimeoutStartSec=120s, Restart=always, StartLimitBurst=5 per StartLimitIntervalSec,
    OnFailure=kiosk-recover.service): a camera plugged in within the start timeout brings the
    booth up without a restart; one that stays missing lets the start time out, systemd stops
    and restarts the booth (the failsafe screen comes back each time), and when the start limit
    is hit, kiosk-recover reboots (bounded) and then retries every 5 minutes. The watchdog only
    runs after READY, so it cannot kill a booth that is still waiting for its camera.
    """
    from kiosk.booth.ui.fonts import FontMissing, find_cjk_font
    from kiosk.config import load_config
    from kiosk.technician.calibration import apply_saved_calibration

    config = load_config(getattr(args, "config", None))
    # the technician's measured light balance, exposure and white balance: before the devices
    # are opened, since the drivers read them from config.devices
    apply_saved_calibration(config)
    try:
        find_cjk_font()
    except FontMissing as exc:
        log.critical("%s", exc)
        _say(str(exc))
        return 2
    import hardware

    events = EventQueue()
    try:
        devices = hardware.open_devices(config.devices, simulate=False, on_event=events.post,
                                        usb_mount_root=config.export.usb_mount_root, tolerate=True,
                                        scene=_fake_scene(config))
    except Exception as exc:
        log.critical("devices cannot be opened: %s", exc)
        _say(exc)
        return 1
    try:
        booth = build_booth(config, devices, events,
                            surface=open_display(fullscreen=not args.windowed))
        for name, why in devices.problems.items():
            booth.screen.warnings.append(MSG_DEVICE_PROBLEM.get(name, f"{name}: ") + why)
        booth.start()
    except Exception as exc:
        log.critical("booth cannot start: %s", exc)
        _say(exc)
        devices.close()
        return 1
    try:
        booth.run()
    finally:
        booth.stop()
        devices.close()
    return 0


def _fake_scene(config: Config) -> Any:
    """What a fake camera films when the config names no photos or video: the scripted student
    stepping into place (the hardware layer knows no faces). Ignored by the real drivers."""
    if config.devices.fake_source or os.environ.get("KIOSK_FAKE_SOURCE"):
        return None
    from kiosk.sim.scripted import student_walks_in

    return student_walks_in()


def _say(problem: object) -> None:
    """Why ``kiosk run`` stops, on stderr, in both languages when the error has a Message."""
    import sys

    message = getattr(problem, "message", None)
    if isinstance(message, Message):
        print(f"kiosk run: {message.zh} / {message.en}", file=sys.stderr)
    else:
        print(f"kiosk run: {problem}", file=sys.stderr)


def build_booth(config: Config, devices: Any, events: EventQueue, *, surface: Any,
                roster_path: str | None = None, key_path: str | None = None,
                **kw: Any) -> Booth:
    """Load the key, the roster and the spool named by the config, and make the loop."""
    from kiosk.handoff.roster import RosterError, load_roster
    from kiosk.handoff.spool import Spool
    from kiosk.photo.identity import load_key

    key = load_key(key_path or config.booth.key_file)
    roster = None
    try:
        roster = load_roster(roster_path or config.booth.roster_file)
        for line, reason in roster.rejected:
            log.warning("roster line %d rejected: %s", line, reason)
    except RosterError as exc:
        log.error("roster: %s", exc.message.en)
        problem: str | None = f"roster: {exc.message.en}"
    else:
        problem = f"roster: {len(roster.rejected)} rows rejected (see log)" if roster.rejected else None
    spool = Spool(config.booth.state_dir)
    spool.recover()
    booth = Booth(config, devices, events, key=key,
                  directory=RosterDirectory.from_config(roster, config), spool=spool,
                  surface=surface, **kw)
    if problem:
        booth.screen.warnings.append(problem)
    return booth
