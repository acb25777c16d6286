"""``kiosk run``'s wiring: the saved calibration before the devices open, the QR formats from the
config, and the command line that lists ``run`` by itself."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from kiosk.booth.directory import RosterDirectory
from kiosk.booth.main import build_booth, cmd_run
from kiosk.booth.session import LookupFailed
from kiosk.config import Config
from kiosk.handoff.qr import MSG_TOO_LONG
from kiosk.handoff.roster import parse_roster
from kiosk.technician.calibration import Calibration, save_calibration

ROSTER = "学号,姓名,身份证号\n2026010727,李明,110105200303151236\n".encode()
JSON = json.dumps({"学号": "2026010727"}).encode()
KV = "学号=2026010727".encode()


def test_qr_formats_and_size_limit_come_from_the_config():
    roster = parse_roster(ROSTER)
    config = Config()
    everything = RosterDirectory.from_config(roster, config)
    assert everything.from_qr(KV).name == "李明" and everything.from_qr(JSON).name == "李明"

    config.export.qr_formats = ("json",)              # this school's form makes JSON codes only
    config.export.qr_max_bytes = 40
    only_json = RosterDirectory.from_config(roster, config)
    assert only_json.from_qr(JSON).student_id == "2026010727"
    with pytest.raises(LookupFailed):
        only_json.from_qr(KV)
    long = json.dumps({"学号": "2026010727", "备注": "x" * 40}).encode()
    assert everything.from_qr(long).name == "李明"     # under the default 512 bytes
    with pytest.raises(LookupFailed) as err:
        only_json.from_qr(long)
    assert err.value.message == MSG_TOO_LONG


def test_student_number_pattern_from_the_config():
    roster = parse_roster("学号,姓名,身份证号\nAB12,李明,110105200303151236\n".encode())
    config = Config()
    config.students.student_id_pattern = r"[A-Z]{2}\d{2}"
    assert RosterDirectory.from_config(roster, config).from_qr(b"AB12").name == "李明"
    config.students.student_id_pattern = r"\d{10}"
    with pytest.raises(LookupFailed):
        RosterDirectory.from_config(roster, config).from_qr(b"AB12")


def test_build_booth_uses_the_configs_qr_formats(tmp_path):
    import hardware
    from kiosk.booth.loop import EventQueue
    from kiosk.booth.main import open_display
    from kiosk.photo.identity import generate_key

    config = Config()
    config.booth.state_dir = str(tmp_path / "state")
    config.export.qr_formats = ("bare",)
    config.export.qr_max_bytes = 64
    generate_key(tmp_path / "k.key")
    (tmp_path / "roster.csv").write_bytes(ROSTER)
    devices = hardware.open_devices(config.devices, simulate=True, usb_dir=tmp_path / "usb",
                                    watch_usb=False)
    try:
        booth = build_booth(config, devices, EventQueue(),
                            surface=open_display(fullscreen=False, size=(640, 400), headless=True),
                            roster_path=str(tmp_path / "roster.csv"), key_path=str(tmp_path / "k.key"))
        directory = booth.session.directory
        assert (directory.formats, directory.max_bytes) == (("bare",), 64)
        assert directory.from_qr(b"2026010727").name == "李明"
        with pytest.raises(LookupFailed):
            directory.from_qr(JSON)
    finally:
        devices.close()


def test_kiosk_run_applies_the_saved_calibration_before_opening_the_devices(tmp_path, monkeypatch):
    import hardware

    state = tmp_path / "state"
    save_calibration(state, Calibration(light_left_gain=0.8, light_right_gain=0.95,
                                        exposure_time_us=12000, analogue_gain=1.5,
                                        colour_gain_red=2.2, colour_gain_blue=1.5))
    (tmp_path / "kiosk.toml").write_text(f'[booth]\nstate_dir = "{state}"\n', encoding="utf-8")
    seen = {}

    def open_devices(settings, **kw):                # stop right there: what did the drivers get?
        seen.update(vars(settings))
        raise RuntimeError("no devices in this test")

    monkeypatch.setattr(hardware, "open_devices", open_devices)
    args = SimpleNamespace(config=str(tmp_path / "kiosk.toml"), windowed=True)
    assert cmd_run(args) == 1
    assert seen["exposure_time_us"] == 12000 and seen["analogue_gain"] == 1.5
    assert seen["light_left_gain"] == 0.8 and seen["light_right_gain"] == 0.95
    assert tuple(seen["colour_gains"]) == (2.2, 1.5)


def test_kiosk_help_lists_every_command_and_run_needs_no_simulator():
    out = subprocess.run([sys.executable, "-m", "kiosk", "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    listed = [line.split()[0] for line in out.stdout.splitlines()
              if line.startswith("    ") and line.strip()]
    assert listed == ["check", "make", "verify", "keygen", "registrar", "simulate", "run"], out.stdout
    # run comes from kiosk.booth.main itself: not a side effect of the simulator's register()
    import kiosk.cli
    import kiosk.sim.simulator
    assert "kiosk.booth.main" in kiosk.cli.COMMAND_MODULES
    import argparse
    sub = argparse.ArgumentParser().add_subparsers()
    kiosk.sim.simulator.register(sub)
    assert set(sub.choices) == {"simulate"}


def test_make_clean_removes_the_simulators_demo_folder_and_git_ignores_it():
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    if shutil.which("make") is None:
        pytest.skip("no make")
    out = subprocess.run(["make", "-n", "clean"], cwd=root, capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0 and "booth-demo" in out.stdout.split()
    assert "booth-demo/" in (root / ".gitignore").read_text().splitlines()
