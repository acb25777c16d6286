"""The install script inside a real Debian Bookworm arm64 root, under qemu-user-static.

Opt-in (KIOSK_QEMU_TEST=1), slow (~15–30 min on two cores), needs root, debootstrap,
qemu-user-static with binfmt registered, and the Debian and Python package registries.
It proves on this machine what can be proven without a Pi: the wheelhouse is complete for
aarch64/cp311, install.sh runs in the image's root exactly as pi-gen runs it (chroot), the units
verify there against the real user and binary, and the installed app imports and runs its
mediapipe models on a real photograph. What it cannot prove: the Raspberry Pi archive's
packages (picamera2, libcamera, rpicam-apps) — plain Debian does not have them, and the
install runs with --apt available, which says which ones it skipped.

KIOSK_QEMU_ROOTFS_CACHE=/path/rootfs.tar reuses (or writes) a debootstrapped root between runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INCLUDE = "systemd,python3,python3-venv,ca-certificates"

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.slow,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(os.environ.get("KIOSK_QEMU_TEST") != "1",
                       reason="opt-in: KIOSK_QEMU_TEST=1 (root, debootstrap, qemu-user-static)"),
]

CHROOT_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
              "LANG": "C.UTF-8", "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive"}


def in_root(root: Path, *cmd: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run a command chrooted into ``root`` with /proc, /dev and /sys mounted in a private mount
    namespace (gone when the command ends: nothing to clean up, nothing left mounted)."""
    script = ('set -e; mount -t proc proc "$R/proc"; mount --rbind /dev "$R/dev"; '
              'mount --rbind /sys "$R/sys"; exec chroot "$R" "$@"')
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                           "sh", *cmd], env={**CHROOT_ENV, "R": str(root)},
                          capture_output=True, text=True, timeout=timeout)


def _require_tools() -> None:
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root (debootstrap, chroot)")
    for tool in ("debootstrap", "unshare", "chroot"):
        if shutil.which(tool) is None:
            problems.append(f"{tool} missing (apt-get install debootstrap util-linux coreutils)")
    binfmt = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
    if not binfmt.exists() or "enabled" not in binfmt.read_text():
        problems.append("qemu-aarch64 binfmt not registered (apt-get install qemu-user-static "
                        "binfmt-support; update-binfmts --enable qemu-aarch64)")
    if problems:
        pytest.fail("KIOSK_QEMU_TEST=1 but: " + "; ".join(problems))


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory) -> Path:
    _require_tools()
    root = tmp_path_factory.mktemp("arm64") / "rootfs"
    cache = os.environ.get("KIOSK_QEMU_ROOTFS_CACHE")
    if cache and Path(cache).is_file():
        root.mkdir()
        with tarfile.open(cache) as tar:
            tar.extractall(root, filter="fully_trusted")
    else:
        subprocess.run(["debootstrap", "--arch=arm64", "--variant=minbase", f"--include={INCLUDE}",
                        "bookworm", str(root), "http://deb.debian.org/debian"],
                       check=True, capture_output=True, timeout=3000)
        if cache:
            with tarfile.open(cache, "w") as tar:
                tar.add(root, arcname=".")
    # as pi-gen does: services installed by apt must not start inside the build root
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    return root


@pytest.fixture(scope="module")
def installed(rootfs: Path, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """Copy the project and a fresh wheelhouse into the root as pi-gen's stage does, run install.sh."""
    wheelhouse = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run([str(REPO / "image-build/build-wheelhouse"), str(wheelhouse)], check=True,
                   capture_output=True, timeout=1800)
    src = rootfs / "tmp/kiosk-src"
    for part in ("systemd", "image-build", "requirements"):
        shutil.copytree(REPO / part, src / part, dirs_exist_ok=True)
    shutil.copytree(wheelhouse, src / "wheelhouse", dirs_exist_ok=True)
    boot = rootfs / "boot/firmware"
    boot.mkdir(parents=True, exist_ok=True)
    # what pi-gen's stage1 leaves there (abridged): the booth's block must follow it
    (boot / "config.txt").write_text("dtparam=audio=on\ncamera_auto_detect=1\n"
                                     "display_auto_detect=1\ndtoverlay=vc4-kms-v3d\n")
    (boot / "cmdline.txt").write_text("console=serial0,115200 console=tty1 root=PARTUUID=x "
                                      "rootfstype=ext4 fsck.repair=yes rootwait\n")
    result = in_root(rootfs, "/tmp/kiosk-src/image-build/install.sh", "--apt", "available",
                     "--wheelhouse", "/tmp/kiosk-src/wheelhouse", timeout=3000)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for line in result.stdout.splitlines():      # what plain Debian could not provide
        if "skipped" in line or line.startswith("install: app installed"):
            print(line)
    return rootfs, result


def test_user_units_and_boot_config(installed):
    root, result = installed
    passwd = (root / "etc/passwd").read_text()
    assert any(line.startswith("kiosk:") and line.endswith(":/usr/sbin/nologin")
               for line in passwd.splitlines())
    groups = in_root(root, "id", "-nG", "kiosk").stdout.split()
    assert {"video", "render", "input", "gpio", "plugdev"} <= set(groups)
    wants = root / "etc/systemd/system/multi-user.target.wants"
    assert (wants / "kiosk.service").is_symlink() and (wants / "kiosk-pwm.service").is_symlink()
    config = (root / "boot/firmware/config.txt").read_text()
    assert "dtoverlay=imx477" in config and "dtoverlay=pwm-2chan,pin=12,func=4,pin2=13,func2=4" in config
    assert config.rindex("camera_auto_detect=0") > config.index("camera_auto_detect")
    cmdline = (root / "boot/firmware/cmdline.txt").read_text()
    assert cmdline.count("\n") == 1 and "consoleblank=0" in cmdline and "logo.nologo" in cmdline
    assert (root / "etc/polkit-1/rules.d/50-kiosk.rules").is_file()
    assert (root / "etc/udev/rules.d/80-kiosk-usb.rules").is_file()
    etc_kiosk = (root / "etc/kiosk").stat()
    assert oct(etc_kiosk.st_mode & 0o777) == "0o755" and etc_kiosk.st_uid == 0
    toml = (root / "etc/kiosk/kiosk.toml").stat()
    kiosk_gid = int(in_root(root, "id", "-g", "kiosk").stdout)
    assert oct(toml.st_mode & 0o777) == "0o640" and (toml.st_uid, toml.st_gid) == (0, kiosk_gid)


def test_units_verify_inside_the_image(installed):
    root, _ = installed
    result = in_root(root, "systemd-analyze", "verify", "/etc/systemd/system/kiosk.service",
                     "/etc/systemd/system/kiosk-pwm.service",
                     "/etc/systemd/system/kiosk-recover.service", timeout=600)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_app_and_models_run_inside_the_image(installed, hopper_path):
    root, _ = installed
    shutil.copy(hopper_path, root / "tmp/hopper.jpg")
    shutil.copy(Path(__file__).with_name("inside_image.py"), root / "tmp/inside_image.py")
    result = in_root(root, "/opt/kiosk/venv/bin/python", "/tmp/inside_image.py", "/tmp/hopper.jpg",
                     timeout=1800)
    assert result.returncode == 0, result.stderr[-4000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    print("inside the arm64 image:", out)
    assert out["machine"] == "aarch64" and out["python"].startswith("3.11")
    assert out["prefix"] == "/opt/kiosk/venv"
    assert out["face_found"] and out["people_count"] == 1
    assert out["mediapipe"] == "0.10.18"
    assert out["cjk_glyph_width"] > 20
    assert out["systemd.daemon"].startswith("/usr/lib/python3/dist-packages")   # from apt


def test_install_is_idempotent(installed):
    root, _ = installed
    again = in_root(root, "/tmp/kiosk-src/image-build/install.sh", "--apt", "none",
                    "--wheelhouse", "/tmp/kiosk-src/wheelhouse", timeout=1800)
    assert again.returncode == 0, again.stderr[-4000:]
    config = (root / "boot/firmware/config.txt").read_text()
    assert config.splitlines().count("dtoverlay=imx477") == 1
    assert config.count("photo booth (image-build/install.sh)") == 1
    cmdline = (root / "boot/firmware/cmdline.txt").read_text()
    assert cmdline.split().count("quiet") == 1
    assert (root / "etc/passwd").read_text().count("\nkiosk:") == 1
