"""Check an export the way the registrar's office receives it: every file, every claim.

For each export folder (one with a ``manifest.json``) and each student in it:

- the file named in the manifest is a regular file inside the folder (never a link, a device
  or a FIFO: a stick may have been prepared by someone hostile) of a photo's size;
- its SHA-256 equals the manifest's;
- the engine's verifier (``kiosk.photo.verify.verify_bytes``) passes it: every file rule, the sealed
  identity opened with the registrar's key, and (with image checks) the layout and background
  checks on the decoded picture;
- the identity sealed in the COM segment is the truth: student number, ID-card number, name and
  capture time must be those of the manifest row, and an ID-card number in the file name must
  be the sealed one; every disagreement is reported.

Photos on the stick that no manifest names (except names an unfinished export announced as
``staged``), a ``manifest.csv`` that disagrees with ``manifest.json`` (which is authoritative:
a CSV merely one export step behind, every row of it matching its file, is only a note), and
duplicate entries are reported too; so is every photo the manifest marks "需人工复核 / needs a look" (a rule the
booth could not decide, confirmed by the student): a warning, with the reasons, for a person to
check. The photos are checked by every core (:mod:`kiosk.handoff.registrar.pool`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from kiosk.handoff.export import manifest as mf
from kiosk.handoff.export.durable import MAX_MANIFEST_BYTES, MAX_PHOTO_BYTES, read_regular, sha256_bytes
from kiosk.handoff.export.naming import UnsafeName, inside
from kiosk.handoff.registrar.pool import Progress, run_tasks
from kiosk.photo.student import Student, mask_id_number

log = logging.getLogger(__name__)

# An ID-card number inside a file name (the default template is '{id_number}.jpg').
_ID_IN_NAME = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# Both sides write the capture time to the second from the same instant; one second of slack
# for a scheme that rounds instead of truncating.
CAPTURE_TIME_SLACK_S = 1.0


@dataclass
class StudentRow:
    """The verdict on one student's photo in one export folder."""

    student_id: str
    name: str
    id_number: str
    file: str
    checksum_ok: bool | None = None     # None: the file could not be read
    identity_ok: bool | None = None     # None: not checked (no key)
    verdict: str = "fail"               # the verifier's verdict on the file
    problems: list[str] = field(default_factory=list)
    backdrop: str = ""                  # the standard backdrop the booth found (manifest)
    # why a person must look at the photo: rules the booth could not decide, which the
    # student confirmed (or did not) — never reported as a plain pass
    needs_look: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """fail, warn or pass for the row as a whole."""
        if self.problems or not self.checksum_ok or self.identity_ok is False \
                or self.verdict == "fail":
            return "fail"
        if self.verdict == "warn" or self.identity_ok is None or self.needs_look:
            return "warn"
        return "pass"


@dataclass
class FolderCheck:
    """One export folder: its rows, and problems not tied to a student."""

    folder: Path
    rows: list[StudentRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)     # worth knowing, not a failure

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.status != "fail" for r in self.rows)


@dataclass
class Checked:
    """What a worker found about one manifest entry (small: no photo bytes)."""

    row: StudentRow
    file_ok: bool = False                       # the verifier passes the file (pass or warn)
    failing: list[str] = field(default_factory=list)   # blocking rule ids
    sealed_at: str | None = None                # capture time sealed in the file (ISO, UTC)
    thumb: str | None = None                    # contact-sheet thumbnail, when asked for


def find_export_folders(path: str | Path) -> list[Path]:
    """``path`` itself if it holds a manifest, else every folder below it that does.

    Links to folders are not followed, and a ``manifest.json`` that is not a regular file
    does not make a folder an export.
    """
    path = Path(path)
    if _regular(path / mf.MANIFEST_JSON):
        return [path]
    found = []
    for top, dirs, files in os.walk(path, followlinks=False):
        dirs.sort()
        if mf.MANIFEST_JSON in files and _regular(Path(top) / mf.MANIFEST_JSON):
            found.append(Path(top))
    return sorted(found)


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def disagreements(entry: mf.Entry, who) -> list[str]:
    """Every way the identity sealed in the file (``who``) contradicts the manifest row."""
    found = []
    for label, mine, sealed in (("学号 student number", entry.student_id, who.student_id),
                                ("身份证号 ID-card number", entry.id_number, who.id_number),
                                ("姓名 name", entry.name, who.name)):
        if mine != sealed:
            shown = (mask_id_number(mine), mask_id_number(sealed)) if "ID" in label \
                else (mine, sealed)
            found.append(f"{label}: 清单 manifest {shown[0]!r}, 文件内 sealed {shown[1]!r}")
    sealed_at = who.captured_at
    if sealed_at is not None:
        listed = _instant(entry.captured_at)
        if listed is None or abs((listed - sealed_at).total_seconds()) > CAPTURE_TIME_SLACK_S:
            found.append(f"拍摄时间 capture time: 清单 manifest {entry.captured_at!r}, 文件内 "
                         f"sealed {sealed_at.isoformat()!r}")
    for number in _ID_IN_NAME.findall(entry.file):
        if number.upper() != who.id_number:
            found.append(f"文件名 file name {entry.file!r} carries another ID-card number than "
                         f"the sealed {mask_id_number(who.id_number)}")
    return found


def _instant(text: str) -> datetime | None:
    try:
        t = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return t if t.tzinfo else None        # a time without its offset names no instant


def check_entry(task: tuple[str, mf.Entry, bool], worker: dict[str, Any]) -> Checked:
    """Check one manifest entry's file (runs in a worker process; see the module docstring)."""
    from kiosk.photo.verify import verify_bytes
    folder_s, entry, want_thumb = task
    folder = Path(folder_s)
    key, config, analyzer = worker.get("key"), worker.get("config"), worker.get("analyzer")
    row = StudentRow(entry.student_id, entry.name, entry.id_number, entry.file,
                     backdrop=entry.backdrop, needs_look=entry.needs_look)
    checked = Checked(row)
    try:
        data = read_regular(inside(folder, entry.file), MAX_PHOTO_BYTES)
    except (OSError, UnsafeName) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        row.problems.append(f"文件缺失或不可读 missing or unreadable file: {why}")
        return checked
    row.checksum_ok = sha256_bytes(data) == entry.sha256
    if not row.checksum_ok:
        row.problems.append("SHA-256 与清单不符 / checksum differs from the manifest")
    expected = Student(student_id=entry.student_id, id_number=entry.id_number,
                       name=entry.name, college=entry.college, class_name=entry.class_name)
    report = verify_bytes(data, key=key, expected=expected, analyzer=analyzer,
                          config=config, path=str(folder / entry.file))
    row.verdict = report.verdict.value
    checked.file_ok = report.ok
    for c in report.checks:
        if c.blocking:
            checked.failing.append(c.id)
            row.problems.append(f"{c.id}: {c.message.zh} / {c.message.en}")
    who = report.identity
    if key is not None:
        found = disagreements(entry, who) if who is not None else []
        row.identity_ok = who is not None and not found
        for d in found:
            row.problems.append(f"文件内身份与清单不符 / the sealed identity differs: {d}")
    if who is not None and who.captured_at is not None:
        checked.sealed_at = who.captured_at.astimezone(timezone.utc).isoformat()
    if want_thumb and checked.file_ok and row.checksum_ok:
        from kiosk.handoff.export.contact_sheet import thumbnail_data_uri
        try:
            checked.thumb = thumbnail_data_uri(data)
        except (OSError, ValueError, SyntaxError) as exc:
            log.warning("no thumbnail for %s: %s", entry.file, exc)
    return checked


def iter_checked(folders: list[Path], *, key: bytes | None, analyzer=None, config=None,
                 jobs: int = 1, image_checks: bool | None = None, thumbs: bool = False,
                 progress_label: str | None = None, keep_checks: bool = False,
                 ) -> Iterator[tuple[Path, mf.Manifest, list[str], list[tuple[mf.Entry, Checked]]]]:
    """Per folder: its manifest, the manifest's problems and every entry with what was found.

    One pool of ``jobs`` workers serves all folders; with ``image_checks`` each worker makes
    its own analyser (``analyzer`` is used only in this process, ``jobs=1``).
    """
    if image_checks is None:
        image_checks = analyzer is not None
    loaded = []
    for folder in folders:
        manifest, problems = mf.load(folder)
        if not keep_checks:
            for entry in manifest.entries.values():
                entry.checks, entry.history = [], []   # not needed here; keeps memory small
        loaded.append((folder, manifest, problems))
    total = sum(len(m.entries) for _, m, _ in loaded)
    progress = Progress(total, progress_label) if progress_label and total else None
    tasks = ((str(folder), dataclasses.replace(entry, checks=[], history=[]), thumbs)
             for folder, m, _ in loaded for entry in m.sorted_entries())
    results = run_tasks(check_entry, tasks, jobs=jobs if total > 1 else 1,
                        image_checks=image_checks and jobs > 1 and total > 1,
                        context={"key": key, "config": config},
                        analyzer=analyzer if (jobs <= 1 or total <= 1) else None,
                        progress=progress)
    if image_checks and analyzer is None and (jobs <= 1 or total <= 1):
        results = _with_own_analyzer(loaded, key, config, thumbs, progress)
    try:
        for i, (folder, manifest, problems) in enumerate(loaded):
            pairs = [(entry, next(results)) for entry in manifest.sorted_entries()]
            # the tasks have all left for this folder: its manifest is the caller's alone now
            # (a class of 10,000 is not kept whole while the later folders are checked)
            loaded[i] = (folder, mf.Manifest(manifest.booth_id, manifest.day), problems)
            yield folder, manifest, problems, pairs
            del manifest, pairs
    finally:
        if progress is not None:
            progress.close()


def _with_own_analyzer(loaded, key, config, thumbs, progress) -> Iterator[Checked]:
    from kiosk.photo.analysis import Analyzer
    analyzer = Analyzer()
    try:
        for folder, m, _ in loaded:
            for entry in m.sorted_entries():
                yield check_entry((str(folder), entry, thumbs),
                                  {"key": key, "config": config, "analyzer": analyzer})
                if progress is not None:
                    progress.step()
    finally:
        analyzer.close()


def verify_folder(folder: Path, *, key: bytes | None, analyzer=None, config=None,
                  jobs: int = 1, image_checks: bool | None = None) -> FolderCheck:
    """Verify one export folder; see the module docstring."""
    [check] = verify_export(folder, key=key, analyzer=analyzer, config=config, jobs=jobs,
                            image_checks=image_checks, folders=[Path(folder)])
    return check


def verify_export(path: str | Path, *, key: bytes | None, analyzer=None, config=None,
                  jobs: int = 1, image_checks: bool | None = None, progress: bool = False,
                  folders: list[Path] | None = None) -> list[FolderCheck]:
    """Verify every export folder at or below ``path`` (a stick's root or one folder)."""
    folders = find_export_folders(path) if folders is None else folders
    checks = []
    for folder, manifest, problems, pairs in iter_checked(
            folders, key=key, analyzer=analyzer, config=config, jobs=jobs,
            image_checks=image_checks, progress_label="verify" if progress else None):
        check = FolderCheck(folder)
        check.problems.extend(problems)
        if not _regular(folder / mf.MANIFEST_JSON):
            check.problems.append("manifest.json missing")
        check.rows = [c.row for _, c in pairs]
        check.problems.extend(_unlisted(folder, manifest))
        csv_problems, csv_notes = _csv_disagreements(folder, manifest)
        check.problems.extend(csv_problems)
        check.notes.extend(csv_notes)
        checks.append(check)
    return checks


def _unlisted(folder: Path, manifest: mf.Manifest) -> list[str]:
    """Photos in the folder that no row names (staged names of an unfinished export aside)."""
    named = {e.file.lower() for e in manifest.entries.values()}
    staged = {n.lower() for n in manifest.staged}
    found = []
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        return [f"文件夹不可读 / folder unreadable: {exc.strerror}"]
    for name in names:
        low = name.lower()
        if low.endswith((".jpg", ".jpeg")) and not name.startswith(("~", ".")) \
                and low not in named and low not in staged:
            found.append(f"{name}: 不在清单中 / not in the manifest")
    return found


def _csv_disagreements(folder: Path, manifest: mf.Manifest) -> tuple[list[str], list[str]]:
    """(problems, notes) of ``manifest.csv`` against ``manifest.json``, which is authoritative.

    The booth writes ``manifest.json`` first and ``manifest.csv`` right after it, at every step
    of an export, and changes no photo in between: a stick pulled (or a booth killed) at that
    instant holds a CSV one step behind, whose every row still names its file with the right
    checksum. That is a note, not a failure; any other difference is a problem.
    """
    path = folder / mf.MANIFEST_CSV
    if not _regular(path):
        return ["manifest.csv missing"], []
    try:
        text = read_regular(path, MAX_MANIFEST_BYTES).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [f"manifest.csv unreadable: {exc}"], []
    headers = ([mf.spreadsheet_cell(h) for h in mf.CSV_HEADER],
               [mf.spreadsheet_cell(h) for h in mf.CSV_HEADER_V1])     # before 背景, 人工复核
    if not rows or rows[0] not in headers:
        return ["manifest.csv has an unexpected header"], []
    in_csv = {(mf._from_cell(r[0]), mf._from_cell(r[1]), mf._from_cell(r[2]),
               mf._from_cell(r[5]), mf._from_cell(r[-1]))
              for r in rows[1:] if len(r) == len(rows[0])}
    in_json = {(e.student_id, e.name, e.id_number, e.file, e.sha256)
               for e in manifest.entries.values()}
    if in_csv == in_json:
        return [], []
    if len(in_csv) == len(rows) - 1 and all(_one_step_behind(folder, manifest, row)
                                            for row in in_csv - in_json):
        return [], ["manifest.csv 落后于 manifest.json 一步（导出被中断；以 manifest.json 为准，"
                    "下次导出会重写）/ manifest.csv is one step behind manifest.json (an export "
                    "was cut short; manifest.json is authoritative, the next export rewrites "
                    "it); every row of it matches its file"]
    return ["manifest.csv 与 manifest.json 不一致 / manifest.csv and manifest.json disagree"], []


def _one_step_behind(folder: Path, manifest: mf.Manifest, row: tuple[str, ...]) -> bool:
    """A CSV row the JSON no longer has is an earlier step of the same student (same name and
    ID-card number; the booth never changes those) whose file still holds its checksum."""
    student_id, name, id_number, file, sha256 = row
    entry = manifest.entries.get(student_id)
    if entry is None or (entry.name, entry.id_number) != (name, id_number):
        return False
    try:
        return sha256_bytes(read_regular(inside(folder, file), MAX_PHOTO_BYTES)) == sha256
    except (OSError, UnsafeName):
        return False


def masked(id_number: str) -> str:
    return mask_id_number(id_number)
