"""The appliance's shell scripts and helpers, run for real (shellcheck, a fake sysfs tree, dry runs)."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIBEXEC = REPO / "systemd/libexec"


def run(*cmd, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, **kw)


def shell_scripts() -> list[Path]:
    """Every shell script of the appliance, found by its first line (not by a hand-kept list)."""
    found = []
    for folder in ("image-build", "systemd", "tools"):
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and path.stat().st_size and "wheelhouse" not in path.parts:
                with path.open("rb") as f:
                    first = f.readline()
                if first.startswith(b"#!") and (b"sh" in first.split(b"/")[-1]):
                    found.append(path)
    return found


def test_there_are_scripts_to_check():
    names = {p.name for p in shell_scripts()}
    assert {"install.sh", "build-wheelhouse", "build-image", "pwm-export", "usb-mount", "recover",
            "01-run.sh"} <= names


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(REPO)))
def test_shellcheck(script):
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck missing (Makefile APT_PACKAGES installs it)")
    result = run("shellcheck", "--external-sources", script)
    assert result.returncode == 0, result.stdout


# --- usb-mount: the mount options per file system ------------------------------------------------

def usb_mount(fs: str, label: str = "", dev: str = "/dev/sdb1", root: Path | None = None):
    me = pwd.getpwuid(os.getuid()).pw_name
    env = {"KIOSK_DRY_RUN": "1", "KIOSK_USB_USER": me, "ID_FS_TYPE": fs, "ID_FS_LABEL": label}
    if root is not None:
        env["KIOSK_USB_ROOT"] = str(root)
    return run(LIBEXEC / "usb-mount", dev, env=env)


def options_of(result) -> set[str]:
    line = next(w for w in result.stdout.splitlines() if w.startswith("--options="))
    return set(line.removeprefix("--options=").split(","))


def test_fat_stick_belongs_to_the_booth_and_cannot_run_anything():
    result = usb_mount("vfat", "REGISTRAR")
    assert result.returncode == 0, result.stderr
    opts = options_of(result)
    assert {"noexec", "nosuid", "nodev", "flush", "umask=0022", f"uid={os.getuid()}",
            f"gid={os.getgid()}"} <= opts
    words = result.stdout.splitlines()
    assert words[0] == "systemd-mount" and "--no-block" in words and "--collect" in words
    assert words[-2:] == ["/dev/sdb1", "/media/kiosk/REGISTRAR"]


def test_exfat_gets_owner_but_no_fat_only_options():
    opts = options_of(usb_mount("exfat", "BIG"))
    assert {"noexec", "nosuid", "nodev", f"uid={os.getuid()}"} <= opts
    assert "flush" not in opts     # the kernel's exfat driver refuses options it does not know


def test_ext4_keeps_its_own_owners():
    opts = options_of(usb_mount("ext4", "LINUX"))
    assert opts == {"noexec", "nosuid", "nodev"}


@pytest.mark.parametrize("label, name", [
    ("../../etc", "sdc1"),            # never a path from the stick
    ("毕业照", "sdc1"),                 # not a plain name: the kernel's name instead
    ("", "sdc1"),
    ("A" * 40, "sdc1"),
    ("GRAD_2026", "GRAD_2026"),
])
def test_mount_point_name_is_always_safe(label, name):
    result = usb_mount("vfat", label, dev="/dev/sdc1")
    assert result.stdout.splitlines()[-1] == f"/media/kiosk/{name}"


def test_unsupported_file_system_is_left_alone():
    result = usb_mount("ntfs", "WIN")
    assert result.returncode == 0 and result.stdout == ""
    assert "not supported" in result.stderr


# --- pwm-export against a fake /sys tree ----------------------------------------------------------

def fake_sysfs(tmp_path: Path, block: str = "fe20c000.pwm") -> Path:
    """A /sys/class/pwm with the fan's chip (ignored) and the lights' chip, channels pre-created
    (the real kernel creates them on export; here export is only a file)."""
    sysfs = tmp_path / "sys"
    for n, dev in (("pwmchip0", "1f0009c000.pwm"), ("pwmchip2", block)):
        device = sysfs / "devices/platform" / dev
        device.mkdir(parents=True)
        chip = sysfs / "class/pwm" / n
        chip.mkdir(parents=True)
        (chip / "device").symlink_to(device)
        (chip / "npwm").write_text("4\n" if "1f" in dev else "2\n")
        (chip / "export").write_text("")
        for ch in (0, 1):
            pwm = chip / f"pwm{ch}"
            pwm.mkdir()
            for name, value in (("period", "0"), ("duty_cycle", "0"), ("enable", "0")):
                (pwm / name).write_text(value + "\n")
    return sysfs


@pytest.mark.parametrize("block", ["fe20c000.pwm", "1f00098000.pwm"])   # Pi 4, Pi 5
def test_pwm_export_prepares_both_channels(tmp_path, block):
    sysfs = fake_sysfs(tmp_path, block)
    group = grp.getgrgid(os.getgid()).gr_name
    run_dir = tmp_path / "run"
    result = run(LIBEXEC / "pwm-export", env={"KIOSK_SYSFS": str(sysfs), "RUNTIME_DIRECTORY": str(run_dir),
                                             "KIOSK_PWM_GROUP": group, "KIOSK_PWM_HZ": "20000"})
    assert result.returncode == 0, result.stderr
    chip = sysfs / "class/pwm/pwmchip2"
    assert (run_dir / "chip").resolve() == chip.resolve()
    for ch in (0, 1):
        pwm = chip / f"pwm{ch}"
        assert (pwm / "period").read_text().strip() == "50000"     # 20 kHz
        assert (pwm / "duty_cycle").read_text().strip() == "0"     # lights off until the app says
        assert (pwm / "enable").read_text().strip() == "1"
        assert (pwm / "duty_cycle").stat().st_mode & 0o020         # group may write
    assert "pwmchip2" in result.stderr


def test_pwm_export_explains_a_missing_overlay(tmp_path):
    sysfs = tmp_path / "sys"
    (sysfs / "class/pwm").mkdir(parents=True)
    result = run(LIBEXEC / "pwm-export", env={"KIOSK_SYSFS": str(sysfs),
                                             "RUNTIME_DIRECTORY": str(tmp_path / "run")})
    assert result.returncode == 1
    assert "dtoverlay=pwm-2chan" in result.stderr


# --- polkit rule, evaluated by a real JavaScript engine --------------------------------------------

POLKIT_HARNESS = """
const fs = require("fs");
let rule = null;
const polkit = {Result: {YES: "yes", NO: "no", NOT_HANDLED: "not_handled"},
                addRule: (f) => { rule = f; }};
new Function("polkit", fs.readFileSync(process.argv[2], "utf8"))(polkit);
const cases = JSON.parse(process.argv[3]);
console.log(JSON.stringify(cases.map(([user, id, details]) =>
    rule({id, lookup: (k) => details[k]}, {user}))));
"""


def test_polkit_rule_allows_only_what_the_booth_needs(tmp_path):
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("no JavaScript engine (node) to evaluate the polkit rule")
    harness = tmp_path / "harness.js"
    harness.write_text(POLKIT_HARNESS)
    cases = [
        ["kiosk", "org.freedesktop.login1.reboot", {}],
        ["kiosk", "org.freedesktop.login1.power-off", {}],
        ["kiosk", "org.freedesktop.systemd1.manage-units", {"unit": "media-kiosk-GRAD.mount", "verb": "stop"}],
        ["kiosk", "org.freedesktop.systemd1.manage-units", {"unit": "media-kiosk-GRAD.mount", "verb": "start"}],
        ["kiosk", "org.freedesktop.systemd1.manage-units", {"unit": "ssh.service", "verb": "stop"}],
        ["kiosk", "org.freedesktop.systemd1.manage-units", {"unit": "media-kiosk-x.mount.d/evil", "verb": "stop"}],
        ["pi", "org.freedesktop.login1.reboot", {}],
        ["kiosk", "org.freedesktop.packagekit.package-install", {}],
    ]
    result = run(node, harness, REPO / "systemd/50-kiosk.rules", json.dumps(cases))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["yes", "yes", "yes", "not_handled", "not_handled",
                                         "not_handled", "not_handled", "not_handled"]


# --- recover: reboot, but not forever ----------------------------------------------------------------

def recover(tmp_path, now: int):
    calls = tmp_path / "systemctl.log"
    fake = tmp_path / "systemctl"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    fake.chmod(0o755)
    result = run(LIBEXEC / "recover", env={"STATE_DIRECTORY": str(tmp_path / "state"),
                                          "KIOSK_SYSTEMCTL": str(fake), "KIOSK_NOW": str(now),
                                          "KIOSK_RETRY_S": "0"})
    assert result.returncode == 0, result.stderr
    lines = calls.read_text().splitlines() if calls.exists() else []
    calls.unlink(missing_ok=True)
    return lines, result.stderr


def test_recover_reboots_twice_an_hour_then_retries_instead(tmp_path):
    t0 = 1_800_000_000
    assert recover(tmp_path, t0)[0] == ["--no-block reboot"]
    assert recover(tmp_path, t0 + 600)[0] == ["--no-block reboot"]
    calls, log = recover(tmp_path, t0 + 1200)            # third failure within the hour
    assert calls == ["reset-failed kiosk.service", "--no-block start kiosk.service"]
    assert "not rebooting again" in log
    # an hour after the first reboot, a reboot is allowed again
    assert recover(tmp_path, t0 + 3601)[0] == ["--no-block reboot"]


def test_recover_survives_a_damaged_state_file(tmp_path):
    (tmp_path / "state").mkdir()
    (tmp_path / "state/reboots").write_text("garbage\n\x00\n12x\n")
    assert recover(tmp_path, 1_800_000_000)[0] == ["--no-block reboot"]
