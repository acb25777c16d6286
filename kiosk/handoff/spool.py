"""The durable spool on the SD card: every accepted photo lands here first.

The spool is the source of truth for what has to reach the registrar. An item is one folder::

    <state_dir>/spool/items/00000042/photo.jpg      the accepted file, byte for byte
    <state_dir>/spool/items/00000042/record.json    who, when, check results, SHA-256, history
    <state_dir>/spool/items/00000042/exported.json  written only after the stick copy verified

An item is built in a temporary folder (``~tmp-…``) whose files are fsynced, then the folder is
renamed into ``items/`` and ``items/`` is fsynced. A rename is atomic, so after a power cut at
any moment an item either exists completely or not at all; :meth:`Spool.recover` removes the
temporary leftovers. Deleting goes the other way round: rename to ``~trash-…`` first, then delete.

Items are numbered by a counter kept in the spool, not by the clock: a Raspberry Pi has no
real-time clock and its time can jump backwards at boot.

A retake adds a new item for the same student; the earlier item's photo is removed and its
summary is kept in the new record's ``history`` (the previous take's history plus one line per
take: linear in the number of retakes). That rule is derived from the numbering (the highest
number per student wins), so it also holds after a crash between the two steps.

The spool keeps an index in memory: every item is read once (at the first look), then the
instance updates the index with its own changes, so a Save costs the same with 10,000 items as
with 10: the pending items are kept apart (``pending()`` never walks the exported ones) and the
exported ones in the order they will expire (``purge()`` looks only at those due). The index
is re-read when the items folder changed under it (another instance). One booth process owns
its spool.

Example::

    spool = Spool("/var/lib/kiosk")
    spool.recover()                               # at start, before anything else
    item_id = spool.add(student, photo.jpeg, record_for(photo))
    for item in spool.pending(): ...              # what still has to go to a stick
    spool.purge(retention_days=7)                 # exported items older than that are deleted
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from kiosk.handoff.export.durable import (
    MAX_PHOTO_BYTES,
    TEMP_PREFIX,
    fsync_dir,
    read_regular,
    sha256_bytes,
    write_atomic,
)
from kiosk.photo.student import Student

log = logging.getLogger(__name__)

TRASH_PREFIX = "~trash-"
PHOTO = "photo.jpg"
RECORD = "record.json"
EXPORTED = "exported.json"
SEQ_FILE = "last_seq"
HANDED_OVER = ("pass", "warn")   # verdicts that may reach the registrar
MAX_RECORD_BYTES = 4 * 1024 * 1024   # a record with 31 checks and 1,000 retakes is ~250 KB


class SpoolError(Exception):
    """An item that cannot be added or read (refused verdict, damaged photo on the card)."""


@dataclass
class SpoolItem:
    """One accepted photo in the spool, as read back from its folder."""

    id: str
    folder: Path
    student: Student
    sha256: str
    size: int
    created_at: float                    # Unix time the spool took it (for retention only)
    captured_at: str                     # ISO 8601 with UTC offset, as written in the manifest
    record: dict[str, Any]               # the caller's record: verdict, checks, quality, ...
    history: list[dict[str, Any]] = field(default_factory=list)
    exported: dict[str, Any] | None = None

    @property
    def seq(self) -> int:
        return int(self.id)

    @property
    def photo_path(self) -> Path:
        return self.folder / PHOTO

    @property
    def verdict(self) -> str:
        return str(self.record.get("verdict", "pass"))

    def read_photo(self) -> bytes:
        """The photo's bytes, checked against the SHA-256 taken when it was spooled."""
        data = read_regular(self.photo_path, MAX_PHOTO_BYTES)
        if sha256_bytes(data) != self.sha256:
            raise SpoolError(f"spool item {self.id}: photo does not match its checksum")
        return data


@dataclass
class RecoveryReport:
    """What :meth:`Spool.recover` found and did."""

    temp_removed: int = 0
    superseded_removed: int = 0
    pending: int = 0
    broken: list[str] = field(default_factory=list)   # item ids whose record cannot be read


def record_for(photo: Any, *, captured_at: datetime | None = None,
               confirmed: Any = (), **extra: Any) -> dict:
    """The record to spool for a photo built by the engine (a ``PhotoResult``).

    Keeps the verdict, every check result as a dict, the standard backdrop the checks found,
    and the JPEG quality when known; the capture time defaults to now, in local time with its
    UTC offset. ``confirmed``: what the student confirmed on the review screen (the rules the
    checks could not decide, kiosk.booth.session.SavePhoto.confirmed); such a photo is
    recorded with its confirmations and the verdict they leave (``warn``: it needs a look).
    """
    from kiosk.photo.checks.result import verdict as judge

    results = list(getattr(photo, "checks", []) or [])
    confirmed = [dict(c) for c in confirmed]
    verdict = getattr(photo, "verdict", "pass")
    if confirmed and results and all(hasattr(c, "needs_confirmation") for c in results):
        verdict = judge(results, [c.get("id") for c in confirmed])
    checks = [c.to_dict() if hasattr(c, "to_dict") else dict(c) for c in results]
    # the time sealed in the photo, so the manifest and the file say the same
    sealed = getattr(photo, "captured_at", None)
    when = captured_at or (sealed.astimezone() if isinstance(sealed, datetime) else None) \
        or datetime.now().astimezone()
    record = {
        "verdict": getattr(verdict, "value", verdict),
        "checks": checks,
        "captured_at": when.isoformat(timespec="seconds"),
    }
    backdrop = backdrop_found(results)
    if backdrop:
        record["backdrop"] = backdrop
    if confirmed:
        record["confirmed"] = confirmed
    quality = getattr(photo, "quality", None)
    if quality is not None:
        record["quality"] = quality
    record.update(extra)
    return record


def backdrop_found(checks: list) -> str:
    """The standard backdrop ``background.color`` found ("" when none) among CheckResults: the
    finished file's answer when it was verified (it comes after the capture's in a
    PhotoResult's checks)."""
    found = [c.found for c in checks
             if getattr(c, "id", None) == "background.color" and getattr(c, "found", None)]
    return str(found[-1]) if found else ""


class Spool:
    """The spool folder under ``state_dir``; see the module docstring for the layout.

    ``clock`` returns Unix time; tests pass their own to age items.
    """

    def __init__(self, state_dir: str | os.PathLike, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = Path(state_dir) / "spool"
        self.items_dir = self.root / "items"
        self._clock = clock
        # The booth saves (add) on one thread while an export may run on another: state
        # changes are serialised; reading the photos for an export needs no lock.
        self._lock = threading.RLock()
        self.items_dir.mkdir(parents=True, exist_ok=True)
        self._index: dict[str, SpoolItem] = {}        # item id -> item, every readable item
        self._latest: dict[str, SpoolItem] = {}       # student number -> newest item
        self._takes: dict[str, dict[str, SpoolItem]] = {}   # student number -> id -> item
        self._index_key: tuple | None = None          # the items folder's state when read
        self._last_seq = 0
        self._pending: dict[str, SpoolItem] = {}      # student number -> newest, not exported
        self._expiry: list[tuple[float, str]] = []    # heap of (exported_at, item id)

    # --- adding ---------------------------------------------------------------------------
    def add(self, student: Student, jpeg: bytes, record: dict) -> str:
        """Store an accepted photo durably and return its item id.

        When this returns, the photo survives a power cut. ``record`` should carry at least
        ``verdict`` ("pass" or "warn") and ``checks`` (see :func:`record_for`); a failed photo
        is refused, because a file that fails is never handed over.
        """
        verdict = str(record.get("verdict", "pass"))
        if verdict not in HANDED_OVER:
            raise SpoolError(f"a photo with verdict {verdict!r} is never handed over")
        if not jpeg:
            raise SpoolError("empty photo")
        with self._lock:
            return self._add(student, jpeg, record, verdict)

    def _add(self, student: Student, jpeg: bytes, record: dict, verdict: str) -> str:
        now = self._clock()
        self._sync()
        previous = sorted(self._takes.get(student.student_id, {}).values(), key=lambda i: i.seq)
        history: list[dict[str, Any]] = []
        if previous:
            # the newest take already carries every earlier one: copy it once, not each again
            history = list(previous[-1].history)
            known = {h.get("item_id") for h in history}
            history.extend(_summary(old) for old in previous if old.id not in known)
        seq = self._next_seq()
        item_id = f"{seq:08d}"
        captured_at = str(record.get("captured_at")
                          or datetime.fromtimestamp(now).astimezone().isoformat(timespec="seconds"))
        doc = {
            "id": item_id,
            "student": dataclasses.asdict(student),
            "sha256": sha256_bytes(jpeg),
            "size": len(jpeg),
            "created_at": now,
            "captured_at": captured_at,
            "record": record,
            "history": history,
        }
        tmp = self.items_dir / f"{TEMP_PREFIX}{item_id}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        write_atomic(tmp / PHOTO, jpeg, sync_dir=False)
        record_bytes = _json_bytes(doc)
        write_atomic(tmp / RECORD, record_bytes, sync_dir=False)
        fsync_dir(tmp)
        os.rename(tmp, self.items_dir / item_id)
        fsync_dir(self.items_dir)
        log.info("spooled item %s for student %s (%s)", item_id, student.student_id, verdict)
        self._remember(self._item_from(json.loads(record_bytes), self.items_dir / item_id, None))
        for old in previous:
            if old.exported is None:
                # superseded before it reached a stick: only the retake goes to the registrar
                self._delete(old.folder)
        self._index_key = self._folder_key()
        return item_id

    def _next_seq(self) -> int:
        seq_path = self.root / SEQ_FILE
        try:
            last = int(read_regular(seq_path, 64).strip() or 0)
        except (OSError, ValueError):
            last = 0
        # never reuse a number, even if the counter file was lost
        last = max(last, self._last_seq)
        write_atomic(seq_path, f"{last + 1}\n".encode())
        self._last_seq = last + 1
        return last + 1

    # --- the index ------------------------------------------------------------------------
    def _folder_key(self) -> tuple | None:
        try:
            st = os.stat(self.items_dir)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_nlink)

    def _sync(self, broken: list[str] | None = None) -> None:
        """Read the items this instance has not seen (all of them, the first time)."""
        key = self._folder_key()
        if key is not None and key == self._index_key and broken is None:
            return
        names = self._item_names()
        present = set(names)
        for name in [n for n in self._index if n not in present]:
            self._forget(name)
        for name in names:
            if name in self._index and broken is None:
                continue
            try:
                self._remember(self._load(self.items_dir / name))
            except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
                log.error("spool item %s unreadable: %s", name, exc)
                self._forget(name)
                if broken is not None:
                    broken.append(name)
        if names:
            self._last_seq = max(self._last_seq, int(names[-1]))
        self._index_key = key

    def _remember(self, item: SpoolItem) -> None:
        self._index[item.id] = item
        sid = item.student.student_id
        self._takes.setdefault(sid, {})[item.id] = item
        if sid not in self._latest or self._latest[sid].seq <= item.seq:
            self._latest[sid] = item
        self._refresh(sid)
        if item.exported is not None:
            heapq.heappush(self._expiry, (_exported_at(item), item.id))

    def _refresh(self, sid: str) -> None:
        """Keep ``_pending`` true for one student after their items changed."""
        latest = self._latest.get(sid)
        if latest is not None and latest.exported is None:
            self._pending[sid] = latest
        else:
            self._pending.pop(sid, None)

    def _forget(self, item_id: str) -> None:
        item = self._index.pop(item_id, None)
        if item is None:
            return
        sid = item.student.student_id
        takes = self._takes.get(sid, {})
        takes.pop(item_id, None)
        if not takes:
            self._takes.pop(sid, None)
        if self._latest.get(sid) is item:
            del self._latest[sid]
            rest = list(takes.values())
            if rest:
                self._latest[sid] = max(rest, key=lambda i: i.seq)
        self._refresh(sid)

    # --- reading --------------------------------------------------------------------------
    def _item_names(self) -> list[str]:
        try:
            return sorted(e.name for e in os.scandir(self.items_dir)
                          if e.is_dir(follow_symlinks=False) and e.name.isdigit())
        except FileNotFoundError:
            return []

    def _read_items(self, broken: list[str] | None = None) -> list[SpoolItem]:
        with self._lock:
            self._sync(broken)
            return sorted(self._index.values(), key=lambda i: i.seq)

    def _load(self, folder: Path) -> SpoolItem:
        doc = json.loads(read_regular(folder / RECORD, MAX_RECORD_BYTES).decode("utf-8"))
        exported = None
        if os.path.lexists(folder / EXPORTED):
            exported = json.loads(read_regular(folder / EXPORTED, MAX_RECORD_BYTES)
                                  .decode("utf-8"))
        return self._item_from(doc, folder, exported)

    @staticmethod
    def _item_from(doc: dict, folder: Path, exported: dict | None) -> SpoolItem:
        fields = {f.name for f in dataclasses.fields(Student)}
        student = Student(**{k: v for k, v in doc["student"].items() if k in fields})
        return SpoolItem(id=doc["id"], folder=folder, student=student, sha256=doc["sha256"],
                         size=int(doc["size"]), created_at=float(doc["created_at"]),
                         captured_at=str(doc.get("captured_at", "")), record=doc["record"],
                         history=list(doc.get("history", [])), exported=exported)

    def items(self) -> list[SpoolItem]:
        """Every current item (pending and exported), oldest first; older takes of a student
        that were superseded by a retake are left out."""
        with self._lock:
            self._sync()
            return sorted(self._latest.values(), key=lambda i: i.seq)

    def pending(self) -> list[SpoolItem]:
        """Items still to be exported, oldest first."""
        with self._lock:
            self._sync()
            return sorted(self._pending.values(), key=lambda i: i.seq)

    def get(self, item_id: str) -> SpoolItem:
        with self._lock:
            self._sync()
            item = self._index.get(item_id)
        return item if item is not None else self._load(self.items_dir / item_id)

    # --- state changes --------------------------------------------------------------------
    def mark_exported(self, item_id: str, *, path: str, sha256: str, **info: Any) -> bool:
        """Record that the stick holds a verified copy (call only after re-reading it).

        Returns False when the item is gone: a retake superseded it while it was being
        exported (the retake is pending and goes out with the next export).
        """
        folder = self.items_dir / item_id
        doc = {"path": path, "sha256": sha256, "exported_at": self._clock(), **info}
        with self._lock:
            if not (folder / RECORD).exists():
                log.info("item %s was superseded during its export", item_id)
                return False
            write_atomic(folder / EXPORTED, _json_bytes(doc))
            item = self._index.get(item_id)
            if item is not None:
                item.exported = doc
                self._refresh(item.student.student_id)
                heapq.heappush(self._expiry, (_exported_at(item), item.id))
        return True

    def purge(self, retention_days: float) -> int:
        """Delete exported items older than ``retention_days``; returns how many went.

        Age counts from the export, so a photo that waited a week for a stick still gets its
        full retention after it was handed over.
        """
        limit = self._clock() - retention_days * 86400
        gone = 0
        with self._lock:
            self._sync()
            while self._expiry and self._expiry[0][0] <= limit:
                _, item_id = heapq.heappop(self._expiry)
                item = self._index.get(item_id)
                # entries of items gone or read again since are stale: skip them
                if item is not None and item.exported is not None and \
                        _exported_at(item) <= limit:
                    self._delete(item.folder)
                    gone += 1
            if gone:
                self._index_key = self._folder_key()      # our own deletions, known
        if gone:
            log.info("purged %d exported item(s) older than %g days", gone, retention_days)
        return gone

    def recover(self) -> RecoveryReport:
        """Bring the spool to a clean state after a crash or power cut; call at start.

        Removes half-built items and half-deleted ones, and photos superseded by a retake that
        was stored just before the cut. Unfinished exports need nothing here: an item without
        ``exported.json`` is simply still pending and goes out with the next stick.
        """
        with self._lock:
            return self._recover()

    def _recover(self) -> RecoveryReport:
        report = RecoveryReport()
        for entry in list(os.scandir(self.items_dir)):
            if entry.name.startswith((TEMP_PREFIX, TRASH_PREFIX)):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
                report.temp_removed += 1
        for folder in (self.root, *[self.items_dir / n for n in self._item_names()]):
            for entry in list(os.scandir(folder)):
                if entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                    report.temp_removed += 1
        items = self._read_items(report.broken)
        latest: dict[str, SpoolItem] = {}
        for item in items:
            latest[item.student.student_id] = item
        for item in items:
            if latest[item.student.student_id] is not item and item.exported is None:
                self._delete(item.folder)
                report.superseded_removed += 1
        fsync_dir(self.items_dir)
        report.pending = len(self.pending())
        if report.temp_removed or report.superseded_removed or report.broken:
            log.warning("spool recovery: %s", report)
        return report

    def _delete(self, folder: Path) -> None:
        trash = folder.with_name(f"{TRASH_PREFIX}{folder.name}")
        os.rename(folder, trash)
        self._forget(folder.name)
        fsync_dir(folder.parent)
        shutil.rmtree(trash, ignore_errors=True)


def _exported_at(item: SpoolItem) -> float:
    """When the item went to a stick; a damaged time never expires (kept, not guessed)."""
    try:
        return float((item.exported or {}).get("exported_at", 0))
    except (TypeError, ValueError):
        return float("inf")


def _summary(item: SpoolItem) -> dict[str, Any]:
    """What the history keeps of an earlier take (no photo, no personal data beyond the id)."""
    return {"item_id": item.id, "captured_at": item.captured_at, "verdict": item.verdict,
            "sha256": item.sha256, "exported": item.exported is not None}


def _json_bytes(doc: Any) -> bytes:
    # default=str: a caller's record with an enum or a datetime is stored, not refused
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                      default=str).encode("utf-8")
