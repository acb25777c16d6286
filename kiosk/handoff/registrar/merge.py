"""Merge the exports of several booths (or days) into one batch for upload.

Rules:

- Only photos that are intact are candidates: the file is a regular file (no link, device or
  FIFO), its SHA-256 matches its manifest, its manifest verdict is pass or warn, and the
  engine's verifier passes the file rules. With the key the sealed identity is the truth: a
  photo whose manifest row disagrees with it (student number, ID-card number, name, capture
  time, an ID-card number in the file name) is rejected with every disagreement.
- One photo per student number: the newest capture wins (the sealed capture time with the
  key). The same file seen twice (a folder
  exported to two sticks) is one photo, not a conflict.
- Conflicts are listed, never silently dropped: a student with several different photos
  (which one won and which lost), the same student number with different names or ID-card
  numbers, and one ID-card number under two student numbers.

The batch folder gets the winning photos, ``manifest.json``, ``manifest.csv``, ``index.html``
(same formats as a booth export) and ``conflicts.csv``. The photos are checked by every core;
only their small results are kept (no photo bytes); the texts that grow with the class (the
thumbnails, each winner's full manifest entry) wait in a temporary file, not in memory, and
the manifest and contact sheet are written to their files piece by piece, so memory grows
with the workers, not with the class.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from itertools import chain
from pathlib import Path

from kiosk.handoff.export import contact_sheet, naming
from kiosk.handoff.export import manifest as mf
from kiosk.handoff.export.durable import (
    MAX_PHOTO_BYTES,
    fsync_dir,
    read_regular,
    read_uncached,
    sha256_bytes,
    write_atomic,
)
from kiosk.handoff.registrar.verify import find_export_folders, iter_checked
from kiosk.message import Message
from kiosk.photo.student import Student

log = logging.getLogger(__name__)

CONFLICTS_CSV = "conflicts.csv"


@dataclass(slots=True)
class Take:
    """What merge keeps of a manifest entry while it chooses (the full entry is read again
    for the winners only): a few short strings per photo of the class."""

    student_id: str
    name: str
    id_number: str
    file: str
    captured_at: str
    verdict: str
    sha256: str
    booth_id: str
    history: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, e: mf.Entry) -> "Take":
        return cls(e.student_id, e.name, e.id_number, e.file, e.captured_at, e.verdict,
                   e.sha256, e.booth_id, list(e.history))


@dataclass(slots=True)
class Candidate:
    entry: Take
    folder: Path
    sealed_at: str | None = None        # the capture time sealed in the file (with the key)
    thumb: tuple[int, int] | None = None    # where its thumbnail waits in the merge's spill

    @property
    def where(self) -> str:
        return f"{self.folder}/{self.entry.file}"

    @property
    def when(self) -> datetime:
        try:
            t = datetime.fromisoformat(self.sealed_at or self.entry.captured_at)
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
                  analyzer=None, config=None, jobs: int = 1,
                  progress: bool = False) -> MergeReport:
    """Merge the exports at ``paths`` into the folder ``out``; see the module docstring.

    ``out`` must be empty or absent, or hold an earlier batch (which is then replaced: its
    photos that are not in the new batch are removed, so the folder is ready for upload with
    one photo per student). Anything else in it raises :class:`MergeError`. ``jobs`` worker
    processes check the photos.
    """
    out = Path(out)
    earlier = _earlier_batch_files(out)
    report = MergeReport(out)
    with _Spill() as spill:
        _merge(paths, out, earlier, report, spill, key=key, analyzer=analyzer, config=config,
               jobs=jobs, progress=progress)
    return report


def _merge(paths, out: Path, earlier: list[str], report: MergeReport, spill: "_Spill", *,
           key, analyzer, config, jobs: int, progress: bool) -> None:
    candidates: dict[str, list[Candidate]] = {}
    folders: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        for folder in find_export_folders(path):
            real = folder.resolve()
            if real == out.resolve() or real in seen:
                continue        # the same export named twice is one export
            seen.add(real)
            folders.append(folder)
            report.sources.append(str(folder))
    for folder, _manifest, problems, pairs in iter_checked(
            folders, key=key, analyzer=analyzer, config=config, jobs=jobs,
            image_checks=analyzer is not None, thumbs=True, keep_checks=False,
            progress_label="merge" if progress else None):
        for p in problems:
            report.rejected.append((str(folder / mf.MANIFEST_JSON), p))
        for entry, checked in pairs:
            cand = _candidate(folder, entry, checked, key, report, spill)
            if cand is not None:
                candidates.setdefault(entry.student_id, []).append(cand)
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
    _write_batch(out, winners, report, spill)
    kept = {w.entry.file.lower() for w in winners} | {n.lower() for n in BATCH_FILES}
    for name in earlier:
        # only photos of the earlier batch: never the batch's own files, whatever a manifest says
        if name.lower() not in kept and name.lower().endswith((".jpg", ".jpeg")):
            naming.inside(out, name).unlink(missing_ok=True)


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


def _candidate(folder: Path, entry: mf.Entry, checked, key, report: MergeReport,
               spill: "_Spill"):
    """The entry as a candidate, or ``None`` with the reason in ``report.rejected``."""
    where = f"{folder}/{entry.file}"
    row = checked.row
    if row.checksum_ok is None:
        report.rejected.append((where, "; ".join(row.problems) or "unreadable"))
        return None
    if not row.checksum_ok:
        report.rejected.append((where, "checksum differs from the manifest"))
        return None
    if entry.verdict not in ("pass", "warn"):
        report.rejected.append((where, f"verdict {entry.verdict}"))
        return None
    if not checked.file_ok:
        report.rejected.append((where, "does not verify: " + ", ".join(checked.failing)))
        return None
    if key is not None and row.identity_ok is False:
        found = [p for p in row.problems if "sealed identity" in p]
        report.rejected.append((where, "; ".join(found) or "the sealed identity differs"))
        return None
    return Candidate(Take.of(entry), folder, sealed_at=checked.sealed_at if key is not None else None,
                     thumb=spill.put(checked.thumb) if checked.thumb else None)


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


class _Spill:
    """Texts that grow with the class, kept in an unnamed temporary file instead of memory
    (10,000 thumbnails are 74 MB; 10,000 full manifest entries tens of MB more)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="kiosk-merge-")

    def __enter__(self) -> "_Spill":
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()

    def put(self, text: str) -> tuple[int, int]:
        data = text.encode("utf-8")
        self._file.seek(0, io.SEEK_END)
        offset = self._file.tell()
        self._file.write(data)
        return offset, len(data)

    def get(self, where: tuple[int, int]) -> str:
        self._file.seek(where[0])
        return self._file.read(where[1]).decode("utf-8")


def _write_batch(out: Path, winners: list[Candidate], report: MergeReport,
                 spill: _Spill) -> None:
    """Write the batch. The candidates carry no check results (10,000 students' results are
    hundreds of MB as objects): each source folder's manifest is read again, one at a time,
    for its winners' full entries. Each winner's three pieces (its JSON entry, its CSV row and
    its contact-sheet card) are made at once and wait in the spill; only their places and the
    batch's order are kept, and the three files are then written piece by piece."""
    out.mkdir(parents=True, exist_ok=True)
    pieces: list[tuple[tuple[str, str], tuple[int, int], tuple[int, int], tuple[int, int]]] = []
    owners: dict[str, str] = {}
    n_warn = n_look = 0
    winners = sorted(winners, key=lambda w: (str(w.folder), w.entry.student_id))
    source, full = None, None
    for w in winners:
        if w.folder != source:
            source, (full, _) = w.folder, mf.load(w.folder)
        entry = full.entries.get(w.entry.student_id) if full is not None else None
        if entry is None or entry.sha256 != w.entry.sha256:
            report.rejected.append((w.where, "changed while the batch was written"))
            continue
        name = entry.file
        owner = owners.get(name.lower())          # FAT compares names case-insensitively
        if owner is not None and owner != entry.student_id:
            name = naming.disambiguate(name, Student(entry.student_id, entry.id_number,
                                                     entry.name))
        try:       # read again (no photo is held in memory): it must still be what was checked
            data = read_regular(naming.inside(w.folder, entry.file), MAX_PHOTO_BYTES)
        except OSError as exc:
            report.rejected.append((w.where, f"unreadable: {exc}"))
            continue
        if sha256_bytes(data) != entry.sha256:
            report.rejected.append((w.where, "changed while the batch was written"))
            continue
        target = naming.inside(out, name)
        write_atomic(target, data, sync_dir=False)     # the folder is synced once, below
        if sha256_bytes(read_uncached(target)) != entry.sha256:
            raise OSError(f"{target} did not read back correctly")
        entry.file = name
        owners[name.lower()] = entry.student_id
        seen = {h.get("sha256") for h in entry.history}
        entry.history = sorted([*entry.history,
                                *(h for h in w.entry.history if h.get("sha256") not in seen)],
                               key=lambda h: str(h.get("captured_at", "")))
        as_json = spill.put(json.dumps(entry.to_dict(), ensure_ascii=False,
                                       separators=(",", ":")))
        thumbs = {entry.sha256: spill.get(w.thumb)} if w.thumb else {}
        card = contact_sheet.card(entry, contact_sheet.thumb_for(entry, out, thumbs))
        pieces.append(((entry.class_name, entry.student_id), as_json,
                       spill.put(mf.csv_line(entry)), spill.put(card)))
        n_warn += contact_sheet.counts_as_warned(entry)
        n_look += bool(entry.needs_look)
        w.thumb = None
        report.merged += 1
    full = None
    fsync_dir(out)
    pieces.sort(key=lambda p: p[0])           # the order of Manifest.sorted_entries()
    batch = mf.Manifest(booth_id=BATCH_ID, day=date.today().isoformat())
    write_atomic(out / mf.MANIFEST_JSON,
                 batch.json_chunks_of(len(pieces), (spill.get(p[1]) for p in pieces)))
    write_atomic(out / mf.MANIFEST_CSV,
                 chain([mf.csv_head()], (spill.get(p[2]).encode("utf-8") for p in pieces)))
    head = contact_sheet.page_head(
        title="毕业照合并批次 Merged graduation photos",
        subtitle=f"{len(report.sources)} 个导出 exports · 冲突 conflicts: {len(report.conflicts)}",
        count=len(pieces), n_warn=n_warn, n_look=n_look)
    write_atomic(out / mf.INDEX_HTML, chain([head], (spill.get(p[3]).encode("utf-8")
                                                     for p in pieces), [contact_sheet.PAGE_TAIL]))
    write_atomic(out / CONFLICTS_CSV, _conflicts_csv(report))


def _conflicts_csv(report: MergeReport) -> bytes:
    buf = io.StringIO()
    w = mf.SafeCsvWriter(buf, lineterminator="\r\n")     # every cell neutralised
    w.writerow(["学号", "冲突类型 kind", "采用 kept", "未采用 not kept", "说明 detail"])
    for c in report.conflicts:
        w.writerow([mf._as_text(c.student_id), c.kind, c.winner, " | ".join(c.others), c.detail])
    for where, reason in report.rejected:
        w.writerow(["", "rejected", "", where, reason])
    return buf.getvalue().encode("utf-8-sig")
