"""The manifest of one export folder: ``manifest.json`` for programs, ``manifest.csv`` for people.

``manifest.json`` is the truth for the folder: one entry per student (a retake replaces the
entry and moves the earlier take into its ``history``). ``manifest.csv`` is written from it in
UTF-8 with a byte-order mark, which is what spreadsheet programs need to show Chinese correctly.
ID-card and student numbers are written with a leading tab in the CSV only, so that a
spreadsheet keeps all 18 digits as text instead of rounding them to 15; every text cell is
neutralised against formulas (:func:`spreadsheet_cell`).

``staged`` lists names an export is about to write or has just replaced: they belong to an
unfinished step, no row names them, and the registrar's tools ignore them (see the exporter).

A manifest read back from a stick is never trusted: it is read without following links and up
to a size limit, a document nested too deep is damaged (not a crash), each entry is
type-checked, and a second entry for the same student or the same file is reported.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from kiosk import __version__
from kiosk.handoff.export.durable import MAX_MANIFEST_BYTES, read_regular
from kiosk.photo import standard

log = logging.getLogger(__name__)

FORMAT = "grad-photo-export/1"
MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"
INDEX_HTML = "index.html"

CSV_HEADER = ["学号", "姓名", "身份证号", "学院", "班级", "文件名", "拍摄时间",
              "检查结果", "警告项", "展台", "背景", "人工复核", "SHA-256"]
#: The header before the backdrop and "needs a look" columns: such a CSV is still read.
CSV_HEADER_V1 = ["学号", "姓名", "身份证号", "学院", "班级", "文件名", "拍摄时间",
                 "检查结果", "警告项", "展台", "SHA-256"]
VERDICT_ZH = {"pass": "合格 pass", "warn": "警告 warn", "fail": "不合格 fail"}
#: The "人工复核" cell of a photo the registrar must look at (then the rule ids and why).
NEEDS_LOOK = "需人工复核 needs a look"


@dataclass
class Entry:
    """One student's photo in an export folder."""

    student_id: str
    name: str
    id_number: str
    college: str
    class_name: str
    file: str
    captured_at: str
    verdict: str
    sha256: str
    size: int
    booth_id: str
    item_id: str = ""
    checks: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    backdrop: str = ""            # the standard backdrop the checks found: blue|white|grey
    # what the student confirmed on the review screen because the checks could not decide:
    # [{"id": rule id, "at": ISO time, "zh": …, "en": …, "exception": …?}]
    confirmed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """The check results that are not a clean pass (shown highlighted)."""
        return [c for c in self.checks if c.get("status") != "pass"]

    @property
    def needs_look(self) -> list[str]:
        """Why the registrar must look at this photo (empty: no need): every rule the checks
        could not decide, with the student's confirmation when there is one."""
        reasons = []
        by_id = {c.get("id"): c for c in self.confirmed}
        undecided = [c.get("id") for c in self.checks if c.get("status") == "unknown"]
        for rule in dict.fromkeys([*undecided, *by_id]):
            c = by_id.get(rule)
            if c is None:
                reasons.append(f"{rule}: 未确认 not confirmed")
            else:
                what = "例外 exception" if c.get("exception") else "学生确认 confirmed by the student"
                reasons.append(f"{rule}: {what} {c.get('at', '')}".rstrip())
        return reasons

    def to_dict(self) -> dict[str, Any]:
        # shallow: json.dumps walks the lists itself (asdict's deep copy costs more than the
        # dump on a folder of hundreds of entries)
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Entry":
        """An entry read back from a stick: every field type-checked, nothing trusted."""
        kwargs: dict[str, Any] = {}
        for name in ("student_id", "name", "id_number", "file", "sha256"):
            value = d.get(name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"manifest entry without {name}")
            kwargs[name] = value
        verdict = d.get("verdict")
        if not isinstance(verdict, str) or verdict not in VERDICT_ZH:
            # never a pass by default: a missing or odd verdict is a damaged entry
            raise ValueError(f"manifest entry with verdict {str(verdict)[:40]!r}")
        kwargs["verdict"] = verdict
        for name, default in (("college", ""), ("class_name", ""), ("captured_at", ""),
                              ("booth_id", ""), ("item_id", "")):
            value = d.get(name, default)
            kwargs[name] = value if isinstance(value, str) else default
        size = d.get("size", 0)
        kwargs["size"] = size if isinstance(size, int) and not isinstance(size, bool) else 0
        for name in ("checks", "history", "confirmed"):
            value = d.get(name, [])
            kwargs[name] = [v for v in value if isinstance(v, dict)] \
                if isinstance(value, list) else []
        backdrop = d.get("backdrop", "")
        kwargs["backdrop"] = backdrop if backdrop in standard.BACKGROUND_COLORS else ""
        return cls(**kwargs)


@dataclass
class Manifest:
    """All entries of one export folder, keyed by student number."""

    booth_id: str
    day: str
    entries: dict[str, Entry] = field(default_factory=dict)
    staged: list[str] = field(default_factory=list)

    def put(self, entry: Entry) -> Entry | None:
        """Add or replace the student's entry; returns the entry it replaced, if any."""
        old = self.entries.get(entry.student_id)
        if old is not None and old.sha256 != entry.sha256:
            earlier = {"file": old.file, "captured_at": old.captured_at,
                       "verdict": old.verdict, "sha256": old.sha256, "item_id": old.item_id}
            seen = {h.get("sha256") for h in entry.history}
            extra = [h for h in [*old.history, earlier] if h.get("sha256") not in seen]
            entry.history = sorted([*extra, *entry.history],
                                   key=lambda h: str(h.get("captured_at", "")))
        self.entries[entry.student_id] = entry
        return old

    def owner_of(self, file: str) -> str | None:
        for e in self.entries.values():
            if e.file.lower() == file.lower():   # FAT compares names case-insensitively
                return e.student_id
        return None

    def sorted_entries(self) -> list[Entry]:
        return sorted(self.entries.values(), key=lambda e: (e.class_name, e.student_id))

    def to_json(self, serialized: dict[str, str] | None = None) -> bytes:
        """The manifest's JSON. ``serialized`` (student number -> the entry's JSON, made
        earlier) lets a caller that keeps only slim entries in memory write full ones."""
        doc = {
            "format": FORMAT,
            "generator": f"grad-photo-booth {__version__}",
            "school_code": standard.SCHOOL_CODE,
            "booth_id": self.booth_id,
            "date": self.day,
            "updated_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "count": len(self.entries),
            "photos": [e.to_dict() for e in self.sorted_entries()],
        }
        if self.staged:
            doc["staged"] = list(self.staged)
        if serialized is None:
            return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return b"".join(self._json_chunks(doc, serialized))

    def json_chunks(self, serialized: dict[str, str]):
        """:meth:`to_json` with ``serialized`` entries, in chunks, each entry's text dropped
        from ``serialized`` once written (a batch of 10,000 is never in memory twice)."""
        def texts():
            for e in self.sorted_entries():
                yield serialized[e.student_id]
                del serialized[e.student_id]
        return self.json_chunks_of(len(self.entries), texts())

    def json_chunks_of(self, count: int, texts) -> Iterator[bytes]:
        """The manifest's JSON in chunks, its ``count`` entries given as their JSON ``texts``
        in order (:meth:`sorted_entries`'), not as this manifest's own entries."""
        doc = json.loads(Manifest(self.booth_id, self.day, staged=self.staged).to_json())
        doc["count"] = count
        doc.pop("photos", None)
        head = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))[:-1]
        yield f'{head},"photos":['.encode("utf-8")
        for n, text in enumerate(texts):
            yield (("," if n else "") + text).encode("utf-8")
        yield b"]}"

    def _json_chunks(self, doc: dict, serialized: dict[str, str]):
        doc = {k: v for k, v in doc.items() if k != "photos"}
        head = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))[:-1]
        yield f'{head},"photos":['.encode("utf-8")
        for n, e in enumerate(self.sorted_entries()):
            yield (("," if n else "") + serialized[e.student_id]).encode("utf-8")
        yield b"]}"

    def to_csv(self) -> bytes:
        return b"".join([csv_head(), *(csv_line(e).encode("utf-8")
                                       for e in self.sorted_entries())])


def csv_head() -> bytes:
    """``manifest.csv`` up to its first row: the byte-order mark and the header."""
    return ("\ufeff" + _csv_text(CSV_HEADER)).encode("utf-8")


def csv_line(e: Entry) -> str:
    """The entry's row of ``manifest.csv`` (the file is :func:`csv_head` and the rows)."""
    warn_ids = ";".join(str(c.get("id", "")) for c in e.warnings)
    look = f"{NEEDS_LOOK}: " + "; ".join(e.needs_look) if e.needs_look else ""
    backdrop = (f"{standard.BACKGROUND_NAMES_ZH[e.backdrop]} {e.backdrop}"
                if e.backdrop in standard.BACKGROUND_NAMES_ZH else "")
    return _csv_text([_as_text(e.student_id), e.name, _as_text(e.id_number),
                      e.college, e.class_name, e.file, e.captured_at,
                      VERDICT_ZH.get(e.verdict, e.verdict), warn_ids, e.booth_id,
                      backdrop, look, e.sha256])


def _csv_text(row: list) -> str:
    out = io.StringIO()
    SafeCsvWriter(out, lineterminator="\r\n").writerow(row)
    return out.getvalue()


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")

FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str) -> str:
    """Neutralise spreadsheet formulas (=, +, -, @, tab or CR at the start of a cell)."""
    text = str(text)
    if text[:1] in FORMULA_LEAD:
        return "'" + text
    return text


class SafeCsvWriter:
    """``csv.writer`` whose every text cell goes through :func:`spreadsheet_cell`.

    Cells that are already :class:`TextNumber` (a long number kept as text with a leading
    tab) pass unchanged. Every CSV the project writes uses this writer.
    """

    def __init__(self, out, **kwargs) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row) -> None:
        self._writer.writerow([c if isinstance(c, TextNumber) else spreadsheet_cell(c)
                               for c in row])


class TextNumber(str):
    """A cell already made safe by :func:`_as_text`."""


def _as_text(digits: str) -> str:
    """A long number that a spreadsheet must keep as text (leading tab, see module doc)."""
    return TextNumber("\t" + spreadsheet_cell(digits))


def load(folder: Path, *, booth_id: str = "", day: str = "") -> tuple[Manifest, list[str]]:
    """Read ``manifest.json`` of ``folder``; a missing or damaged one gives an empty manifest.

    Returns the manifest and a list of problems found (damaged file, bad entries).
    """
    problems: list[str] = []
    manifest = Manifest(booth_id=booth_id, day=day)
    path = folder / MANIFEST_JSON
    if not os.path.lexists(path):
        if os.path.lexists(folder / MANIFEST_CSV):
            problems.append(f"{path.name} missing")
            _entries_from_csv(folder, manifest, problems)
        return manifest, problems
    try:
        text = read_regular(path, MAX_MANIFEST_BYTES).decode("utf-8")
        doc = json.loads(text)
        if not isinstance(doc, dict) or not isinstance(doc.get("photos"), list):
            raise ValueError("not a photo manifest")
    except RecursionError:
        problems.append(f"{path.name} unreadable: nested too deep")
        _entries_from_csv(folder, manifest, problems)
        return manifest, problems
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.append(f"{path.name} unreadable: {exc}")
        _entries_from_csv(folder, manifest, problems)
        return manifest, problems
    booth = doc.get("booth_id", "")
    date_ = doc.get("date", "")
    manifest.booth_id = booth_id or (booth if isinstance(booth, str) else "")
    manifest.day = day or (date_ if isinstance(date_, str) else "")
    staged = doc.get("staged", [])
    if isinstance(staged, list):
        manifest.staged = [n for n in staged if isinstance(n, str) and n and n.isprintable()
                           and not _SURROGATE.search(n)]
    for name in ("booth_id", "day"):
        if _SURROGATE.search(getattr(manifest, name)):
            setattr(manifest, name, "")
    files: dict[str, str] = {}
    # "\ud800" escapes decode to lone surrogates, which no file can be written with
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    for i, raw in enumerate(doc["photos"]):
        try:
            if not isinstance(raw, dict):
                raise ValueError("not an object")
            if surrogates:
                try:
                    json.dumps(raw, ensure_ascii=False).encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError("text that is not valid Unicode") from None
            entry = Entry.from_dict(raw)
        except (TypeError, ValueError) as exc:
            problems.append(f"{path.name} entry {i + 1}: {exc}")
            continue
        if entry.student_id in manifest.entries:
            problems.append(f"{path.name} entry {i + 1}: 学号重复 / student number "
                            f"{entry.student_id} listed twice; the first entry is kept")
            continue
        other = files.get(entry.file.lower())
        if other is not None:
            problems.append(f"{path.name} entry {i + 1}: 文件名重复 / file {entry.file} "
                            f"already listed for student {other}; the first entry is kept")
            continue
        files[entry.file.lower()] = entry.student_id
        manifest.entries[entry.student_id] = entry
    return manifest, problems


def _entries_from_csv(folder: Path, manifest: Manifest, problems: list[str]) -> None:
    """Fill ``manifest`` from ``manifest.csv`` when ``manifest.json`` is gone or damaged.

    The CSV carries every field of an entry except the full check results and the history
    (only the ids of the warnings), so the photos already on the stick stay listed: the next
    export keeps them, and the registrar's tools still see them. Nothing is trusted: rows are
    read like the JSON's entries, and the checksums are verified by whoever uses them.
    """
    path = folder / MANIFEST_CSV
    try:
        text = read_regular(path, MAX_MANIFEST_BYTES).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(f"{path.name} unreadable too: {exc}")
        return
    if not rows or rows[0] not in (CSV_HEADER, CSV_HEADER_V1):
        problems.append(f"{path.name} has an unexpected header: not used")
        return
    header = rows[0]
    verdicts = {text: verdict for verdict, text in VERDICT_ZH.items()}
    found = 0
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            continue
        cells = dict(zip(header, (_from_cell(c) for c in row)))
        (sid, name, idn, college, class_name, file, captured_at, verdict, warn_ids, booth,
         sha) = (cells[h] for h in CSV_HEADER_V1)
        backdrop = cells.get("背景", "").split(" ")[-1]
        # "需人工复核 needs a look: rule: how; rule: how": the rules stay flagged
        look = cells.get("人工复核", "").partition(": ")[2]
        confirmed = [{"id": part.split(":")[0].strip()} for part in look.split("; ")
                     if "confirmed" in part or "exception" in part]
        checks = [{"id": w, "status": "warn", "value": None, "limit": None,
                   "message": {"zh": "", "en": ""}} for w in warn_ids.split(";") if w]
        try:
            entry = Entry.from_dict({
                "student_id": sid, "name": name, "id_number": idn, "college": college,
                "class_name": class_name, "file": file, "captured_at": captured_at,
                "verdict": verdicts.get(verdict, verdict), "booth_id": booth, "sha256": sha,
                "checks": checks, "backdrop": backdrop, "confirmed": confirmed})
        except ValueError as exc:
            problems.append(f"{path.name} line {line}: {exc}")
            continue
        try:
            entry.size = os.lstat(folder / entry.file).st_size if "/" not in entry.file else 0
        except OSError:
            entry.size = 0
        if entry.student_id in manifest.entries:
            problems.append(f"{path.name} line {line}: 学号重复 / student number "
                            f"{entry.student_id} listed twice; the first row is kept")
            continue
        manifest.entries[entry.student_id] = entry
        found += 1
    if found:
        problems.append(f"{found} entries recovered from {path.name}")


def _from_cell(cell: str) -> str:
    """Undo what the CSV writer added for spreadsheets (leading tab, formula quote)."""
    cell = cell[1:] if cell.startswith("\t") else cell
    if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        cell = cell[1:]
    return cell
