"""The registrar's USB stick: is one there, where is it mounted, how much room, can we write.

The booth does not mount sticks itself: the appliance's udev rule and ``systemd-mount`` put a
stick under the mount root (``export.usb_mount_root``, ``/media/kiosk``). This module *looks*
and *ejects*: :class:`MountedUsbStick` reads the kernel's mount table (``/proc/self/mounts``)
and ``os.statvfs`` — no extra dependency — and unmounts on :meth:`~UsbStick.eject`;
:func:`probe` gives the same status for any folder (the exporter's, when it is handed a plain
directory). This is the booth's only implementation of stick status and eject. (pyudev would
give instant insertion events; polling once a second is enough for a booth and works the same
on every system.)

:meth:`UsbStick.watch` polls :meth:`UsbStick.status` on a background thread and posts
:data:`~hardware.events.USB_INSERTED` / :data:`~hardware.events.USB_REMOVED` when it changes.

:class:`FakeUsbStick` is a real directory that can be made full, read-only, or pulled out
mid-write: on a real small tmpfs when the process may mount one (root), so writes fail with the
kernel's own ``ENOSPC`` / ``EROFS``; otherwise the free space it reports is the quota left and
read-only is a permission bit (see :class:`FakeUsbStick`).
"""

from __future__ import annotations

import abc
import errno
import logging
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Sequence

from hardware import events

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UsbStatus:
    """What the booth needs to know about the stick, in one look."""

    present: bool
    mount_point: str | None = None
    free_bytes: int = 0
    read_only: bool = False
    fs_type: str | None = None        # as the kernel names it: vfat, exfat, ext4, …
    device: str | None = None         # /dev/sda1, for the log

    @classmethod
    def absent(cls) -> "UsbStatus":
        return cls(present=False)


class UsbStick(abc.ABC):
    """One USB port's stick (or none)."""

    def __init__(self) -> None:
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()

    @abc.abstractmethod
    def status(self) -> UsbStatus:
        """Look now; never raises (a stick that cannot be looked at is reported absent)."""

    @abc.abstractmethod
    def eject(self) -> bool:
        """Flush everything to the stick and unmount it. True when it can be pulled out."""

    def watch(self, on_event: events.EventSink, *, interval: float = 1.0) -> None:
        """Post :data:`~hardware.events.USB_INSERTED` / ``USB_REMOVED`` on changes, from a thread.

        A stick already present when watching starts is reported as inserted.
        """
        if self._watcher is not None:
            return
        self._stop.clear()

        def run() -> None:
            was_present = False
            while True:
                present = self.status().present
                if present != was_present:
                    name = events.USB_INSERTED if present else events.USB_REMOVED
                    log.info("USB stick %s", "inserted" if present else "removed")
                    try:
                        on_event(name)
                    except Exception:
                        log.exception("posting %s failed", name)
                    was_present = present
                if self._stop.wait(interval):
                    return

        self._watcher = threading.Thread(target=run, name="usb-watch", daemon=True)
        self._watcher.start()

    def close(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None


# --- the real one ---------------------------------------------------------------------------------

def _unescape(field: str) -> str:
    """/proc/self/mounts writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def read_mounts(mounts_file: str | os.PathLike = "/proc/self/mounts") -> list[tuple[str, str, str, set[str]]]:
    """(device, mount point, fs type, options) for every mounted file system."""
    entries: list[tuple[str, str, str, set[str]]] = []
    try:
        text = Path(mounts_file).read_text()
    except OSError:
        return entries
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            entries.append((_unescape(parts[0]), _unescape(parts[1]), parts[2], set(parts[3].split(","))))
    return entries


def status_of(mount_point: str, *, fs_type: str | None, options: Collection[str] = frozenset(),
              device: str | None = None) -> UsbStatus:
    """The status of a mounted directory from ``os.statvfs`` (absent if it cannot be read)."""
    try:
        st = os.statvfs(mount_point)
    except OSError:
        return UsbStatus.absent()
    read_only = "ro" in options or bool(st.f_flag & os.ST_RDONLY)
    return UsbStatus(True, mount_point, st.f_bavail * st.f_frsize, read_only, fs_type, device)


def mount_of(path: str | os.PathLike, mounts_file: str | os.PathLike = "/proc/self/mounts"
             ) -> tuple[str, str, str, set[str]] | None:
    """The mount table's entry (device, mount point, fs type, options) holding ``path``: the
    longest mount point that is ``path`` or above it."""
    target = os.path.realpath(path)
    best = None
    for entry in read_mounts(mounts_file):
        mp = entry[1]
        if target == mp or target.startswith(mp.rstrip("/") + "/"):
            if best is None or len(mp) >= len(best[1]):
                best = entry
    return best


def probe(path: str | os.PathLike, *, mounts_file: str | os.PathLike = "/proc/self/mounts"
          ) -> UsbStatus:
    """The status of whatever is mounted at ``path`` (a stick, or any folder in tests)."""
    if not os.path.isdir(path):
        return UsbStatus.absent()
    entry = mount_of(path, mounts_file)
    if entry is None:
        return status_of(os.fspath(path), fs_type=None)
    device, _mp, fs_type, options = entry
    return status_of(os.fspath(path), fs_type=fs_type, options=options, device=device)


class MountedUsbStick(UsbStick):
    """A stick mounted (by the system) anywhere under ``mount_root``.

    :param mount_root: where the automount puts sticks (``/media/kiosk``): the root itself or a
        directory below it (``/media/kiosk/STICK``) is a stick; the first in name order wins.
    :param unmount_command: run with the mount point appended to unmount on :meth:`eject`;
        ``systemd-mount --umount`` also stops the automount unit the udev rule started. Where
        it fails (no systemd running: a PC, a container), plain ``umount`` is tried.
    """

    def __init__(self, mount_root: str | os.PathLike = "/media/kiosk", *,
                 mounts_file: str | os.PathLike = "/proc/self/mounts",
                 unmount_command: Sequence[str] = ("systemd-mount", "--umount")) -> None:
        super().__init__()
        self.mount_root = os.path.normpath(os.fspath(mount_root))
        self.mounts_file = mounts_file
        self.unmount_command = tuple(unmount_command)

    def _entry(self):
        root = self.mount_root.rstrip("/") + "/"
        found = [e for e in read_mounts(self.mounts_file)
                 if e[1] == self.mount_root or e[1].startswith(root)]
        return min(found, key=lambda e: e[1]) if found else None

    def status(self) -> UsbStatus:
        entry = self._entry()
        if entry is None:
            return UsbStatus.absent()
        device, mount_point, fs_type, options = entry
        return status_of(mount_point, fs_type=fs_type, options=options, device=device)

    def eject(self) -> bool:
        entry = self._entry()
        if entry is None:
            return True
        mount_point = entry[1]
        os.sync()   # the kernel's dirty pages out to the stick before anyone pulls it
        if not unmount(mount_point, self.unmount_command):
            return False
        return self._entry() is None


def unmount(mount_point: str, command: Sequence[str] = ("systemd-mount", "--umount")) -> bool:
    """Unmount with ``command`` (mount point appended), else plain ``umount``; logs why not."""
    commands = [[*command, mount_point]]
    if tuple(command[:1]) != ("umount",):
        commands.append(["umount", mount_point])
    for cmd in commands:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.error("unmounting %s with %s failed: %s", mount_point, cmd[0], exc)
            continue
        if done.returncode == 0:
            log.info("stick at %s flushed and unmounted", mount_point)
            return True
        log.error("unmounting %s with %s failed: %s", mount_point, cmd[0],
                  (done.stderr or done.stdout).strip())
    return False


# --- the fake -------------------------------------------------------------------------------------

def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


class FakeUsbStick(UsbStick):
    """A real directory playing a stick (the simulator's "USB folder", and the tests').

    :param directory: the stick's mount point; created if missing.
    :param fs_type: what :meth:`status` reports (``"vfat"``, like a registrar's stick).
    :param capacity_bytes: a small stick. With ``tmpfs="auto"`` and the right to mount (root),
        a real tmpfs of that size is mounted on ``directory``: writing past it fails with the
        kernel's ``ENOSPC``. Without, :meth:`status` reports the capacity minus what the
        directory holds, and :meth:`check_room` raises ``ENOSPC`` for writers that ask.

    Mid-session mishaps: :meth:`make_read_only` (a write-protect switch), :meth:`pull_out`
    (the stick disappears: new files cannot be created any more), :meth:`plug_in`.
    """

    def __init__(self, directory: str | os.PathLike, *, fs_type: str = "vfat",
                 capacity_bytes: int | None = None, tmpfs: str | bool = "auto") -> None:
        super().__init__()
        self.directory = Path(directory)
        self.fs_type = fs_type
        self.capacity_bytes = capacity_bytes
        self.directory.mkdir(parents=True, exist_ok=True)
        self.read_only = False
        self.pulled = False
        self.mounted_tmpfs = False
        if capacity_bytes is not None and (tmpfs is True or (tmpfs == "auto" and _can_mount())):
            self.mounted_tmpfs = self._mount_tmpfs(capacity_bytes, required=tmpfs is True)
        self._parked = self.directory.with_name(self.directory.name + ".pulled-out")

    def _mount_tmpfs(self, size: int, *, required: bool) -> bool:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "fakeusb",
                               str(self.directory)], capture_output=True, text=True)
        if done.returncode != 0:
            if required:
                raise OSError(errno.EPERM, f"cannot mount a tmpfs: {done.stderr.strip()}")
            log.info("no tmpfs for the fake stick (%s): quota is reported, not enforced",
                     done.stderr.strip())
            return False
        return True

    def _used_bytes(self) -> int:
        total = 0
        for dirpath, _dirs, files in os.walk(self.directory):
            for name in files:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_size
                except OSError:
                    pass
        return total

    def status(self) -> UsbStatus:
        if self.pulled or not self.directory.is_dir():
            return UsbStatus.absent()
        real = status_of(str(self.directory), fs_type=self.fs_type)
        if not real.present:
            return real
        free = real.free_bytes
        if self.capacity_bytes is not None and not self.mounted_tmpfs:
            free = min(free, max(0, self.capacity_bytes - self._used_bytes()))
        return UsbStatus(True, str(self.directory), free, real.read_only or self.read_only,
                         self.fs_type, "fake")

    def check_room(self, nbytes: int) -> None:
        """Raise ``OSError(ENOSPC)`` if ``nbytes`` more would not fit (the quota without tmpfs)."""
        if self.status().free_bytes < nbytes:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.directory))

    def make_read_only(self) -> None:
        """Flip the write-protect switch: a read-only remount (tmpfs), else ``chmod a-w``."""
        self.read_only = True
        if self.mounted_tmpfs:
            subprocess.run(["mount", "-o", "remount,ro", str(self.directory)], check=True)
            return
        for dirpath, _dirs, _files in os.walk(self.directory):
            os.chmod(dirpath, 0o555)

    def pull_out(self) -> None:
        """The stick is yanked: the directory vanishes (files already open keep their handle)."""
        self.pulled = True
        if self.mounted_tmpfs:
            subprocess.run(["umount", "-l", str(self.directory)], check=True)
            self.mounted_tmpfs = False
            self.directory.rmdir()
        else:
            self.directory.rename(self._parked)

    def plug_in(self) -> None:
        """Put the (same) stick back."""
        if self._parked.exists() and not self.directory.exists():
            self._parked.rename(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.pulled = False

    def eject(self) -> bool:
        os.sync()
        self.pulled = True
        return True

    def close(self) -> None:
        super().close()
        if self.mounted_tmpfs:
            subprocess.run(["umount", "-l", str(self.directory)], capture_output=True)
            self.mounted_tmpfs = False
