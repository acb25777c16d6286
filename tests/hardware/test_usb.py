"""The USB stick: the mount table reader, the watcher, and the fake stick's mishaps."""

from __future__ import annotations

import errno
import os
import threading

import pytest

from hardware import events
from hardware.usb import FakeUsbStick, MountedUsbStick, UsbStatus, read_mounts, unmount


def mounts_file(tmp_path, *lines):
    f = tmp_path / "mounts"
    f.write_text("".join(line + "\n" for line in lines))
    return f


def test_mounted_stick_is_found_under_the_mount_root(tmp_path):
    root = tmp_path / "media" / "kiosk"
    stick = root / "REGISTRAR 1"
    stick.mkdir(parents=True)
    escaped = str(stick).replace(" ", "\\040")
    mf = mounts_file(tmp_path,
                     "/dev/mmcblk0p2 / ext4 rw,noatime 0 0",
                     f"/dev/sda1 {escaped} vfat rw,nosuid,nodev,relatime,uid=1000 0 0")
    usb = MountedUsbStick(root, mounts_file=mf)
    status = usb.status()
    assert status.present and status.mount_point == str(stick)
    assert status.fs_type == "vfat" and status.device == "/dev/sda1"
    assert status.read_only is False
    st = os.statvfs(stick)
    assert abs(status.free_bytes - st.f_bavail * st.f_frsize) < 16 * 1024 * 1024


def test_read_only_mount_option_is_reported(tmp_path):
    root = tmp_path / "kiosk"
    root.mkdir()
    mf = mounts_file(tmp_path, f"/dev/sdb1 {root} exfat ro,nosuid 0 0")
    assert MountedUsbStick(root, mounts_file=mf).status().read_only is True


def test_nothing_mounted_means_absent(tmp_path):
    root = tmp_path / "kiosk"
    root.mkdir()
    mf = mounts_file(tmp_path, "/dev/mmcblk0p2 / ext4 rw 0 0",
                     f"/dev/sdc1 {tmp_path}/kiosk-other vfat rw 0 0")   # a prefix, not below root
    assert MountedUsbStick(root, mounts_file=mf).status() == UsbStatus.absent()
    assert MountedUsbStick(root, mounts_file=tmp_path / "no-such-file").status().present is False


def test_the_real_mount_table_parses():
    entries = read_mounts()
    assert any(mp == "/" for _dev, mp, _fs, _opts in entries)


def test_eject_flushes_and_unmounts(tmp_path):
    root = tmp_path / "kiosk"
    root.mkdir()
    mf = mounts_file(tmp_path, f"/dev/sda1 {root} vfat rw 0 0")
    log = tmp_path / "unmounted"
    # the unmount command (systemd-mount --umount on the booth) here empties the mount table
    usb = MountedUsbStick(root, mounts_file=mf,
                          unmount_command=("sh", "-c", f': > "{mf}"; echo "$0" > "{log}"'))
    assert usb.eject() is True
    assert log.read_text().strip() == str(root)
    assert usb.status().present is False
    failing = MountedUsbStick(root, mounts_file=mounts_file(tmp_path, f"/dev/sda1 {root} vfat rw 0 0"),
                              unmount_command=("false",))
    assert failing.eject() is False


def test_unmount_falls_back_to_umount_and_fails_cleanly(tmp_path, caplog):
    """Without systemd (a PC, a container) ``systemd-mount --umount`` fails: plain ``umount``
    is tried next. On a folder that is not a mount point both fail, logged, no exception."""
    calls = tmp_path / "calls"
    assert unmount(str(tmp_path), ("sh", "-c", f'echo "$0" >> "{calls}"; exit 1')) is False
    assert calls.read_text().split() == [str(tmp_path)]          # the configured command first
    assert "with umount failed" in caplog.text                    # then umount, which said why


class Recorder:
    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def __call__(self, name):
        with self.cond:
            self.events.append(name)
            self.cond.notify_all()

    def wait_count(self, n, timeout=60.0):
        with self.cond:
            return self.cond.wait_for(lambda: len(self.events) >= n, timeout)


def test_watch_posts_insertion_and_removal(tmp_path):
    root = tmp_path / "kiosk"
    root.mkdir()
    mf = mounts_file(tmp_path, "/dev/mmcblk0p2 / ext4 rw 0 0")
    usb = MountedUsbStick(root, mounts_file=mf)
    got = Recorder()
    usb.watch(got, interval=0.05)
    mounts_file(tmp_path, "/dev/mmcblk0p2 / ext4 rw 0 0", f"/dev/sda1 {root} vfat rw 0 0")
    assert got.wait_count(1)
    mounts_file(tmp_path, "/dev/mmcblk0p2 / ext4 rw 0 0")
    assert got.wait_count(2)
    usb.close()
    assert got.events == [events.USB_INSERTED, events.USB_REMOVED]


def test_fake_stick_is_a_real_directory(tmp_path):
    usb = FakeUsbStick(tmp_path / "stick")
    status = usb.status()
    assert status.present and status.fs_type == "vfat" and not status.read_only
    (tmp_path / "stick" / "photo.jpg").write_bytes(b"\xff\xd8" + b"x" * 100)
    assert (tmp_path / "stick" / "photo.jpg").stat().st_size == 102
    usb.close()


def test_fake_stick_full(tmp_path):
    usb = FakeUsbStick(tmp_path / "stick", capacity_bytes=256 * 1024)
    try:
        assert 0 < usb.status().free_bytes <= 256 * 1024
        path = tmp_path / "stick" / "big.jpg"
        if usb.mounted_tmpfs:
            # a real small file system: the kernel itself refuses the write
            with pytest.raises(OSError) as err:
                path.write_bytes(os.urandom(512 * 1024))
            assert err.value.errno == errno.ENOSPC
        else:
            path.write_bytes(os.urandom(200 * 1024))
            with pytest.raises(OSError) as err:
                usb.check_room(100 * 1024)
            assert err.value.errno == errno.ENOSPC
        assert usb.status().free_bytes < 64 * 1024
    finally:
        usb.close()


def test_fake_stick_read_only(tmp_path):
    usb = FakeUsbStick(tmp_path / "stick", capacity_bytes=1024 * 1024)
    try:
        usb.make_read_only()
        assert usb.status().read_only is True
        if usb.mounted_tmpfs or os.geteuid() != 0:      # root ignores permission bits
            with pytest.raises(OSError) as err:
                (tmp_path / "stick" / "a.jpg").write_bytes(b"x")
            assert err.value.errno in (errno.EROFS, errno.EACCES)
    finally:
        usb.close()


def test_fake_stick_pulled_out_mid_write(tmp_path):
    usb = FakeUsbStick(tmp_path / "stick")
    got = Recorder()
    usb.watch(got, interval=0.05)
    assert got.wait_count(1)
    target = tmp_path / "stick" / "booth1"
    target.mkdir()
    with open(target / "first.jpg", "wb") as f:
        f.write(b"half a photo")
        usb.pull_out()                          # yanked while the file is open
    assert usb.status().present is False
    with pytest.raises(OSError) as err:
        (target / "second.jpg").write_bytes(b"x")
    assert err.value.errno == errno.ENOENT
    assert got.wait_count(2)
    usb.plug_in()                               # the same stick back: what was written is there
    assert (target / "first.jpg").read_bytes() == b"half a photo"
    assert got.wait_count(3)
    usb.close()
    assert got.events == [events.USB_INSERTED, events.USB_REMOVED, events.USB_INSERTED]
