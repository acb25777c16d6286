"""Writing files so that a power cut or a pulled stick never leaves half a file behind.

The recipe is the classic one: write a temporary file in the same folder, flush and fsync it,
rename it over the final name (atomic on POSIX file systems, including vfat/exfat as Linux
mounts them), then fsync the folder so the rename itself is on the medium. A reader sees either
the old file or the new one, never a mixture.

Nothing here follows a link or opens a device or a FIFO: a stick (or an export folder handed to
the registrar) may have been prepared by someone hostile. Files are opened with ``O_NOFOLLOW``
and ``O_NONBLOCK`` (a FIFO then opens at once instead of hanging), must be regular files
(``fstat``), and are read up to a size limit; folders are entered one component at a time with
``O_NOFOLLOW | O_DIRECTORY`` (:func:`real_dir`), so a link anywhere on the way is refused.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
from pathlib import Path
from typing import Iterable

# Temporary files carry this prefix so that recovery can find and remove them. The name is
# FAT-safe (no colon, short, ASCII).
TEMP_PREFIX = "~tmp-"

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)

# Size limits for what is read from a stick or an export (a hostile file must not eat memory).
MAX_PHOTO_BYTES = 4 * 1024 * 1024      # a finished photo is 20-40 KB; a camera still < 4 MB
MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # 10,000 students with every check result: ~60 MB


class UnsafeFile(OSError):
    """A path that is a link, a device, a FIFO, a socket, or larger than allowed."""


def _refuse(path, what: str) -> UnsafeFile:
    return UnsafeFile(errno.EPERM, what, str(path))


def open_regular(path: str | os.PathLike, *, dir_fd: int | None = None) -> int:
    """A read-only fd on ``path``, refusing links (any component's last step), devices, FIFOs
    and sockets. The caller closes it."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse(path, "is a symbolic link") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(path, "is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_fd(fd: int, max_bytes: int, path="") -> bytes:
    """Everything in ``fd`` up to ``max_bytes``; more is refused (the size may lie while it is
    read, so the limit is enforced on what actually arrives)."""
    if os.fstat(fd).st_size > max_bytes:
        raise _refuse(path, f"is larger than {max_bytes} bytes")
    chunks, total = [], 0
    while True:
        chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise _refuse(path, f"is larger than {max_bytes} bytes")
    return b"".join(chunks)


def read_regular(path: str | os.PathLike, max_bytes: int, *, dir_fd: int | None = None) -> bytes:
    """The bytes of a regular file that is not a link, at most ``max_bytes`` (see the module
    docstring). Raises :class:`UnsafeFile` (an ``OSError``) otherwise."""
    fd = open_regular(path, dir_fd=dir_fd)
    try:
        return read_fd(fd, max_bytes, path)
    finally:
        os.close(fd)


def is_regular(path: str | os.PathLike) -> bool:
    """True when ``path`` itself (not what a link points at) is a regular file."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def real_dir(root: str | os.PathLike, parts: tuple[str, ...] | list[str], *,
             create: bool = True) -> Path:
    """``root/parts...``, entered one folder at a time without following any link.

    ``root`` is trusted (the mount point, a folder named on the command line); every component
    below it must be a real folder (made when missing and ``create``). A link or a file in the
    way raises :class:`UnsafeFile`.
    """
    fd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for part in parts:
            if part in ("", ".", "..") or "/" in part:
                raise _refuse(part, "is not a plain folder name")
            if create:
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
            try:
                nxt = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _refuse(os.path.join(str(root), *parts), "has a link or a file where a "
                                  "folder should be") from None
                raise
            os.close(fd)
            fd = nxt
    finally:
        os.close(fd)
    return Path(root).joinpath(*parts)


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


def write_atomic(path: str | os.PathLike, data: bytes | Iterable[bytes], *,
                 sync_dir: bool = True) -> None:
    """Write ``data`` (bytes, or chunks of bytes: a large file need not be in memory whole) to
    ``path`` so that ``path`` is either untouched or complete.

    On any error the temporary file is removed (if the medium still allows it) and the error
    is raised unchanged, so the caller can tell ENOSPC from EROFS from a pulled stick.
    """
    path = Path(path)
    tmp = temp_name(path)
    try:
        # O_EXCL | O_NOFOLLOW: never write through a link planted under the temporary name;
        # the rename then replaces whatever sits at ``path`` (a link too) without following it.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o644)
        with open(fd, "wb") as fh:
            if isinstance(data, (bytes, bytearray, memoryview)):
                fh.write(data)
            else:
                for chunk in data:
                    fh.write(chunk)
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


def read_uncached(path: str | os.PathLike, max_bytes: int = MAX_PHOTO_BYTES) -> bytes:
    """Read a file back, asking the kernel to drop its cached pages first.

    After an fsync the pages are clean, so POSIX_FADV_DONTNEED evicts them and the read goes to
    the device: what we checksum is what the stick holds, not what we just wrote into memory.
    Links, devices and FIFOs are refused like in :func:`read_regular`.
    """
    fd = open_regular(path)
    try:
        if hasattr(os, "posix_fadvise"):
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:
                pass  # advisory only
        return read_fd(fd, max_bytes, path)
    finally:
        os.close(fd)


def remove_temp_files(folder: str | os.PathLike) -> int:
    """Delete leftover temporary files in ``folder`` (not recursive); returns how many."""
    count = 0
    try:
        entries = list(os.scandir(os.fspath(folder)))
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
