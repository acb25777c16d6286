"""The registrar's tool: verify an export (checksums, verifier, identity), merge booths."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from handoff_fixtures import KEY, make_student, record, sealed_photo

from kiosk.handoff.export import export_pending
from kiosk.handoff.export.durable import sha256_bytes
from kiosk.handoff.export.stick import ProbedStatus
from kiosk.handoff.registrar.merge import merge_exports
from kiosk.handoff.registrar.verify import verify_export
from kiosk.handoff.spool import Spool
from kiosk.photo.student import mask_id_number


def booth_export(tmp: Path, booth: str, takes: list[tuple], when: datetime) -> Path:
    """Run a booth: spool the takes (student, variant), export to its own stick; return it."""
    spool = Spool(tmp / f"state-{booth}")
    for n, (student, variant) in enumerate(takes):
        rec = record()
        at = when + timedelta(minutes=n)
        rec["captured_at"] = at.isoformat(timespec="seconds")
        spool.add(student, sealed_photo(student, variant, captured_at=at), rec)
    usb = tmp / f"usb-{booth}"
    usb.mkdir()
    report = export_pending(spool, usb, booth_id=booth, template="{id_number}.jpg",
                            status=ProbedStatus(True, str(usb), 10**9, False, "vfat"))
    assert report.ok
    return usb


def sha_on(usb: Path, student) -> str:
    """SHA-256 of the student's photo on a stick (sealed files differ at every sealing)."""
    return sha256_bytes(next(usb.rglob(f"{student.id_number}.jpg")).read_bytes())


@pytest.fixture(scope="module")
def people():
    return [make_student(i) for i in range(11, 15)]


def test_verify_a_good_export(tmp_path, people):
    usb = booth_export(tmp_path, "b1", [(s, i) for i, s in enumerate(people)],
                       datetime(2026, 6, 1, 9, tzinfo=timezone.utc))
    [folder] = verify_export(usb, key=KEY)
    assert folder.ok and len(folder.rows) == len(people)
    assert all(r.checksum_ok and r.identity_ok and r.status == "pass" for r in folder.rows)
    [no_key] = verify_export(usb, key=None)
    assert no_key.ok and all(r.identity_ok is None and r.status == "warn" for r in no_key.rows)


def test_verify_finds_every_kind_of_damage(tmp_path, people):
    usb = booth_export(tmp_path, "b1", [(s, i) for i, s in enumerate(people)],
                       datetime(2026, 6, 1, 9, tzinfo=timezone.utc))
    folder = next(usb.rglob("manifest.json")).parent
    a, b, c, d = people
    # a: one byte of the picture changed on the stick
    p = folder / f"{a.id_number}.jpg"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))
    # b: the manifest row claims another name for the file (identity sealed in the file differs)
    doc = json.loads((folder / "manifest.json").read_text("utf-8"))
    for e in doc["photos"]:
        if e["student_id"] == b.student_id:
            e["name"] = "冒名顶替"
    (folder / "manifest.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    # c: file gone; d untouched; plus a stray photo nobody listed
    (folder / f"{c.id_number}.jpg").unlink()
    (folder / "stray.jpg").write_bytes(sealed_photo(d, 9))
    [fc] = verify_export(usb, key=KEY)
    rows = {r.student_id: r for r in fc.rows}
    assert rows[a.student_id].checksum_ok is False and rows[a.student_id].status == "fail"
    assert rows[b.student_id].checksum_ok and rows[b.student_id].identity_ok is False
    assert rows[c.student_id].checksum_ok is None and rows[c.student_id].status == "fail"
    assert rows[d.student_id].status == "pass"
    assert any("stray.jpg" in p for p in fc.problems)
    assert any("manifest.csv" in p for p in fc.problems)       # csv no longer agrees with json
    assert not fc.ok


def test_a_csv_one_step_behind_is_a_note_and_a_stale_checksum_a_problem(tmp_path, people):
    """manifest.json is authoritative: a manifest.csv left one export step behind (the booth
    cut between writing the two) only earns a note while each of its rows still matches its
    file; a CSV row whose file now holds other bytes is a problem."""
    a, b, c, _ = people
    when = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)
    spool = Spool(tmp_path / "state")
    usb = tmp_path / "usb"
    usb.mkdir()
    status = ProbedStatus(True, str(usb), 10**9, False, "vfat")

    def save(student, variant, minutes):
        rec = record()
        rec["captured_at"] = (when + timedelta(minutes=minutes)).isoformat(timespec="seconds")
        spool.add(student, sealed_photo(student, variant, captured_at=when + timedelta(
            minutes=minutes)), rec)
        assert export_pending(spool, usb, booth_id="b1", template="{id_number}.jpg",
                              status=status).ok

    save(a, 1, 0)
    save(b, 2, 1)
    folder = next(usb.rglob("manifest.json")).parent
    earlier_csv = (folder / "manifest.csv").read_bytes()
    save(c, 3, 2)                                          # a new student: one step on
    (folder / "manifest.csv").write_bytes(earlier_csv)
    [fc] = verify_export(usb, key=KEY)
    assert fc.ok and not fc.problems
    assert len(fc.notes) == 1 and "one step behind" in fc.notes[0]
    save(a, 4, 3)                                          # a's retake replaces a's file
    (folder / "manifest.csv").write_bytes(earlier_csv)     # a row with a's old checksum
    [fc] = verify_export(usb, key=KEY)
    assert not fc.ok and any("manifest.csv" in p and "disagree" in p for p in fc.problems)
    assert not fc.notes


def test_merge_newest_wins_and_conflicts_listed(tmp_path, people):
    a, b, c, d = people
    early = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)
    usb1 = booth_export(tmp_path, "b1", [(a, 1), (b, 2)], early)
    usb2 = booth_export(tmp_path, "b2", [(a, 3), (c, 4)], early + timedelta(hours=2))
    # booth 3 has d under b's student number: an identity conflict
    impostor = type(b)(student_id=b.student_id, id_number=d.id_number, name=d.name)
    usb3 = booth_export(tmp_path, "b3", [(impostor, 5)], early - timedelta(days=1))
    out = tmp_path / "batch"
    report = merge_exports([usb1, usb2, usb3, usb1], out, key=KEY)   # usb1 twice: no duplicate
    assert report.merged == 3 and not report.rejected
    doc = json.loads((out / "manifest.json").read_text("utf-8"))
    entries = {e["student_id"]: e for e in doc["photos"]}
    assert set(entries) == {a.student_id, b.student_id, c.student_id}
    assert entries[a.student_id]["sha256"] == sha_on(usb2, a)          # the newer take
    assert entries[a.student_id]["booth_id"] == "b2"
    assert entries[a.student_id]["history"][0]["sha256"] == sha_on(usb1, a)
    assert entries[b.student_id]["id_number"] == b.id_number                 # newer wins
    kinds = sorted((c_.kind, c_.student_id) for c_ in report.conflicts)
    assert kinds == [("identity differs", b.student_id), ("several photos", a.student_id),
                     ("several photos", b.student_id)]
    rows = list(csv.reader(io.StringIO((out / "conflicts.csv").read_text("utf-8-sig"))))
    assert len(rows) == 1 + len(report.conflicts)
    # the batch is itself a valid export
    [fc] = verify_export(out, key=KEY)
    assert fc.ok and len(fc.rows) == 3
    assert len(list(out.glob("*.jpg"))) == 3


def test_merge_rejects_damaged_photos(tmp_path, people):
    a, b = people[:2]
    usb = booth_export(tmp_path, "b1", [(a, 1), (b, 2)], datetime(2026, 6, 1, tzinfo=timezone.utc))
    folder = next(usb.rglob("manifest.json")).parent
    (folder / f"{a.id_number}.jpg").write_bytes(b"not a photo")
    report = merge_exports([usb], tmp_path / "batch", key=KEY)
    assert report.merged == 1 and len(report.rejected) == 1
    assert "checksum" in report.rejected[0][1]


def test_merge_newest_accepted_wins_a_damaged_newer_take_loses(tmp_path, people):
    a, b = people[:2]
    early = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)
    usb1 = booth_export(tmp_path, "b1", [(a, 1)], early)
    usb2 = booth_export(tmp_path, "b2", [(a, 2), (b, 3)], early + timedelta(hours=2))
    newer = next(usb2.rglob(f"{a.id_number}.jpg"))
    data = bytearray(newer.read_bytes())
    data[len(data) // 2] ^= 0x01                       # the newer take is damaged on its stick
    newer.write_bytes(bytes(data))
    out = tmp_path / "batch"
    report = merge_exports([usb2, usb1], out, key=KEY)
    assert report.merged == 2
    assert [where for where, _ in report.rejected] == [f"{newer.parent}/{newer.name}"]
    doc = json.loads((out / "manifest.json").read_text("utf-8"))
    entries = {e["student_id"]: e for e in doc["photos"]}
    assert entries[a.student_id]["booth_id"] == "b1"               # the older, intact take
    assert entries[a.student_id]["sha256"] == sha_on(usb1, a)
    assert sha256_bytes((out / f"{a.id_number}.jpg").read_bytes()) == sha_on(usb1, a)


def test_a_damaged_manifest_json_still_verifies_and_merges_from_the_csv(tmp_path, people):
    a, b = people[:2]
    usb = booth_export(tmp_path, "b1", [(a, 1), (b, 2)], datetime(2026, 6, 1, tzinfo=timezone.utc))
    folder = next(usb.rglob("manifest.json")).parent
    (folder / "manifest.json").write_text("not json", "utf-8")
    [fc] = verify_export(usb, key=KEY)
    assert not fc.ok and any("manifest.json" in p for p in fc.problems)   # the damage is reported
    assert {r.student_id: r.status for r in fc.rows} == {a.student_id: "pass", b.student_id: "pass"}
    assert not any("not in the manifest" in p for p in fc.problems)
    report = merge_exports([usb], tmp_path / "batch", key=KEY)
    assert report.merged == 2                                        # no photo silently dropped
    assert sha256_bytes((tmp_path / "batch" / f"{a.id_number}.jpg").read_bytes()) == sha_on(usb, a)


def test_merge_replaces_an_earlier_batch_and_refuses_a_folder_with_other_files(tmp_path, people,
                                                                             capsys):
    from kiosk.cli import main
    from kiosk.handoff.registrar.merge import MergeError
    a, b = people[:2]
    when = datetime(2026, 6, 1, tzinfo=timezone.utc)
    usb1 = booth_export(tmp_path, "b1", [(a, 1)], when)
    usb2 = booth_export(tmp_path, "b2", [(b, 2)], when)
    out = tmp_path / "batch"
    assert merge_exports([usb1, usb2], out, key=KEY).merged == 2
    # merged again from booth 2 only: the batch is replaced, a's photo does not linger in it
    assert merge_exports([usb2], out, key=KEY).merged == 1
    assert sorted(p.name for p in out.glob("*.jpg")) == [f"{b.id_number}.jpg"]
    [fc] = verify_export(out, key=KEY)
    assert fc.ok and [r.student_id for r in fc.rows] == [b.student_id]
    # a folder holding anything else is never written into
    other = tmp_path / "documents"
    other.mkdir()
    (other / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(MergeError):
        merge_exports([usb1], other, key=KEY)
    assert sorted(p.name for p in other.iterdir()) == ["thesis.docx"]
    assert main(["registrar", "merge", str(usb1), "--out", str(other)]) == 2
    assert "empty" in capsys.readouterr().err


def test_cli_verify_and_merge(tmp_path, people, capsys):
    from kiosk.cli import main
    a, b = people[:2]
    usb = booth_export(tmp_path, "b1", [(a, 1), (b, 2)], datetime(2026, 6, 1, tzinfo=timezone.utc))
    keyfile = tmp_path / "registrar.key"
    keyfile.write_text(KEY.hex() + "\n")
    keyfile.chmod(0o600)
    code = main(["registrar", "verify", str(usb), "--key", str(keyfile), "--no-image-checks"])
    out = capsys.readouterr().out
    assert code == 0
    assert a.name in out and "PASS" in out
    assert f"{a.name}  {mask_id_number(a.id_number)}" in out               # masked ID column
    code = main(["registrar", "merge", str(usb), "--out", str(tmp_path / "batch"),
                 "--key", str(keyfile)])
    assert code == 0 and "merged: 2" in capsys.readouterr().out
    folder = next(usb.rglob("manifest.json")).parent
    (folder / "stray.jpg").write_bytes(sealed_photo(a, 7))      # a photo no manifest lists
    code = main(["registrar", "verify", str(usb), "--key", str(keyfile), "--no-image-checks",
                 "--json"])
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 1 and len(rows) == 2 and all(r["status"] == "pass" for r in rows)
    assert "stray.jpg" in captured.err                           # why the export fails
    (folder / "stray.jpg").unlink()
    (next(usb.rglob("*.jpg"))).write_bytes(b"x")
    assert main(["registrar", "verify", str(usb), "--no-image-checks"]) == 1
    assert main(["registrar", "verify", str(tmp_path / "nowhere")]) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.slow
def test_verify_with_the_face_models_on_an_engine_photo(tmp_path):
    """The full verifier (face analysis included) on a photo the engine built from a booth
    scene composed from a real face."""
    from kiosk.config import Config
    from kiosk.handoff.spool import record_for
    from kiosk.photo.analysis import Analyzer
    from kiosk.photo.engine import build_photo
    from kiosk.sim import scenes
    config = Config()
    student = make_student(21, name="李华")
    analyzer = Analyzer()
    try:
        # the bareheaded student fails no rule; what the head measures cannot decide, the
        # student confirms on the review screen (recorded: the registrar sees "needs a look")
        photo = build_photo(scenes.compose_scene("franck-front", "blue", roll_deg=-5.5), student, config=config,
                            analyzer=analyzer, key=KEY)
        assert photo.ok, photo.problem
        spool = Spool(tmp_path / "state")
        confirmed = [{"id": c.id, "at": "2026-06-01T10:00:00+08:00", "zh": "已确认", "en": "confirmed"}
                     for c in photo.checks if c.needs_confirmation]
        spool.add(student, photo.jpeg, record_for(photo, confirmed=confirmed))
        usb = tmp_path / "usb"
        usb.mkdir()
        assert export_pending(spool, usb, booth_id="b1", template="{id_number}.jpg",
                              status=ProbedStatus(True, str(usb), 10**9, False, "vfat")).ok
        [fc] = verify_export(usb, key=KEY, analyzer=analyzer, config=config)
    finally:
        analyzer.close()
    [row] = fc.rows
    assert row.checksum_ok and row.identity_ok and row.verdict in ("pass", "warn"), row.problems
