"""The registrar's worker pool and progress display: same answers on every core, a bar on a
terminal, plain lines in a log."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

from handoff_fixtures import KEY, make_student, record, sealed_photo

from kiosk.handoff.export import export_pending
from kiosk.handoff.export.stick import ProbedStatus
from kiosk.handoff.registrar.pool import Progress
from kiosk.handoff.registrar.verify import verify_export
from kiosk.handoff.spool import Spool


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_otherwise():
    tty, log = Tty(), io.StringIO()
    for stream in (tty, log):
        p = Progress(50, "verify", stream=stream)
        for _ in range(50):
            p.step()
        p.close()
    assert "\r" in tty.getvalue() and "[" + "#" * 30 + "]" in tty.getvalue()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == 10
    assert lines[-1].startswith("verify: 50/50")


def test_two_workers_give_the_same_rows_as_one(tmp_path):
    people = [make_student(i) for i in range(90, 96)]
    spool = Spool(tmp_path / "state")
    when = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)
    for n, s in enumerate(people):
        rec = record()
        rec["captured_at"] = (when + timedelta(minutes=n)).isoformat()
        spool.add(s, sealed_photo(s, n, captured_at=when + timedelta(minutes=n)), rec)
    usb = tmp_path / "usb"
    usb.mkdir()
    assert export_pending(spool, usb, booth_id="b1", template="{id_number}.jpg",
                          status=ProbedStatus(True, str(usb), 10**9, False, "vfat")).ok
    folder = next(usb.rglob("manifest.json")).parent
    (folder / f"{people[2].id_number}.jpg").write_bytes(b"broken")
    one = verify_export(usb, key=KEY, jobs=1)
    two = verify_export(usb, key=KEY, jobs=2)
    assert [(r.student_id, r.status, r.problems) for r in one[0].rows] == \
        [(r.student_id, r.status, r.problems) for r in two[0].rows]
    assert [r.status for r in two[0].rows].count("fail") == 1
