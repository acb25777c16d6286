"""The appliance's units, rules and scripts, checked by the tools systemd and udev check them with.

Every unit is installed by the real install script into a scratch root file system (the same
layout as on the Pi) and verified there with ``systemd-analyze verify --root``: the commands the
units name must exist, every key must be known, every value must parse. A mutated unit must fail
the same check, so the check is shown to be able to fail.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "image-build/install.sh"
UNITS = ("kiosk.service", "kiosk-pwm.service", "kiosk-recover.service")
ENABLED = ("kiosk.service", "kiosk-pwm.service")   # kiosk-recover runs only on failure

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="install.sh and unshare need root")


def run(*cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, **kw)


def installed_root(root: Path) -> Path:
    """A scratch root: the host's stock units (targets, getty) plus what install.sh puts there."""
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "lib").symlink_to("usr/lib")
    boot = root / "boot/firmware"
    boot.mkdir(parents=True)
    (boot / "config.txt").write_text("dtparam=audio=on\ncamera_auto_detect=1\ndtoverlay=vc4-kms-v3d\n")
    (boot / "cmdline.txt").write_text("console=tty1 root=PARTUUID=x rootfstype=ext4 rootwait quiet\n")
    result = run(INSTALL, "--root", root)
    assert result.returncode == 0, result.stdout + result.stderr
    # the venv is not made in --root mode (that needs the image's own python): stand in for
    # the console script so verify can check that ExecStart names an executable
    app = root / "opt/kiosk/venv/bin/kiosk"
    app.parent.mkdir(parents=True)
    app.write_text("#!/bin/sh\nexit 0\n")
    app.chmod(0o755)
    return root


@pytest.fixture
def root(tmp_path) -> Path:
    return installed_root(tmp_path / "root")


def verify(root: Path, *units: str) -> subprocess.CompletedProcess:
    return run("systemd-analyze", "verify", "--root", root, *units, cwd=root)


def unit_settings(path: Path) -> dict[str, list[str]]:
    """Key -> every value it is given (systemd units repeat keys such as DeviceAllow=)."""
    settings: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


# --- install.sh --root: the layout on the Pi ---------------------------------------------------

@needs_root
def test_install_puts_everything_in_place(root):
    etc = root / "etc"
    for unit in UNITS:
        assert (etc / "systemd/system" / unit).is_file()
    for unit in ENABLED:
        link = etc / "systemd/system/multi-user.target.wants" / unit
        assert link.is_symlink(), f"{unit} not enabled"
    assert (etc / "udev/rules.d/80-kiosk-usb.rules").is_file()
    assert (etc / "tmpfiles.d/kiosk.conf").is_file()
    for helper in ("pwm-export", "usb-mount", "recover"):
        mode = (root / "usr/local/libexec/kiosk" / helper).stat().st_mode
        assert mode & stat.S_IXUSR
    toml = etc / "kiosk/kiosk.toml"
    assert oct(toml.stat().st_mode & 0o777) == "0o640"
    example = etc / "kiosk/kiosk.example.toml"               # every setting, its range and meaning
    assert oct(example.stat().st_mode & 0o777) == "0o644" and "[devices]" in example.read_text()
    assert not (etc / "systemd/system/getty.target.wants/getty@tty1.service").exists()
    assert (etc / "polkit-1/rules.d/50-kiosk.rules").is_file()


@needs_root
def test_install_edits_boot_files_once(root):
    config = (root / "boot/firmware/config.txt").read_text()
    assert "#camera_auto_detect=1" in config
    block = config[config.index("photo booth"):]
    for line in ("camera_auto_detect=0", "dtoverlay=imx477",
                 "dtoverlay=pwm-2chan,pin=12,func=4,pin2=13,func2=4"):
        assert line in block.splitlines()
    cmdline = (root / "boot/firmware/cmdline.txt").read_text()
    words = cmdline.split()
    assert cmdline.count("\n") == 1 and words[0] == "console=tty1"
    for word in ("quiet", "consoleblank=0", "vt.global_cursor_default=0", "logo.nologo"):
        assert words.count(word) == 1
    # an update runs the same script again: nothing doubles, the site's config is kept
    (root / "etc/kiosk/kiosk.toml").write_text('[booth]\nbooth_id = "hall-2"\n')
    again = run(INSTALL, "--root", root)
    assert again.returncode == 0, again.stderr
    assert (root / "boot/firmware/config.txt").read_text() == config
    assert (root / "boot/firmware/cmdline.txt").read_text() == cmdline
    assert "hall-2" in (root / "etc/kiosk/kiosk.toml").read_text()


def test_install_refuses_unknown_options():
    result = run(INSTALL, "--frobnicate")
    assert result.returncode != 0 and "unknown option" in result.stderr + result.stdout


# --- systemd-analyze verify ----------------------------------------------------------------------

def test_every_unit_in_the_repository_is_verified_and_installed():
    """A unit added to systemd/ cannot slip past verify (UNITS) or the install script."""
    in_repo = {p.name for p in (REPO / "systemd").iterdir()
               if p.suffix in (".service", ".timer", ".path", ".socket", ".mount", ".target")}
    assert in_repo == set(UNITS)
    install = INSTALL.read_text()
    for unit in in_repo:
        assert f'"$src/systemd/{unit}"' in install, f"install.sh does not install {unit}"


@needs_root
def test_units_verify_clean(root):
    result = verify(root, *UNITS)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


@needs_root
@pytest.mark.parametrize("change, complaint", [
    (("WatchdogSec=30s", "WatchdogSecs=30s"), "Unknown key"),
    (("DeviceAllow=char-drm rw", "DeviceAllow=char-drm rwx"), "Invalid device rights"),
    (("Restart=always", "Restart=sometimes"), "Failed to parse"),
])
def test_verify_catches_a_broken_unit(root, change, complaint):
    unit = root / "etc/systemd/system/kiosk.service"
    text = unit.read_text()
    assert change[0] in text
    unit.write_text(text.replace(change[0], change[1]))
    result = verify(root, "kiosk.service")
    assert complaint in result.stderr


@needs_root
@pytest.mark.parametrize("unit, helper", [("kiosk-pwm.service", "pwm-export"),
                                          ("kiosk-recover.service", "recover")])
def test_verify_checks_the_root_oneshots_too(root, unit, helper):
    """The other two units are verified as strictly: a bad value and a missing helper show."""
    path = root / "etc/systemd/system" / unit
    text = path.read_text()
    path.write_text(text.replace("Type=oneshot", "Type=oneshotx"))
    assert "Failed to parse service type" in verify(root, unit).stderr
    path.write_text(text)
    assert verify(root, unit).stderr.strip() == ""
    (root / "usr/local/libexec/kiosk" / helper).unlink()
    result = verify(root, unit)
    assert result.returncode != 0 and f"/usr/local/libexec/kiosk/{helper}" in result.stderr


@needs_root
def test_verify_catches_a_missing_program(root):
    (root / "opt/kiosk/venv/bin/kiosk").unlink()
    result = verify(root, "kiosk.service")
    assert result.returncode != 0 and "/opt/kiosk/venv/bin/kiosk" in result.stderr


@needs_root
def test_security_exposure_is_low(root):
    """systemd's own review of the sandbox (lower is better, 10 = unprotected)."""
    result = run("systemd-analyze", "security", "--offline=yes", "--root", root, "kiosk.service",
                 cwd=root)
    match = re.search(r"Overall exposure level for kiosk\.service: ([\d.]+)", result.stdout)
    assert match, result.stdout[-2000:] + result.stderr
    exposure = float(match.group(1))
    print(f"kiosk.service exposure: {exposure}")
    assert exposure <= 2.5


def test_service_is_watched_restarted_and_escalates():
    s = unit_settings(REPO / "systemd/kiosk.service")
    assert s["Type"] == ["notify"] and s["NotifyAccess"] == ["main"]
    assert s["WatchdogSec"] and s["Restart"] == ["always"]
    assert s["OnFailure"] == ["kiosk-recover.service"] and int(s["StartLimitBurst"][0]) >= 3
    assert "StartLimitAction" not in s          # the bounded escalation is kiosk-recover's
    assert s["ExecStart"] == ["/opt/kiosk/venv/bin/kiosk run"]
    assert s["User"] == ["kiosk"] and s["WorkingDirectory"] == ["/var/lib/kiosk"]
    assert s["StateDirectory"] == ["kiosk"] and s["ConfigurationDirectory"] == ["kiosk"]
    groups = set(s["SupplementaryGroups"][0].split())
    assert {"video", "render", "input", "gpio", "plugdev"} <= groups
    assert "SDL_VIDEODRIVER=kmsdrm" in s["Environment"]
    # the sandbox must leave the booth's devices and the PWM sysfs files reachable
    allowed = {v.split()[0] for v in s["DeviceAllow"]}
    assert {"char-drm", "char-input", "char-video4linux", "char-media", "char-dma_heap",
            "char-gpiochip"} <= allowed
    assert s["PrivateDevices"] == ["no"] and s["ProtectKernelTunables"] == ["no"]
    assert s["ProtectSystem"] == ["strict"] and "-/media/kiosk" in s["ReadWritePaths"]


def test_the_usb_mount_root_is_the_same_everywhere():
    """Where sticks go is named in six places; they must agree, or the booth would look for a
    stick where none is mounted, or be refused write access where one is."""
    from hardware.usb import MountedUsbStick
    from kiosk.config import Config

    root = Config().export.usb_mount_root
    assert root == "/media/kiosk" and MountedUsbStick().mount_root == root
    assert f"-{root}" in unit_settings(REPO / "systemd/kiosk.service")["ReadWritePaths"]
    assert f"d {root} " in (REPO / "systemd/kiosk-tmpfiles.conf").read_text()
    assert f"root=${{KIOSK_USB_ROOT:-{root}}}" in (REPO / "systemd/libexec/usb-mount").read_text()
    # systemd names the mount unit of /media/kiosk/X "media-kiosk-X.mount": polkit's eject rule
    unit_prefix = root.strip("/").replace("/", "-")
    assert f"/^{unit_prefix}-[^\\/]+\\.mount$/" in (REPO / "systemd/50-kiosk.rules").read_text()


# --- tmpfiles and udev ---------------------------------------------------------------------------

def test_tmpfiles_creates_the_usb_mount_root(tmp_path):
    result = run("systemd-tmpfiles", "--root", tmp_path, "--create", REPO / "systemd/kiosk-tmpfiles.conf")
    assert result.returncode == 0, result.stderr
    media = tmp_path / "media/kiosk"
    assert media.is_dir() and oct(media.stat().st_mode & 0o777) == "0o755"


def _udev_parse(rules_dir: Path) -> str:
    """Let udevadm read the given rules next to the system's (``udevadm verify`` arrives only in
    systemd 254; Bookworm has 252): a private mount namespace with a scratch /run, so
    nothing on this machine changes. Returns udevadm's log."""
    if shutil.which("udevadm") is None:
        pytest.fail("udevadm missing: install the Debian package udev (Makefile APT_PACKAGES)")
    block = next(iter(sorted(Path("/sys/class/block").iterdir())), None)
    assert block is not None, "no block device to run the rules against"
    # a scratch tmpfs over the whole /run: /run/udev exists only where udevd has run
    script = ('set -e; mount -t tmpfs tmpfs /run; mkdir -p /run/udev/rules.d; '
              'cp "$RULES"/*.rules /run/udev/rules.d/; '
              'exec udevadm test --action=add "$DEV" 2>&1')
    result = run("unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                 env={**os.environ, "RULES": str(rules_dir), "DEV": str(block)})
    if result.returncode != 0 and "unshare" in result.stdout + result.stderr:
        pytest.skip(f"no mount namespace here: {result.stderr.strip()}")
    return result.stdout + result.stderr


@needs_root
def test_udev_rule_parses(tmp_path):
    shutil.copy(REPO / "systemd/80-kiosk-usb.rules", tmp_path)
    out = _udev_parse(tmp_path)
    assert "Reading rules file: /run/udev/rules.d/80-kiosk-usb.rules" in out
    complaints = [line for line in out.splitlines() if "80-kiosk-usb.rules:" in line]
    assert complaints == []


@needs_root
def test_udev_parse_catches_a_broken_rule(tmp_path):
    text = (REPO / "systemd/80-kiosk-usb.rules").read_text()
    (tmp_path / "80-kiosk-usb.rules").write_text(text.replace("SUBSYSTEMS==", "SUBSYSTEMZ=="))
    out = _udev_parse(tmp_path)
    assert "80-kiosk-usb.rules:" in out and "Invalid key" in out
