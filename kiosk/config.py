"""Typed configuration: booth settings, calibrated thresholds, device and calibration values.

One TOML file (default /etc/kiosk/kiosk.toml, or $KIOSK_CONFIG) with one table per section.
Each section is a pydantic model: every field has a safe default, a type, its allowed values
or range, and a description. The commented example ``image-build/kiosk.example.toml``
(installed as /etc/kiosk/kiosk.example.toml) is generated from them:
``python -m kiosk.config image-build/kiosk.example.toml``; a test keeps it current. A missing
file gives the defaults; a broken file, an unknown key or a bad value falls back to the default
for what is broken and is reported as a warning (shown on screen and logged), never as a
crash: a booth must start.

Assignments in code are validated too (``config.session.fps = 0`` raises), so a wrong value
cannot reach a driver from anywhere. The calibrated check thresholds are
`kiosk.photo.checks.thresholds.Thresholds` (a frozen dataclass of the photo engine); their
[thresholds] table is checked field by field against its types the same way.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from kiosk.photo import standard
from kiosk.photo.checks.thresholds import Thresholds

log = logging.getLogger(__name__)

DEFAULT_PATH = Path("/etc/kiosk/kiosk.toml")

Seconds = Annotated[float, Field(ge=0)]
Level = Annotated[float, Field(ge=0, le=1)]
GpioPin = Annotated[int, Field(ge=0, le=27)]      # the Pi's header GPIOs
QrFormat = Literal["json", "url", "kv", "bare"]


class Section(BaseModel):
    """One table of the file. Strict types (a TOML string is not a number), checked on every
    assignment; unknown keys are reported by `load_config`, not here."""
    model_config = ConfigDict(strict=True, validate_assignment=True, validate_default=True,
                              extra="ignore")


class BoothSettings(Section):
    booth_id: str = Field("booth1", min_length=1, max_length=120,
                          description="names this booth's folder on the USB stick")
    backdrop: Literal["any", "blue", "white", "grey"] = Field(
        "any", description="the backdrop colour installed in the booth; \"any\" judges each photo "
                           "against the nearest of the standard's three colours")
    allow_head_covering: bool = Field(
        False, description="religious or medical head coverings (standard 二.4): a headwear fail "
                           "becomes an exception the student confirms and the registrar checks, "
                           "never a pass")
    filename_template: str = Field(
        standard.DEFAULT_FILENAME_TEMPLATE, min_length=1,
        description="file name of each photo on the stick: {id_number}, {student_id}, {name}, "
                    "{college}, {class_name}")
    key_file: str = Field("/etc/kiosk/registrar.key",
                          description="the registrar's key that seals the identity in each photo")
    identity_scheme: str = Field("aesgcm-v1", min_length=1,
                                 description="identity scheme (entry point in kiosk.identity_schemes)")
    state_dir: str = Field("/var/lib/kiosk",
                           description="spool, calibration and statistics (systemd StateDirectory)")
    language: Literal["zh", "en"] = Field("zh", description="the screen's first language")
    roster_file: str = Field("/var/lib/kiosk/roster.csv",
                             description="the registrar's roster (CSV)")
    whole_frame_preview: bool = Field(False, description="staff/debug: live guidance shows the whole "
                                                         "camera frame (landscape) instead of the "
                                                         "mirror of the crop")


class SessionSettings(Section):
    max_retakes: int = Field(3, ge=0, le=20,
                             description="retakes allowed before the booth asks for help")
    idle_timeout_s: float = Field(60.0, gt=0,
                                  description="no input on a screen for this long: back to attract")
    steady_pass_s: Seconds = Field(1.0, description="every check passes this long: capture by itself")
    countdown_s: int = Field(3, ge=0, le=10, description="the 3-2-1 before the burst (seconds)")
    burst_frames: int = Field(3, ge=1, le=10, description="stills taken per capture; the best is kept")
    guidance_timeout_s: float = Field(120.0, gt=0, description="live guidance without a capture "
                                                               "this long: back to attract")
    hint_hold_s: Seconds = Field(0.6, description="a new instruction must persist this long "
                                                  "before it is shown")
    hint_hold_frames: int = Field(2, ge=1, le=30, description="... and for this many analysed "
                                                             "frames (no flicker)")
    capture_timeout_s: float = Field(45.0, gt=0, description="countdown over and no photo from "
                                                             "burst + build: failsafe screen")
    save_timeout_s: float = Field(30.0, gt=0, description="spool + USB export not answered: "
                                                          "failsafe screen")
    done_s: float = Field(12.0, gt=0, description="how long the done screen stays")
    failsafe_s: float = Field(8.0, gt=0, description="the failsafe screen recovers by itself "
                                                     "after this")
    technician_timeout_s: float = Field(600.0, gt=0, description="technician mode left alone "
                                                                 "this long: back to attract")
    fps: int = Field(30, ge=1, le=120, description="frame rate of the screen loop (a mirror: 30 or more)")


class ExportSettings(Section):
    retention_days: float = Field(7.0, ge=0, description="exported photos are purged from the "
                                                         "SD card after this many days")
    usb_mount_root: str = Field("/media/kiosk", min_length=1,
                                description="where the automount puts USB sticks")
    qr_formats: tuple[QrFormat, ...] = Field(
        ("json", "url", "kv", "bare"), min_length=1, strict=False,
        description="QR payloads accepted: json, url (query string), kv (学号=…;姓名=…), bare "
                    "(the student number)")
    qr_max_bytes: int = Field(512, ge=16, le=4096,
                              description="longer QR payloads are refused as a wrong code")


class DeviceSettings(Section):
    camera: Literal["auto", "picamera", "webcam", "fake"] = Field(
        "auto", description="camera driver (auto: the Pi's camera on a Pi, else a webcam, "
                            "else the fake); env KIOSK_CAMERA overrides")
    lights: Literal["auto", "pwm", "gpio", "mock"] = Field(
        "auto", description="light driver (pwm: kernel hardware PWM); env KIOSK_LIGHTS overrides")
    buttons: Literal["auto", "gpio", "mock"] = Field(
        "auto", description="button driver; env KIOSK_BUTTONS overrides")
    light_left_pin: GpioPin = Field(12, description="left panel (hardware PWM0 = GPIO12)")
    light_right_pin: GpioPin = Field(13, description="right panel (hardware PWM1 = GPIO13)")
    light_pwm_hz: int = Field(20000, ge=100, le=1_000_000,
                              description="PWM frequency, far above rolling-shutter banding")
    light_pwm_chip: int = Field(0, ge=0, le=255, description="for the \"pwm\" lights: /sys/class/pwm/pwmchipN")
    confirm_button_pin: GpioPin = Field(5, description="the confirm (green) button")
    retake_button_pin: GpioPin = Field(6, description="the retake / back button")
    capture_timeout_s: float = Field(5.0, gt=0, le=60,
                                     description="a camera that does not answer in time is an error")
    webcam_index: int = Field(0, ge=0, le=63, description="OpenCV device number of the \"webcam\" camera")
    fake_source: str = Field("", description="what the \"fake\" camera films: a folder of photos, a video file, "
                                             "or empty for the scripted scene; env KIOSK_FAKE_SOURCE")
    button_bounce_s: float = Field(0.05, ge=0, le=1,
                                   description="presses shorter than this are contact bounce")
    technician_hold_s: float = Field(5.0, gt=0, le=60,
                                     description="hold both buttons this long: technician mode")
    usb_poll_s: float = Field(1.0, gt=0, le=60, description="how often the USB mount root is looked at")
    # --- calibration (technician mode writes /var/lib/kiosk/calibration.json, read at start) ---
    light_idle_level: Level = Field(0.15, description="panels while nobody is at the booth")
    light_preview_level: Level = Field(0.6, description="panels during identify and live guidance")
    light_capture_level: Level = Field(1.0, description="panels during the countdown and the burst")
    light_left_gain: float = Field(1.0, gt=0, le=4, description="left panel's level is multiplied "
                                                                "by this (light balance)")
    light_right_gain: float = Field(1.0, gt=0, le=4, description="right panel's level is "
                                                                 "multiplied by this")
    exposure_time_us: int = Field(10000, ge=100, le=1_000_000,
                                  description="fixed exposure for the 5500 K panels (microseconds)")
    analogue_gain: float = Field(1.0, ge=1, le=22, description="fixed sensor gain")
    colour_gains: tuple[Annotated[float, Field(gt=0, le=32)], Annotated[float, Field(gt=0, le=32)]] = \
        Field((2.0, 1.6), strict=False,
              description="fixed white balance: the (red, blue) gains, each > 0 and <= 32")


class TechnicianSettings(Section):
    pin: str = Field("2468", pattern=r"^[0-9]{4,12}$",
                     description="PIN of technician mode (4-12 digits): change it at install")


class StudentSettings(Section):
    student_id_pattern: str = Field(
        "", description="student numbers must match this regular expression (whole string); "
                        "empty: 4-20 ASCII letters/digits. Only letters, digits, - and _ are ever "
                        "accepted (they end up in file names)")


class VoiceSettings(Section):
    mute: bool = Field(False, description="no voice and no beeps (the screen still guides)")
    volume: float = Field(0.8, ge=0, le=1, description="of the clips' own level (normalised at build)")
    repeat_s: float = Field(6.0, ge=0, description="the same instruction is said again at most this often")
    gap_s: float = Field(2.0, ge=0, description="a new phrase at least this long after the last one")
    beeps: bool = Field(True, description="countdown beeps and the shutter sound")
    clip_dir: str = Field("", description="made by tools/make-voice; empty: <venv>/share/kiosk/voice")


#: The sections of the file, in its order.
SECTIONS: dict[str, type[Section]] = {
    "booth": BoothSettings, "session": SessionSettings, "export": ExportSettings,
    "devices": DeviceSettings, "technician": TechnicianSettings, "students": StudentSettings,
    "voice": VoiceSettings,
}


class Config(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    booth: BoothSettings = Field(default_factory=BoothSettings)
    session: SessionSettings = Field(default_factory=SessionSettings)
    export: ExportSettings = Field(default_factory=ExportSettings)
    devices: DeviceSettings = Field(default_factory=DeviceSettings)
    technician: TechnicianSettings = Field(default_factory=TechnicianSettings)
    students: StudentSettings = Field(default_factory=StudentSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    warnings: list[str] = Field(default_factory=list)   # what was wrong with the file, if anything


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
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
    for name, values in data.items():
        if name in SECTIONS:
            _apply(getattr(config, name), values, name, config.warnings)
        elif name == "thresholds":
            config.thresholds = _thresholds(values, config.warnings)
        else:
            config.warnings.append(f"config: unknown section [{name}] ignored")
    for w in config.warnings:
        log.warning(w)
    return config


def _apply(section: Section, values: object, where: str, warnings: list[str]) -> None:
    """Set each valid key; each invalid or unknown one leaves its default and adds a warning."""
    if not isinstance(values, dict):
        warnings.append(f"config: [{where}] is not a table, defaults used")
        return
    for key, value in values.items():
        if key not in type(section).model_fields:
            warnings.append(f"config: unknown setting {where}.{key} ignored")
            continue
        try:
            setattr(section, key, value)
        except ValidationError as exc:
            warnings.append(f"config: {where}.{key} = {value!r} {_why(exc)}; "
                            f"default {getattr(section, key)!r} used")


def _thresholds(values: object, warnings: list[str]) -> Thresholds:
    defaults = Thresholds()
    if not isinstance(values, dict):
        warnings.append("config: [thresholds] is not a table, defaults used")
        return defaults
    types = {f.name: f.type for f in dataclasses.fields(Thresholds)}
    hints = Thresholds.__annotations__
    accepted: dict[str, Any] = {}
    for key, value in values.items():
        if key not in types:
            warnings.append(f"config: unknown setting thresholds.{key} ignored")
            continue
        try:
            accepted[key] = TypeAdapter(hints[key], config=ConfigDict(strict=True)).validate_python(value)
        except ValidationError as exc:
            warnings.append(f"config: thresholds.{key} = {value!r} {_why(exc)}; "
                            f"default {getattr(defaults, key)!r} used")
    return dataclasses.replace(defaults, **accepted)


def _why(exc: ValidationError) -> str:
    """pydantic's reason, short: "is not valid: Input should be 'blue', 'white' or 'grey'"."""
    reasons = "; ".join(e["msg"] for e in exc.errors(include_url=False))
    return f"is not valid ({reasons})"


# --- the commented example ------------------------------------------------------------------------
def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _allowed(info: Any) -> str:
    """The allowed values or range of a field, from its type and constraints."""
    import typing

    annotation = info.annotation
    if typing.get_origin(annotation) is Literal:
        return " | ".join(typing.get_args(annotation))
    bounds = []
    for meta in info.metadata:
        for name, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(meta, name, None) is not None:
                bounds.append(f"{sign} {getattr(meta, name)}")
    return ", ".join(bounds)


def example_toml() -> str:
    """The example file: every section and setting with its default, commented out, and what
    it is for, its allowed values and range (from the model)."""
    lines = [
        "# The booth's settings: /etc/kiosk/kiosk.toml (or $KIOSK_CONFIG).",
        "# Every setting is optional: a missing one takes the default shown; a wrong one is",
        "# ignored with a warning on the attract screen and in the log. Generated from",
        "# kiosk/config.py (`python -m kiosk.config FILE`); do not edit by hand.",
    ]
    for name, model in SECTIONS.items():
        lines += ["", f"[{name}]"]
        for key, info in model.model_fields.items():
            allowed = _allowed(info)
            lines.append(f"# {info.description}" + (f" ({allowed})" if allowed else ""))
            lines.append(f"# {key} = {_toml_value(info.get_default(call_default_factory=True))}")
    lines += ["", "# Calibrated thresholds of the checks (kiosk/photo/checks/thresholds.py says",
              "# how each was chosen); change them only after re-running bench/calibrate_checks.py.",
              "[thresholds]"]
    for f in dataclasses.fields(Thresholds):
        lines.append(f"# {f.name} = {_toml_value(getattr(Thresholds(), f.name))}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(example_toml(), encoding="utf-8")
    else:
        sys.stdout.write(example_toml())
