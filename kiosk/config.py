"""Typed configuration: booth settings, calibrated thresholds, device and calibration values.

One TOML file (default /etc/kiosk/kiosk.toml, or $KIOSK_CONFIG) with one table per section.
Every field has a safe default and a comment saying what it is for. A missing file gives the
defaults; a broken file or a bad value falls back to the default for what is broken and is
reported as a warning (shown on screen and logged), never as a crash: a booth must start.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.photo import standard
from kiosk.photo.checks.thresholds import Thresholds

log = logging.getLogger(__name__)

DEFAULT_PATH = Path("/etc/kiosk/kiosk.toml")


@dataclass
class BoothSettings:
    booth_id: str = "booth1"                 # names the export folder on the USB stick
    backdrop: str = "any"                    # installed reference colour: blue|white|grey; "any"
                                             # accepts the nearest of the three (the default)
    allow_head_covering: bool = False        # religious/medical head coverings (standard 二.4):
                                             # a headwear fail becomes an exception the student
                                             # confirms and the registrar checks, never a pass
    filename_template: str = standard.DEFAULT_FILENAME_TEMPLATE
    key_file: str = "/etc/kiosk/registrar.key"   # registrar's key for the identity in the COM segment
    identity_scheme: str = "aesgcm-v1"       # entry point in group kiosk.identity_schemes
    state_dir: str = "/var/lib/kiosk"        # spool and calibration (systemd StateDirectory)
    language: str = "zh"                     # zh|en: the screen's first language
    roster_file: str = "/var/lib/kiosk/roster.csv"
    whole_frame_preview: bool = False        # staff/debug: live guidance shows the whole camera
                                             # frame (landscape) instead of the mirror of the crop


@dataclass
class SessionSettings:
    max_retakes: int = 3                     # retakes allowed before the booth asks for help
    idle_timeout_s: float = 60.0             # no input on a screen for this long: back to attract
    steady_pass_s: float = 1.0               # everything passes for this long: capture by itself
    countdown_s: int = 3
    burst_frames: int = 3
    guidance_timeout_s: float = 120.0        # live guidance without a capture this long: back to attract
    hint_hold_s: float = 0.6                 # a new hint must persist this long before it is shown
    hint_hold_frames: int = 2                # ... and for this many analysed frames (no flicker)
    capture_timeout_s: float = 45.0          # countdown over, no photo from burst + build: failsafe
    save_timeout_s: float = 30.0             # spool + USB export not answered: failsafe
    done_s: float = 12.0                     # the "done" screen stays this long
    failsafe_s: float = 8.0                  # the failsafe screen recovers by itself after this
    technician_timeout_s: float = 600.0      # technician mode left alone: back to attract
    fps: int = 30                            # frame rate of the screen loop (a mirror: ≥ 30)


@dataclass
class ExportSettings:
    retention_days: float = 7.0              # exported items are purged from the SD card after this
    usb_mount_root: str = "/media/kiosk"     # where the automount puts sticks
    # QR payload forms the booth accepts: json, url (query string), kv (学号=…;姓名=…), bare
    qr_formats: tuple[str, ...] = ("json", "url", "kv", "bare")
    qr_max_bytes: int = 512                  # longer QR payloads are refused as hostile/wrong code


@dataclass
class DeviceSettings:
    camera: str = "auto"                     # auto|picamera|webcam|fake
    lights: str = "auto"                     # auto|pwm|gpio|mock (pwm: kernel hardware PWM)
    buttons: str = "auto"                    # auto|gpio|mock
    light_left_pin: int = 12                 # hardware PWM0 (GPIO12)
    light_right_pin: int = 13                # hardware PWM1 (GPIO13)
    light_pwm_hz: int = 20000                # far above any rolling-shutter banding frequency
    light_pwm_chip: int = 0                  # lights = "pwm": /sys/class/pwm/pwmchipN
    confirm_button_pin: int = 5
    retake_button_pin: int = 6
    capture_timeout_s: float = 5.0           # a camera that does not answer in time is an error
    webcam_index: int = 0                    # OpenCV device number for camera = "webcam"
    fake_source: str = ""                    # camera = "fake": a folder of photos, a video file,
                                             # or "" for the scripted scene (a real face that moves
                                             # from a bad position into a good one)
    button_bounce_s: float = 0.05            # presses shorter than this are contact bounce
    technician_hold_s: float = 5.0           # hold both buttons this long: technician mode
    usb_poll_s: float = 1.0                  # how often the USB mount root is looked at
    # --- calibration (written by the technician's calibration, read at start) ---
    light_idle_level: float = 0.15           # panels while nobody is at the booth (0..1)
    light_preview_level: float = 0.6         # during identify / live guidance
    light_capture_level: float = 1.0         # during the countdown and the burst
    light_left_gain: float = 1.0             # balance: each panel's level is multiplied by its
    light_right_gain: float = 1.0            # gain, so the technician evens out the two cheeks
    exposure_time_us: int = 10000            # fixed exposure for the 5500 K panels (no auto exposure)
    analogue_gain: float = 1.0               # fixed sensor gain
    colour_gains: tuple[float, float] = (2.0, 1.6)   # fixed white balance (red, blue) gains


@dataclass
class TechnicianSettings:
    pin: str = "2468"                        # PIN for technician mode; change it at install


@dataclass
class StudentSettings:
    # Student numbers (学号) must match this regular expression (whole string); schools differ.
    # Empty: kiosk.photo.student's default (4-20 ASCII letters/digits). Whatever it says, only ASCII
    # letters, digits, '-' and '_' are ever accepted (student numbers end up in file names).
    student_id_pattern: str = ""


@dataclass
class VoiceSettings:
    mute: bool = False                       # true: no voice, no beeps (the screen still guides)
    volume: float = 0.8                      # 0..1, of the clips' own level (normalised at build)
    repeat_s: float = 6.0                    # the same instruction is said again at most this often
    gap_s: float = 2.0                       # a new phrase at least this long after the last one
    beeps: bool = True                       # countdown beeps and the shutter sound
    clip_dir: str = ""                       # made by tools/make-voice; "" = <venv>/share/kiosk/voice


@dataclass
class Config:
    booth: BoothSettings = field(default_factory=BoothSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    export: ExportSettings = field(default_factory=ExportSettings)
    devices: DeviceSettings = field(default_factory=DeviceSettings)
    technician: TechnicianSettings = field(default_factory=TechnicianSettings)
    students: StudentSettings = field(default_factory=StudentSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    thresholds: Thresholds = field(default_factory=Thresholds)
    warnings: list[str] = field(default_factory=list)   # what was wrong with the file, if anything


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read the config file; anything missing or broken falls back to its default, with a warning."""
    if path is None:
        path = os.environ.get("KIOSK_CONFIG", DEFAULT_PATH)
    path = Path(path)
    config = Config()
    if not path.exists():
        return config
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        config.warnings.append(f"config {path} unreadable, using defaults: {exc}")
        log.warning(config.warnings[-1])
        return config
    for f in dataclasses.fields(Config):
        if f.name == "warnings" or f.name not in data:
            continue
        section = getattr(config, f.name)
        _apply(section, data[f.name], f"{f.name}", config.warnings)
    for key in set(data) - {f.name for f in dataclasses.fields(Config)}:
        config.warnings.append(f"config: unknown section [{key}] ignored")
    for w in config.warnings:
        log.warning(w)
    return config


def _apply(section, values, where: str, warnings: list[str]) -> None:
    if not isinstance(values, dict):
        warnings.append(f"config: [{where}] is not a table, defaults used")
        return
    hints = typing.get_type_hints(type(section))
    names = {f.name for f in dataclasses.fields(section)}
    for key, value in values.items():
        if key not in names:
            warnings.append(f"config: unknown setting {where}.{key} ignored")
            continue
        wanted = hints[key]
        coerced = _coerce(value, wanted)
        if coerced is None:
            warnings.append(f"config: {where}.{key} = {value!r} is not a {_type_name(wanted)}; "
                            f"default {getattr(section, key)!r} used")
            continue
        # frozen dataclasses (Thresholds) are replaced field by field
        object.__setattr__(section, key, coerced)


def _coerce(value, wanted):
    origin = typing.get_origin(wanted)
    if origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(wanted):
            if arm is type(None):
                continue
            got = _coerce(value, arm)
            if got is not None:
                return got
        return None
    if wanted is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if wanted is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if wanted in (str, bool) and isinstance(value, wanted):
        return value
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    return None


def _type_name(t) -> str:
    return getattr(t, "__name__", str(t))
