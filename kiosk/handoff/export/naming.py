"""Names on the stick: the export folder per booth and date, and photo names that stay inside it.

Photo names come from the configured template through ``kiosk.photo.student.render_filename`` (which
makes them FAT/exFAT-safe). This module adds the last line of defence: whatever a template or a
roster produces, the file ends up as a plain name directly inside the export folder.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path, PurePosixPath

from kiosk.photo.student import Student, check_safe_filename, render_filename

EXPORT_ROOT = "grad-photos"          # top folder on the stick, so the photos never mix with
                                     # whatever else the registrar keeps there
MAX_NAME = 120                       # FAT long names allow 255 UTF-16 units; stay well below
MAX_NAME_BYTES = 240                 # ext4 allows 255 bytes of UTF-8 (a Chinese character is 3)

# Characters FAT and exFAT refuse, plus the ones that cause trouble in shells and spreadsheets.
_FAT_BAD = re.compile(r'[\x00-\x1f\x7f"*/:<>?\\|]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}


class UnsafeName(ValueError):
    """A name that cannot be made safe (empty after cleaning, or escaping its folder)."""


def safe_component(text: str, *, fallback: str = "") -> str:
    """``text`` as one FAT-safe path component (used for the booth id in folder names)."""
    text = unicodedata.normalize("NFC", str(text))
    text = _FAT_BAD.sub("_", text).strip(" .")
    text = text[:MAX_NAME]
    while len(text.encode("utf-8")) > MAX_NAME_BYTES:     # ext4 counts bytes, not characters
        text = text[:-1]
    if not text or text in (".", "..") or text.split(".")[0].upper() in _RESERVED:
        if fallback:
            return fallback
        raise UnsafeName(f"no safe name can be made from {text!r}")
    return text


def export_folder(booth_id: str, day: date) -> PurePosixPath:
    """The folder on the stick for one booth and one day, relative to the stick's root."""
    return PurePosixPath(EXPORT_ROOT, safe_component(booth_id, fallback="booth"),
                         day.isoformat())


def photo_name(template: str, student: Student) -> str:
    """The photo's file name from the template (``render_filename`` refuses unsafe ones)."""
    name = render_filename(template, student)
    if "/" in name or "\\" in name or name in (".", ".."):
        raise UnsafeName(f"template gave an unsafe name {name!r}")
    return name


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, refusing anything that would land outside ``folder``."""
    target = (folder / name)
    if target.parent != folder or name in ("", ".", "..") or "/" in name or "\0" in name:
        raise UnsafeName(f"{name!r} is not a plain file name")
    return target


def disambiguate(name: str, student: Student) -> str:
    """A second name for a student whose templated name is taken by another student."""
    stem, dot, ext = name.rpartition(".")
    tag = safe_component(student.student_id, fallback="x")
    name = f"{stem}_{tag}{dot}{ext}"
    check_safe_filename(name)
    return name


RETAKE_SUFFIX = "_retake"


def retake_name(name: str) -> str:
    """The second name a retake is written under beside the photo it replaces (see the
    exporter: the stick never lists a name whose bytes are being replaced)."""
    stem, dot, ext = name.rpartition(".")
    name = f"{stem}{RETAKE_SUFFIX}{dot}{ext}"
    check_safe_filename(name)
    return name
