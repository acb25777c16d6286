"""Writing files so that a power cut or a pulled stick never leaves half a file behind.

The recipe is the classic one: write a temporary file in the same folder, flush and fsync it,
rename it over the final name (atomic on POSIX file systems, including vfat/exfat as Linux
mounts them), then fsync the folder so the rename itself is on the medium. A reader sees either
the old file or the new one, never a mixture.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

# Temporary files carry this prefix so that recovery can find and remove them. The name is
# FAT-safe (no colon, short, ASCII).
TEMP_PREFIX = "~tmp-"


def sha256_bytes(data: bytes) -> str:
    """The SHA-256 of ``data`` as lowercase hex, the form used in every manifest."""
    return hashlib.sha256(data).hexdigest()


def fsync_dir(path: str | os.PathLike) -> None:
    """Make a rename or a new name inside ``path`` durable.

    Some file systems (vfat on some kernels) refuse fsync on a directory with EINVAL; the data
    itself was already synced, so that one error is ignored.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (22,):  # EINVAL: directory fsync unsupported
            raise
    finally:
        os.close(fd)


def temp_name(final: Path) -> Path:
    """A unique temporary name next to ``final`` (same folder, so the rename is atomic)."""
    return final.with_name(f"{TEMP_PREFIX}{secrets.token_hex(4)}.part")


def write_atomic(path: str | os.PathLike, data: bytes, *, sync_dir: bool = True) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either untouched or complete.

    On any error the temporary file is removed (if the medium still allows it) and the error
    is raised unchanged, so the caller can tell ENOSPC from EROFS from a pulled stick.
    """
    path = Path(path)
    tmp = temp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # the medium is gone or read-only: nothing more we can do here
        raise
    if sync_dir:
        fsync_dir(path.parent)


def read_uncached(path: str | os.PathLike) -> bytes:
    """Read a file back, asking the kernel to drop its cached pages first.

    After an fsync the pages are clean, so POSIX_FADV_DONTNEED evicts them and the read goes to
    the device: what we checksum is what the stick holds, not what we just wrote into memory.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        if hasattr(os, "posix_fadvise"):
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:
                pass  # advisory only
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def remove_temp_files(folder: str | os.PathLike) -> int:
    """Delete leftover temporary files in ``folder`` (not recursive); returns how many."""
    count = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
                count += 1
            except OSError:
                pass
    return count
