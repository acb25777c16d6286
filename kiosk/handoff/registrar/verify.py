"""Check an export the way the registrar's office receives it: every file, every claim.

For each export folder (one with a ``manifest.json``) and each student in it:

- the file named in the manifest exists inside the folder;
- its SHA-256 equals the manifest's;
- the engine's verifier (``kiosk.photo.verify.verify_bytes``) passes it: every file rule, the sealed
  identity opened with the registrar's key, and (with an analyzer) the layout and background
  checks on the decoded picture;
- the identity sealed in the COM segment is the student of the manifest row (student number,
  ID-card number and name).

Photos on the stick that no manifest names, and a ``manifest.csv`` that disagrees with
``manifest.json``, are reported too.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.handoff.export import manifest as mf
from kiosk.handoff.export.durable import sha256_bytes
from kiosk.handoff.export.naming import UnsafeName, inside
from kiosk.photo.student import Student, mask_id_number

log = logging.getLogger(__name__)


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

    @property
    def status(self) -> str:
        """fail, warn or pass for the row as a whole."""
        if self.problems or not self.checksum_ok or self.identity_ok is False \
                or self.verdict == "fail":
            return "fail"
        if self.verdict == "warn" or self.identity_ok is None:
            return "warn"
        return "pass"


@dataclass
class FolderCheck:
    """One export folder: its rows, and problems not tied to a student."""

    folder: Path
    rows: list[StudentRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.status != "fail" for r in self.rows)


def find_export_folders(path: str | Path) -> list[Path]:
    """``path`` itself if it holds a manifest, else every folder below it that does."""
    path = Path(path)
    if (path / mf.MANIFEST_JSON).is_file():
        return [path]
    return sorted(p.parent for p in path.rglob(mf.MANIFEST_JSON) if p.is_file())


def verify_folder(folder: Path, *, key: bytes | None, analyzer=None,
                  config=None) -> FolderCheck:
    """Verify one export folder; see the module docstring."""
    from kiosk.photo.verify import verify_bytes
    check = FolderCheck(folder)
    manifest, problems = mf.load(folder)
    check.problems.extend(problems)
    if not (folder / mf.MANIFEST_JSON).is_file():
        check.problems.append("manifest.json missing")
    named = set()
    for entry in manifest.sorted_entries():
        row = StudentRow(entry.student_id, entry.name, entry.id_number, entry.file)
        check.rows.append(row)
        named.add(entry.file.lower())
        try:
            data = inside(folder, entry.file).read_bytes()
        except (OSError, UnsafeName) as exc:
            row.problems.append(f"文件缺失 missing file: {exc.__class__.__name__}")
            continue
        row.checksum_ok = sha256_bytes(data) == entry.sha256
        if not row.checksum_ok:
            row.problems.append("SHA-256 与清单不符 / checksum differs from the manifest")
        expected = Student(student_id=entry.student_id, id_number=entry.id_number,
                           name=entry.name, college=entry.college, class_name=entry.class_name)
        report = verify_bytes(data, key=key, expected=expected, analyzer=analyzer,
                              config=config, path=str(folder / entry.file))
        row.verdict = report.verdict.value
        for c in report.checks:
            if c.blocking:
                row.problems.append(f"{c.id}: {c.message.zh} / {c.message.en}")
        if key is not None:
            who = report.identity
            row.identity_ok = bool(who is not None and who.matches(expected)
                                   and who.name == entry.name)
            if not row.identity_ok and who is not None:
                row.problems.append("文件内身份与清单不符 / identity in the file differs from "
                                    "the manifest")
    for jpg in sorted(folder.iterdir()):
        if jpg.suffix.lower() in (".jpg", ".jpeg") and not jpg.name.startswith(("~", ".")) \
                and jpg.name.lower() not in named:
            check.problems.append(f"{jpg.name}: 不在清单中 / not in the manifest")
    check.problems.extend(_csv_disagreements(folder, manifest))
    return check


def _csv_disagreements(folder: Path, manifest: mf.Manifest) -> list[str]:
    path = folder / mf.MANIFEST_CSV
    if not path.is_file():
        return ["manifest.csv missing"]
    try:
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [f"manifest.csv unreadable: {exc}"]
    if not rows or rows[0] != mf.CSV_HEADER:
        return ["manifest.csv has an unexpected header"]
    in_csv = {(r[0].strip(), r[1], r[2].strip(), r[5], r[-1].strip())
              for r in rows[1:] if len(r) == len(mf.CSV_HEADER)}
    in_json = {(e.student_id, mf.spreadsheet_cell(e.name), e.id_number,
                mf.spreadsheet_cell(e.file), e.sha256) for e in manifest.entries.values()}
    if in_csv != in_json:
        return ["manifest.csv 与 manifest.json 不一致 / manifest.csv and manifest.json disagree"]
    return []


def verify_export(path: str | Path, *, key: bytes | None, analyzer=None,
                  config=None) -> list[FolderCheck]:
    """Verify every export folder at or below ``path`` (a stick's root or one folder)."""
    return [verify_folder(f, key=key, analyzer=analyzer, config=config)
            for f in find_export_folders(path)]


def masked(id_number: str) -> str:
    return mask_id_number(id_number)
