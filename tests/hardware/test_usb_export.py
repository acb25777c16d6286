"""The fake stick's mishaps as the exporter meets them: full, read-only, nothing lost.

The stick is a real tmpfs here (needs the right to mount, i.e. root), so the kernel itself
answers ENOSPC and EROFS; without it these tests are skipped (test_usb.py covers the fallback).
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from skimage import data

from hardware.usb import FakeUsbStick, _can_mount
from kiosk.handoff.export import exporter as export
from kiosk.handoff.export import stick as stick_messages
from kiosk.handoff.spool import Spool
from kiosk.photo.student import Student

pytestmark = pytest.mark.skipif(not _can_mount(), reason="mounting a tmpfs needs root")

STUDENT = Student(student_id="2022010101", id_number="11010519491231002X", name="张三")


def photo_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(data.astronaut()[:640, 16:496]).save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture
def spool(tmp_path):
    s = Spool(tmp_path / "state")
    s.add(STUDENT, photo_bytes(), {"verdict": "pass", "checks": []})
    return s


def run_export(spool, usb, status=None):
    return export.export_pending(spool, usb.directory, booth_id="booth1",
                                 template="{student_id}_{name}.jpg",
                                 status=status if status is not None else usb.status())


def test_a_stick_that_is_too_small_keeps_the_photo_in_the_spool(spool, tmp_path):
    usb = FakeUsbStick(tmp_path / "usb", capacity_bytes=64 * 1024)
    try:
        report = run_export(spool, usb)
        assert report.problem == stick_messages.MSG_FULL
        assert report.pending == 1 and not report.exported
    finally:
        usb.close()


def test_a_stick_that_fills_up_during_the_write(spool, tmp_path):
    # room for the photo and one more tmpfs page: the photo fits, the manifests and the
    # contact sheet that follow it cannot
    page = 4096
    capacity = (len(photo_bytes()) // page + 2) * page
    usb = FakeUsbStick(tmp_path / "usb", capacity_bytes=capacity)
    try:
        big_enough = usb.status().__class__(True, str(usb.directory), 10**9, False, "vfat")
        report = run_export(spool, usb, status=big_enough)   # the status was read before it filled
        assert report.problem == stick_messages.MSG_FULL     # the kernel's ENOSPC, not a crash
        assert report.pending == 1
        # a photo under its real name is whole (written to a temporary name, then renamed);
        # the item stays pending because the manifest did not fit
        original = spool.pending()[0].read_photo()
        for path in usb.directory.rglob("*.jpg"):
            assert path.read_bytes() == original
    finally:
        usb.close()


def test_a_write_protected_stick(spool, tmp_path):
    usb = FakeUsbStick(tmp_path / "usb", capacity_bytes=4 * 1024 * 1024)
    try:
        usb.make_read_only()
        assert run_export(spool, usb).problem == stick_messages.MSG_READ_ONLY
        # even when the status was read before the switch was flipped: the kernel's EROFS
        stale = usb.status().__class__(True, str(usb.directory), 10**9, False, "vfat")
        report = run_export(spool, usb, status=stale)
        assert report.problem == stick_messages.MSG_READ_ONLY and report.pending == 1
    finally:
        usb.close()


def test_a_good_stick_gets_the_photo(spool, tmp_path):
    usb = FakeUsbStick(tmp_path / "usb", capacity_bytes=4 * 1024 * 1024)
    try:
        report = run_export(spool, usb)
        assert report.ok, report.message
        assert len(list(usb.directory.rglob("2022010101_*.jpg"))) == 1
    finally:
        usb.close()
