"""What the exporter needs to know about a USB stick, and how to remove it safely.

The hardware layer (``hardware.usb.UsbStick.status()``) reports a stick as an object with
``present, mount_point, free_bytes, read_only, fs_type``. :func:`probe` builds the same kind of
object for any folder from the kernel's mount table, so the exporter and its tests work on
plain directories too. :func:`problem_with` turns a status into the bilingual message the screen
shows, or ``None`` when the stick can take photos.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from kiosk.message import Message

log = logging.getLogger(__name__)

# File systems a registrar's stick may carry; names as the kernel's mount table spells them.
ACCEPTED_FS = ("vfat", "msdos", "exfat", "ext4")


class StickStatus(Protocol):
    present: bool
    mount_point: str | None
    free_bytes: int
    read_only: bool
    fs_type: str | None


@dataclass
class ProbedStatus:
    """A stick's status as read from the mount table (same fields as hardware.usb.UsbStatus)."""

    present: bool
    mount_point: str | None
    free_bytes: int
    read_only: bool
    fs_type: str | None


MSG_MISSING = Message("未检测到U盘，照片已安全保存在本机，插入U盘后将自动导出。",
                      "No USB stick found. Photos are kept safely in the booth and are exported "
                      "when a stick is plugged in.")
MSG_READ_ONLY = Message("U盘为只读（写保护），无法导出。照片已保存在本机，请更换U盘。",
                        "The USB stick is read-only (write-protected). Photos are kept in the "
                        "booth; please use another stick.")
MSG_FULL = Message("U盘空间已满，无法导出。照片已保存在本机，请更换U盘或清理空间。",
                   "The USB stick is full. Photos are kept in the booth; please use another "
                   "stick or free some space.")
MSG_REMOVED = Message("写入过程中U盘被拔出。照片已保存在本机，重新插入后将继续导出。",
                      "The USB stick was removed during the export. Photos are kept in the "
                      "booth; the export resumes when the stick is back.")
MSG_IO = Message("U盘读写出错，照片已保存在本机。请更换U盘。",
                 "The USB stick failed to read or write. Photos are kept in the booth; "
                 "please use another stick.")
MSG_MISMATCH = Message("U盘上的文件校验失败，照片已保存在本机。请更换U盘。",
                       "A file on the USB stick did not read back correctly. Photos are kept "
                       "in the booth; please use another stick.")


MSG_LINKS = Message("U盘上的导出文件夹含有链接或特殊文件，已拒绝写入。照片已保存在本机，请更换U盘。",
                    "The USB stick's export folder holds a link or a special file, so nothing "
                    "was written there. Photos are kept in the booth; please use another stick.")


def msg_bad_fs(fs_type: str | None) -> Message:
    return Message(f"U盘格式（{fs_type or '未知'}）不受支持，请使用 FAT32、exFAT 或 ext4 格式的U盘。",
                   f"The USB stick's format ({fs_type or 'unknown'}) is not supported; please "
                   "use a stick formatted FAT32, exFAT or ext4.")


def problem_with(status: StickStatus | None, needed_bytes: int = 0) -> Message | None:
    """The reason this stick cannot take an export now, or ``None`` if it can."""
    if status is None or not status.present or not status.mount_point:
        return MSG_MISSING
    if status.fs_type and status.fs_type.lower() not in ACCEPTED_FS:
        return msg_bad_fs(status.fs_type)
    if not status.fs_type:
        return msg_bad_fs(None)
    if status.read_only:
        return MSG_READ_ONLY
    if needed_bytes and status.free_bytes < needed_bytes:
        return MSG_FULL
    return None


def message_for_oserror(exc: OSError) -> Message:
    """The screen message for an error met while writing to the stick."""
    from kiosk.handoff.export.durable import UnsafeFile
    if isinstance(exc, UnsafeFile):
        return MSG_LINKS
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return MSG_FULL
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return MSG_READ_ONLY
    if exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.ESTALE, errno.ENOTDIR):
        return MSG_REMOVED
    return MSG_IO


def _mount_entry(path: Path) -> tuple[str, str, set[str]] | None:
    """(mount point, fs type, options) of the mount holding ``path``, from /proc/self/mounts."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    best = None
    target = str(path.resolve())
    for line in lines:
        parts = line.split()
        if len(parts) < 4:
            continue
        mp = parts[1].replace("\\040", " ")
        if target == mp or target.startswith(mp.rstrip("/") + "/"):
            if best is None or len(mp) >= len(best[0]):
                best = (mp, parts[2], set(parts[3].split(",")))
    return best


def probe(path: str | os.PathLike) -> ProbedStatus:
    """The status of whatever is mounted at ``path`` (a stick, or any folder in tests)."""
    path = Path(path)
    if not path.is_dir():
        return ProbedStatus(False, None, 0, False, None)
    entry = _mount_entry(path)
    fs_type = entry[1] if entry else None
    try:
        st = os.statvfs(path)
        free = st.f_bavail * st.f_frsize
        read_only = bool(st.f_flag & os.ST_RDONLY)
    except OSError:
        return ProbedStatus(False, None, 0, False, fs_type)
    if entry and "ro" in entry[2]:
        read_only = True
    return ProbedStatus(True, str(path), free, read_only, fs_type)


# --- safe removal ---------------------------------------------------------------------------
def default_unmount(mount_point: str) -> None:
    """Unmount with ``systemd-mount --umount`` (also stops the automount unit), else ``umount``.

    ``systemd-mount`` needs a running systemd; where that fails, plain ``umount`` is tried.
    Raises ``OSError`` with the tool's message when the stick could not be unmounted (busy).
    """
    commands = [["umount", mount_point]]
    if shutil.which("systemd-mount"):
        commands.insert(0, ["systemd-mount", "--umount", mount_point])
    error = "unmount failed"
    for cmd in commands:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            error = str(exc)
            continue
        if done.returncode == 0:
            return
        error = (done.stderr or done.stdout).strip() or error
    raise OSError(errno.EBUSY, error)


# The hardware layer may replace this (e.g. with a udisks call, or the fake stick's own eject).
unmount: Callable[[str], None] = default_unmount

MSG_EJECTED = Message("可以安全拔出U盘了。", "You can now remove the USB stick safely.")
MSG_EJECT_FAILED = Message("U盘无法安全弹出（可能正在使用），请稍后再试。",
                           "The USB stick could not be ejected (it may be busy); please try "
                           "again in a moment.")


def eject(mount_point: str, *, unmount_fn: Callable[[str], None] | None = None) -> Message:
    """Flush everything to the stick and unmount it; returns the message for the screen."""
    os.sync()
    try:
        (unmount_fn or unmount)(mount_point)
    except (OSError, subprocess.SubprocessError) as exc:
        log.error("could not unmount %s: %s", mount_point, exc)
        return MSG_EJECT_FAILED
    log.info("stick at %s flushed and unmounted", mount_point)
    return MSG_EJECTED
