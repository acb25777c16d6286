"""USB export on plain directories: layout, manifests, retakes, names, refusals, resume."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from handoff_fixtures import make_student, photo_jpeg, record, sealed_photo, verifies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.handoff.export import export_pending
from kiosk.handoff.export.durable import sha256_bytes
from kiosk.handoff.export.stick import MSG_FULL, MSG_MISSING, MSG_READ_ONLY, ProbedStatus
from kiosk.handoff.spool import Spool
from kiosk.photo.student import Student, mask_id_number

TEMPLATE = "{id_number}.jpg"


def ok_status(root: Path, free: int = 10**9, **kw) -> ProbedStatus:
    values = dict(present=True, mount_point=str(root), free_bytes=free, read_only=False,
                  fs_type="vfat")
    values.update(kw)
    return ProbedStatus(**values)


def export(spool, root, **kw):
    kw.setdefault("status", ok_status(root))
    return export_pending(spool, root, booth_id="booth1", template=TEMPLATE, **kw)


def day_folder(root: Path) -> Path:
    [folder] = list((root / "grad-photos" / "booth1").iterdir())
    return folder


def test_export_layout_manifests_and_verified_files(tmp_path, students):
    spool = Spool(tmp_path / "state")
    for i, s in enumerate(students):
        warn = ("pose.yaw",) if i == 1 else ()
        spool.add(s, sealed_photo(s, i), record("warn" if warn else "pass", warn))
    usb = tmp_path / "usb"
    usb.mkdir()
    report = export(spool, usb)
    assert report.ok and len(report.exported) == len(students) and report.pending == 0
    folder = day_folder(usb)
    assert folder.name[:4].isdigit() and len(folder.name) == 10          # YYYY-MM-DD
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([f"{s.id_number}.jpg" for s in students]
                           + ["manifest.csv", "manifest.json", "index.html", ".thumbs.json"])
    for s in students:
        assert verifies((folder / f"{s.id_number}.jpg").read_bytes(), s)
    raw = (folder / "manifest.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                               # BOM for spreadsheets
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:7] == ["学号", "姓名", "身份证号", "学院", "班级", "文件名", "拍摄时间"]
    assert rows[0][-1] == "SHA-256"
    by_id = {r[0].strip(): r for r in rows[1:]}
    s = students[1]
    assert by_id[s.student_id][1] == s.name and by_id[s.student_id][2].strip() == s.id_number
    assert "pose.yaw" in by_id[s.student_id][8]
    doc = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert doc["school_code"] == "10727" and doc["count"] == len(students)
    for e in doc["photos"]:
        assert sha256_bytes((folder / e["file"]).read_bytes()) == e["sha256"]
    page = (folder / "index.html").read_text("utf-8")
    assert page.count("data:image/jpeg;base64,") == len(students)
    assert "Content-Security-Policy" in page and "http" not in page.split("<body>")[1]
    assert page.count('class="card warn"') == 1 and "Raise your chin" in page
    assert f"身份证号 {mask_id_number(s.id_number)}" in page                # masked on the card
    # every item is marked exported in the spool with the verified path
    assert all(i.exported and i.exported["path"].startswith("grad-photos/booth1/")
               for i in spool.items())


def test_second_export_adds_to_the_manifest_and_retake_replaces(tmp_path, students):
    spool = Spool(tmp_path / "state")
    usb = tmp_path / "usb"
    usb.mkdir()
    a, b = students[:2]
    spool.add(a, photo_jpeg(1), record())
    assert export(spool, usb).ok
    spool.add(b, photo_jpeg(2), record())
    spool.add(a, photo_jpeg(3), record())            # retake of a, after a went to the stick
    report = export(spool, usb)
    assert report.ok and len(report.exported) == 2
    folder = day_folder(usb)
    doc = json.loads((folder / "manifest.json").read_text("utf-8"))
    entries = {e["student_id"]: e for e in doc["photos"]}
    assert set(entries) == {a.student_id, b.student_id}
    assert entries[a.student_id]["sha256"] == sha256_bytes(photo_jpeg(3))
    assert [h["sha256"] for h in entries[a.student_id]["history"]] == [sha256_bytes(photo_jpeg(1))]
    assert (folder / f"{a.id_number}.jpg").read_bytes() == photo_jpeg(3)
    assert len([p for p in folder.glob("*.jpg")]) == 2


@pytest.mark.parametrize("damage", ["garbage", "deleted"])
def test_a_damaged_manifest_json_is_rebuilt_from_the_csv(tmp_path, students, damage):
    """manifest.json broken or deleted on the stick: the next export keeps the photos already
    there listed (from manifest.csv) instead of starting an empty manifest."""
    spool = Spool(tmp_path / "state")
    usb = tmp_path / "usb"
    usb.mkdir()
    first = students[:2]
    for i, s in enumerate(first):
        spool.add(s, photo_jpeg(i), record("warn", ("pose.yaw",)) if i else record())
    assert export(spool, usb).ok
    folder = day_folder(usb)
    if damage == "garbage":
        (folder / "manifest.json").write_bytes(b'{"photos": [ truncated')
    else:
        (folder / "manifest.json").unlink()
    spool.add(students[2], photo_jpeg(2), record())
    assert export(spool, usb).ok
    doc = json.loads((folder / "manifest.json").read_text("utf-8"))
    entries = {e["student_id"]: e for e in doc["photos"]}
    assert set(entries) == {s.student_id for s in students[:3]}
    for i, s in enumerate(students[:3]):
        e = entries[s.student_id]
        assert (e["name"], e["id_number"], e["file"]) == (s.name, s.id_number, f"{s.id_number}.jpg")
        assert e["sha256"] == sha256_bytes(photo_jpeg(i)) == sha256_bytes((folder / e["file"]).read_bytes())
        assert e["size"] == len(photo_jpeg(i))
    assert entries[first[1].student_id]["verdict"] == "warn"
    assert [c["id"] for c in entries[first[1].student_id]["checks"]] == ["pose.yaw"]
    page = (folder / "index.html").read_text("utf-8")
    assert page.count("data:image/jpeg;base64,") == 3


def test_names_taken_by_another_student_get_a_second_name(tmp_path):
    spool = Spool(tmp_path / "state")
    usb = tmp_path / "usb"
    usb.mkdir()
    twins = [make_student(1, name="王芳"), make_student(2, name="王芳")]
    for i, s in enumerate(twins):
        spool.add(s, photo_jpeg(i), record())
    report = export_pending(spool, usb, booth_id="booth1", template="{name}.jpg",
                            status=ok_status(usb))
    assert report.ok
    names = sorted(p.name for p in day_folder(usb).glob("*.jpg"))
    assert names == ["王芳.jpg", f"王芳_{twins[1].student_id}.jpg"]


@pytest.mark.parametrize("status, message", [
    (None, MSG_MISSING),
    ("ro", MSG_READ_ONLY),
    ("small", MSG_FULL),
])
def test_refusals_keep_everything_pending(tmp_path, students, status, message):
    spool = Spool(tmp_path / "state")
    for i, s in enumerate(students):
        spool.add(s, photo_jpeg(i), record())
    usb = tmp_path / "usb"
    usb.mkdir()
    st_obj = {None: ProbedStatus(False, None, 0, False, None),
              "ro": ok_status(usb, read_only=True),
              "small": ok_status(usb, free=30_000)}[status]
    report = export(spool, usb, status=st_obj)
    assert report.problem == message and report.message.zh and report.message.en
    assert report.pending == len(students) and not report.exported
    assert list(usb.iterdir()) == []
    assert export(spool, usb).ok                       # a good stick later takes them all


def test_a_copy_that_reads_back_wrong_is_never_marked_exported(tmp_path, students, monkeypatch):
    """A stick that stores a photo with one byte changed (a failing flash cell): the re-read
    checksum differs, the bad copy is removed, the spool keeps every item pending."""
    import kiosk.handoff.export.exporter as exporter
    from kiosk.handoff.export.stick import MSG_MISMATCH
    spool = Spool(tmp_path / "state")
    for i, s in enumerate(students[:2]):
        spool.add(s, photo_jpeg(i), record())
    usb = tmp_path / "usb"
    usb.mkdir()
    real_write = exporter.write_atomic

    def write_then_flip_a_byte(path, data, **kw):
        real_write(path, data, **kw)
        if str(path).endswith(".jpg"):
            with open(path, "r+b") as fh:               # the medium changes the stored bytes
                fh.seek(len(data) // 2)
                byte = fh.read(1)
                fh.seek(len(data) // 2)
                fh.write(bytes([byte[0] ^ 0x01]))
    monkeypatch.setattr(exporter, "write_atomic", write_then_flip_a_byte)
    report = export(spool, usb)
    assert report.problem == MSG_MISMATCH and not report.exported
    assert report.pending == 2 and all(i.exported is None for i in spool.items())
    assert not any((i.folder / "exported.json").exists() for i in spool.items())
    assert not list(usb.rglob("*.jpg"))                 # the damaged copy was removed
    monkeypatch.setattr(exporter, "write_atomic", real_write)
    assert export(spool, usb).ok                        # a good write later takes them all
    assert all(i.exported for i in spool.items())


def test_unsupported_file_system_named_in_the_message(tmp_path, students):
    spool = Spool(tmp_path / "state")
    spool.add(students[0], photo_jpeg(), record())
    report = export(spool, tmp_path, status=ok_status(tmp_path, fs_type="ntfs"))
    assert "ntfs" in report.problem.en and "exFAT" in report.problem.en
    assert report.pending == 1


def test_a_name_too_long_for_the_stick_skips_only_that_photo(tmp_path, students):
    """A template that makes a name over 255 bytes (ext4's limit; FAT's is 255 UTF-16 units):
    that photo stays in the spool for staff, the others are exported."""
    spool = Spool(tmp_path / "state")
    long_name = make_student(1, name="王" * 60)       # 5 × 60 Chinese characters = 900 bytes
    spool.add(long_name, photo_jpeg(1), record())
    for i, s in enumerate(students[1:3], start=2):
        spool.add(s, photo_jpeg(i), record())
    usb = tmp_path / "usb"
    usb.mkdir()
    report = export_pending(spool, usb, booth_id="booth1", template="{name}" * 5 + "{id_number}.jpg",
                            status=ok_status(usb))
    assert report.problem is None and len(report.exported) == 2
    [(item_id, why)] = report.skipped
    assert "too long" in why.en and why.zh
    assert [i.id for i in spool.pending()] == [item_id]
    assert len(list(day_folder(usb).glob("*.jpg"))) == 2


def test_a_long_chinese_booth_id_still_makes_a_folder_name_ext4_can_hold(tmp_path, students):
    spool = Spool(tmp_path / "state")
    spool.add(students[0], photo_jpeg(), record())
    usb = tmp_path / "usb"
    usb.mkdir()
    booth = "图书馆一楼大厅自助毕业照拍摄点" * 8                  # 120 characters, 360 bytes
    report = export_pending(spool, usb, booth_id=booth, template=TEMPLATE, status=ok_status(usb))
    assert report.ok, report.message
    [folder] = list((usb / "grad-photos").iterdir())
    assert len(folder.name.encode("utf-8")) <= 255 and booth.startswith(folder.name)


def test_probe_of_a_plain_folder(tmp_path):
    from kiosk.handoff.export import probe
    st_obj = probe(tmp_path)
    assert st_obj.present and st_obj.free_bytes > 0 and st_obj.fs_type
    assert not probe(tmp_path / "absent").present


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                min_size=1, max_size=40)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, template=st.sampled_from(["{id_number}.jpg", "{name}.jpg",
                                             "{student_id}_{name}.jpg", "{class_name}/{name}.jpg",
                                             "../{name}.jpg", "{college}{name}.JPG"]))
def test_fuzz_names_never_escape_the_export_folder(tmp_path_factory, name, template):
    tmp = tmp_path_factory.mktemp("fuzz")
    s = Student(student_id="2020000001", id_number=make_student(1).id_number, name=name,
                college=name[::-1], class_name=name)
    spool = Spool(tmp / "state")
    spool.add(s, photo_jpeg(), record())
    usb = tmp / "usb"
    usb.mkdir()
    report = export_pending(spool, usb, booth_id=name, template=template,
                            status=ok_status(usb))
    # every file written lies inside usb/grad-photos/<one safe booth folder>/<date>/
    for dirpath, _dirs, files in os.walk(tmp):
        for f in files:
            p = Path(dirpath, f).resolve()
            assert p.is_relative_to((tmp / "state").resolve()) or \
                p.parent.parent.parent.parent == usb.resolve(), p
    if report.exported:
        assert report.pending == 0
    else:
        assert report.skipped and report.pending == 1     # refused name: kept, reported


def test_export_to_stick_with_config_and_retention(tmp_path, students):
    from kiosk.config import Config
    from kiosk.handoff.export import export_to_stick

    class Stick:                                    # the hardware layer's interface
        def __init__(self, status):
            self._status = status

        def status(self):
            return self._status

    config = Config()
    config.booth.booth_id = "图书馆 booth 2"
    config.export.retention_days = 0.0              # purge right after a verified export
    spool = Spool(tmp_path / "state")
    spool.add(students[0], photo_jpeg(), record())
    usb = tmp_path / "usb"
    usb.mkdir()
    missing = export_to_stick(spool, Stick(ProbedStatus(False, None, 0, False, None)), config)
    assert missing.problem == MSG_MISSING and missing.pending == 1 and missing.purged == 0
    report = export_to_stick(spool, Stick(ok_status(usb)), config)
    assert report.ok and report.purged == 1
    assert spool.items() == []                      # no personal data left on the SD card
    assert (usb / "grad-photos" / "图书馆 booth 2").is_dir()


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                           lambda kids: st.lists(kids, max_size=3)
                           | st.dictionaries(st.text(max_size=8), kids, max_size=3),
                           max_leaves=12)
entry_dicts = st.fixed_dictionaries({}, optional={
    k: st.one_of(json_values, st.sampled_from(["../../evil.jpg", "/etc/passwd", "a.jpg", ""]))
    for k in ("student_id", "name", "id_number", "file", "sha256", "checks", "history",
              "size", "verdict", "captured_at")})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.one_of(json_values, st.fixed_dictionaries({"photos": st.lists(entry_dicts,
                                                                             max_size=4)})))
def test_fuzz_a_foreign_manifest_on_the_stick(tmp_path_factory, doc):
    """Whatever manifest.json a stick already holds, export and verify neither crash nor
    write outside the export folder."""
    from datetime import date

    from kiosk.handoff.registrar.verify import verify_export
    tmp = tmp_path_factory.mktemp("foreign")
    spool = Spool(tmp / "state")
    s = make_student(1)
    spool.add(s, photo_jpeg(), record())
    usb = tmp / "usb"
    folder = usb / "grad-photos" / "booth1" / date.today().isoformat()
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(doc), "utf-8")
    report = export(spool, usb)
    assert report.problem is None and report.pending == 0
    assert sorted(p.name for p in tmp.iterdir()) == ["state", "usb"]
    assert not (usb / "evil.jpg").exists() and not (tmp / "evil.jpg").exists()
    new = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert s.student_id in {e["student_id"] for e in new["photos"]}
    verify_export(usb, key=None)                       # reports problems, never raises
