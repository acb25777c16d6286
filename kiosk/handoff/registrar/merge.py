"""Merge the exports of several booths (or days) into one batch for upload.

Rules:

- Only photos that are intact are candidates: the file exists, its SHA-256 matches its
  manifest, its manifest verdict is pass or warn, and the engine's verifier passes the file
  rules (with the key, also the sealed identity against the manifest row).
- One photo per student number: the newest capture wins. The same file seen twice (a folder
  exported to two sticks) is one photo, not a conflict.
- Conflicts are listed, never silently dropped: a student with several different photos
  (which one won and which lost), the same student number with different names or ID-card
  numbers, and one ID-card number under two student numbers.

The batch folder gets the winning photos, ``manifest.json``, ``manifest.csv``, ``index.html``
(same formats as a booth export) and ``conflicts.csv``.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from kiosk.message import Message
from kiosk.handoff.export import contact_sheet, manifest as mf, naming
from kiosk.handoff.export.durable import read_uncached, sha256_bytes, write_atomic
from kiosk.handoff.registrar.verify import find_export_folders
from kiosk.photo.student import Student

log = logging.getLogger(__name__)

CONFLICTS_CSV = "conflicts.csv"


@dataclass
class Candidate:
    entry: mf.Entry
    folder: Path
    data: bytes

    @property
    def where(self) -> str:
        return f"{self.folder}/{self.entry.file}"

    @property
    def when(self) -> datetime:
        try:
            t = datetime.fromisoformat(self.entry.captured_at)
        except ValueError:
            return datetime.min.replace(tzinfo=timezone.utc)
        return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


@dataclass
class Conflict:
    student_id: str
    kind: str              # "several photos" | "identity differs" | "ID number reused"
    winner: str
    others: list[str]
    detail: str = ""


class MergeError(Exception):
    """The batch cannot be written where asked; ``message`` is bilingual."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.en)
        self.message = message


BATCH_ID = "merged"      # the booth id a batch's manifest carries
BATCH_FILES = (mf.MANIFEST_JSON, mf.MANIFEST_CSV, mf.INDEX_HTML, CONFLICTS_CSV,
               contact_sheet.THUMBS_CACHE)


@dataclass
class MergeReport:
    out: Path
    merged: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)   # (file, reason)
    sources: list[str] = field(default_factory=list)


def merge_exports(paths: list[str | Path], out: str | Path, *, key: bytes | None = None,
                  analyzer=None, config=None) -> MergeReport:
    """Merge the exports at ``paths`` into the folder ``out``; see the module docstring.

    ``out`` must be empty or absent, or hold an earlier batch (which is then replaced: its
    photos that are not in the new batch are removed, so the folder is ready for upload with
    one photo per student). Anything else in it raises :class:`MergeError`.
    """
    out = Path(out)
    earlier = _earlier_batch_files(out)
    report = MergeReport(out)
    candidates: dict[str, list[Candidate]] = {}
    for path in paths:
        for folder in find_export_folders(path):
            if folder.resolve() == out.resolve():
                continue
            report.sources.append(str(folder))
            for cand in _candidates(folder, key, analyzer, config, report):
                candidates.setdefault(cand.entry.student_id, []).append(cand)
    winners: list[Candidate] = []
    for student_id, cands in sorted(candidates.items()):
        cands.sort(key=lambda c: (c.when, c.entry.booth_id, c.entry.sha256), reverse=True)
        best = cands[0]
        distinct = {c.entry.sha256: c for c in cands}
        if len(distinct) > 1:
            report.conflicts.append(Conflict(
                student_id, "several photos", best.where,
                [c.where for c in distinct.values() if c is not best],
                f"newest kept: {best.entry.captured_at}"))
        identities = {(c.entry.name, c.entry.id_number) for c in cands}
        if len(identities) > 1:
            report.conflicts.append(Conflict(
                student_id, "identity differs", best.where, [c.where for c in cands[1:]],
                "; ".join(f"{n} {mf_mask(i)}" for n, i in sorted(identities))))
        best.entry.history = _history(best, cands)
        winners.append(best)
    by_number: dict[str, list[Candidate]] = {}
    for w in winners:
        by_number.setdefault(w.entry.id_number, []).append(w)
    for number, ws in by_number.items():
        if len(ws) > 1:
            report.conflicts.append(Conflict(
                ws[0].entry.student_id, "ID number reused", ws[0].where,
                [w.where for w in ws[1:]],
                f"{mf_mask(number)} under " + ", ".join(w.entry.student_id for w in ws)))
    _write_batch(out, winners, report)
    kept = {w.entry.file.lower() for w in winners}
    for name in earlier:
        if name.lower() not in kept:
            naming.inside(out, name).unlink(missing_ok=True)
    return report


def _earlier_batch_files(out: Path) -> list[str]:
    """The photos of an earlier batch in ``out`` (to replace), or raise :class:`MergeError`
    when ``out`` holds anything that is not an earlier batch."""
    if not out.exists():
        return []
    if not out.is_dir():
        raise MergeError(Message(f"输出位置不是文件夹：{out}", f"the output is not a folder: {out}"))
    present = {p.name for p in out.iterdir()}
    if not present:
        return []
    manifest, problems = mf.load(out)
    photos = [e.file for e in manifest.entries.values()]
    if manifest.booth_id != BATCH_ID or problems or \
            not present <= {*BATCH_FILES, *photos}:
        raise MergeError(Message(
            f"输出文件夹不是空的，也不是之前的合并批次：{out}（请使用新的空文件夹）",
            f"the output folder is neither empty nor an earlier merged batch: {out} "
            "(use a new, empty folder)"))
    return photos


def mf_mask(number: str) -> str:
    from kiosk.photo.student import mask_id_number
    return mask_id_number(number)


def _candidates(folder: Path, key, analyzer, config, report: MergeReport) -> list[Candidate]:
    from kiosk.photo.verify import verify_bytes
    manifest, problems = mf.load(folder)
    for p in problems:
        report.rejected.append((str(folder / mf.MANIFEST_JSON), p))
    found = []
    for entry in manifest.entries.values():
        where = f"{folder}/{entry.file}"
        try:
            data = naming.inside(folder, entry.file).read_bytes()
        except (OSError, naming.UnsafeName) as exc:
            report.rejected.append((where, f"unreadable: {exc}"))
            continue
        if sha256_bytes(data) != entry.sha256:
            report.rejected.append((where, "checksum differs from the manifest"))
            continue
        if entry.verdict not in ("pass", "warn"):
            report.rejected.append((where, f"verdict {entry.verdict}"))
            continue
        expected = Student(student_id=entry.student_id, id_number=entry.id_number,
                           name=entry.name, college=entry.college, class_name=entry.class_name)
        file_report = verify_bytes(data, key=key, expected=expected, analyzer=analyzer,
                                   config=config, path=entry.file)
        if not file_report.ok:
            failing = [c.id for c in file_report.checks if c.blocking]
            report.rejected.append((where, "does not verify: " + ", ".join(failing)))
            continue
        found.append(Candidate(entry, folder, data))
    return found


def _history(best: Candidate, cands: list[Candidate]) -> list[dict]:
    seen = {best.entry.sha256}
    history = list(best.entry.history)
    for c in cands[1:]:
        if c.entry.sha256 in seen:
            continue
        seen.add(c.entry.sha256)
        history.append({"file": c.entry.file, "captured_at": c.entry.captured_at,
                        "verdict": c.entry.verdict, "sha256": c.entry.sha256,
                        "booth_id": c.entry.booth_id, "superseded_in_merge": True})
    return sorted(history, key=lambda h: str(h.get("captured_at", "")))


def _write_batch(out: Path, winners: list[Candidate], report: MergeReport) -> None:
    out.mkdir(parents=True, exist_ok=True)
    batch = mf.Manifest(booth_id=BATCH_ID, day=date.today().isoformat())
    thumbs: dict[str, str] = {}
    for w in winners:
        name = w.entry.file
        owner = batch.owner_of(name)
        if owner is not None and owner != w.entry.student_id:
            name = naming.disambiguate(name, Student(w.entry.student_id, w.entry.id_number,
                                                     w.entry.name))
        target = naming.inside(out, name)
        write_atomic(target, w.data)
        if sha256_bytes(read_uncached(target)) != w.entry.sha256:
            raise OSError(f"{target} did not read back correctly")
        w.entry.file = name
        batch.entries[w.entry.student_id] = w.entry
        thumbs[w.entry.sha256] = contact_sheet.thumbnail_data_uri(w.data)
        report.merged += 1
    entries = batch.sorted_entries()
    write_atomic(out / mf.MANIFEST_JSON, batch.to_json())
    write_atomic(out / mf.MANIFEST_CSV, batch.to_csv())
    write_atomic(out / mf.INDEX_HTML, contact_sheet.render(
        entries, out, title="毕业照合并批次 Merged graduation photos",
        subtitle=f"{len(report.sources)} 个导出 exports · 冲突 conflicts: {len(report.conflicts)}",
        thumbs=thumbs))
    write_atomic(out / CONFLICTS_CSV, _conflicts_csv(report))


def _conflicts_csv(report: MergeReport) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["学号", "冲突类型 kind", "采用 kept", "未采用 not kept", "说明 detail"])
    for c in report.conflicts:
        w.writerow(["\t" + c.student_id, c.kind, c.winner, " | ".join(c.others), c.detail])
    for where, reason in report.rejected:
        w.writerow(["", "rejected", "", where, reason])
    return buf.getvalue().encode("utf-8-sig")
