"""Crash tests: the save loop killed with SIGKILL at random moments, many times.

After every kill, before the next run recovers, the parent looks at the stick exactly as a
registrar would find it if it were pulled at that instant: every row of every manifest names a
file whose checksum matches and that verifies (``manifest.csv``'s rows too, which may be one
step behind ``manifest.json``, never more), every photo is listed (or announced as staged by
an unfinished export), and no temporary file looks like a photo. Then the next run recovers and
resumes, and at the end nothing the booth confirmed was lost and nothing is duplicated.

``KIOSK_CRASH_KILLS`` sets the number of kills (default 60; ``bench/crash.sh`` runs 500) and
``KIOSK_CRASH_SECONDS`` an optional cap on the time allowed for them (none by default).

SIGKILL ends the process at any instruction but keeps the kernel's page cache, so this proves
the ordering of writes, renames and marks (what a crash of the program can leave), not the
fsyncs themselves (what a power cut can leave); those follow the write/fsync/rename/fsync
recipe in kiosk.handoff.export.durable.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from handoff_fixtures import make_student, sealed_photo, verifies

from kiosk.handoff.export import manifest as mf
from kiosk.handoff.export.durable import TEMP_PREFIX, sha256_bytes
from kiosk.handoff.registrar.verify import verify_export
from kiosk.handoff.spool import Spool

WORKER = Path(__file__).with_name("crash_worker.py")
KILLS = int(os.environ.get("KIOSK_CRASH_KILLS", "60"))
# an optional cap for long runs (bench/crash.sh); none by default: a busy machine takes longer,
# it does not test less
TIME_BUDGET_S = float(os.environ.get("KIOSK_CRASH_SECONDS", "inf"))


def read_journal(path: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Per student: every sha tried after their last ack (plus that ack), and the last ack."""
    tries: dict[str, list[str]] = {}
    acks: dict[str, str] = {}
    if not path.exists():
        return tries, acks
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue                      # a line cut by the kill
        kind, sid, sha = parts
        if kind == "try":
            tries.setdefault(sid, []).append(sha)
        elif kind == "ack":
            acks[sid] = sha
            tries[sid] = [sha]            # only this one or later tries may be current
    return tries, acks


def check_invariants(state: Path, usb: Path, journal: Path, by_id: dict, *, final: bool) -> None:
    spool = Spool(state)
    tries, acks = read_journal(journal)
    items = {i.student.student_id: i for i in spool.items()}
    # 1. nothing confirmed is lost: the current photo is the last ack or a later try
    for sid in acks:
        assert sid in items, f"student {sid}: confirmed photo lost"
        assert items[sid].sha256 in tries[sid], f"student {sid}: older photo came back"
    # 2. every spool item is whole
    for item in items.values():
        item.read_photo()
    for entry in spool.items_dir.iterdir():
        assert not entry.name.startswith(TEMP_PREFIX) or not final, entry
    # 3. the stick at this instant: manifests parse; one entry per student; every row's file
    #    is there, matches its checksum and verifies; every photo is listed or staged
    for folder in {p.parent for p in usb.rglob(mf.MANIFEST_JSON)}:
        doc = json.loads((folder / mf.MANIFEST_JSON).read_text("utf-8"))
        sids = [e["student_id"] for e in doc["photos"]]
        assert len(sids) == len(set(sids)), "duplicated student in the manifest"
        listed = {e["file"] for e in doc["photos"]}
        photos = {p.name for p in folder.glob("*.jpg") if not p.name.startswith("~")}
        assert listed <= photos, "manifest names a missing file"
        assert photos <= listed | set(doc.get("staged", [])), \
            "photo on the stick that no manifest lists or stages"
        assert not [p for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)
                    and p.suffix.lower() in (".jpg", ".jpeg")], "a temporary file looks like a photo"
        if final:
            assert photos == listed, "photo on the stick that no manifest lists"
            assert not list(folder.glob(f"{TEMP_PREFIX}*")), "temporary file left on the stick"
        for e in doc["photos"]:
            data = (folder / e["file"]).read_bytes()
            assert sha256_bytes(data) == e["sha256"], f"{e['file']}: checksum mismatch"
            assert verifies(data, by_id[e["student_id"]])
        # manifest.csv too (a registrar may read only it): every row's file is there with its
        # checksum, whether the CSV equals the JSON or is one step behind it
        csv_path = folder / mf.MANIFEST_CSV
        if csv_path.exists():
            rows = list(csv.reader(io.StringIO(csv_path.read_text("utf-8-sig"))))[1:]
            for r in rows:
                data = (folder / r[5]).read_bytes()
                assert sha256_bytes(data) == r[-1], f"{r[5]}: checksum mismatch (manifest.csv)"
            by_sid = {e["student_id"]: e for e in doc["photos"]}
            for r in rows:
                sid = mf._from_cell(r[0])
                assert sid in by_sid and by_sid[sid]["id_number"] == mf._from_cell(r[2]), \
                    "manifest.csv lists a student manifest.json does not"
        if final:
            assert [c.notes for c in verify_export(folder, key=None)] == [[]]
            assert not verify_export(folder, key=None)[0].problems
    # 4. an item marked exported is really on the stick with its checksum
    for item in items.values():
        if item.exported is not None:
            data = (usb / item.exported["path"]).read_bytes()
            if final:
                assert sha256_bytes(data) == item.sha256


@pytest.mark.slow
def test_sigkill_during_spool_writes_and_exports(tmp_path):
    students = [make_student(i, name=f"王{i}") for i in range(30, 38)]
    by_id = {s.student_id: s for s in students}
    photos = tmp_path / "photos"
    for s in students:
        (photos / s.student_id).mkdir(parents=True)
        for v in range(3):
            (photos / s.student_id / f"{v}.jpg").write_bytes(sealed_photo(s, v))
    (photos / "students.json").write_text(
        json.dumps([dataclasses.asdict(s) for s in students], ensure_ascii=False), "utf-8")
    state, usb, journal = tmp_path / "state", tmp_path / "usb", tmp_path / "journal"
    usb.mkdir()
    rng = random.Random(20260601)
    started = time.monotonic()
    kills = mid_spool = mid_export = snapshots = 0
    while kills < KILLS and time.monotonic() - started < TIME_BUDGET_S:
        # every other run dies at an exact file system step, the others at a random moment
        step = rng.randrange(1, 200) if kills % 2 else 0
        child = subprocess.Popen([sys.executable, str(WORKER), str(state), str(usb), str(photos),
                                  str(journal), str(rng.randrange(1 << 30)), str(step)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if step:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        else:
            # a random moment after start-up (imports), however long start-up took here
            child.stdout.readline()
            time.sleep(rng.uniform(0.0, 0.9))
            child.send_signal(signal.SIGKILL)
        if child.wait() != -signal.SIGKILL:
            pytest.fail("worker died by itself: " + child.stderr.read().decode()[-2000:])
        child.stdout.close()
        child.stderr.close()
        kills += 1
        # where did the kill land? (half-built spool items, temporary files on the stick)
        if any(p.name.startswith(TEMP_PREFIX) for p in (state / "spool" / "items").iterdir()):
            mid_spool += 1
        if any(usb.rglob(f"{TEMP_PREFIX}*")):
            mid_export += 1
        check_invariants(state, usb, journal, by_id, final=False)
        snapshots += 1
    # the booth restarts one last time with the stick present: everything reaches it
    from kiosk.handoff.export import export_pending
    from kiosk.handoff.export.stick import ProbedStatus
    spool = Spool(state)
    spool.recover()
    report = export_pending(spool, usb, booth_id="crash", template="{id_number}.jpg",
                            status=ProbedStatus(True, str(usb), 10**9, False, "vfat"))
    assert report.problem is None and report.pending == 0
    check_invariants(state, usb, journal, by_id, final=True)
    tries, acks = read_journal(journal)
    [folder] = {p.parent for p in usb.rglob(mf.MANIFEST_JSON)}
    doc = json.loads((folder / mf.MANIFEST_JSON).read_text("utf-8"))
    on_stick = {e["student_id"]: e["sha256"] for e in doc["photos"]}
    assert set(acks) <= set(on_stick)
    for sid, sha in on_stick.items():
        assert sha in tries[sid]
    adds = sum(1 for line in journal.read_text().splitlines() if line.startswith("ack"))
    print(f"\ncrash test: {kills} SIGKILLs, {adds} confirmed adds, "
          f"{len(on_stick)} students on the stick, {time.monotonic() - started:.1f} s; kills inside "
          f"a spool write: {mid_spool}, inside a stick write: {mid_export}; stick snapshots "
          f"checked before recovery: {snapshots}, checksum mismatches: 0")
    assert kills >= 10 and adds >= 10
