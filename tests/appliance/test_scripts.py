"""The appliance's shell scripts and helpers, run for real (shellcheck, a fake sysfs tree, dry runs)."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIBEXEC = REPO / "systemd/libexec"


def run(*cmd, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, **kw)


def tracked_files() -> list[Path]:
    """Every file git knows in the repository (falls back to a walk outside a git checkout)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True,
                             timeout=60).stdout
        return [REPO / name for name in out.decode().split("\0") if name]
    except (OSError, subprocess.SubprocessError):
        return [p for p in REPO.rglob("*") if ".git" not in p.parts and ".venv" not in p.parts]


def shell_scripts() -> list[Path]:
    """Every shell script of the project, found by its first line (not by a hand-kept list)."""
    found = []
    for path in sorted(tracked_files()):
        if not path.is_file() or not path.stat().st_size or "wheelhouse" in path.parts:
            continue
        with path.open("rb") as f:
            first = f.readline()
        if first.startswith(b"#!") and (b"sh" in first.split(b"/")[-1]):
            found.append(path)
    return found


#: Shell files without a "#!" line: pi-gen *sources* them with bash (build.sh, in its own
#: process), so they are shell code all the same and get the same check.
SOURCED_BY_PI_GEN = ("image-build/pi-gen.config", "image-build/pi-gen.lock",
                     "image-build/stage-kiosk/EXPORT_IMAGE")


def test_there_are_scripts_to_check():
    names = {str(p.relative_to(REPO)) for p in shell_scripts()}
    assert {"image-build/install.sh", "image-build/build-wheelhouse", "image-build/build-image",
            "systemd/libexec/pwm-export", "systemd/libexec/usb-mount", "systemd/libexec/recover",
            "image-build/stage-kiosk/00-kiosk/01-run.sh", "image-build/stage-kiosk/prerun.sh",
            "tools/install-system-packages", ".ci/run"} <= names
    for name in SOURCED_BY_PI_GEN:
        assert (REPO / name).is_file(), name


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(REPO)))
def test_shellcheck(script):
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck missing (Makefile APT_PACKAGES installs it)")
    result = run("shellcheck", "--external-sources", script)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("name", SOURCED_BY_PI_GEN)
def test_shellcheck_files_pi_gen_sources(name):
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck missing (Makefile APT_PACKAGES installs it)")
    # SC2034: the variables are set here for pi-gen, which reads them after sourcing the file
    result = run("shellcheck", "--shell=bash", "--exclude=SC2034", REPO / name)
    assert result.returncode == 0, result.stdout


def test_shellcheck_catches_a_broken_script(tmp_path):
    """The check can fail: an unquoted expansion in a copy of a real script is reported."""
    broken = tmp_path / "usb-mount"
    text = (LIBEXEC / "usb-mount").read_text()
    assert 'exec "${cmd[@]}"' in text
    broken.write_text(text.replace('exec "${cmd[@]}"', "exec ${cmd[@]}"))
    result = run("shellcheck", broken)
    assert result.returncode != 0 and "SC2068" in result.stdout


# --- usb-mount: the mount options per file system ------------------------------------------------

def usb_mount(fs: str, label: str = "", dev: str = "/dev/sdb1", root: Path | None = None,
              kernel: str = "6.6.31+rpt-rpi-v8"):
    me = pwd.getpwuid(os.getuid()).pw_name
    env = {"KIOSK_DRY_RUN": "1", "KIOSK_USB_USER": me, "ID_FS_TYPE": fs, "ID_FS_LABEL": label,
           "KIOSK_KERNEL_RELEASE": kernel}
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
    assert opts == {"noexec", "nosuid", "nodev", "nosymfollow"}


@pytest.mark.parametrize("fs", ["vfat", "exfat", "ext4"])
def test_links_on_the_stick_are_not_followed_where_the_kernel_can(fs):
    assert "nosymfollow" in options_of(usb_mount(fs, kernel="5.10.0-21-arm64"))
    assert "nosymfollow" not in options_of(usb_mount(fs, kernel="5.4.0-150-generic"))


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


def test_usb_mount_asks_systemd_and_logs_to_the_journal(tmp_path):
    """Not a dry run: systemd-mount and logger are stand-ins on PATH that record their
    arguments. udev keeps a RUN program's stderr only in its debug log, so the lines the
    README's troubleshooting points at (journalctl -t kiosk-usb) must go through logger."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("systemd-mount", "logger"):
        stand_in = bin_dir / tool
        stand_in.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path}/{tool}.args"\n')
        stand_in.chmod(0o755)
    me = pwd.getpwuid(os.getuid()).pw_name
    result = run(LIBEXEC / "usb-mount", "/dev/sdb1",
                 env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "KIOSK_USB_USER": me,
                      "ID_FS_TYPE": "vfat", "ID_FS_LABEL": "GRAD", "KIOSK_DRY_RUN": "0"})
    assert result.returncode == 0, result.stderr
    mount_args = (tmp_path / "systemd-mount.args").read_text().splitlines()
    assert mount_args[-2:] == ["/dev/sdb1", "/media/kiosk/GRAD"] and "--no-block" in mount_args
    log_args = (tmp_path / "logger.args").read_text().splitlines()
    assert log_args[:3] == ["-t", "kiosk-usb", "--"]
    assert "mounting /dev/sdb1 (vfat) on /media/kiosk/GRAD" in log_args[3]


def test_unsupported_file_system_is_left_alone():
    result = usb_mount("ntfs", "WIN")
    assert result.returncode == 0 and result.stdout == ""
    assert "not supported" in result.stderr


# --- pwm-export against a fake /sys tree ----------------------------------------------------------

def fake_sysfs(tmp_path: Path, block: str = "fe20c000.pwm", class_dir: str = "pwm") -> Path:
    """A /sys/class/pwm with the fan's chip (ignored) and the lights' chip, channels pre-created
    (the real kernel creates them on export; here export is only a file)."""
    sysfs = tmp_path / "sys"
    for n, dev in (("pwmchip0", "1f0009c000.pwm"), ("pwmchip2", block)):
        device = sysfs / "devices/platform" / dev
        device.mkdir(parents=True)
        chip = sysfs / "class" / class_dir / n
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
    t0 = time.monotonic()
    result = run(LIBEXEC / "pwm-export", env={"KIOSK_SYSFS": str(sysfs), "KIOSK_PWM_WAIT_S": "1",
                                             "RUNTIME_DIRECTORY": str(tmp_path / "run")})
    assert result.returncode == 1
    assert "dtoverlay=pwm-2chan" in result.stderr
    assert time.monotonic() - t0 >= 1.0          # it waited for a late driver before giving up


def test_pwm_export_waits_for_a_chip_that_appears_late(tmp_path):
    """At boot the PWM driver (a module udev loads) may come after kiosk-pwm.service starts."""
    sysfs = tmp_path / "sys"
    (sysfs / "class").mkdir(parents=True)
    group = grp.getgrgid(os.getgid()).gr_name

    def driver_loads():
        time.sleep(0.8)
        fake_sysfs(tmp_path, class_dir="pwm.loading")       # built aside, then shown at once
        (sysfs / "class/pwm.loading").rename(sysfs / "class/pwm")

    loader = threading.Thread(target=driver_loads)
    loader.start()
    # the wait is a cap only (the chip shows after 0.8 s): generous for a busy machine
    result = run(LIBEXEC / "pwm-export", env={"KIOSK_SYSFS": str(sysfs), "KIOSK_PWM_WAIT_S": "100",
                                             "RUNTIME_DIRECTORY": str(tmp_path / "run"),
                                             "KIOSK_PWM_GROUP": group})
    loader.join()
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run/chip").resolve() == (sysfs / "class/pwm/pwmchip2").resolve()
    assert (sysfs / "class/pwm/pwmchip2/pwm1/enable").read_text().strip() == "1"


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


# --- the image build runs THE install script ----------------------------------------------------------

def test_pi_gen_stage_runs_the_same_install_script(tmp_path):
    """pi-gen runs 00-kiosk/01-run.sh on the build host with ROOTFS_DIR set and its on_chroot
    function exported; here on_chroot is a stand-in (an exported bash function, as pi-gen's
    scripts/common does it) that records the command it is fed and what the root holds then."""
    rootfs = tmp_path / "rootfs"
    (rootfs / "tmp").mkdir(parents=True)
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    (wheelhouse / "grad_photo_booth-0.1.0-py3-none-any.whl").write_bytes(b"PK")
    fed, seen = tmp_path / "on_chroot.stdin", tmp_path / "on_chroot.files"
    copy = tmp_path / "install.sh.in-image"
    stand_in = ('() { cat > "$FED"; (cd "$ROOTFS_DIR/tmp/kiosk-src" && find . -type f | sort) > "$SEEN"; '
                'cp "$ROOTFS_DIR/tmp/kiosk-src/image-build/install.sh" "$COPY"; }')
    stage = REPO / "image-build/stage-kiosk/00-kiosk"
    result = run("./01-run.sh", cwd=stage,
                 env={"ROOTFS_DIR": str(rootfs), "KIOSK_WHEELHOUSE": str(wheelhouse),
                      "FED": str(fed), "SEEN": str(seen), "COPY": str(copy),
                      "BASH_FUNC_on_chroot%%": stand_in})
    assert result.returncode == 0, result.stderr
    assert fed.read_text().split() == ["/tmp/kiosk-src/image-build/install.sh", "--apt", "none",
                                       "--wheelhouse", "/tmp/kiosk-src/wheelhouse"]
    files = seen.read_text().splitlines()
    for needed in ("./image-build/install.sh", "./image-build/kiosk.toml", "./image-build/kiosk.example.toml",
                   "./image-build/stage-kiosk/00-kiosk/00-packages-nr",   # install.sh's apt list
                   "./systemd/kiosk.service", "./systemd/libexec/usb-mount",
                   "./requirements/runtime.txt",
                   "./wheelhouse/grad_photo_booth-0.1.0-py3-none-any.whl"):
        assert needed in files, needed
    assert not any(f.startswith("./image-build/work/") for f in files)
    assert copy.read_bytes() == (REPO / "image-build/install.sh").read_bytes()   # the very script
    assert not (rootfs / "tmp/kiosk-src").exists()           # nothing of the build left in the image
    # the packages pi-gen installs for the stage are the list install.sh installs on a running Pi
    assert '"$src/image-build/stage-kiosk/00-kiosk/00-packages-nr"' in (REPO / "image-build/install.sh").read_text()


def test_pi_gen_stage_refuses_to_build_without_a_wheelhouse(tmp_path):
    result = run("./01-run.sh", cwd=REPO / "image-build/stage-kiosk/00-kiosk",
                 env={"ROOTFS_DIR": str(tmp_path), "KIOSK_WHEELHOUSE": str(tmp_path / "none")})
    assert result.returncode != 0 and "no wheelhouse" in result.stderr
