"""What the exporter needs to know about a USB stick: can it take photos now, and the
bilingual message when it cannot.

The stick itself is the hardware layer's (the device boundary, and the only implementation of
stick status and eject): ``hardware.usb.UsbStick.status()`` reports a `UsbStatus` with
``present, mount_point, free_bytes, read_only, fs_type``, and :func:`probe`
(``hardware.usb.probe``) builds the same for any folder from the kernel's mount table, so the
exporter and its tests work on plain directories too. :func:`problem_with` turns a status into
the bilingual message the screen shows, or ``None`` when the stick can take photos.
"""

from __future__ import annotations

import errno
from typing import Protocol

from hardware.usb import UsbStatus, probe
from kiosk.message import Message

__all__ = ["ACCEPTED_FS", "ProbedStatus", "StickStatus", "UsbStatus", "message_for_oserror",
           "msg_bad_fs", "probe", "problem_with"]

# File systems a registrar's stick may carry; names as the kernel's mount table spells them.
ACCEPTED_FS = ("vfat", "msdos", "exfat", "ext4")


class StickStatus(Protocol):
    """The fields of a stick's status the exporter reads (hardware.usb.UsbStatus has them)."""
    @property
    def present(self) -> bool: ...
    @property
    def mount_point(self) -> str | None: ...
    @property
    def free_bytes(self) -> int: ...
    @property
    def read_only(self) -> bool: ...
    @property
    def fs_type(self) -> str | None: ...


#: A status built by hand (tests, the crash worker): the hardware layer's own class.
ProbedStatus = UsbStatus


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
