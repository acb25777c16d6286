"""Benchmark: does Save slow down as the spool fills? Save time at 10, 1,000 and 10,000 photos.

    .venv/bin/python bench/save.py [--sizes 10,1000,10000] [--saves 5] [--today 0]

For each size N a spool is filled with N photos of N different students, already exported on
earlier days (a booth keeps exported photos for ``export.retention_days``; a class photographed
over weeks without purging is the worst case). Filling uses the spool's own ``add`` with fsync
switched off, only to make the set-up quick; the measured Saves use the real, fsynced code.

Then, like the booth: the spool is opened (its index is read once, at boot: printed), and each
Save is ``Spool.add`` of a new student's sealed photo followed by ``export_pending`` to a
folder standing in for the stick (today's folder: photo, manifests, contact sheet) with the
booth's purge of expired items (``export.retention_days``). Printed: the median Save time and
its two parts, wall and CPU time of this process (the CPU time does not grow with the
machine's load; the wall time includes the fsyncs). The photos are real sealed booth files (the astronaut's
face, each student sealed with their own identity). ``--today N`` first puts N photos of
today on the stick: what a Save still rewrites whole is today's folder's manifests and
contact sheet, so its cost follows the photos of that folder (one booth, one day), not the
spool.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from kiosk.handoff.export import export_pending  # noqa: E402
from kiosk.handoff.export.stick import ProbedStatus  # noqa: E402
from kiosk.handoff.spool import Spool  # noqa: E402
from kiosk.photo.engine import encode_and_seal  # noqa: E402
from kiosk.photo.student import Student, id_check_char  # noqa: E402

KEY = bytes(range(32))
RETENTION_DAYS = 7.0        # the booth's default (export.retention_days)


def student(n: int) -> Student:
    first17 = f"110105200203{1 + n // 1000 % 28:02d}{n % 1000:03d}"    # born 2002-03-dd
    return Student(student_id=f"2020{n:06d}", id_number=first17 + id_check_char(first17),
                   name=f"学生{n}", college="计算机学院", class_name=f"计科{n % 30}班")


def base_picture() -> np.ndarray:
    from skimage import data
    face = data.astronaut()[:, 64:64 + 384]                  # 3:4, a real face
    return np.asarray(Image.fromarray(face).resize((480, 640), Image.Resampling.LANCZOS))


def fill_today(spool: Spool, usb: Path, status: ProbedStatus, n: int, jpeg: bytes) -> None:
    """N photos saved earlier today and already on the stick, in today's folder (the folder
    each Save rewrites the manifests and contact sheet of); fsync off while filling only."""
    real_fsync = os.fsync
    os.fsync = lambda fd: None
    try:
        for i in range(n):
            spool.add(student(200_000 + i), jpeg, {"verdict": "pass", "checks": []})
        assert export_pending(spool, usb, booth_id="bench", template="{id_number}.jpg",
                              status=status).ok
    finally:
        os.fsync = real_fsync


def fill(spool: Spool, n: int, jpeg: bytes) -> None:
    """N exported photos, 500 a day over earlier days; fsync off while filling only."""
    real_fsync = os.fsync
    os.fsync = lambda fd: None
    try:
        start = datetime(2026, 5, 1, 9, tzinfo=timezone.utc)
        for i in range(n):
            at = start + timedelta(days=i // 500, seconds=i)
            item = spool.add(student(100_000 + i), jpeg,
                             {"verdict": "pass", "checks": [], "captured_at": at.isoformat()})
            spool.mark_exported(item, path=f"earlier/{i}.jpg", sha256="-")
    finally:
        os.fsync = real_fsync


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,1000,10000")
    ap.add_argument("--saves", type=int, default=5)
    ap.add_argument("--today", type=int, default=0,
                    help="photos already on the stick in today's folder (default none)")
    args = ap.parse_args()
    print(f"load: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f} "
          f"on {os.cpu_count()} cores")
    picture = base_picture()
    filler, _ = encode_and_seal(picture, student(0), key=KEY)
    print(f"today's folder on the stick starts with {args.today} photos")
    print(f"{'photos in spool':>16} {'open (index)':>13} {'Save median':>12} {'add':>8} "
          f"{'export':>8} {'Save CPU':>9} {'add CPU':>8} {'exp. CPU':>8}  load")
    for n in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix="save-bench-") as tmp:
            state, usb = Path(tmp) / "state", Path(tmp) / "usb"
            usb.mkdir()
            fill(Spool(state), n, filler)
            t = time.perf_counter()
            spool = Spool(state)
            spool.pending()                                   # the booth's first look at boot
            opened = time.perf_counter() - t
            status = ProbedStatus(True, str(usb), 10**10, False, "ext4")
            fill_today(spool, usb, status, args.today, filler)
            saves, adds, exports = [], [], []
            cpu_saves, cpu_adds, cpu_exports = [], [], []
            for k in range(args.saves):
                who = student(k + 1)
                jpeg, _ = encode_and_seal(picture, who, key=KEY)   # not timed: the camera side
                t0, c0 = time.perf_counter(), time.process_time()
                spool.add(who, jpeg, {"verdict": "pass", "checks": []})
                t1, c1 = time.perf_counter(), time.process_time()
                report = export_pending(spool, usb, booth_id="bench", template="{id_number}.jpg",
                                        status=status, retention_days=RETENTION_DAYS)
                t2, c2 = time.perf_counter(), time.process_time()
                assert report.ok, report.message
                adds.append(t1 - t0)
                exports.append(t2 - t1)
                saves.append(t2 - t0)
                cpu_adds.append(c1 - c0)
                cpu_exports.append(c2 - c1)
                cpu_saves.append(c2 - c0)
            med = statistics.median
            print(f"{n:>16,} {opened:>12.2f}s {med(saves):>11.3f}s {med(adds):>7.3f}s "
                  f"{med(exports):>7.3f}s {med(cpu_saves) * 1e3:>7.1f}ms "
                  f"{med(cpu_adds) * 1e3:>6.1f}ms {med(cpu_exports) * 1e3:>6.1f}ms  "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
