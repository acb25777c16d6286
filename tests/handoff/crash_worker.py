"""A booth's save loop, run as a child process that the crash test kills with SIGKILL.

    python crash_worker.py STATE USB PHOTOS JOURNAL SEED [CRASH_STEP]

At start it recovers the spool and resumes exports (as the booth does at boot), then loops:
pick a student, spool one of their prepared photos (a retake when they already have one),
export. Before each add it journals ``try <student> <sha>`` and after it ``ack <student>
<sha>``, both fsynced, so the parent knows which photos the booth had confirmed to the student.

With CRASH_STEP = n > 0 the worker kills itself with SIGKILL just before its n-th file system
step (fsync, rename, replace, unlink, rmtree): crash points chosen exactly, not by timing.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

from kiosk.handoff.export import export_pending
from kiosk.handoff.export.durable import sha256_bytes
from kiosk.handoff.export.stick import ProbedStatus
from kiosk.handoff.spool import Spool
from kiosk.photo.student import Student


def journal(fh, line: str) -> None:
    fh.write(line + "\n")
    fh.flush()
    os.fsync(fh.fileno())


def arm_crash_point(step: int) -> None:
    """SIGKILL this process just before its ``step``-th file system step."""
    import shutil
    import signal
    count = [0]

    def wrap(module, name):
        real = getattr(module, name)

        def counted(*args, **kwargs):
            count[0] += 1
            if count[0] == step:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        setattr(module, name, counted)
    for name in ("fsync", "rename", "replace", "unlink"):
        wrap(os, name)
    wrap(shutil, "rmtree")


def main() -> None:
    state, usb, photos, journal_path, seed = sys.argv[1:6]
    if len(sys.argv) > 6 and int(sys.argv[6]) > 0:
        arm_crash_point(int(sys.argv[6]))
    rng = random.Random(int(seed))
    print("up", flush=True)        # imports done: the parent's random kill moment starts now
    people = json.loads((Path(photos) / "students.json").read_text("utf-8"))
    spool = Spool(state)
    spool.recover()
    status = ProbedStatus(True, usb, 10**9, False, "vfat")
    export_pending(spool, usb, booth_id="crash", template="{id_number}.jpg", status=status)
    with open(journal_path, "a", encoding="utf-8") as fh:
        while True:
            n = rng.randrange(len(people))
            student = Student(**people[n])
            files = sorted((Path(photos) / student.student_id).iterdir())
            data = rng.choice(files).read_bytes()
            sha = sha256_bytes(data)
            journal(fh, f"try {student.student_id} {sha}")
            spool.add(student, data, {"verdict": "pass", "checks": []})
            journal(fh, f"ack {student.student_id} {sha}")
            if rng.random() < 0.7:
                export_pending(spool, usb, booth_id="crash", template="{id_number}.jpg",
                               status=status)


if __name__ == "__main__":
    main()
