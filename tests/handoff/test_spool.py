"""The spool on the SD card: durable adds, retakes with history, recovery, retention."""

from __future__ import annotations

import json
import os

import pytest
from handoff_fixtures import photo_jpeg, record

from kiosk.handoff.spool import Spool, SpoolError, record_for


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_add_then_read_back_after_reopening(tmp_path, students):
    spool = Spool(tmp_path)
    ids = [spool.add(s, photo_jpeg(i), record()) for i, s in enumerate(students)]
    assert ids == sorted(ids) and len(set(ids)) == len(students)
    again = Spool(tmp_path)                       # a new process after a restart
    pending = again.pending()
    assert [p.student for p in pending] == students
    assert pending[2].read_photo() == photo_jpeg(2)


def test_failed_photo_is_refused(tmp_path, students):
    with pytest.raises(SpoolError):
        Spool(tmp_path).add(students[0], photo_jpeg(), record(verdict="fail"))
    assert Spool(tmp_path).pending() == []


def test_retake_replaces_the_photo_and_keeps_history(tmp_path, students):
    spool = Spool(tmp_path)
    s = students[0]
    first = spool.add(s, photo_jpeg(1), record())
    second = spool.add(s, photo_jpeg(2), record(verdict="warn", warn_ids=("pose.yaw",)))
    pending = spool.pending()
    assert [p.id for p in pending] == [second]
    assert not (spool.items_dir / first).exists()         # the earlier photo left the SD card
    assert [h["item_id"] for h in pending[0].history] == [first]
    third = spool.add(s, photo_jpeg(3), record())
    assert [h["item_id"] for h in spool.get(third).history] == [first, second]


def test_damaged_photo_is_detected(tmp_path, students):
    spool = Spool(tmp_path)
    item_id = spool.add(students[0], photo_jpeg(), record())
    path = spool.items_dir / item_id / "photo.jpg"
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(SpoolError):
        spool.get(item_id).read_photo()


def test_recovery_removes_temp_and_trash_and_superseded(tmp_path, students):
    spool = Spool(tmp_path)
    s = students[0]
    older = spool.add(s, photo_jpeg(1), record())
    # simulate a cut right after the retake was renamed into place, before the old one went:
    newer_dir = spool.items_dir / "00000099"
    os.makedirs(newer_dir)
    doc = json.loads((spool.items_dir / older / "record.json").read_text())
    doc["id"] = "00000099"
    (newer_dir / "record.json").write_text(json.dumps(doc))
    (newer_dir / "photo.jpg").write_bytes(photo_jpeg(1))
    (spool.items_dir / "~tmp-00000100").mkdir()
    (spool.items_dir / "~tmp-00000100" / "photo.jpg").write_bytes(b"half")
    (spool.items_dir / "~trash-00000005").mkdir()
    (spool.items_dir / newer_dir / "~tmp-abcd.part").write_bytes(b"half")
    report = spool.recover()
    assert report.temp_removed == 3
    assert report.superseded_removed == 1
    assert report.pending == 1
    assert sorted(os.listdir(spool.items_dir)) == ["00000099"]
    assert sorted(os.listdir(newer_dir)) == ["photo.jpg", "record.json"]


def test_numbers_never_reused_even_without_the_counter(tmp_path, students):
    spool = Spool(tmp_path)
    a = spool.add(students[0], photo_jpeg(), record())
    (spool.root / "last_seq").unlink()
    b = spool.add(students[1], photo_jpeg(), record())
    assert int(b) > int(a)


def test_retention_purges_only_old_exported_items(tmp_path, students):
    clock = Clock()
    spool = Spool(tmp_path, clock=clock)
    a = spool.add(students[0], photo_jpeg(), record())
    b = spool.add(students[1], photo_jpeg(), record())
    spool.mark_exported(a, path="x/a.jpg", sha256=spool.get(a).sha256)
    clock.t += 6.9 * 86400
    assert spool.purge(retention_days=7) == 0
    clock.t += 0.2 * 86400
    assert spool.purge(retention_days=7) == 1
    assert not (spool.items_dir / a).exists()
    assert [p.id for p in spool.pending()] == [b]          # never purged before export
    clock.t += 365 * 86400
    assert spool.purge(retention_days=7) == 0 and spool.get(b).exported is None


def test_the_index_stays_true_through_retakes_exports_and_purges(tmp_path, students):
    """pending() and purge() work from the index kept in memory: after retakes, exports and
    purges it answers what a spool opened afresh from the card answers."""
    clock = Clock()
    spool = Spool(tmp_path, clock=clock)
    a1 = spool.add(students[0], photo_jpeg(1), record())
    b = spool.add(students[1], photo_jpeg(2), record())
    spool.mark_exported(a1, path="x/a.jpg", sha256=spool.get(a1).sha256)
    clock.t += 86400
    a2 = spool.add(students[0], photo_jpeg(3), record())       # a retake after the export
    assert [i.id for i in spool.pending()] == [b, a2]
    spool.mark_exported(b, path="x/b.jpg", sha256=spool.get(b).sha256)
    assert [i.id for i in spool.pending()] == [a2]
    assert [i.id for i in Spool(tmp_path, clock=clock).pending()] == [a2]
    clock.t += 6.5 * 86400                  # a1 exported 7.5 days ago, b 6.5 days ago
    assert spool.purge(retention_days=7) == 1 and not (spool.items_dir / a1).exists()
    assert [i.id for i in spool.pending()] == [a2]
    clock.t += 86400
    assert spool.purge(retention_days=7) == 1 and not (spool.items_dir / b).exists()
    fresh = Spool(tmp_path, clock=clock)
    assert [i.id for i in fresh.items()] == [i.id for i in spool.items()] == [a2]


def test_a_damaged_export_time_is_kept_not_purged(tmp_path, students):
    clock = Clock()
    a = Spool(tmp_path, clock=clock).add(students[0], photo_jpeg(), record())
    (tmp_path / "spool" / "items" / a / "exported.json").write_text(
        json.dumps({"path": "x/a.jpg", "sha256": "-", "exported_at": "soon"}))
    spool = Spool(tmp_path, clock=clock)
    clock.t += 365 * 86400
    assert spool.purge(retention_days=7) == 0 and (spool.items_dir / a).exists()
    assert spool.pending() == []


def test_record_for_an_engine_result():
    from kiosk.message import Message
    from kiosk.photo.checks.result import CheckResult, Status

    class Result:
        verdict = Status.WARN
        checks = [CheckResult("pose.yaw", Status.WARN, 6.0, "|yaw| ≤ 5°", Message("转正", "Turn"))]
        quality = 87
    rec = record_for(Result())
    assert rec["verdict"] == "warn" and rec["quality"] == 87
    assert rec["checks"][0]["id"] == "pose.yaw" and rec["captured_at"][:2] == "20"


def test_retake_saved_while_the_earlier_take_is_being_exported(tmp_path, students, monkeypatch):
    """Save runs on the booth's thread while an export runs on another: the retake wins."""
    from kiosk.handoff.export import export_pending, exporter
    from kiosk.handoff.export.stick import ProbedStatus
    spool = Spool(tmp_path / "state")
    s = students[0]
    spool.add(s, photo_jpeg(1), record())
    usb = tmp_path / "usb"
    usb.mkdir()
    status = ProbedStatus(True, str(usb), 10**9, False, "vfat")
    real_write = exporter.write_atomic
    done = []

    def write_and_retake(path, data, **kw):
        real_write(path, data, **kw)
        if not done:
            done.append(spool.add(s, photo_jpeg(2), record()))   # the student retook
    monkeypatch.setattr(exporter, "write_atomic", write_and_retake)
    report = export_pending(spool, usb, booth_id="b", template="{id_number}.jpg", status=status)
    monkeypatch.setattr(exporter, "write_atomic", real_write)
    assert report.problem is None and report.exported == [] and report.pending == 1
    assert [i.id for i in spool.pending()] == done
    assert export_pending(spool, usb, booth_id="b", template="{id_number}.jpg", status=status).ok
    [photo] = list(usb.rglob("*.jpg"))
    assert photo.read_bytes() == photo_jpeg(2)
