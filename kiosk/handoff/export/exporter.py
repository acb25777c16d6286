"""Copy the spool's pending photos to a USB stick, verified, with manifest and contact sheet.

For each folder (booth + capture date) the exporter:

1. copies each pending photo under its templated name (temporary file, fsync, rename, fsync);
2. reads the copy back from the device and compares its SHA-256 with the spool's;
3. writes ``manifest.json``, ``manifest.csv`` and ``index.html`` the same atomic way;
4. only then marks the items exported in the spool.

A crash or a pulled stick anywhere in between leaves the items pending; the next export writes
the same names again and replaces the manifest entries by student number, so nothing is lost
and nothing is duplicated. Any error of the stick stops the export with a bilingual message
(``ExportReport.problem``) and never raises.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath

from kiosk.handoff.export import contact_sheet, naming, stick
from kiosk.handoff.export import manifest as mf
from kiosk.handoff.export.durable import (
    MAX_MANIFEST_BYTES,
    read_regular,
    read_uncached,
    real_dir,
    remove_temp_files,
    sha256_bytes,
    write_atomic,
)
from kiosk.handoff.spool import Spool, SpoolError, SpoolItem
from kiosk.message import Message

log = logging.getLogger(__name__)

# Room kept free on the stick beyond the photo itself: manifests and the contact sheet.
HEADROOM_BYTES = 256 * 1024


@dataclass
class ExportedPhoto:
    item_id: str
    student_id: str
    path: str            # relative to the stick's root, with forward slashes


@dataclass
class ExportReport:
    """What one export did; ``problem`` is the message for the screen when it stopped early."""

    exported: list[ExportedPhoto] = field(default_factory=list)
    skipped: list[tuple[str, Message]] = field(default_factory=list)  # (item id, why)
    problem: Message | None = None
    pending: int = 0                      # items still waiting in the spool afterwards
    folders: list[str] = field(default_factory=list)
    purged: int = 0

    @property
    def ok(self) -> bool:
        """True when every pending item reached the stick."""
        return self.problem is None and not self.skipped and self.pending == 0

    @property
    def message(self) -> Message:
        if self.problem is not None:
            return self.problem
        if self.skipped:
            return Message(f"已导出 {len(self.exported)} 张，{len(self.skipped)} 张需要工作人员处理。",
                           f"Exported {len(self.exported)} photo(s); {len(self.skipped)} need "
                           "a staff member.")
        return Message(f"已导出 {len(self.exported)} 张照片到U盘。",
                       f"Exported {len(self.exported)} photo(s) to the USB stick.")


def export_pending(spool: Spool, usb_root: str | os.PathLike, *, booth_id: str,
                   template: str, status: stick.StickStatus | None = None,
                   retention_days: float | None = None) -> ExportReport:
    """Export every pending spool item to the stick mounted at ``usb_root``.

    ``status`` is the stick's status from the hardware layer; without it the folder is probed
    through the mount table. With ``retention_days`` the spool is purged afterwards.
    """
    report = ExportReport()
    root = Path(usb_root)
    pending = spool.pending()
    if status is None:
        status = stick.probe(root)
    needed = (min(i.size for i in pending) + HEADROOM_BYTES) if pending else 0
    problem = stick.problem_with(status, needed)
    if problem is not None:
        report.problem = problem
    elif pending:
        groups: dict[PurePosixPath, list[SpoolItem]] = defaultdict(list)
        for item in pending:
            groups[naming.export_folder(booth_id, _capture_day(item))].append(item)
        for rel, items in sorted(groups.items()):
            try:
                _export_folder(spool, root, rel, items, booth_id, template, report)
            except OSError as exc:
                log.error("export to %s stopped: %s", root / rel, exc)
                report.problem = stick.message_for_oserror(exc)
                break
            except _Mismatch:
                report.problem = stick.MSG_MISMATCH
                break
    if retention_days is not None:
        report.purged = spool.purge(retention_days)
    report.pending = len(spool.pending())
    log.info("export: %d exported, %d skipped, %d pending, problem=%s", len(report.exported),
             len(report.skipped), report.pending, report.problem and report.problem.en)
    return report


class _Mismatch(Exception):
    """A copy on the stick read back different from the spool's photo."""


def _capture_day(item: SpoolItem) -> date:
    try:
        return date.fromisoformat(item.captured_at[:10])
    except ValueError:
        return datetime.fromtimestamp(item.created_at).date()


def _export_folder(spool: Spool, root: Path, rel: PurePosixPath, items: list[SpoolItem],
                   booth_id: str, template: str, report: ExportReport) -> None:
    """Export ``items`` into one folder so that the stick is consistent at every instant.

    Every row of ``manifest.json`` and of ``manifest.csv`` names a file whose checksum matches
    it, at any moment a stick may be pulled (or the booth killed): the two are written one
    right after the other (JSON first, the authoritative one) with no photo changed in
    between, and a CSV left one step behind by an earlier cut is brought level before any
    photo is touched, so the CSV is never more than one step behind. A photo is never written under a name the
    manifest lists for other bytes: the manifest first announces the names about to be written
    (``staged``, which the registrar's tools ignore), then the files are written, then the
    manifest lists them. A retake of a photo already on the stick goes through a second name
    beside the old file (``<name>_retake.jpg``): listed there, then copied to its own name while
    that name is staged, listed again, and the second name removed.
    """
    folder = real_dir(root, rel.parts)     # no link anywhere on the way (a prepared stick)
    remove_temp_files(folder)      # leftovers of a stick pulled during an earlier export
    manifest, problems = mf.load(folder, booth_id=booth_id, day=rel.name)
    for p in problems:
        log.warning("export folder %s: %s", rel, p)
    _align_csv(folder, manifest)
    _remove_leftover_staged(folder, manifest)
    thumbs = contact_sheet.load_thumbs(folder)
    direct: list[tuple[SpoolItem, bytes, str]] = []      # written straight to their name
    retakes: list[tuple[SpoolItem, bytes, str, str]] = []  # (.., name, second name)
    done: list[tuple[SpoolItem, str]] = []                # already on the stick, verified
    planned: set[str] = set()
    for item in items:
        try:
            data = item.read_photo()
        except FileNotFoundError:
            log.info("item %s superseded by a retake during the export", item.id)
            continue
        except (SpoolError, OSError) as exc:       # the SD card's problem, not the stick's
            log.error("item %s unreadable in the spool: %s", item.id, exc)
            report.skipped.append((item.id, Message(
                "这张照片在本机存储中已损坏，请联系工作人员。",
                f"This photo is damaged in the booth's storage: {exc}")))
            continue
        try:
            name = naming.photo_name(template, item.student)
            owner = manifest.owner_of(name)
            if (owner is not None and owner != item.student.student_id) or \
                    name.lower() in planned:
                name = naming.disambiguate(name, item.student)
            current = manifest.entries.get(item.student.student_id)
            second = None
            if current is not None and current.file.lower() == name.lower():
                if current.sha256 == item.sha256 and _holds(folder, name, item.sha256):
                    done.append((item, name))            # an export cut after its last write
                    continue
                second = naming.retake_name(name)
                if manifest.owner_of(second) not in (None, item.student.student_id):
                    second = naming.disambiguate(second, item.student)
        except (naming.UnsafeName, ValueError) as exc:
            # this photo's name only: it stays in the spool for staff, the others go out
            log.error("item %s cannot be exported: %s", item.id, exc)
            report.skipped.append((item.id, Message(
                "这张照片无法导出，请联系工作人员。", f"This photo cannot be exported: {exc}")))
            continue
        planned.add(name.lower())
        if second is None:
            direct.append((item, data, name))
        else:
            planned.add(second.lower())
            retakes.append((item, data, name, second))
    if not (direct or retakes or done):
        return
    # 1. announce every name about to be written (rows unchanged)
    if direct or retakes:
        manifest.staged = sorted({n for _, _, n in direct} | {s for *_, s in retakes})
        write_atomic(folder / mf.MANIFEST_JSON, manifest.to_json())
    # 2. write and read back; 3. list them (retakes under their second name)
    retired: list[str] = []
    for item, data, name in direct:
        _copy(folder, name, data, item.sha256)
        thumbs[item.sha256] = contact_sheet.thumbnail_data_uri(data)
        old = manifest.put(_entry(item, name, booth_id))
        if old is not None and old.file.lower() != name.lower():
            retired.append(old.file)
    for item, data, _name, second in retakes:
        _copy(folder, second, data, item.sha256)
        thumbs[item.sha256] = contact_sheet.thumbnail_data_uri(data)
        manifest.put(_entry(item, second, booth_id))
    manifest.staged = sorted({n for _, _, n, _ in retakes} | set(retired))
    _write_folder_files(folder, manifest, thumbs, booth_id, rel.name)
    if retakes:
        # 4. the retakes to their own names (staged now), then listed there
        for item, data, name, _second in retakes:
            _copy(folder, name, data, item.sha256)
            manifest.entries[item.student.student_id].file = name
        manifest.staged = sorted({s for *_, s in retakes} | set(retired))
        _write_folder_files(folder, manifest, thumbs, booth_id, rel.name)
    # 5. files no row names any more
    _remove_leftover_staged(folder, manifest)
    copied = [(i, n) for i, _, n in direct] + [(i, n) for i, _, n, _ in retakes] + done
    for item, name in copied:
        path = str(rel / name)
        if spool.mark_exported(item.id, path=path, sha256=item.sha256):
            report.exported.append(ExportedPhoto(item.id, item.student.student_id, path))
    report.folders.append(str(rel))


def _copy(folder: Path, name: str, data: bytes, sha256: str) -> None:
    """Write one photo atomically and read it back from the device."""
    target = naming.inside(folder, name)
    write_atomic(target, data)
    if sha256_bytes(read_uncached(target)) != sha256:
        target.unlink(missing_ok=True)
        raise _Mismatch(name)


def _holds(folder: Path, name: str, sha256: str) -> bool:
    try:
        return sha256_bytes(read_uncached(naming.inside(folder, name))) == sha256
    except (OSError, naming.UnsafeName):
        return False


def _align_csv(folder: Path, manifest: mf.Manifest) -> None:
    """Rewrite ``manifest.csv`` from the manifest when an export cut between the two
    manifests left it one step behind: the photos its stale rows name may be replaced next."""
    path = folder / mf.MANIFEST_CSV
    if not manifest.entries and not os.path.lexists(path):
        return
    csv_bytes = manifest.to_csv()
    try:
        if read_regular(path, MAX_MANIFEST_BYTES) == csv_bytes:
            return
    except OSError:
        pass                                      # missing, or not a regular file: rewrite
    write_atomic(path, csv_bytes)


def _remove_leftover_staged(folder: Path, manifest: mf.Manifest) -> None:
    """Remove staged names no row lists: photos of an export cut short, or replaced ones."""
    listed = {e.file.lower() for e in manifest.entries.values()}
    for name in manifest.staged:
        if name.lower() in listed:
            continue
        try:
            naming.inside(folder, name).unlink(missing_ok=True)
        except (OSError, naming.UnsafeName) as exc:
            log.warning("could not remove %s: %s", name, exc)


def _write_folder_files(folder: Path, manifest: mf.Manifest, thumbs: dict[str, str],
                        booth_id: str, day: str) -> None:
    """The manifests and the contact sheet, each written atomically."""
    entries = manifest.sorted_entries()
    write_atomic(folder / mf.MANIFEST_JSON, manifest.to_json())
    write_atomic(folder / mf.MANIFEST_CSV, manifest.to_csv())
    sheet = contact_sheet.render(entries, folder, title=f"毕业照 Graduation photos · {booth_id}",
                                 subtitle=f"{day}", thumbs=thumbs)
    write_atomic(folder / contact_sheet.THUMBS_CACHE,
                 contact_sheet.thumbs_json(thumbs, (e.sha256 for e in entries)))
    write_atomic(folder / mf.INDEX_HTML, sheet)


def _entry(item: SpoolItem, name: str, booth_id: str) -> mf.Entry:
    s = item.student
    return mf.Entry(student_id=s.student_id, name=s.name, id_number=s.id_number,
                    college=getattr(s, "college", ""), class_name=getattr(s, "class_name", ""),
                    file=name, captured_at=item.captured_at, verdict=item.verdict,
                    sha256=item.sha256, size=item.size, booth_id=booth_id, item_id=item.id,
                    checks=list(item.record.get("checks", [])), history=list(item.history),
                    backdrop=str(item.record.get("backdrop", "")),
                    confirmed=list(item.record.get("confirmed", [])))


def export_to_stick(spool: Spool, usb, config) -> ExportReport:
    """The booth's one call at Save, at start and when a stick appears.

    ``usb`` is the hardware layer's stick (anything with ``status()``), ``config`` the booth's
    :class:`~kiosk.config.Config`. Exports every pending photo if a usable stick is present,
    then purges exported items older than ``config.export.retention_days``. Without a stick
    the report's ``problem`` is the "no stick" message and everything stays in the spool.
    """
    try:
        status = usb.status()
    except OSError as exc:                 # a stick that fails while being looked at
        log.error("USB status unavailable: %s", exc)
        status = None
    root = getattr(status, "mount_point", None) or config.export.usb_mount_root
    return export_pending(spool, root, booth_id=config.booth.booth_id,
                          template=config.booth.filename_template, status=status,
                          retention_days=config.export.retention_days)
