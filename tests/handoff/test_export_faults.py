"""Faults of real sticks: real file systems on loop devices, real ENOSPC, EROFS, a stick pulled
out in the middle of a write, and the safe removal. Needs root and loop devices; each test says
why it skips where the machine does not allow it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from handoff_fixtures import make_student, record, sealed_photo, verifies

from hardware.usb import MountedUsbStick
from kiosk.handoff.export import export_pending, probe, stick
from kiosk.handoff.export.durable import TEMP_PREFIX, sha256_bytes
from kiosk.handoff.export.stick import MSG_FULL, MSG_READ_ONLY, MSG_REMOVED, ProbedStatus
from kiosk.handoff.spool import Spool

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")

MKFS = {"ext4": ["mkfs.ext4", "-q", "-F", "-m", "0"], "vfat": ["mkfs.vfat"],
        "exfat": ["mkfs.exfat"]}


@contextmanager
def loop_stick(tmp: Path, fs: str = "ext4", size_mb: int = 8, *, ro: bool = False):
    """A real file system in an image file, loop-mounted like a stick; unmounted afterwards."""
    tool = shutil.which(MKFS[fs][0])
    if tool is None:
        pytest.skip(f"{MKFS[fs][0]} is not installed, no {fs} image can be made here")
    image, mnt = tmp / f"stick-{fs}.img", tmp / f"mnt-{fs}"
    with open(image, "wb") as fh:
        fh.truncate(size_mb << 20)
    subprocess.run([*MKFS[fs], str(image)], check=True, capture_output=True)
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", fs, "-o", "loop,ro" if ro else "loop", str(image),
                           str(mnt)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"this machine cannot loop-mount {fs}: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def filled_spool(tmp: Path, n: int = 4) -> tuple[Spool, list]:
    spool = Spool(tmp / "state")
    people = [make_student(40 + i, name=f"陈{i}") for i in range(n)]
    for i, s in enumerate(people):
        spool.add(s, sealed_photo(s, i), record())
    return spool, people


def export(spool, root, status=None):
    return export_pending(spool, root, booth_id="booth1", template="{id_number}.jpg",
                          status=status)


def stick_photos(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in root.rglob("*.jpg")}


def assert_complete(root: Path, people) -> None:
    """Every student once on the stick, matching the manifest, verifying; no temp files."""
    [manifest] = list(root.rglob("manifest.json"))
    doc = json.loads(manifest.read_text("utf-8"))
    assert sorted(e["student_id"] for e in doc["photos"]) == sorted(s.student_id for s in people)
    for e, s in zip(sorted(doc["photos"], key=lambda e: e["student_id"]),
                    sorted(people, key=lambda s: s.student_id)):
        data = (manifest.parent / e["file"]).read_bytes()
        assert sha256_bytes(data) == e["sha256"] and verifies(data, s)
    assert not list(root.rglob(f"{TEMP_PREFIX}*"))
    assert len(list(manifest.parent.glob("*.jpg"))) == len(people)


def test_real_ext4_stick_export_then_safe_removal(tmp_path):
    spool, people = filled_spool(tmp_path)
    with loop_stick(tmp_path) as mnt:
        status = probe(mnt)
        assert (status.present, status.fs_type, status.read_only) == (True, "ext4", False)
        report = export(spool, mnt)
        assert report.ok, report.message
        assert_complete(mnt, people)
        assert MountedUsbStick(mnt).eject() is True                # real unmount
        assert not os.path.ismount(mnt)
    assert spool.pending() == []


@pytest.mark.parametrize("fs", ["vfat", "exfat"])
def test_real_fat_stick(tmp_path, fs):
    spool, people = filled_spool(tmp_path, 2)
    with loop_stick(tmp_path, fs) as mnt:
        assert probe(mnt).fs_type in stick.ACCEPTED_FS
        assert export(spool, mnt).ok
        assert_complete(mnt, people)


def test_full_stick_refused_up_front_and_real_enospc_mid_export(tmp_path):
    spool, people = filled_spool(tmp_path)
    with loop_stick(tmp_path, size_mb=4) as mnt:
        free = probe(mnt).free_bytes
        filler = mnt / "holiday-video.bin"
        with open(filler, "wb") as fh:                       # leave room for ~1.5 photos
            fh.write(b"\0" * (free - 60_000))
        report = export(spool, mnt)                            # probe sees it is full
        assert report.problem == MSG_FULL and report.pending == len(people)
        # a stale status that claims room: the kernel's ENOSPC stops it the same way
        lying = ProbedStatus(True, str(mnt), 10**9, False, "ext4")
        report = export(spool, mnt, lying)
        assert report.problem == MSG_FULL, report.message
        assert report.pending == len(people) and not report.exported
        assert not list(mnt.rglob(f"{TEMP_PREFIX}*"))          # no half file left behind
        filler.unlink()                                        # the registrar makes room
        assert export(spool, mnt).ok
        assert_complete(mnt, people)


def test_read_only_stick(tmp_path):
    spool, people = filled_spool(tmp_path)
    with loop_stick(tmp_path, ro=True) as mnt:
        assert probe(mnt).read_only
        assert export(spool, mnt).problem == MSG_READ_ONLY
        lying = ProbedStatus(True, str(mnt), 10**9, False, "ext4")
        report = export(spool, mnt, lying)                     # real EROFS from the kernel
        assert report.problem == MSG_READ_ONLY and report.pending == len(people)


def test_stick_pulled_out_in_the_middle_of_a_write(tmp_path, monkeypatch):
    spool, people = filled_spool(tmp_path)
    with loop_stick(tmp_path) as mnt:
        real_fsync = os.fsync
        calls = [0]

        def pull_during_fifth_fsync(fd):
            calls[0] += 1
            if calls[0] == 5:
                # fsyncs 1-2: the manifest announcing the names; 3-4: the first photo;
                # the second photo's bytes are written, not yet renamed: the stick is yanked now
                subprocess.run(["umount", "-l", str(mnt)], check=True)
            return real_fsync(fd)
        monkeypatch.setattr(os, "fsync", pull_during_fifth_fsync)
        report = export(spool, mnt)
        monkeypatch.setattr(os, "fsync", real_fsync)
        assert calls[0] >= 5
        assert report.problem == MSG_REMOVED, report.message
        assert report.pending == len(people) and not report.exported
        assert report.message.zh and report.message.en
    # the same stick comes back (mount the image again): the export resumes and completes
    with loop_stick_again(tmp_path) as mnt:
        half = stick_photos(mnt)
        assert 1 <= len(half) < len(people)                    # some got there, unconfirmed
        assert export(spool, mnt).ok
        assert_complete(mnt, people)


@contextmanager
def loop_stick_again(tmp: Path):
    mnt = tmp / "mnt-ext4"
    subprocess.run(["mount", "-o", "loop", str(tmp / "stick-ext4.img"), str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_with_the_hardware_layers_fake_stick(tmp_path):
    import hardware.usb as usb
    spool, people = filled_spool(tmp_path, 5)
    fake = usb.FakeUsbStick(tmp_path / "fake", capacity_bytes=120_000)
    try:
        report = export(spool, fake.directory, fake.status())   # ~3 photos fit: not all
        assert report.problem == MSG_FULL and report.pending == len(people)
    finally:
        fake.close()
    roomy = usb.FakeUsbStick(tmp_path / "roomy")
    try:
        assert export(spool, roomy.directory, roomy.status()).ok
        assert_complete(roomy.directory, people)
        roomy.pull_out()
        assert export(spool, roomy.directory, roomy.status()).problem == stick.MSG_MISSING
    finally:
        roomy.close()
