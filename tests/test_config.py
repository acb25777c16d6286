"""The booth's configuration: every bad value falls back to its default with a warning of its
own, the shipped files load cleanly, and the commented example is the model's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.config import SECTIONS, Config, example_toml, load_config
from kiosk.photo.checks.thresholds import Thresholds

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
[booth]
backdrop = "green"             # not an installed colour
language = "fr"                # not a screen language
[session]
fps = 0                        # below the range
countdown_s = "3"              # a string, not a number
max_retakes = 2.5              # not a whole number
[devices]
colour_gains = [1.5]           # one gain instead of (red, blue)
light_capture_level = 1.7      # above 100 %
confirm_button_pin = 40        # no such GPIO
[thresholds]
eye_open_min = "low"           # not a number
"""


def test_nine_invalid_values_give_nine_warnings_and_the_defaults(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(PROBE, encoding="utf-8")
    config = load_config(path)
    defaults = Config()
    assert len(config.warnings) == 9, config.warnings
    for where in ("booth.backdrop", "booth.language", "session.fps", "session.countdown_s",
                  "session.max_retakes", "devices.colour_gains", "devices.light_capture_level",
                  "devices.confirm_button_pin", "thresholds.eye_open_min"):
        assert sum(w.startswith(f"config: {where} = ") for w in config.warnings) == 1, where
        section, key = where.split(".")
        assert getattr(getattr(config, section), key) == getattr(getattr(defaults, section), key)
    # the camera driver gets two gains, never a one-element tuple (IndexError at start)
    assert config.devices.colour_gains == (2.0, 1.6)


def test_good_values_are_taken_and_unknown_keys_reported(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('[booth]\nbackdrop = "white"\ncolour = 1\n[devices]\ncolour_gains = [1.9, 1.4]\n'
                    'analogue_gain = 2\n[thresholds]\neye_open_min = 0.2\n[extra]\nx = 1\n',
                    encoding="utf-8")
    config = load_config(path)
    assert config.booth.backdrop == "white"
    assert config.devices.colour_gains == (1.9, 1.4) and config.devices.analogue_gain == 2.0
    assert config.thresholds == Thresholds(eye_open_min=0.2)
    assert sorted(config.warnings) == ["config: unknown section [extra] ignored",
                                       "config: unknown setting booth.colour ignored"]


def test_a_broken_file_gives_the_defaults_and_says_why(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text("[booth\n", encoding="utf-8")
    config = load_config(path)
    assert config.booth == Config().booth and "unreadable" in config.warnings[0]
    assert load_config(tmp_path / "missing.toml").warnings == []


def test_a_bad_value_set_in_code_is_refused_too():
    config = Config()
    with pytest.raises(ValidationError):
        config.devices.colour_gains = (1.5,)
    with pytest.raises(ValidationError):
        config.session.fps = 0
    config.devices.colour_gains = [1.8, 1.5]            # a JSON list is a pair
    assert config.devices.colour_gains == (1.8, 1.5)


def test_every_setting_says_what_it_is_for():
    for name, model in SECTIONS.items():
        for key, info in model.model_fields.items():
            assert info.description, f"{name}.{key} has no description"


def test_the_shipped_files_load_without_a_warning():
    assert load_config(ROOT / "image-build/kiosk.toml").warnings == []
    assert load_config(ROOT / "image-build/kiosk.example.toml").warnings == []


def test_the_example_is_generated_from_the_model(tmp_path):
    """Regenerate with `python -m kiosk.config image-build/kiosk.example.toml`."""
    shipped = (ROOT / "image-build/kiosk.example.toml").read_text(encoding="utf-8")
    assert shipped == example_toml()
    # and every setting in it, uncommented, is its own default
    live = "\n".join(line[2:] if re.match(r"# [a-z_]+ = ", line) else line
                     for line in shipped.splitlines())
    path = tmp_path / "all.toml"
    path.write_text(live, encoding="utf-8")
    config = load_config(path)
    assert config.warnings == [] and config.model_dump() == Config().model_dump()
